"""The tarball: what it holds, its metadata, and the collections it depends on."""

import json
import re
import shutil
import tarfile

import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements

from dist_helpers import REPO_ROOT, installed_collections, load_yaml, run, tool

# Task keywords that are not modules (a task's module is its one remaining key).
TASK_KEYWORDS = {
    'name', 'when', 'loop', 'loop_control', 'with_items', 'with_dict', 'with_list', 'register', 'notify', 'tags',
    'become', 'become_user', 'become_method', 'vars', 'delegate_to', 'delegate_facts', 'run_once', 'changed_when',
    'failed_when', 'until', 'retries', 'delay', 'ignore_errors', 'ignore_unreachable', 'no_log', 'environment',
    'args', 'check_mode', 'diff', 'listen', 'block', 'rescue', 'always', 'throttle', 'timeout', 'any_errors_fatal',
    'module_defaults', 'collections', 'connection', 'debugger', 'async', 'poll', 'action', 'local_action',
    'with_fileglob', 'with_sequence', 'with_together', 'with_nested', 'with_subelements', 'with_first_found',
    'remote_user', 'port', 'register_as',
}
FQCN = re.compile(r'^([a-z0-9_]+)\.([a-z0-9_]+)\.[a-z0-9_.]+$')


def test_build_leaves_development_content_out(tarball, galaxy):
    with tarfile.open(str(tarball)) as archive:
        names = archive.getnames()
    top = {n.split('/')[0] for n in names}
    for ignored in ('tests', 'molecule', '.venv', '.cache', '.config', '.ci', '.git', 'awx', 'bench', 'Makefile',
                    'requirements-dev.txt', 'execution-environment.yml', '.yamllint', '.ansible-lint'):
        assert ignored not in top, '%s is in the tarball' % ignored
    assert not [n for n in names if n.startswith('inventories/lab')], 'the lab inventory is in the tarball'
    assert not [n for n in names if n.endswith('.pyc') or '__pycache__' in n]
    for required in ('MANIFEST.json', 'FILES.json', 'README.md', 'meta/runtime.yml', 'plugins', 'roles',
                     'playbooks', 'changelogs'):
        assert required in names, '%s is missing from the tarball' % required


def test_manifest_matches_galaxy_yml(installed, galaxy):
    info = json.loads((installed / 'MANIFEST.json').read_text())['collection_info']
    for key in ('namespace', 'name', 'version', 'license', 'repository', 'dependencies', 'tags', 'readme'):
        assert info[key] == galaxy[key], key
    assert re.match(r'^\d+\.\d+\.\d+$', info['version'])
    assert all(re.match(r'^[a-z0-9_]+$', tag) for tag in info['tags']), 'Galaxy tags: lowercase, digits, _'


def test_requires_ansible_admits_the_tested_core():
    import ansible.release
    runtime = load_yaml(REPO_ROOT / 'meta' / 'runtime.yml')
    spec = runtime['requires_ansible']
    assert meets_requirements(ansible.release.__version__, spec), (ansible.release.__version__, spec)
    # The floor is what `make core-matrix` tests: ansible-core 2.17 and newer.
    assert meets_requirements('2.17.0', spec)
    assert not meets_requirements('2.16.99', spec)


def _major_minor(version):
    return tuple(int(part) for part in version.split('.')[:2])


def test_roles_claim_the_collection_minimum(installed):
    """site.yml runs every role, so the collection's floor is the highest floor of its roles; a role claiming
    more than requires_ansible makes the collection's claim false, one claiming less documents a false floor."""
    spec = load_yaml(installed / 'meta' / 'runtime.yml')['requires_ansible']
    floor = re.search(r'>=\s*([0-9]+\.[0-9]+)', spec).group(1)
    claims = {}
    for meta in sorted(installed.glob('roles/*/meta/main.yml')):
        claims[meta.parts[-3]] = str((load_yaml(meta).get('galaxy_info') or {}).get('min_ansible_version'))
    wrong = {role: claim for role, claim in claims.items() if _major_minor(claim) != _major_minor(floor)}
    assert not wrong, 'requires_ansible is %s but roles claim min_ansible_version %s' % (spec, wrong)


def _task_modules(tasks):
    """Module names used in a list of tasks (blocks included)."""
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for key in ('block', 'rescue', 'always'):
            if key in task:
                yield from _task_modules(task[key])
        for key in task:
            if key not in TASK_KEYWORDS and not key.startswith('with_'):
                yield key
        action = task.get('action') or task.get('local_action')
        if isinstance(action, str):
            yield action.split()[0]
        elif isinstance(action, dict) and 'module' in action:
            yield action['module']


