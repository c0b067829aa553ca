#!/bin/sh
# Fails on a snapshot in snapshots/ that no test asserted: REFERENCES is the file that insta
# appends every asserted snapshot's path to when INSTA_SNAPSHOT_REFERENCES_FILE names it (as
# `cargo insta test --unreferenced=reject` does, without needing cargo-insta). Run it after
# a full `cargo test`, where every snapshot test ran.
set -eu
references="$1"
cd "$(dirname "$0")/.."
if [ ! -s "$references" ]; then
  echo "error: $references is empty: did insta record the snapshots (INSTA_SNAPSHOT_REFERENCES_FILE)?" >&2
  exit 1
fi
asserted=$(mktemp)
trap 'rm -f "$asserted"' EXIT
while IFS= read -r path; do
  basename "$path"
done <"$references" | sort -u >"$asserted"
unreferenced=$(ls snapshots | grep '\.snap$' | sort | comm -23 - "$asserted")
if [ -n "$unreferenced" ]; then
  echo "error: snapshots no test asserts (delete them, or restore the test that wrote them):" >&2
  echo "$unreferenced" | sed 's|^|  snapshots/|' >&2
  exit 1
fi
echo "every one of $(wc -l <"$asserted") snapshots in snapshots/ is asserted by a test" >&2
