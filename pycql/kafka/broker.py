"""A local single-node Apache Kafka broker (KRaft: one JVM is broker and controller).

The jars come from Maven Central through ``java/kafka-broker/pom.xml``
(``mvn -B -q -f java/kafka-broker/pom.xml package`` copies them to
``.kafka/libs``). Everything else lives under one directory::

    .kafka/
      libs/               the jars (from Maven)
      server.properties   written at every start
      log4j2.properties   the broker's logging setup
      data/               the topics (formatted once, on the first start)
      broker.pid          the JVM's process id while it runs
      broker.log          the broker's own log (log4j2)
      broker.out          the JVM's stdout/stderr (startup failures land here)

The broker listens on 127.0.0.1 only: clients on ``PORT``, the controller on
``PORT + 1``.

>>> broker = LocalBroker(".kafka", port=9092)   # doctest: +SKIP
>>> broker.start(timeout=60)                    # doctest: +SKIP
>>> broker.bootstrap                            # doctest: +SKIP
'127.0.0.1:9092'
>>> broker.stop()                               # doctest: +SKIP
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycql.errors import OperationalError

__all__ = ["BrokerStatus", "LocalBroker", "default_libs_dir", "free_port_pair"]

#: The JVM's heap; a local broker for tests and development needs little.
DEFAULT_HEAP = "512m"

_BUILD_HINT = "build them with:  mvn -B -q -f java/kafka-broker/pom.xml package"


def default_libs_dir() -> Path:
    """Where the Maven build puts the broker jars: ``<repository>/.kafka/libs``.

    ``PYCQL_KAFKA_LIBS`` overrides it.
    """
    override = os.environ.get("PYCQL_KAFKA_LIBS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / ".kafka" / "libs"



def free_port_pair() -> int:
    """A port P with P and P+1 both free on 127.0.0.1: a :class:`LocalBroker`'s client
    and controller ports."""
    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")

@dataclass(frozen=True)
class BrokerStatus:
    """What :meth:`LocalBroker.status` found."""

    running: bool
    pid: int | None
    bootstrap: str
    directory: Path
    log_file: Path

    def __str__(self) -> str:
        if self.running:
            return f"running (pid {self.pid}) at {self.bootstrap}; log: {self.log_file}"
        return f"not running (directory {self.directory})"


class LocalBroker:
    """Start, stop and inspect a single-node KRaft broker living in ``directory``.

    ``libs`` is the directory of the broker jars: ``directory/libs`` when it
    has jars, else the repository's ``.kafka/libs`` (:func:`default_libs_dir`).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] = ".kafka",
        port: int = 9092,
        *,
        libs: str | os.PathLike[str] | None = None,
        heap: str = DEFAULT_HEAP,
    ) -> None:
        self.directory = Path(directory).resolve()
        self.port = port
        self.heap = heap
        if libs is not None:
            self.libs = Path(libs).resolve()
        elif _has_jars(self.directory / "libs"):
            self.libs = self.directory / "libs"
        else:
            self.libs = default_libs_dir()

    # -- paths ---------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """The address clients connect to, e.g. ``127.0.0.1:9092``."""
        return f"127.0.0.1:{self.port}"

    @property
    def controller_port(self) -> int:
        """The KRaft controller's port (``port + 1``)."""
        return self.port + 1

    @property
    def pid_file(self) -> Path:
        return self.directory / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / "broker.log"

    @property
    def out_file(self) -> Path:
        return self.directory / "broker.out"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    # -- public API ----------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The process id of this directory's running broker (a Kafka JVM), else None.

        Benchmarks read its CPU time (``/proc/<pid>/stat``) to count the broker's share.
        """
        return self._running_pid()

    def status(self) -> BrokerStatus:
        """Whether this directory's broker process is alive (and its address)."""
        pid = self._running_pid()
        bootstrap = self.bootstrap
        if pid is not None:
            recorded = self._recorded_port()
            if recorded is not None:
                bootstrap = f"127.0.0.1:{recorded}"
        return BrokerStatus(pid is not None, pid, bootstrap, self.directory, self.log_file)

    def start(self, timeout: float = 60.0) -> BrokerStatus:
        """Start the broker and wait until it answers metadata requests.

        Does nothing when this directory's broker already runs on ``port``.
        Raises :class:`~pycql.errors.OperationalError` saying what is wrong:
        no jars, no ``java``, a busy port, or a broker that did not come up.
        """
        pid = self._running_pid()
        if pid is not None:
            recorded = self._recorded_port()
            if recorded not in (None, self.port):
                raise OperationalError(
                    f"the broker in {self.directory} already runs on port {recorded} "
                    f"(pid {pid}); stop it first to use port {self.port}"
                )
            self._wait_until_ready(pid, timeout, None)
            return self.status()

        java = _find_java()
        self._check_jars()
        for port in (self.port, self.controller_port):
            if not _port_free(port):
                raise OperationalError(
                    f"port {port} on 127.0.0.1 is in use (the broker needs {self.port} and "
                    f"{self.controller_port}); stop whatever uses it or choose another "
                    f"port with --port"
                )
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_config()
        if not (self.data_dir / "meta.properties").exists():
            self._format_storage(java)

        command = [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.directory / 'log4j2.properties'}",
            "-cp",
            str(self.libs / "*"),
            "kafka.Kafka",
            str(self.directory / "server.properties"),
        ]
        with open(self.out_file, "wb") as out:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True,  # survives the shell that started it
            )
        self.pid_file.write_text(f"{process.pid}\n")
        try:
            self._wait_until_ready(process.pid, timeout, process)
        except BaseException:
            self._terminate(process.pid, 10.0)
            self.pid_file.unlink(missing_ok=True)
            raise
        return self.status()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the broker: SIGTERM, wait up to ``timeout`` s, then SIGKILL.

        Returns whether a running broker was stopped.
        """
        pid = self._running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        self._terminate(pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        return True

    # -- internals -----------------------------------------------------------

    def _check_jars(self) -> None:
        if not _has_jars(self.libs):
            raise OperationalError(f"no Kafka broker jars in {self.libs}; {_BUILD_HINT}")
        if not any(self.libs.glob("kafka_2.13-*.jar")):
            raise OperationalError(
                f"{self.libs} has jars but not kafka_2.13-*.jar (the broker); {_BUILD_HINT}"
            )

    def _recorded_port(self) -> int | None:
        config = self.directory / "server.properties"
        try:
            for line in config.read_text().splitlines():
                if line.startswith("listeners="):
                    first = line.split("=", 1)[1].split(",")[0]
                    return int(first.rsplit(":", 1)[1])
        except (OSError, ValueError, IndexError):
            return None
        return None

    def _running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not _alive(pid):
            return None
        # Guard against a recycled pid: the process must be a Kafka JVM.
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return pid  # no /proc (not Linux): trust the pid file
        return pid if b"kafka.Kafka" in cmdline else None

    def _write_config(self) -> None:
        data = self.data_dir
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(data),
            # One node: every internal topic has one replica.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "group.initial.rebalance.delay.ms": "0",
            # The node is its own controller: on a starved machine (a CPU-bound run on
            # two cores) its heartbeat to itself can wait seconds, and after the default
            # 9 s the controller fenced its own broker in the middle of a run.
            "broker.session.timeout.ms": "30000",
            # pycql creates its topics explicitly; a typo must not create one.
            "auto.create.topics.enable": "false",
            "delete.topic.enable": "true",
            # A development broker keeps what it is given: replays and tests use
            # historical event times, which time-based retention would delete.
            "log.retention.ms": "-1",
            # A small machine: fewer threads than a production broker.
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
            "log.cleaner.threads": "1",
            "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
        }
        text = "# Written by pycql.kafka at every start; edits are overwritten.\n"
        text += "".join(f"{key}={value}\n" for key, value in properties.items())
        (self.directory / "server.properties").write_text(text)
        log4j = f"""\
