#!/usr/bin/env python3
"""Render (and optionally lint) a Helm chart with the real Helm v4 engine.

Usage:
    python3 helm_render.py CHART_DIR [VALUES_JSON_FILE] [--release NAME]
                           [--namespace NS] [--lint] [--keep-empty]

Prints one JSON object to stdout:
    {"manifests": {"<chart>/templates/<file>": "<rendered text>", ...},
     "notes": "<rendered top-level NOTES.txt>" | null,
     "lint": {"total_charts_linted": n, "messages": [...], "errors": [...]} | null}

Keys of "manifests" are the engine's template paths, the same text that
`helm template` prints after "# Source: ". Partials (_*.tpl) never appear;
NOTES.txt files are moved out of "manifests" (the top-level one into
"notes", subcharts' dropped, as `helm install` does). Templates that render
to whitespace only are dropped, as `helm template` does, unless --keep-empty.

Release name and namespace default to the engine's: "release-name" and
"default". VALUES_JSON_FILE holds a JSON object that overrides values.yaml.

Exit codes:
    0  rendered (and, with --lint, the lint report has no errors)
    1  render, schema or lint error (message on stderr)
    2  usage error (bad arguments, unreadable or non-object values file)
    3  the Helm SDK (PyPI: helm-python-sdk, import helm_python) is not
       installed or its native library cannot be loaded

The SDK is imported lazily so that a missing SDK is reported as exit 3,
which lets the Rust tests skip visibly locally and fail under CI.
Needs no network, no cluster and no helm binary.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_SDK = 3

INSTALL_HINT = (
    "install it with: python3 -m venv /work/.venv-helm && "
    "/work/.venv-helm/bin/pip install helm-python-sdk "
    "(then run this script with /work/.venv-helm/bin/python)"
)


def fail(code: int, message: str) -> "NoReturn":  # noqa: F821 (string annotation)
    sys.stderr.write(f"helm_render: {message.rstrip()}\n")
    sys.exit(code)


def import_sdk():
    try:
        import helm_python  # noqa: PLC0415 (lazy on purpose)
    except ImportError as exc:
        fail(EXIT_NO_SDK, f"Helm SDK not installed (import helm_python failed: {exc}); {INSTALL_HINT}")
    except Exception as exc:  # HelmLibraryError: the bundled libhelm_c failed to load
        fail(EXIT_NO_SDK, f"Helm SDK unusable ({type(exc).__name__}: {exc}); {INSTALL_HINT}")
    return helm_python


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="helm_render.py", description=__doc__.split("\n\n")[0])
    p.add_argument("chart_dir")
    p.add_argument("values_file", nargs="?", help="JSON object overriding values.yaml")
    p.add_argument("--release", default=None, help='release name (default "release-name")')
    p.add_argument("--namespace", default=None, help='release namespace (default "default")')
    p.add_argument("--lint", action="store_true", help="also run `helm lint --strict`")
    p.add_argument("--keep-empty", action="store_true", help="keep whitespace-only templates")
    return p.parse_args(argv)


def load_values(path: str | None) -> dict | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except (OSError, ValueError) as exc:
        fail(EXIT_USAGE, f"cannot read values file {path}: {exc}")
    if not isinstance(values, dict):
        fail(EXIT_USAGE, f"values file {path} must hold a JSON object, not {type(values).__name__}")
    return values


def split_notes(rendered: dict[str, str], chart_name: str, keep_empty: bool):
    manifests: dict[str, str] = {}
    notes = None
    for path in sorted(rendered):
        text = rendered[path]
        if path.endswith("/NOTES.txt"):
            if path == f"{chart_name}/templates/NOTES.txt":
                notes = text
            continue
        if not keep_empty and not text.strip():
            continue
        manifests[path] = text
    return manifests, notes


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    values = load_values(args.values_file)
    helm = import_sdk()

    try:
        with helm.Chart.load(args.chart_dir) as chart:
            chart_name = chart.name
            rendered = chart.render(values, name=args.release, namespace=args.namespace)
    except helm.HelmError as exc:
        fail(EXIT_ERROR, f"render of {args.chart_dir} failed: {type(exc).__name__}: {exc}")

    manifests, notes = split_notes(rendered, chart_name, args.keep_empty)

    lint_report = None
    if args.lint:
        try:
            lint_report = helm.lint(args.chart_dir, values, strict=True, namespace=args.namespace)
        except helm.HelmError as exc:
            fail(EXIT_ERROR, f"lint of {args.chart_dir} failed: {type(exc).__name__}: {exc}")
        if lint_report.get("errors") or any(
            m.get("severity", 0) >= 2 for m in lint_report.get("messages", [])
        ):
            lines = [
                f"  [{ {0: 'UNKNOWN', 1: 'INFO', 2: 'WARNING', 3: 'ERROR'}.get(m.get('severity'), m.get('severity'))}] "
                f"{m.get('path')}: {str(m.get('error')).strip()}"
                for m in lint_report.get("messages", [])
            ] or [f"  {str(e).strip()}" for e in lint_report.get("errors", [])]
            fail(EXIT_ERROR, f"lint --strict of {args.chart_dir} failed:\n" + "\n".join(lines))

    json.dump({"manifests": manifests, "notes": notes, "lint": lint_report}, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
