"""What AWX does with a job template's survey, for tests that stand in for AWX.

`survey_problems` checks a survey spec the way AWX's API does when one is saved (question types, unique variables,
defaults that fit their own choices and bounds); `launch_extra_vars` turns survey answers into the extra vars of
the job: the template's own extra_vars, then each question's answer (or its default), validated like AWX validates
a launch, answers winning.
"""

SURVEY_TYPES = {'text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect'}


def _choices(question):
    choices = question.get('choices') or []
    if isinstance(choices, str):
        choices = [c for c in choices.split('\n') if c]
    return list(choices)


def survey_problems(survey):
    problems = []
    for key in ('name', 'description', 'spec'):
        if key not in survey:
            problems.append('survey has no %r' % key)
    spec = survey.get('spec')
    if not isinstance(spec, list) or not spec:
        return problems + ['survey spec must be a non-empty list']
    seen = set()
    for question in spec:
        label = question.get('variable', '?')
        for key in ('question_name', 'variable', 'type', 'required'):
            if key not in question:
                problems.append('%s: no %r' % (label, key))
        if question.get('type') not in SURVEY_TYPES:
            problems.append('%s: type %r is not one of %s' % (label, question.get('type'), sorted(SURVEY_TYPES)))
        if label in seen:
            problems.append('%s: variable asked twice' % label)
        seen.add(label)
        if not isinstance(question.get('required'), bool):
            problems.append('%s: required must be a boolean' % label)
        if 'default' in question:
            try:
                _answer(question, question['default'])
            except ValueError as exc:
                problems.append('%s: default does not fit: %s' % (label, exc))
    return problems


def _answer(question, value):
    kind = question['type']
    if kind in ('multiplechoice', 'multiselect'):
        choices = _choices(question)
        values = value if kind == 'multiselect' else [value]
        for item in values:
            if item not in choices:
                raise ValueError('%r is not one of %s' % (item, choices))
        return value
    if kind == 'integer':
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError('%r is not an integer' % (value,))
    elif kind == 'float':
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError('%r is not a number' % (value,))
    elif not isinstance(value, str):
        raise ValueError('%r is not text' % (value,))
    low, high = question.get('min'), question.get('max')
    measure = value if kind in ('integer', 'float') else len(value)
    if low is not None and measure < low:
        raise ValueError('%r is below the minimum %s' % (value, low))
    if high is not None and measure > high:
        raise ValueError('%r is above the maximum %s' % (value, high))
    return value


def launch_extra_vars(template, answers):
    """The extra vars AWX gives the job for ANSWERS (a dict variable -> value) to TEMPLATE's survey."""
    spec = (template.get('survey_spec') or {}).get('spec') or []
    known = {q['variable'] for q in spec}
    unknown = set(answers) - known
    if unknown:
        raise ValueError('answers to questions the survey does not ask: %s' % sorted(unknown))
    extra_vars = dict(template.get('extra_vars') or {})
    for question in spec:
        variable = question['variable']
        if variable in answers:
            extra_vars[variable] = _answer(question, answers[variable])
        elif 'default' in question and question['default'] not in ('', None):
            extra_vars[variable] = _answer(question, question['default'])
        elif question['required']:
            raise ValueError('%s is required' % variable)
    return extra_vars
