#!/bin/sh
# Puts the reference Compose implementation (Docker Compose v2) under PREFIX for the
# conformance tests, and prints the path of its program. Debian 12 only packages Compose v1,
# so the package is taken from Debian's unstable suite and unpacked with dpkg -x: the
# system's package state is not touched. `docker-compose config` needs no container engine.
set -eu
prefix="${1:-/opt/compose-ref}"
program="$prefix/usr/libexec/docker/cli-plugins/docker-compose"
if [ -x "$program" ]; then
  echo "$program"
  exit 0
fi
mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
if [ -z "$mirror" ]; then
  mirror=$(sed -n 's/^deb \([^ ]*\/debian\) .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
fi
if [ -z "$mirror" ]; then
  echo "no Debian mirror in the apt sources; cannot fetch docker-compose" >&2
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/lists/partial" "$scratch/cache/archives/partial"
echo "deb $mirror sid main" > "$scratch/sources.list"
apt_options="-oDir::Etc::SourceList=$scratch/sources.list -oDir::Etc::SourceParts=/nonexistent \
 -oDir::State::Lists=$scratch/lists -oDir::Cache=$scratch/cache -oAPT::Sandbox::User=root"
# shellcheck disable=SC2086
apt-get $apt_options -qq update >&2
# shellcheck disable=SC2086
(cd "$scratch" && apt-get $apt_options -qq download docker-compose >&2)
mkdir -p "$prefix"
dpkg -x "$scratch"/docker-compose_*.deb "$prefix"
"$program" version >&2
echo "$program"
