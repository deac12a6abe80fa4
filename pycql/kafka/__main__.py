"""``python -m pycql.kafka start|stop|status [--port 9092] [--dir .kafka]``.

Exit status: 0 on success (``status``: the broker runs), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys

from pycql.errors import OperationalError
from pycql.kafka.broker import LocalBroker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pycql.kafka",
        description="Run a local single-node Kafka broker (KRaft) on 127.0.0.1.",
    )
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument(
        "--port", type=int, default=9092, help="client port (the controller uses PORT+1)"
    )
    parser.add_argument(
        "--dir", default=".kafka", help="broker directory: config, data, logs (default .kafka)"
    )
    parser.add_argument("--libs", default=None, help="directory of the broker jars")
    parser.add_argument("--heap", default="512m", help="JVM maximum heap (default 512m)")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for start/stop"
    )
    args = parser.parse_args(argv)
    broker = LocalBroker(args.dir, args.port, libs=args.libs, heap=args.heap)
    try:
        if args.command == "start":
            status = broker.start(timeout=args.timeout)
            print(f"Kafka broker {status}")
            return 0
        if args.command == "stop":
            stopped = broker.stop(timeout=args.timeout)
            if stopped:
                print("Kafka broker stopped")
            else:
                print(f"no Kafka broker runs in {broker.directory}")
            return 0
        status = broker.status()
        print(f"Kafka broker {status}")
        return 0 if status.running else 1
    except OperationalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
