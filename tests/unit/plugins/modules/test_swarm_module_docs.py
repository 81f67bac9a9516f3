"""The swarm modules' documentation cites only docker CLI options that exist.

A user reads `C(docker swarm update --label-add)` and tries it; the flags of `docker swarm` (Docker 28's
`--help`) are the reference here.
"""

import re

import pytest
import yaml

from ansible_collections.swarmops.swarm.plugins.modules import swarm_info, swarm_init, swarm_join, swarm_service

CLI_FLAGS = {
    'init': {'--advertise-addr', '--autolock', '--availability', '--cert-expiry', '--data-path-addr',
             '--data-path-port', '--default-addr-pool', '--default-addr-pool-mask-length', '--dispatcher-heartbeat',
             '--external-ca', '--force-new-cluster', '--listen-addr', '--max-snapshots', '--snapshot-interval',
             '--task-history-limit'},
    'update': {'--autolock', '--cert-expiry', '--dispatcher-heartbeat', '--external-ca', '--max-snapshots',
               '--snapshot-interval', '--task-history-limit'},
    'join': {'--advertise-addr', '--availability', '--data-path-addr', '--listen-addr', '--token'},
    'leave': {'--force'},
    'unlock': set(),
    'join-token': {'--quiet', '-q', '--rotate'},
    'unlock-key': {'--quiet', '-q', '--rotate'},
}
CITED = re.compile(r'docker swarm ([a-z-]+)((?: [^)\n]*)?)')


@pytest.mark.parametrize('module', [swarm_init, swarm_join, swarm_info, swarm_service])
def test_cited_docker_swarm_flags_exist(module):
    text = yaml.safe_dump(yaml.safe_load(module.DOCUMENTATION)) + module.EXAMPLES
    for command, rest in CITED.findall(text):
        assert command in CLI_FLAGS, 'docker swarm %s is not a docker swarm command' % command
        for flag in re.findall(r'(?<![\w-])(--?[a-z][a-z-]*)', rest):
            assert flag in CLI_FLAGS[command], '%s cites `docker swarm %s %s`, which does not exist' % (
                module.__name__.rsplit('.', 1)[-1], command, flag)
