#!/bin/sh
# Puts the docker buildx plugin where the docker CLI finds it, for the test that feeds
# `kompile images --format bake` to `docker buildx bake --print` (no engine needed).
set -eu
if docker buildx version >/dev/null 2>&1; then exit 0; fi
command -v docker >/dev/null 2>&1 || { echo "no docker CLI; skipping buildx" >&2; exit 1; }
sh "$(dirname "$0")/fetch-from-sid.sh" docker-buildx /opt/buildx
plugin_dir="${HOME:-/root}/.docker/cli-plugins"
mkdir -p "$plugin_dir"
ln -sf /opt/buildx/usr/libexec/docker/cli-plugins/docker-buildx "$plugin_dir/docker-buildx"
docker buildx version >&2
