"""The processes under test: a fresh database, then the gateway and the baseline, each one uvicorn
worker, and the Node peers, one process each; every one on its own loopback port, in its own
process group so that nothing outlives the bench."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from bench.listing import ROOT

DATABASE_FILE = "omnigate.db"  # the name gateway.settings gives the file inside GATEWAY_DATA_DIR


def clean_env(**extra: str) -> dict[str, str]:
    """This environment minus the caller's GATEWAY_* settings (a stray GATEWAY_DATABASE_URL would
    point the gateway at another database), plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(extra)
    return env


def omnigate_command() -> str:
    # The console script of the interpreter running the bench (the project's venv).
    beside = Path(sys.executable).parent / "omnigate"
    found = str(beside) if beside.exists() else shutil.which("omnigate")
    if found is None:
        raise SystemExit("bench: no `omnigate` command; install the project (pip install -e .)")
    return found


def prepare_database(data_dir: Path) -> Path:
    """A fresh demo database, made by `omnigate seed` (migrate + seed) as an operator would."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    subprocess.run(
        [omnigate_command(), "seed"],
        cwd=ROOT,
        env=clean_env(GATEWAY_DATA_DIR=str(data_dir), GATEWAY_LOG_LEVEL="warning"),
        check=True,
        capture_output=True,
    )
    return data_dir / DATABASE_FILE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    ready_body: bytes | None = None  # None: GET /healthz; else POST this to /graphql

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            probe: str | urllib.request.Request = self.url("/healthz")
            if self.ready_body is not None:
                headers = {"Content-Type": "application/json"}
                probe = urllib.request.Request(self.url("/graphql"), data=self.ready_body, headers=headers)
            try:
                with urllib.request.urlopen(probe, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout_s:.0f} s:\n{self.log_tail()}")

    def cpu_ticks(self) -> int:
        """CPU time the server has used so far, in clock ticks (utime + stime, /proc/PID/stat)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return int(fields[11]) + int(fields[12])

    def stop(self) -> None:
        """SIGTERM to the whole group (uvicorn shuts down gracefully), SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue


@dataclass
class Servers:
    """Starts servers and stops every one of them on exit, whatever the exit (errors, Ctrl-C)."""

    log_dir: Path
    started: list[Server] = field(default_factory=list)

    def __enter__(self) -> Servers:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        for server in reversed(self.started):
            server.stop()

    def wait_idle(self, timeout_s: float = 180.0) -> None:
        """Until no server burns CPU: a load tool that stops leaves requests in flight, and a slow
        server finishing them would steal the CPU from the next server measured."""
        deadline = time.monotonic() + timeout_s
        quiet = 0
        before = [s.cpu_ticks() for s in self.started]
        while quiet < 2 and time.monotonic() < deadline:
            time.sleep(0.25)
            now = [s.cpu_ticks() for s in self.started]
            busy = any(b - a > 2 for a, b in zip(before, now, strict=True))  # > 8% of a core
            quiet = 0 if busy else quiet + 1
            before = now

    def start(
        self, name: str, argv: list[str], env: dict[str, str], port: int, ready_body: bytes | None = None
    ) -> Server:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: Ctrl-C reaches us, and we stop it
            )
        server = Server(name, port, process, log_path, ready_body)
        self.started.append(server)
        return server

    def gateway(self, name: str, data_dir: Path, **settings: str) -> Server:
        port = free_port()
        env = clean_env(
            GATEWAY_DATA_DIR=str(data_dir),
            GATEWAY_SEED_DEMO="false",
            GATEWAY_LOG_LEVEL="warning",
            **{f"GATEWAY_{key.upper()}": value for key, value in settings.items()},
        )
        argv = [omnigate_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        return self.start(name, argv, env, port)

    def baseline(self, database: Path) -> Server:
        port = free_port()
        argv = [sys.executable, "-m", "bench.baseline", "--port", str(port), "--database", str(database)]
        return self.start("baseline", argv, clean_env(), port)

    def peer(self, name: str, argv: list[str], port: int) -> Server:
        """A Node peer (bench.node_peers builds its argv), run as one would deploy it; no APOLLO_*
        variable reaches it, so nothing reports anywhere."""
        env = {k: v for k, v in clean_env(NODE_ENV="production").items() if not k.startswith("APOLLO_")}
        return self.start(name, argv, env, port, ready_body=b'{"query":"{ __typename }"}')
