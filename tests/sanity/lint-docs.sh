#!/usr/bin/env bash
# antsibull-docs lint-collection-docs on the installed-tree layout: the plugin and role docs as ansible-doc
# renders them, docs/docsite/links.yml, extra-docs.yml and the guides under docs/docsite/rst/ (reStructuredText
# errors, broken references). Tracked and untracked-but-not-ignored files, as tests/sanity/run.sh does.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV_BIN="${VENV_BIN:-$REPO_ROOT/.venv/bin}"
namespace="$(sed -n 's/^namespace: *//p' "$REPO_ROOT/galaxy.yml")"
name="$(sed -n 's/^name: *//p' "$REPO_ROOT/galaxy.yml")"

work="$(mktemp -d "${TMPDIR:-/tmp}/swarmops-docs.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tree="$work/ansible_collections/$namespace/$name"
mkdir -p "$tree"
(
  cd "$REPO_ROOT"
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --no-recursion --null -T - -cf -
) | tar -C "$tree" -xf -
cd "$tree"
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_CONFIG
PATH="$VENV_BIN:$PATH" antsibull-docs lint-collection-docs --plugin-docs .
