"""Unit tests import the collection by its real name, through the link `make venv` creates."""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / '.cache' / 'collections'
if not (COLLECTIONS / 'ansible_collections' / 'swarmops' / 'swarm').exists():
    raise RuntimeError('run `make venv` first: it links the repository as ansible_collections/swarmops/swarm')
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