# Written by pycql.kafka: the broker logs to {self.log_file}
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = {self.log_file}
appender.file.filePattern = {self.log_file}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
logger.state.name = state.change.logger
logger.state.level = WARN
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
"""
        (self.directory / "log4j2.properties").write_text(log4j)

    def _format_storage(self, java: str) -> None:
        cluster_id = _random_cluster_id()
        command = [
            java,
            "-Xmx256m",
            f"-Dlog4j2.configurationFile={self.directory / 'log4j2.properties'}",
            "-cp",
            str(self.libs / "*"),
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            cluster_id,
            "--config",
            str(self.directory / "server.properties"),
            "--ignore-formatted",
        ]
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise OperationalError(
                f"formatting the broker storage in {self.data_dir} failed "
                f"(exit {result.returncode}):\n{_tail(output, 20)}"
            )

    def _wait_until_ready(
        self, pid: int, timeout: float, process: subprocess.Popen[bytes] | None
    ) -> None:
        deadline = time.monotonic() + timeout
        while True:
            exited = process.poll() is not None if process is not None else not _alive(pid)
            if exited:
                raise OperationalError(
                    f"the Kafka broker exited during startup; its output "
                    f"({self.out_file}):\n{self._failure_output()}"
                )
            if _answers_metadata(self.bootstrap):
                return
            if time.monotonic() > deadline:
                raise OperationalError(
                    f"the Kafka broker did not answer at {self.bootstrap} within "
                    f"{timeout:.0f} s; see {self.log_file}:\n{self._failure_output()}"
                )
            time.sleep(0.2)

    def _failure_output(self) -> str:
        parts = []
        for path in (self.out_file, self.log_file):
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            lines = [line for line in text.splitlines() if line.strip()]
            errors = [line for line in lines if " ERROR " in line or "Exception" in line]
            parts.append(_tail("\n".join(errors or lines), 15))
        return "\n".join(part for part in parts if part) or "(no output)"

    def _terminate(self, pid: int, timeout: float) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        for _ in range(50):
            if not _alive(pid):
                return
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (reaping it when it is our own exited child)."""
    try:
        finished, _status = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fall through to the signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie that is not our child still answers kill(0); /proc tells.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _port_free(port: int) -> bool:
    """Whether the broker could listen on ``port``.

    With ``SO_REUSEADDR``, as the broker's own listeners have it: connections
    of a broker just stopped, left in TIME_WAIT, do not make the port busy
    (a restart on the same port works), a listening socket does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _find_java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise OperationalError(
            "java was not found (neither $JAVA_HOME/bin/java nor java on PATH); "
            "the Kafka broker needs Java 17 or newer"
        )
    return found


def _has_jars(directory: Path) -> bool:
    return directory.is_dir() and any(directory.glob("*.jar"))


def _random_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding."""
    while True:
        raw = uuid.uuid4().bytes
        text = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        if not text.startswith("-"):  # would read as a command-line option
            return text


def _answers_metadata(bootstrap: str) -> bool:
    """Whether a broker at ``bootstrap`` answers a metadata request."""
    host, port = bootstrap.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            pass
    except OSError:
        return False
    from confluent_kafka.admin import AdminClient

    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": _SILENT}
    admin = AdminClient(config)
    try:
        metadata = admin.list_topics(timeout=2.0)
    except Exception:  # any failure means "not ready yet"
        return False
    return bool(metadata.brokers)


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


_SILENT = logging.getLogger("pycql.kafka.client")
_SILENT.addHandler(logging.NullHandler())
_SILENT.propagate = False
