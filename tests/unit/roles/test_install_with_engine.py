"""site.yml puts a fresh host's ufw into the engine's one apt transaction and applies its rules after it. The two
expressions that decide it, evaluated by Ansible's own templating: which hosts qualify (site.yml, from the first
read), and where the firewall role then holds back its install and rules (the role's vars). The class of inputs
that must never defer: an engine package already there, no read, firewalld, check mode, nothing to install."""

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:  # ansible-core 2.19 templates only strings marked as trusted; older releases template every string
    from ansible.template import trust_as_template
except ImportError:
    def trust_as_template(text):
        return text

REPO_ROOT = Path(__file__).resolve().parents[3]


def evaluate(expression, variables):
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


def site_expression():
    plays = yaml.safe_load((REPO_ROOT / 'playbooks' / 'site.yml').read_text())
    prepare = [play for play in plays if play['name'] == 'Prepare every node']
    assert len(prepare) == 1, 'playbooks/site.yml changed shape'
    return prepare[0]['vars']['firewall_install_with_engine']


def package(installed):
    return {'installed': installed, 'version': '1' if installed else '', 'selection': '', 'status': ''}


FRESH = {'docker-ce': package(False), 'containerd.io': package(False), 'docker.io': package(False),
         'python3-docker': package(False)}


@pytest.mark.parametrize('node_info, qualifies', [
    ({'engine_read': {'packages': FRESH}}, True),
    ({'engine_read': {'packages': dict(FRESH, **{'docker-ce': package(True)})}}, False),
    ({'engine_read': {'packages': dict(FRESH, **{'docker.io': package(True)})}}, False),  # a conflicting engine
    ({'engine_read': {'packages': dict(FRESH, **{'python3-docker': package(True)})}}, False),
    ({'engine_read': {'packages': {}}}, False),
    ({'engine_read': {}}, False),
    ({}, False),  # no read handed on: the usual order
])
def test_site_qualifies_only_hosts_whose_first_read_shows_no_engine_package(node_info, qualifies):
    assert evaluate(site_expression(), {'swarm_node_info': node_info}) is qualifies


def role_expression():
    return yaml.safe_load((REPO_ROOT / 'roles' / 'firewall' / 'vars' / 'main.yml').read_text())[
        '_firewall_install_deferred']


UFW_TO_INSTALL = {'act': True, 'backend': 'ufw', 'os_family': 'Debian', 'install': ['ufw']}


@pytest.mark.parametrize('with_engine, check_mode, plan, deferred', [
    (True, False, UFW_TO_INSTALL, True),
    (False, False, UFW_TO_INSTALL, False),
    (True, True, UFW_TO_INSTALL, False),  # check mode reports the firewall's own install
    (True, False, dict(UFW_TO_INSTALL, backend='firewalld', install=['firewalld']), False),  # must run first
    (True, False, dict(UFW_TO_INSTALL, os_family='RedHat'), False),
    (True, False, dict(UFW_TO_INSTALL, install=[]), False),  # installed already: rules in their usual place
    (True, False, dict(UFW_TO_INSTALL, act=False), False),
    (True, False, None, False),
])
def test_the_firewall_role_holds_back_only_a_ufw_install_outside_check_mode(with_engine, check_mode, plan, deferred):
    variables = {'firewall_install_with_engine': with_engine, 'ansible_check_mode': check_mode}
    if plan is not None:
        variables['_firewall_plan'] = plan
    assert evaluate(role_expression(), variables) is deferred
