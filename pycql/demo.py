"""The README's first run: a live continuous query on the embedded log.

A producer thread generates a stream of car positions (the Linear Road flavour
of the CQL paper) while the main thread runs::

    SELECT ISTREAM(car_id, speed) FROM PosSpeedStr [RANGE 30 SECONDS] WHERE speed > 65

and prints rows as they arrive, with their timestamps (ISO, with the zone: UTC). It also prints the
streaming plan. Run it with ``python -m pycql.demo`` (``--rows N`` to print more).
"""

from __future__ import annotations

import argparse
import random
import threading
import time

import pycql
from pycql.shell._table import format_datetime

QUERY = "SELECT ISTREAM(car_id, speed) FROM PosSpeedStr [RANGE 30 SECONDS] WHERE speed > 65"


def _produce(conn: pycql.driver.connection.Connection, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    cur = conn.cursor()
    start_ms = int(time.time() * 1000)
    tick = 0
    while not stop.is_set():
        rows = [(rng.randrange(1, 20), rng.randrange(40, 90), start_ms + tick * 100)
                for _ in range(5)]
        cur.executemany("INSERT INTO PosSpeedStr (car_id, speed, ts) VALUES (?, ?, ?)", rows)
        tick += 1
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="pycql demo: a live continuous query")
    parser.add_argument("--rows", type=int, default=10, help="how many rows to print")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    with pycql.connect() as conn:
        cur = conn.cursor()
        cur.execute(
            "CREATE STREAM PosSpeedStr (car_id INTEGER, speed INTEGER, ts BIGINT) "
            "WITH (timestamp = 'ts')"
        )
        cur.execute("EXPLAIN PLAN FOR " + QUERY)
        print("Plan:")
        for (line,) in cur.fetchall():
            print("  " + line)

        print(f"\n{QUERY}\n")
        stop = threading.Event()
        producer = threading.Thread(target=_produce, args=(conn, stop, args.seed), daemon=True)
        cur.execute(QUERY)
        producer.start()
        print(f"{'rowtime':<27}  car_id  speed")
        try:
            for _ in range(args.rows):
                row = cur.fetchone(timeout=30)
                if row is None:
                    raise SystemExit("no row arrived within 30 s: the demo is broken")
                rowtime = cur.rowtime
                stamp = "" if rowtime is None else format_datetime(rowtime)
                print(f"{stamp:<27}  {row[0]:>6}  {row[1]:>5}")
        finally:
            stop.set()
            cur.close()
            producer.join(timeout=5)
        print(f"\n{args.rows} rows, as they came.")


if __name__ == "__main__":
    main()
