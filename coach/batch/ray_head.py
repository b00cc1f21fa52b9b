"""A local Ray head that dies with the driver, even when the driver is killed with SIGKILL.

Measured on Ray 2.60: a driver that starts Ray itself (``ray.init()``) and is then SIGKILLed takes its
``gcs_server`` and ``raylet`` down, but leaves ``ray::DashboardAgent`` and ``ray::RuntimeEnvAgent`` running
for good. So coach starts the head through a small supervisor in a process group of its own: the supervisor
runs ``ray start --head`` (every Ray process it spawns stays in its group), says ``ready``, then waits for the
end of its standard input. The driver holds the only write end of that pipe, so the driver's exit, however
it happens, closes it, and the supervisor kills its whole group (SIGTERM, then SIGKILL). Run as
``python -m coach.batch.ray_head --num-cpus N``; the driver side is ``LocalHead``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from coach.errors import CoachError

READY = "ready"
START_TIMEOUT_S = 120.0
GRACE_S = 2.0
# every port a Ray node opens: chosen free here, so a second head or node on the same machine never collides
PORT_OPTIONS = (
    "--node-manager-port",
    "--object-manager-port",
    "--dashboard-agent-listen-port",
    "--dashboard-agent-grpc-port",
    "--metrics-export-port",
    "--runtime-env-agent-port",
)


def free_ports(count: int) -> list[int]:
    """Ports free on the loopback now (held together while choosing, so they differ)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def node_options(*, num_cpus: int, head_port: int | None = None) -> list[str]:
    """``ray start`` options for one node on this machine: quiet, no dashboard, no usage stats, free ports."""
    ports = free_ports(len(PORT_OPTIONS))
    options = [f"--num-cpus={num_cpus}", "--disable-usage-stats"]
    options += [f"{name}={port}" for name, port in zip(PORT_OPTIONS, ports, strict=True)]
    if head_port is not None:
        options += ["--head", f"--port={head_port}", "--node-ip-address=127.0.0.1", "--include-dashboard=false"]
    return options


def ray_command(*arguments: str) -> list[str]:
    """The ``ray`` command of this interpreter's environment."""
    return [sys.executable, "-m", "ray.scripts.scripts", *arguments]


@dataclass
class LocalHead:
    """A Ray head on this machine, run by a supervisor that takes it down when this process ends."""

    address: str
    supervisor: subprocess.Popen[bytes]
    _ready: bool = False

    @classmethod
    def launch(cls, num_cpus: int) -> LocalHead:
        """Start the supervisor; its head comes up in the background (``wait_ready``)."""
        (port,) = free_ports(1)
        command = [sys.executable, "-m", "coach.batch.ray_head", f"--num-cpus={num_cpus}", f"--port={port}"]
        environment = os.environ | {"RAY_USAGE_STATS_ENABLED": "0"}
        environment.setdefault("RAY_AUTH_MODE", "token")  # the same as the driver's (``ray_engine.ray_session``)
        environment.setdefault("RAY_enable_metrics_collection", "0")  # no metrics agent to wait for and complain
        supervisor = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=environment,
        )
        return cls(address=f"127.0.0.1:{port}", supervisor=supervisor)

    @classmethod
    def start(cls, num_cpus: int) -> LocalHead:
        """Start the supervisor and wait until its head answers."""
        head = cls.launch(num_cpus)
        head.wait_ready()
        return head

    def wait_ready(self) -> str:
        """Wait until the head answers; its address."""
        if not self._ready:
            assert self.supervisor.stdout is not None
            line = self.supervisor.stdout.readline().decode("utf-8", "replace").strip()
            if line != READY:
                self.stop()
                raise CoachError(f"could not start a local Ray head: {line or 'the supervisor exited'}")
            self._ready = True
        return self.address

    def stop(self) -> None:
        """Take the head down now (closing the pipe is the signal) and wait for the supervisor."""
        if self.supervisor.stdin is not None and not self.supervisor.stdin.closed:
            self.supervisor.stdin.close()
        try:
            self.supervisor.wait(timeout=GRACE_S + 10)
        except subprocess.TimeoutExpired:
            os.killpg(self.supervisor.pid, signal.SIGKILL)
            self.supervisor.wait()


def supervise(num_cpus: int, port: int) -> int:
    """The supervisor: start the head in this process group, then kill the group when stdin ends."""
    with tempfile.TemporaryFile() as errors:  # not a pipe: the daemons inherit it and would hold it open
        started = subprocess.run(
            ray_command("start", *node_options(num_cpus=num_cpus, head_port=port)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            timeout=START_TIMEOUT_S,
        )
        errors.seek(0)
        last = errors.read().decode("utf-8", "replace").strip().splitlines()[-1:]
    if started.returncode != 0:
        print(f"ray start failed: {' '.join(last)}", flush=True)
        _kill_group()
        return 1
    print(READY, flush=True)
    try:
        while sys.stdin.buffer.read(65_536):  # nothing is ever sent: only the end of the pipe matters
            pass
    except OSError:
        pass
    _forget_address(port)
    _kill_group()
    return 0


def _forget_address(port: int) -> None:
    """Remove Ray's note of "the current cluster" when it is this head: a later ``ray.init()`` would join it."""
    system_temp = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"  # as Ray chooses it
    note = Path(system_temp) / "ray" / "ray_current_cluster"
    try:
        if note.read_text(encoding="utf-8").strip().endswith(f":{port}"):
            note.unlink()
    except OSError:
        pass


def _kill_group() -> None:
    """SIGTERM to every process of this group (Ray's own shutdown), then SIGKILL to whatever is left, self last."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    group = os.getpgid(0)
    os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline and _group_has_others(group):
        time.sleep(0.1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.killpg(group, signal.SIGKILL)


def _group_has_others(group: int) -> bool:
    """Whether a live process other than this one is still in the group (zombies do not count)."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num-cpus", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    return supervise(args.num_cpus, args.port)


if __name__ == "__main__":
    sys.exit(main())
