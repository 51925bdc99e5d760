"""A real ClickHouse cluster on loopback: Debian's ZooKeeper and servers.

``ClickHouseCluster(root, shards=2, replicas=2).start()`` starts ZooKeeper
first (ON CLUSTER DDL without it crashes the old server), then one
``clickhouse-server`` per replica, all naming one cluster, and stops
everything it started by pid. Every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support.servers import ClickHouseServer, free_port

ZK_SERVER = "/usr/share/zookeeper/bin/zkServer.sh"
CLUSTER_NAME = "basirat_test"

ZOO_CFG = """tickTime=500
initLimit=10
syncLimit=5
dataDir={data}
clientPort={port}
clientPortAddress=127.0.0.1
maxClientCnxns=200
admin.enableServer=false
4lw.commands.whitelist=ruok
"""

NODE_CONFIG = """
  <zookeeper><node><host>127.0.0.1</host><port>{zk_port}</port></node>
    <session_timeout_ms>10000</session_timeout_ms></zookeeper>
  <macros><shard>{shard}</shard><replica>{replica}</replica></macros>
  <remote_servers><{cluster}>{shards}</{cluster}></remote_servers>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
"""


def zookeeper_available() -> bool:
    return os.path.exists(ZK_SERVER) and os.path.exists("/usr/bin/java")


class ZooKeeper:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "ZooKeeper":
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        config = self.root / "zoo.cfg"
        config.write_text(ZOO_CFG.format(data=self.root / "data", port=self.port))
        env = {**os.environ, "JVMFLAGS": "-Xmx256m", "ZOO_LOG4J_PROP": "WARN,CONSOLE"}
        with open(self.root / "zookeeper.log", "ab") as out:
            self.process = subprocess.Popen(
                [ZK_SERVER, "start-foreground", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"zookeeper exited with {self.process.returncode}; see {self.root}/zookeeper.log")
            if self.ready():
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"zookeeper did not answer on port {self.port} within {timeout}s")

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"ruok")
                return conn.recv(4) == b"imok"
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class ClickHouseCluster:
    """``shards`` × ``replicas`` servers; ``nodes[i]`` is shard i // replicas."""

    def __init__(self, root: Path, shards: int = 2, replicas: int = 2, name: str = CLUSTER_NAME):
        self.root = Path(root)
        self.name = name
        self.zookeeper = ZooKeeper(self.root / "zookeeper")
        ports = [free_port() for _ in range(shards * replicas)]
        layout = "".join(
            "<shard><internal_replication>true</internal_replication>"
            + "".join(
                f"<replica><host>127.0.0.1</host><port>{ports[s * replicas + r]}</port></replica>"
                for r in range(replicas)
            )
            + "</shard>"
            for s in range(shards)
        )
        self.nodes = [
            ClickHouseServer(
                self.root / f"node{i + 1}",
                extra_config=NODE_CONFIG.format(
                    zk_port=self.zookeeper.port,
                    shard=i // replicas + 1,
                    replica=f"node{i + 1}",
                    cluster=name,
                    shards=layout,
                ),
                tcp_port=port,
            )
            for i, port in enumerate(ports)
        ]

    def start(self) -> "ClickHouseCluster":
        self.zookeeper.start()
        try:
            for node in self.nodes:
                node.start()
        except Exception:
            self.stop()
            raise
        return self

    def url(self, index: int = 0) -> str:
        return self.nodes[index].url

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.zookeeper.stop()

    def describe(self) -> str:
        """What each node is doing now: for the report of a test that failed.

        A distributed DDL that times out says only that a host did not finish;
        this says which host, whether it is alive, what it is running and what
        its error log said last.
        """
        lines = [f"zookeeper: {'answering' if self.zookeeper.ready() else 'NOT answering'}"]
        for index, node in enumerate(self.nodes, start=1):
            code = node.process.poll() if node.process else None
            state = "running" if node.process and code is None else f"exited with {code}"
            lines.append(f"--- node{index} (tcp {node.tcp_port}): {state}")
            if code is None:
                lines.extend(node.activity())
            if tail := node.log_tail(12):
                lines.append(tail)
        return "\n".join(lines)
