"""Why the rules cannot all hold, in office terms.

``checks`` runs the first-line checks (per-project counts, max flow for loads); ``clash`` finds
a deletion-minimal set of named rule groups that cannot hold together.
"""
