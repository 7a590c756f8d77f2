"""The batch and its rules: what a valid input is and what each rule means.

``validate`` turns raw tables into an immutable :class:`~expertmatch.domain.problem.Problem`
(``load`` is the front door); ``pairs`` holds the pair arrays every layer shares; ``conflicts``,
``scoring`` and ``eligibility`` derive which expert may review which project and how well;
``coverage`` says which experts cover which field to cover; ``fields`` and ``rules`` hold the
field tree and the rule values. No module here knows of models or solvers.
"""
