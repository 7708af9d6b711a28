"""`omnigate serve --workers N`: N gateway processes behind one port on this machine.

Each worker is a whole gateway (its own event loop, pool, caches and subscribers) that binds the
port itself with SO_REUSEPORT, so the kernel spreads new connections evenly over the workers
(a shared accept socket lets the quickest process take most keep-alive connections). What they
must agree on goes through the shared engines: the database, and Redis for events, the response
cache's generations, rate limits and the polling lock; so more than one worker needs
`GATEWAY_REDIS_URL`. The supervisor migrates (and seeds) once before starting them, restarts a
worker that dies, and on SIGTERM or Ctrl-C passes SIGTERM on, so each one drains as a single
process does (gateway/running/draining.py), and waits for them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from gateway.settings import Settings

log = logging.getLogger("omnigate")
_RESTART_PAUSE_S = 1.0  # a worker that dies at once is not restarted in a tight loop


class WorkersRefused(SystemExit):
    """The configuration cannot run several workers (said before anything starts)."""


def check(settings: Settings, workers: int) -> None:
    if workers < 1:
        raise WorkersRefused("--workers takes a number of processes, 1 or more")
    if workers > 1 and not settings.redis_url:
        raise WorkersRefused(
            "--workers above 1 needs GATEWAY_REDIS_URL: the processes share events (subscriptions, "
            "cache invalidation), response-cache generations and rate limits through Redis"
        )
    if workers > 1 and not hasattr(socket, "SO_REUSEPORT"):
        raise WorkersRefused("--workers above 1 needs SO_REUSEPORT (Linux, BSD, macOS)")


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_worker(settings: Settings, host: str, port: int, number: int) -> None:
    """One worker process: its own socket on the shared port, then the gateway until SIGTERM."""
    from gateway.running.logs import configure as configure_logs
    from gateway.running.serving import serve_one

    configure_logs(settings.log_format, settings.log_level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the supervisor, which says SIGTERM
    sock = listening_socket(host, port, reuse_port=True)
    log.info("worker %d (pid %d) serving on %s:%d", number, os.getpid(), host, port)
    serve_one(settings, host, port, sockets=[sock])


class Supervisor:
    def __init__(self, settings: Settings, host: str, port: int, workers: int) -> None:
        self.settings, self.host, self.port, self.count = settings, host, port, workers
        self.context = multiprocessing.get_context("spawn")  # no inherited loop, pool or threads
        self.workers: dict[int, BaseProcess] = {}
        self.stopping = False

    def _start(self, number: int) -> None:
        process = self.context.Process(
            target=run_worker,
            args=(self.settings, self.host, self.port, number),
            name=f"omnigate-worker-{number}",
        )
        process.start()
        self.workers[number] = process

    def _stop(self, _signum: int, _frame: Any) -> None:
        self.stopping = True
        for process in self.workers.values():
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)

    def run(self) -> None:
        # Fail here, not in N workers, when the port is taken.
        listening_socket(self.host, self.port, reuse_port=True).close()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for number in range(1, self.count + 1):
            self._start(number)
        log.info("omnigate: %d workers on %s:%d", self.count, self.host, self.port)
        while self.workers:
            for number, process in list(self.workers.items()):
                process.join(timeout=0.2)
                if process.exitcode is None:
                    continue
                del self.workers[number]
                if not self.stopping:
                    log.error("worker %d exited with %s; starting another", number, process.exitcode)
                    time.sleep(_RESTART_PAUSE_S)
                    self._start(number)
