"""Harness of the rolling suite: the fault suite's Cluster (tests/faults/conftest.py), on this suite's own network
`swarmops-roll` (10.213.110.0/24), containers `roll-*`, artefacts under .cache/rolling-artifacts/."""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location('faults_harness', str(REPO_ROOT / 'tests' / 'faults' / 'conftest.py'))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

ARTIFACTS = REPO_ROOT / '.cache' / 'rolling-artifacts'
KEEP = os.environ.get('ROLLING_KEEP') == '1'


class RollingCluster(harness.Cluster):
    network, subnet, artifacts, inventories = ('swarmops-roll', '10.213.110.0/24', ARTIFACTS,
                                               Path(__file__).parent / 'inventories')


@pytest.fixture(scope='session')
def rolling():
    """Three managers (one release: managers must run the same engine), bare nodes brought up by site.yml."""
    if ARTIFACTS.exists():
        shutil.rmtree(str(ARTIFACTS))
    cluster = RollingCluster(name='rolling', prefix='roll-', managers={'manager1': 11, 'manager2': 12, 'manager3': 13},
                             workers={})
    harness.sh('bash', '-c', 'source "%s/lib.sh" && ensure_network "$1" "$2"' % harness.TESTBED, '_',
               cluster.network, cluster.subnet)
    if not KEEP:
        cluster.down()
    cluster.up()
    yield cluster
    if not KEEP:
        cluster.down()
