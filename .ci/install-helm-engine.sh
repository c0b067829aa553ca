#!/bin/sh
# The Helm v4 engine for the chart tests (tests/helm_chart.rs): PyPI's helm-python-sdk,
# which binds Helm's Go SDK (no helm binary, no network at run time), in a venv at $1.
# Prints the venv's python for KOMPILE_HELM_PYTHON.
set -eu
venv=$1
if ! "$venv/bin/python" -c "import helm_python" 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check helm-python-sdk==0.2.2 >&2
fi
"$venv/bin/python" -c "import helm_python" >&2
echo "$venv/bin/python"
