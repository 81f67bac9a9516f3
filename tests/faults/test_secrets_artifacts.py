"""Secrets: no join token (SWMTKN-) and no unlock key (SWMKEY-) in anything the suite's
ansible-playbook runs wrote -- stdout, stderr and the ANSIBLE_LOG_PATH log of every run, including the
-vvv runs where a node joined and a manager was unlocked. The one exception is the
status report asked for with show_join_tokens=true, which test_basic_cluster checks shows the tokens in
its two join commands and nowhere else. Runs last (file order): it reads what the others left.
"""

from conftest import ARTIFACTS, SECRET_PATTERNS

SHOWN_ON_REQUEST = 'status-tokens-shown-on-request'


def test_no_secret_in_any_artifact():
    files = [p for p in sorted(ARTIFACTS.iterdir()) if p.is_file()]
    runs = set(p.name.rsplit('.', 1)[0] for p in files if p.suffix in ('.stdout', '.log'))
    # the clusters' bring-up, the -vvv join and unlock runs: the scan covers real runs
    assert any('-up' in r for r in runs) and any('vvv' in r for r in runs), sorted(runs)
    leaks = []
    for path in files:
        if SHOWN_ON_REQUEST in path.name:
            continue
        text = path.read_text(errors='replace')
        for pattern in SECRET_PATTERNS:
            count = len(pattern.findall(text))
            if count:
                leaks.append('%s: %d x %s' % (path.name, count, pattern.pattern.split('-')[0]))
    assert not leaks, leaks
