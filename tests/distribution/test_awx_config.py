"""awx/: the AWX configuration as code, checked as far as a machine without a controller can.

No AWX runs here, so configure.yml cannot be applied. Instead every awx.awx task of it is turned into an
ansible.builtin.validate_argument_spec task with the module's documented argument spec (from ansible-doc of the
awx.awx collection installed with the toolchain) and the task's own arguments, loops and vars files, and that
playbook is run: Ansible templates the arguments exactly as it would for the real modules, and unknown options,
wrong types or values outside the choices fail it. The surveys are checked the way AWX checks them when they are
saved, and every survey variable must be something the job's playbook reads.
"""

import json
import re

import pytest
import yaml

from awx_survey import launch_extra_vars, survey_problems
from dist_helpers import REPO_ROOT, load_yaml, run, tool

AWX = REPO_ROOT / 'awx'
FAKE_SECRETS = {
    'awx_machine_username': 'swarm-admin',
    'awx_machine_ssh_key': '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n-----END OPENSSH PRIVATE KEY-----\n',
}
DOC_TO_SPEC = ('type', 'choices', 'elements', 'aliases', 'required')


@pytest.fixture(scope='module')
def templates():
    return load_yaml(AWX / 'vars' / 'job_templates.yml')['awx_job_templates']


@pytest.fixture(scope='module')
def controller():
    return load_yaml(AWX / 'vars' / 'controller.yml')


def _argument_spec(options):
    spec = {}
    for name, option in options.items():
        entry = {key: option[key] for key in DOC_TO_SPEC if option.get(key) is not None}
        if option.get('suboptions'):
            entry['options'] = _argument_spec(option['suboptions'])
        spec[name] = entry
    return spec


def _module_of(task):
    modules = [key for key in task if key.startswith('awx.awx.')]
    assert len(modules) <= 1, task
    return modules[0] if modules else None


@pytest.fixture(scope='module')
def awx_specs(outside_env, tmp_path_factory):
    """{module: argument spec} of every awx.awx module configure.yml uses, from its documentation."""
    modules = sorted({_module_of(t) for play in load_yaml(AWX / 'configure.yml') for t in play['tasks']} - {None})
    out = run([tool('ansible-doc'), '-j'] + modules, env=outside_env, cwd=tmp_path_factory.mktemp('doc')).stdout
    docs = json.loads(out)
    return {module: _argument_spec(docs[module]['doc']['options']) for module in modules}


def _validation_playbook(tmp_path, specs, mutate=None):
    """configure.yml with each awx.awx task replaced by a validation of its arguments against the module's spec."""
    plays = load_yaml(AWX / 'configure.yml')
    for play in plays:
        play['vars_files'] = [str(AWX / path) for path in play.get('vars_files', [])]
        tasks = []
        for task in play['tasks']:
            module = _module_of(task)
            if module is None:
                tasks.append(task)
                continue
            args = dict(task[module])
            if mutate:
                mutate(module, args)
            check = {'name': 'Arguments of %s (%s)' % (module, task.get('name')),
                     'ansible.builtin.validate_argument_spec': {
                         'argument_spec': specs[module], 'provided_arguments': args}}
            for keyword in ('loop', 'loop_control', 'when', 'vars'):
                if keyword in task:
                    check[keyword] = task[keyword]
            tasks.append(check)
        play['tasks'] = tasks
    path = tmp_path / 'validate-configure.yml'
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


def _run_validation(tmp_path, env, specs, secrets=True, mutate=None):
    playbook = _validation_playbook(tmp_path, specs, mutate)
    args = [tool('ansible-playbook'), '-i', 'localhost,', playbook]
    if secrets:
        (tmp_path / 'secrets.json').write_text(json.dumps(FAKE_SECRETS))
        args += ['-e', '@%s' % (tmp_path / 'secrets.json')]
    return run(args, env=env, cwd=tmp_path, check=False)


def test_configure_playbook_syntax(outside_env, tmp_path):
    run([tool('ansible-playbook'), '--syntax-check', '-i', 'localhost,', AWX / 'configure.yml'],
        env=outside_env, cwd=tmp_path)


def test_every_awx_task_passes_its_module_argument_spec(outside_env, awx_specs, tmp_path):
    result = _run_validation(tmp_path, outside_env, awx_specs)
    assert result.returncode == 0, result.stdout[-6000:]
    assert {'awx.awx.organization', 'awx.awx.project', 'awx.awx.inventory', 'awx.awx.inventory_source',
            'awx.awx.credential', 'awx.awx.job_template', 'awx.awx.execution_environment'} <= set(awx_specs)
    recap = re.search(r'localhost\s*:\s*ok=(\d+).*failed=(\d+)', result.stdout)
    assert recap and int(recap.group(2)) == 0


def test_argument_validation_catches_a_wrong_option(outside_env, awx_specs, tmp_path):
    def mutate(module, args):
        if module == 'awx.awx.job_template':
            args['survey_enabeld'] = True
    result = _run_validation(tmp_path, outside_env, awx_specs, mutate=mutate)
    assert result.returncode != 0
    assert 'survey_enabeld' in result.stdout


