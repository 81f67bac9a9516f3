"""ansible-doc renders every module and every role entry point of the installed collection.

Modules and roles are discovered from the installed tree (not from a list kept here), so a new one is covered
the moment it ships. Everything runs from a directory outside the repository.
"""

import json

import pytest

from conftest import load_yaml, run, tool


def _modules(installed):
    return sorted(p.stem for p in (installed / 'plugins' / 'modules').glob('*.py') if p.stem != '__init__')


def _roles(installed):
    return sorted(p.name for p in (installed / 'roles').iterdir() if (p / 'tasks').is_dir())


def _doc_json(outside_env, outside, plugin_type, fqcn):
    out = run([tool('ansible-doc'), '-t', plugin_type, '-j', fqcn], env=outside_env, cwd=outside / 'work').stdout
    data = json.loads(out)
    assert fqcn in data, 'ansible-doc -t %s -j %s returned %s' % (plugin_type, fqcn, sorted(data))
    return data[fqcn]


def test_collection_ships_modules_and_roles(installed):
    assert _modules(installed), 'no modules in the installed collection'
    assert _roles(installed), 'no roles in the installed collection'


def test_every_module_renders_with_options_examples_and_return(installed, outside, outside_env, fqcn_prefix):
    listed = run([tool('ansible-doc'), '-t', 'module', '-l', fqcn_prefix, '-j'], env=outside_env,
                 cwd=outside / 'work').stdout
    assert sorted(json.loads(listed)) == ['%s.%s' % (fqcn_prefix, m) for m in _modules(installed)]
    problems = []
    for module in _modules(installed):
        fqcn = '%s.%s' % (fqcn_prefix, module)
        data = _doc_json(outside_env, outside, 'module', fqcn)
        doc = data.get('doc') or {}
        if not doc.get('short_description'):
            problems.append('%s: no short_description' % fqcn)
        if not doc.get('options'):
            problems.append('%s: no options documented' % fqcn)
        for name, option in (doc.get('options') or {}).items():
            if not option.get('description'):
                problems.append('%s: option %s has no description' % (fqcn, name))
        if not (data.get('examples') or '').strip():
            problems.append('%s: no EXAMPLES' % fqcn)
        if data.get('return') is None:
            problems.append('%s: no RETURN' % fqcn)
        text = run([tool('ansible-doc'), fqcn], env=outside_env, cwd=outside / 'work').stdout
        if 'OPTIONS' not in text or module not in text:
            problems.append('%s: text rendering lacks OPTIONS or its name' % fqcn)
    assert not problems, '\n'.join(problems)


@pytest.fixture(scope='module')
def role_docs(installed, outside, outside_env, fqcn_prefix):
    return {role: _doc_json(outside_env, outside, 'role', '%s.%s' % (fqcn_prefix, role))
            for role in _roles(installed)}


def test_every_role_has_argument_specs(installed):
    missing = [role for role in _roles(installed)
               if not (installed / 'roles' / role / 'meta' / 'argument_specs.yml').is_file()]
    assert not missing, 'roles without meta/argument_specs.yml (no run-time validation, no docs): %s' % missing


def test_every_role_entry_point_renders_its_options(installed, role_docs, outside, outside_env, fqcn_prefix):
    problems = []
    for role, data in role_docs.items():
        specs_file = installed / 'roles' / role / 'meta' / 'argument_specs.yml'
        if not specs_file.is_file():
            problems.append('%s: no meta/argument_specs.yml' % role)
            continue
        specs = load_yaml(specs_file)['argument_specs']
        rendered = data.get('entry_points') or {}
        if sorted(rendered) != sorted(specs):
            problems.append('%s: entry points rendered %s, specified %s' % (role, sorted(rendered), sorted(specs)))
        for entry, spec in specs.items():
            doc = rendered.get(entry) or {}
            if not doc.get('short_description'):
                problems.append('%s/%s: no short_description' % (role, entry))
            if sorted(doc.get('options') or {}) != sorted(spec.get('options') or {}):
                problems.append('%s/%s: options rendered differ from the spec' % (role, entry))
            for name, option in (doc.get('options') or {}).items():
                if not option.get('description'):
                    problems.append('%s/%s: option %s has no description' % (role, entry, name))
            text = run([tool('ansible-doc'), '-t', 'role', '-e', entry, '%s.%s' % (fqcn_prefix, role)],
                       env=outside_env, cwd=outside / 'work').stdout
            if not text.strip() or role not in text:
                problems.append('%s/%s: text rendering is empty' % (role, entry))
    assert not problems, '\n'.join(problems)


def test_role_defaults_are_documented_in_the_main_entry_point(installed):
    """Every variable a role defines in defaults/main.yml is an option of its `main` entry point."""
    problems = []
    for role in _roles(installed):
        defaults_file = installed / 'roles' / role / 'defaults' / 'main.yml'
        specs_file = installed / 'roles' / role / 'meta' / 'argument_specs.yml'
        if not defaults_file.is_file() or not specs_file.is_file():
            continue
        defaults = load_yaml(defaults_file) or {}
        options = (load_yaml(specs_file)['argument_specs'].get('main') or {}).get('options') or {}
        undocumented = sorted(set(defaults) - set(options))
        if undocumented:
            problems.append('%s: defaults not in argument_specs main: %s' % (role, undocumented))
    assert not problems, '\n'.join(problems)
