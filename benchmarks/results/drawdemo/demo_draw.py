"""Time ``lottery()`` on the shipped demo batch at a cap, in a fresh process (one JSON line).

Usage: ``PYTHONPATH=<src> flock /work/notes/bench.lock python demo_draw.py CAP [LIMIT] [LABEL]``
(``PYTHONPATH`` picks the code measured; the runs of ``demo-cap05-lottery-runs.jsonl``).
"""

import json
import os
import sys
import time

import expertmatch as em
from expertmatch.solvers.lottery import LOTTERY_GAP, lottery
from expertmatch.solvers.params import SolveParams

cap = float(sys.argv[1])
limit = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
label = sys.argv[3] if len(sys.argv) > 3 else ""
problem = em.load(em.demo_path()).with_rules({"max_probability": cap})
params = SolveParams(time_limit=limit, gap_limit=LOTTERY_GAP)
load_start = os.getloadavg()[0]
cpu0, wall0 = time.process_time(), time.perf_counter()
lot = lottery(problem, params)
wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
stats = dict(lot.stats)
record = {
    "label": label,
    "src": os.path.dirname(em.__file__),
    "cap": cap,
    "status": str(lot.status),
    "wall_s": round(wall, 2),
    "cpu_s": round(cpu, 2),
    "gap": (lot.bound - lot.expected_objective) / lot.bound,
    "expected": lot.expected_objective,
    "bound": lot.bound,
    "rounds": stats.get("rounds"),
    "columns": stats.get("columns"),
    "in_lottery": stats.get("assignments_in_lottery"),
    "load_start": load_start,
    "load_end": os.getloadavg()[0],
    "utc": time.strftime("%H:%M:%S", time.gmtime()),
}
print(json.dumps(record))
