#!/bin/sh
# Unpacks one package from Debian's unstable suite into PREFIX with dpkg -x, without touching
# the system's package state: for tools Debian 12 does not package (Compose v2, buildx).
# Usage: fetch-from-sid.sh PACKAGE PREFIX
set -eu
package="$1"
prefix="$2"
mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
if [ -z "$mirror" ]; then
  mirror=$(sed -n 's/^deb \([^ ]*\/debian\) .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
fi
if [ -z "$mirror" ]; then
  echo "no Debian mirror in the apt sources; cannot fetch $package" >&2
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
(cd "$scratch" && apt-get $apt_options -qq download "$package" >&2)
mkdir -p "$prefix"
dpkg -x "$scratch"/"${package}"_*.deb "$prefix"
