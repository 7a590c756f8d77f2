"""The optimisation model: rows over a set of pairs, and which pairs enter it.

``rows`` builds ``lb <= A x <= ub`` over any pair set, one row type per rule; ``candidates``
surveys every eligible pair once and keeps a restricted candidate set; ``cpsat`` holds the same
rows as one CP-SAT model, solved goal by goal.
"""
