"""Solvers that turn a Problem into a Result.

``exact`` (priced LP, incumbent, reduced-cost fixing, CP-SAT finish) on the back ends in
``backends`` and the pricing in ``pricing``; ``flow`` (min-cost flow, opt-in); ``ordered``
(goals in priority order: fair, fewest changes), ``spread`` (smallest largest load),
``lottery`` (random draw under a probability cap) and ``relax`` (fewest bends).
"""