def test_configure_refuses_to_run_without_the_vaulted_secrets(outside_env, awx_specs, tmp_path):
    result = _run_validation(tmp_path, outside_env, awx_specs, secrets=False)
    assert result.returncode != 0
    assert 'vaulted extra vars' in result.stdout


def test_credential_task_hides_its_arguments():
    for task in load_yaml(AWX / 'configure.yml')[0]['tasks']:
        if _module_of(task) == 'awx.awx.credential':
            assert task.get('no_log') is True
            break
    else:
        pytest.fail('configure.yml creates no credential')


def test_no_plaintext_secret_in_the_awx_directory():
    key_body = re.compile(r'-----BEGIN [A-Z ]*PRIVATE KEY-----\s*\n\s*[A-Za-z0-9+/=]{40,}')
    for path in sorted(AWX.rglob('*')):
        if not path.is_file():
            continue
        text = path.read_text()
        if text.startswith('$ANSIBLE_VAULT;'):
            continue
        assert not key_body.search(text), '%s holds private key material' % path
        assert not re.search(r'(?m)^\s*(controller_password|controller_oauthtoken|password)\s*:\s*["\']?\w', text), \
            '%s holds a password' % path


def test_job_templates_are_the_three_with_valid_surveys(templates):
    assert [t['name'] for t in templates] == ['Deploy swarm', 'Swarm status', 'Deploy services']
    for template in templates:
        if template['survey_spec']:
            problems = survey_problems(template['survey_spec'])
            assert not problems, (template['name'], problems)
        launch_extra_vars(template, {})  # the defaults alone make a valid launch


# What would let a job print a join token or the unlock key (the manager token is control of the whole cluster).
SECRET_SWITCHES = re.compile(r'token|unlock|secret|password|show_join', re.I)


def test_no_launch_can_ask_for_a_secret_in_the_output(templates):
    """Whoever may launch a job template must not be able to make it print a join token or unlock key: no
    survey question and no template extra var switches one on, and no template takes extra vars on launch."""
    configure = (REPO_ROOT / 'awx' / 'configure.yml').read_text()
    assert re.search(r'(?m)^\s*ask_variables_on_launch:\s*false\s*$', configure), 'templates must not prompt for vars'
    assert not re.search(r'(?m)^\s*ask_variables_on_launch:\s*true', configure)
    for template in templates:
        questions = [q['variable'] for q in (template['survey_spec'] or {}).get('spec') or []]
        assert not [q for q in questions if SECRET_SWITCHES.search(q)], (template['name'], questions)
        assert not SECRET_SWITCHES.search(json.dumps(template.get('extra_vars') or {})), template['name']
        with pytest.raises(ValueError):
            launch_extra_vars(template, {'show_join_tokens': 'true'})


def test_job_template_playbooks_ship_in_the_collection(templates, installed):
    for template in templates:
        assert (REPO_ROOT / template['playbook']).is_file(), template['playbook']
        assert (installed / template['playbook']).is_file(), '%s is not in the tarball' % template['playbook']


def test_every_survey_variable_is_read_by_the_job(templates, installed):
    """A survey answer nobody reads would silently do nothing: each variable must appear in the template's own
    extra_vars or in the collection's playbooks/roles."""
    shipped = '\n'.join(p.read_text() for pattern in ('playbooks/*.yml', 'roles/**/*.yml', 'roles/**/*.j2')
                        for p in installed.glob(pattern))
    unread = []
    for template in templates:
        own = json.dumps(template.get('extra_vars') or {})
        for question in (template['survey_spec'] or {}).get('spec') or []:
            variable = question['variable']
            pattern = re.compile(r'\b%s\b' % re.escape(variable))
            if not pattern.search(own) and not pattern.search(shipped):
                unread.append('%s: %s' % (template['name'], variable))
    assert not unread, 'survey variables no playbook or role reads: %s' % unread


def test_deploy_services_survey_builds_swarm_services(templates):
    deploy = [t for t in templates if t['name'] == 'Deploy services'][0]
    extra_vars = launch_extra_vars(deploy, {'swarm_service_replicas': 3})
    assert extra_vars['swarm_service_replicas'] == 3
    service = extra_vars['swarm_services'][0]
    assert set(service) >= {'name', 'image', 'replicas'}
    with pytest.raises(ValueError):
        launch_extra_vars(deploy, {'swarm_service_replicas': 1000})
    with pytest.raises(ValueError):
        launch_extra_vars(deploy, {'swarm_service_resolve_image': 'maybe'})


def test_inventory_source_is_the_example_inventory(controller, outside_env, tmp_path):
    source = REPO_ROOT / controller['awx_inventory']['source_path']
    assert source.is_dir() or source.is_file(), source
    out = run([tool('ansible-inventory'), '-i', source, '--list'], env=outside_env, cwd=tmp_path).stdout
    groups = json.loads(out)
    for group in ('swarm_managers', 'swarm_workers'):
        assert groups.get(group, {}).get('hosts'), 'inventory source has no hosts in %s' % group


def test_project_is_the_collection_repository(controller):
    galaxy = load_yaml(REPO_ROOT / 'galaxy.yml')
    assert controller['awx_project']['scm_url'] in (galaxy['repository'], galaxy['repository'] + '.git')
