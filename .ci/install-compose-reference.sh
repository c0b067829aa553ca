#!/bin/sh
# Puts the reference Compose implementation (Docker Compose v2) under PREFIX for the
# conformance tests, and prints the path of its program. `docker-compose config` needs no
# container engine.
set -eu
prefix="${1:-/opt/compose-ref}"
program="$prefix/usr/libexec/docker/cli-plugins/docker-compose"
if [ ! -x "$program" ]; then
  sh "$(dirname "$0")/fetch-from-sid.sh" docker-compose "$prefix"
fi
"$program" version >&2
echo "$program"
