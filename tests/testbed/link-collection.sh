#!/usr/bin/env bash
# Expose the repository as ansible_collections/swarmops/swarm so FQCNs resolve without installing it.
source "$(dirname "$0")/lib.sh"
link_dir="$REPO_ROOT/.cache/collections/ansible_collections/swarmops"
mkdir -p "$link_dir"
ln -sfn "$REPO_ROOT" "$link_dir/swarm"
