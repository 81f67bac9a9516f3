"""Reading ansible-playbook's default output, shared by the suites that run playbooks and judge what ran.

The suites' conftests put tests/ on sys.path to import it (they are not a package).
"""

import re

_OUTCOME = re.compile(r'^(ok|changed|skipping|fatal|failed): \[([^\]]+)\]')


def task_outcomes(stdout, task):
    """{host: ['ok' | 'changed' | 'skipping' | 'fatal' | 'failed', ...]} of every task whose name ends with TASK,
    in the order the output shows them (a task that ran twice, or a loop's items, gives several per host)."""
    found = {}
    for block in stdout.split('\nTASK [')[1:]:
        header, _sep, body = block.partition('\n')
        if header.split(']', 1)[0].endswith(task):
            for line in body.splitlines():
                match = _OUTCOME.match(line)
                if match:
                    found.setdefault(match.group(2), []).append(match.group(1))
    return found
