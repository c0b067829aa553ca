#!/bin/sh
# Seeds the fuzz corpora (fuzz/corpus/<target>/, not committed) from fixtures/: compose files
# for compose_loader and compose_build, Dockerfiles for dockerfile, every fixture line with a `$` for
# interpolation. libFuzzer adds what it finds to the same directories.
set -eu
cd "$(dirname "$0")"
mkdir -p corpus/compose_loader corpus/compose_build corpus/dockerfile corpus/interpolation
seed() { # seed TARGET FILE: copied under a name made from its path
  cp "$2" "corpus/$1/$(printf '%s' "$2" | sed 's|^\.\./fixtures/||; s|/|_|g')"
}
find ../fixtures -type f \( -name '*.yaml' -o -name '*.yml' \) | while read -r f; do seed compose_loader "$f"; seed compose_build "$f"; done
find ../fixtures -type f -name 'Dockerfile*' | while read -r f; do seed dockerfile "$f"; done
n=0
find ../fixtures -type f \( -name '*.yaml' -o -name '*.env' -o -name '.env' \) -exec grep -h '\$' {} + |
  while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" > "corpus/interpolation/line-$n"
  done
for target in compose_loader compose_build dockerfile interpolation; do
  echo "corpus/$target: $(ls "corpus/$target" | wc -l) files"
done
