"""Planning cost: JVM start, the first plan, and a warm plan.

Run it in a fresh process (the JVM starts once per process)::

    python benchmarks/planning.py            # prints a table
    python benchmarks/planning.py --json     # prints JSON

Goals (issue 2): a cold first plan (JVM start included) under 1.5 s, a warm
plan under 20 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pycql.planner import _jvm, analyze

CATALOG: dict[str, Any] = {
    "streams": [
        {"name": "PosSpeedStr", "topic": "PosSpeedStr", "timestamp": None, "format": "json",
         "columns": [{"name": n, "type": "INTEGER", "nullable": True}
                     for n in ("car_id", "speed", "exp_way", "lane", "dir", "x_pos")]},
    ],
    "tables": [],
    "views": [],
}
FIRST_QUERY = "SELECT ISTREAM(*) FROM PosSpeedStr [RANGE 30 SECONDS] WHERE speed > 65"
WARM_QUERIES = [
    "SELECT ISTREAM(car_id, speed) FROM PosSpeedStr [NOW] WHERE speed > {n}",
    "SELECT car_id, AVG(speed) FROM PosSpeedStr [RANGE {n} SECONDS] GROUP BY car_id",
    "SELECT * FROM PosSpeedStr [PARTITION BY car_id ROWS {n}]",
]


def measure(warm_runs: int) -> dict[str, float]:
    t0 = time.perf_counter()
    _jvm._start()
    t1 = time.perf_counter()
    analyze(FIRST_QUERY, CATALOG)
    t2 = time.perf_counter()
    warm: list[float] = []
    for i in range(warm_runs):
        sql = WARM_QUERIES[i % len(WARM_QUERIES)].format(n=i + 2)  # distinct text each time
        s = time.perf_counter()
        analyze(sql, CATALOG)
        warm.append(time.perf_counter() - s)
    warm.sort()
    return {
        "jvm_start_s": t1 - t0,
        "first_plan_s": t2 - t1,
        "cold_first_plan_s": t2 - t0,
        "warm_plan_median_ms": statistics.median(warm) * 1000,
        "warm_plan_p90_ms": warm[int(len(warm) * 0.9)] * 1000,
        "warm_runs": warm_runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warm-runs", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.warm_runs)
    if args.json:
        print(orjson.dumps(result).decode())
        return
    print(f"JVM start             {result['jvm_start_s'] * 1000:8.0f} ms")
    print(f"first plan            {result['first_plan_s'] * 1000:8.0f} ms")
    print(f"cold first plan total {result['cold_first_plan_s'] * 1000:8.0f} ms   (goal < 1500 ms)")
    print(f"warm plan median      {result['warm_plan_median_ms']:8.2f} ms   (goal < 20 ms)")
    print(f"warm plan p90         {result['warm_plan_p90_ms']:8.2f} ms")


if __name__ == "__main__":
    main()
