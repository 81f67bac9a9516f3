"""Unit tests import the collection by its real name (ansible_collections.swarmops.swarm).

Under `ansible-test units` the collection already sits in an ansible_collections/ tree and imports
resolve; under plain pytest (`make unit`) the link that `make venv` creates is put on sys.path.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / '.cache' / 'collections'


def _importable():
    try:
        import ansible_collections.swarmops.swarm  # noqa: F401
    except ImportError:
        return False
    return True


if not _importable():
    if not (COLLECTIONS / 'ansible_collections' / 'swarmops' / 'swarm').exists():
        raise RuntimeError('run `make venv` first: it links the repository as ansible_collections/swarmops/swarm')
    sys.path.insert(0, str(COLLECTIONS))
