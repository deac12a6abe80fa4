"""A local single-node Kafka broker for development and tests.

``python -m pycql.kafka start|stop|status [--port 9092] [--dir .kafka]``, or
from Python::

    from pycql.kafka import LocalBroker
    broker = LocalBroker(".kafka", port=9092)
    broker.start(timeout=60)       # formats storage on the first start
    print(broker.bootstrap)        # 127.0.0.1:9092
    broker.stop()

See ``docs/kafka.md``.
"""

from pycql.kafka.broker import BrokerStatus, LocalBroker, default_libs_dir, free_port_pair

__all__ = ["BrokerStatus", "LocalBroker", "default_libs_dir", "free_port_pair"]
