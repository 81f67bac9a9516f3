"""The one dpkg reader: status triples, holds, half-installed and unknown packages."""

from ansible_collections.swarmops.swarm.plugins.module_utils import _dpkg


def test_installed_held_config_files_and_unknown():
    out = ('docker-ce\t5:27.3.1-1~debian.12~bookworm\thold ok installed\n'
           'containerd.io\t1.7.22-1\tinstall ok installed\n'
           'docker.io\t20.10.24+dfsg1-1+b3\tdeinstall ok config-files\n'
           'ufw\t0.36.2-1\tinstall reinstreq half-installed\n')
    states = _dpkg.parse_dpkg_query(out, ['docker-ce', 'containerd.io', 'docker.io', 'ufw', 'podman-docker'])
    assert states['docker-ce'] == {'installed': True, 'version': '5:27.3.1-1~debian.12~bookworm',
                                   'selection': 'hold', 'status': 'installed'}
    assert states['containerd.io']['selection'] == 'install'
    assert states['docker.io'] == {'installed': False, 'version': '', 'selection': 'deinstall',
                                   'status': 'config-files'}
    assert states['ufw']['installed'] is False and states['ufw']['status'] == 'half-installed'
    assert states['podman-docker'] == _dpkg.absent()


def test_lines_of_other_packages_and_garbage_are_ignored():
    out = 'other\t1\tinstall ok installed\nnot a dpkg line\n'
    assert _dpkg.parse_dpkg_query(out, ['ufw']) == {'ufw': _dpkg.absent()}
