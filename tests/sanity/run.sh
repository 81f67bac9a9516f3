#!/usr/bin/env bash
# ansible-test sanity on the installed-tree layout, offline-safe.
#
#   bash tests/sanity/run.sh [extra ansible-test sanity args, e.g. --test validate-modules]
#
# ansible-test wants the collection at ansible_collections/<namespace>/<name>/ inside a git work tree.
# The repository root is the collection root, so the tracked files (plus untracked files that are not
# ignored, so a change can be checked before it is committed) are copied into a temporary tree laid
# out that way and committed there. Results land in tests/output/sanity/ (git-ignored).
#
# Each sanity test runs in its own virtualenv that ansible-test bootstraps with get-pip, downloaded
# from a host that is unreachable here; a stand-in saved in ansible-test's cache does the same job
# with ensurepip + pip (see ../../../shared/TESTBED.md, "ansible-test sanity, offline").
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV_BIN="${VENV_BIN:-$REPO_ROOT/.venv/bin}"
PYTHON_VERSION="${SANITY_PYTHON:-3.11}"
GET_PIP_CACHE="${HOME}/.ansible/test/cache"
GET_PIP="$GET_PIP_CACHE/get_pip_24_2.py"   # the name ansible-test 2.18 and 2.19 look for
GET_PIP_OLD="$GET_PIP_CACHE/get_pip_23_1_2.py"   # ansible-test 2.17's

log() { printf '[sanity] %s\n' "$*" >&2; }

namespace="$(sed -n 's/^namespace: *//p' "$REPO_ROOT/galaxy.yml")"
name="$(sed -n 's/^name: *//p' "$REPO_ROOT/galaxy.yml")"

work="$(mktemp -d "${TMPDIR:-/tmp}/swarmops-sanity.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tree="$work/ansible_collections/$namespace/$name"
mkdir -p "$tree"

# --- the tree: tracked + untracked-but-not-ignored files (files deleted in the work tree are skipped)
(
  cd "$REPO_ROOT"
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done \
    | sort -zu \
    | tar --no-recursion --null -T - -cf -
) | tar -C "$tree" -xf -
git -C "$tree" init -q
git -C "$tree" add -A
git -C "$tree" -c user.name=sanity -c user.email=sanity@localhost -c commit.gpgsign=false \
  commit -q -m "sanity snapshot"
log "tree: $(git -C "$tree" ls-files | wc -l) files at $tree"

# --- the get-pip stand-in
mkdir -p "$GET_PIP_CACHE"
cat >"$GET_PIP.new" <<'PY'
"""Stand-in for get-pip.py (no network path to bootstrap.pypa.io here).

ansible-test runs this with the new virtualenv's python to put pip into it. ensurepip installs the
bundled pip wheel offline; then pip installs what get-pip was asked for, from the machine's usual
package index. ensurepip sets PIP_CONFIG_FILE=/dev/null (and ENSUREPIP_OPTIONS) in the environment,
which would hide the machine's pip configuration (index, CA bundle) from the second step, so both are
dropped before it.
"""
import os
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
env = dict(os.environ)
for var in ("PIP_CONFIG_FILE", "ENSUREPIP_OPTIONS"):
    env.pop(var, None)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args, env=env)
PY
cp "$GET_PIP.new" "$GET_PIP_OLD"
mv "$GET_PIP.new" "$GET_PIP"

# --- the run
mkdir -p "$REPO_ROOT/tests/output"
rm -rf "$REPO_ROOT/tests/output/sanity"
status=0
start=$SECONDS
(
  cd "$tree"
  export PATH="$VENV_BIN:$PATH"
  unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_CONFIG   # the snapshot, not the repo's link, is the collection
  ansible-test sanity --python "$PYTHON_VERSION" --requirements --color no "$@"
) || status=$?
log "ansible-test sanity finished in $((SECONDS - start)) s (exit $status)"
if [ -d "$tree/tests/output" ]; then
  cp -r "$tree/tests/output" "$REPO_ROOT/tests/output/sanity"
  log "results: tests/output/sanity/"
fi
exit "$status"