def _collections_used(root):
    """{collection: [where]} for every FQCN the shipped content calls, outside ansible.builtin."""
    used = {}

    def note(fqcn, where):
        match = FQCN.match(fqcn or '')
        if match:
            used.setdefault('%s.%s' % match.groups(), set()).add(where)

    for path in sorted(list(root.glob('roles/*/tasks/*.yml')) + list(root.glob('roles/*/handlers/*.yml'))):
        for module in _task_modules(load_yaml(path)):
            note(module, str(path.relative_to(root)))
    for path in sorted(root.glob('playbooks/*.yml')) + sorted(root.glob('*.yml')):
        data = load_yaml(path)
        if not isinstance(data, list):
            continue
        for play in data:
            if not isinstance(play, dict):
                continue
            if 'import_playbook' in play or 'ansible.builtin.import_playbook' in play:
                continue
            for section in ('pre_tasks', 'tasks', 'post_tasks', 'handlers'):
                for module in _task_modules(play.get(section)):
                    note(module, str(path.relative_to(root)))
            for role in play.get('roles') or []:
                note(role.get('role') if isinstance(role, dict) else role, str(path.relative_to(root)))
    for path in sorted(root.glob('inventories/**/*.yml')):
        text = path.read_text()
        for match in re.finditer(r'(?:ansible_connection|plugin):\s*["\']?([a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+)', text):
            note(match.group(1), str(path.relative_to(root)))
    for path in sorted(root.glob('plugins/**/*.py')):
        for match in re.finditer(r'ansible_collections\.([a-z0-9_]+)\.([a-z0-9_]+)\.', path.read_text()):
            note('%s.%s.x' % match.groups(), str(path.relative_to(root)))
    for own in ('ansible.builtin', 'ansible.legacy'):
        used.pop(own, None)
    return used


def test_dependencies_are_exactly_the_collections_used(installed, galaxy):
    used = _collections_used(installed)
    own = '%s.%s' % (galaxy['namespace'], galaxy['name'])
    used.pop(own, None)
    declared = set(galaxy['dependencies'])
    undeclared = {name: sorted(where) for name, where in used.items() if name not in declared}
    assert not undeclared, 'used but not in galaxy.yml dependencies: %s' % undeclared
    unused = declared - set(used)
    assert not unused, 'declared in galaxy.yml but used nowhere in the shipped content: %s' % sorted(unused)


def test_dependency_ranges_admit_the_tested_versions(outside_env, outside, galaxy):
    found = installed_collections(outside_env, outside / 'work')
    for name, spec in galaxy['dependencies'].items():
        assert name in found, '%s is not installed with the toolchain' % name
        assert meets_requirements(found[name], spec), '%s %s is tested but outside %s' % (name, found[name], spec)


def test_installed_collection_is_listed(outside_env, outside, galaxy, installed):
    found = installed_collections(outside_env, outside / 'work')
    assert found.get('%s.%s' % (galaxy['namespace'], galaxy['name'])) == galaxy['version']


def test_changelog_fragments_are_valid_and_release_cleanly(tmp_path, galaxy):
    """`antsibull-changelog lint`, then a release of the current version in a scratch copy."""
    run([tool('antsibull-changelog'), 'lint'], env=None, cwd=REPO_ROOT)
    copy = tmp_path / 'ansible_collections' / galaxy['namespace'] / galaxy['name']
    copy.mkdir(parents=True)
    for name in ('galaxy.yml', 'changelogs', 'meta', 'plugins'):
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(str(source), str(copy / name))
        else:
            (copy / name).write_text(source.read_text())
    changes = load_yaml(REPO_ROOT / 'changelogs' / 'changelog.yaml')
    if galaxy['version'] in (changes.get('releases') or {}):
        # Already released: the generated file must be current.
        run([tool('antsibull-changelog'), 'generate'], env=None, cwd=copy)
        assert (copy / 'CHANGELOG.rst').read_text() == (REPO_ROOT / 'CHANGELOG.rst').read_text(), \
            'CHANGELOG.rst is stale: run antsibull-changelog generate'
    else:
        fragments = sorted((REPO_ROOT / 'changelogs' / 'fragments').glob('*.yml'))
        assert fragments, 'unreleased version %s has no changelog fragment' % galaxy['version']
        run([tool('antsibull-changelog'), 'release', '--date', '2000-01-01'], env=None, cwd=copy)
        text = (copy / 'CHANGELOG.rst').read_text()
        assert 'v%s' % galaxy['version'] in text
        summary = yaml.safe_load(fragments[0].read_text()).get('release_summary')
        assert summary is None or summary.split()[0] in text
        # The release lists every module as new (the first release) or as already released before.
        released = set()
        for release in (changes.get('releases') or {}).values():
            released |= {m['name'] for m in (release.get('modules') or [])}
        for module in sorted(p.stem for p in (REPO_ROOT / 'plugins' / 'modules').glob('*.py') if p.stem != '__init__'):
            assert module in released or '%s.%s.%s - ' % (galaxy['namespace'], galaxy['name'], module) in text, \
                '%s is not in the release notes' % module
