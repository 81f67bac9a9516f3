"""ansible-doc renders every module and every role entry point of the installed collection.

Modules and roles are discovered from the installed tree (not from a list kept here), so a new one is covered
the moment it ships. Everything runs from a directory outside the repository.
"""

import json
import re

import pytest

from dist_helpers import load_yaml, run, tool


def _modules(installed):
    return sorted(p.stem for p in (installed / 'plugins' / 'modules').glob('*.py') if p.stem != '__init__')


def _roles(installed):
    return sorted(p.name for p in (installed / 'roles').iterdir() if (p / 'tasks').is_dir())


def test_collection_ships_modules_and_roles(installed):
    assert _modules(installed), 'no modules in the installed collection'
    assert _roles(installed), 'no roles in the installed collection'


def test_every_module_renders_with_options_examples_and_return(installed, outside, outside_env, fqcn_prefix):
    modules = ['%s.%s' % (fqcn_prefix, m) for m in _modules(installed)]
    assert modules, 'no modules in the installed collection'
    listed = run([tool('ansible-doc'), '-t', 'module', '-l', fqcn_prefix, '-j'], env=outside_env,
                 cwd=outside / 'work').stdout
    assert sorted(json.loads(listed)) == modules
    docs = json.loads(run([tool('ansible-doc'), '-j'] + modules, env=outside_env, cwd=outside / 'work').stdout)
    text = run([tool('ansible-doc')] + modules, env=outside_env, cwd=outside / 'work').stdout
    problems = []
    for fqcn in modules:
        data = docs.get(fqcn) or {}
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
        if not data.get('return'):
            problems.append('%s: no RETURN' % fqcn)
        if not re.search(r'(?m)^> MODULE \*?%s\*? ' % re.escape(fqcn), text):
            problems.append('%s: missing from the text rendering' % fqcn)
    assert not problems, '\n'.join(problems)


def _specified_roles(installed):
    # Roles without argument specs have no entry points to render: test_every_role_has_argument_specs names them.
    return [role for role in _roles(installed) if (installed / 'roles' / role / 'meta' / 'argument_specs.yml').is_file()]


@pytest.fixture(scope='module')
def role_docs(installed, outside, outside_env, fqcn_prefix):
    fqcns = ['%s.%s' % (fqcn_prefix, role) for role in _specified_roles(installed)]
    if not fqcns:
        return {}
    out = run([tool('ansible-doc'), '-t', 'role', '-j'] + fqcns, env=outside_env, cwd=outside / 'work').stdout
    data = json.loads(out)
    assert sorted(data) == sorted(fqcns), sorted(data)
    return {fqcn.rsplit('.', 1)[1]: doc for fqcn, doc in data.items()}


@pytest.fixture(scope='module')
def role_text(installed, outside, outside_env, fqcn_prefix):
    """The text ansible-doc prints for all roles (every entry point of each)."""
    fqcns = ['%s.%s' % (fqcn_prefix, role) for role in _specified_roles(installed)]
    return run([tool('ansible-doc'), '-t', 'role'] + fqcns, env=outside_env, cwd=outside / 'work').stdout


def _role_section(text, fqcn_prefix, role):
    """The part of `ansible-doc -t role A B ...` output about ROLE ('' when it is not there)."""
    header = re.compile(r'(?m)^> ROLE: \*?%s\.%s\*? ' % (re.escape(fqcn_prefix), re.escape(role)))
    match = header.search(text)
    if not match:
        return ''
    rest = text[match.end():]
    following = re.search(r'(?m)^> ROLE: ', rest)
    return rest[:following.start()] if following else rest


def test_every_role_has_argument_specs(installed):
    missing = [role for role in _roles(installed)
               if not (installed / 'roles' / role / 'meta' / 'argument_specs.yml').is_file()]
    assert not missing, 'roles without meta/argument_specs.yml (no run-time validation, no docs): %s' % missing


def test_every_role_entry_point_renders_its_options(installed, role_docs, role_text, fqcn_prefix):
    assert role_docs, 'no role has argument specs'
    problems = []
    for role, data in role_docs.items():
        specs = load_yaml(installed / 'roles' / role / 'meta' / 'argument_specs.yml')['argument_specs']
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
            if not re.search(r'(?m)^ENTRY POINT: \*?%s\*? - \S' % re.escape(entry), _role_section(role_text, fqcn_prefix, role)):
                problems.append('%s/%s: entry point missing from the text rendering' % (role, entry))
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
