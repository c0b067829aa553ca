#!/bin/sh
# Puts the docker buildx plugin where the docker CLI finds it, for the test that feeds
# `kompile images --format bake` to `docker buildx bake --print` (no engine needed).
# Debian 12 does not package buildx, so it comes from Debian's unstable suite, unpacked
# with dpkg -x without touching the system's package state.
set -eu
plugin_dir="${HOME:-/root}/.docker/cli-plugins"
if docker buildx version >/dev/null 2>&1; then exit 0; fi
command -v docker >/dev/null 2>&1 || { echo "no docker CLI; skipping buildx" >&2; exit 1; }
mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \([^ ]*\/debian\) .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || { echo "no Debian mirror in the apt sources" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/lists/partial" "$scratch/cache/archives/partial"
echo "deb $mirror sid main" > "$scratch/sources.list"
apt_options="-oDir::Etc::SourceList=$scratch/sources.list -oDir::Etc::SourceParts=/nonexistent \
 -oDir::State::Lists=$scratch/lists -oDir::Cache=$scratch/cache -oAPT::Sandbox::User=root"
# shellcheck disable=SC2086
apt-get $apt_options -qq update >&2
# shellcheck disable=SC2086
(cd "$scratch" && apt-get $apt_options -qq download docker-buildx >&2)
dpkg -x "$scratch"/docker-buildx_*.deb /opt/buildx
mkdir -p "$plugin_dir"
ln -sf /opt/buildx/usr/libexec/docker/cli-plugins/docker-buildx "$plugin_dir/docker-buildx"
docker buildx version >&2
