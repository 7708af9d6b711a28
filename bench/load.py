"""Load from another process: wrk when it is there (installed on demand), else bench.pyload.

Both are closed loops: N keep-alive connections, each sending the next POST as soon as the
previous answer is read, for a fixed time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.listing import ROOT


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    requests: int
    errors: int  # socket errors, timeouts and non-2xx answers


# wrk reports through this `done` hook: exact counters, no parsing of its human-readable units.
_WRK_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = [==[%s]==]

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_RESULT %%d %%d %%d %%.1f %%.1f\\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _install_wrk() -> str | None:
    """`apt-get install wrk` when we are root on Debian; a missing index is refreshed once."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return None
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in ([], [["apt-get", "update", "-q"]]):
        try:
            for command in step:
                subprocess.run(command, env=env, capture_output=True, timeout=300, check=False)
            subprocess.run(install, env=env, capture_output=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if found := shutil.which("wrk"):
            return found
    return None


class Wrk:
    def __init__(self, path: str, script_dir: Path, threads: int, connections: int) -> None:
        self.path = path
        self.script_dir = script_dir
        self.threads = threads
        self.connections = connections
        self.timeout_s = 60  # the gateway queues 16 slow requests: wrk's 2 s default would drop them
        version = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
        self.version = (version.stdout or version.stderr).split("Copyright")[0].strip()

    def describe(self, seconds: float) -> str:
        return (
            f"{self.version}: wrk -t{self.threads} -c{self.connections} -d{seconds:g}s "
            f"--timeout {self.timeout_s}s, POST with a Lua script"
        )

    def run(
        self, url: str, body: bytes, seconds: float, connections: int | None = None, name: str = "listing"
    ) -> LoadResult:
        script = self.script_dir / f"{name}.lua"
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(_WRK_SCRIPT % body.decode())
        connections = connections or self.connections
        threads = min(self.threads, connections)  # wrk wants at least one connection per thread
        argv = [
            self.path, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s",
            "--timeout", f"{self.timeout_s}s", "-s", str(script), url,
        ]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, check=False)
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        requests, duration_us, errors, p50_us, p99_us = line.split()[1:]
        count = int(requests)
        return LoadResult(
            requests_per_s=count / (int(duration_us) / 1e6),
            p50_ms=float(p50_us) / 1000 if count else None,
            p99_ms=float(p99_us) / 1000 if count else None,
            requests=count,
            errors=int(errors),
        )


class PyLoad:
    """The fallback: bench.pyload, one asyncio process (slower than wrk: ratios still hold
    for slow servers, but it caps what the fast baseline can show)."""

    version = "bench.pyload (Python asyncio, fallback: wrk unavailable)"

    def __init__(self, script_dir: Path, connections: int) -> None:
        self.script_dir = script_dir
        self.connections = connections

    def describe(self, seconds: float) -> str:
        return f"{self.version}: -c{self.connections} -d{seconds:g}s, keep-alive POST"

    def run(
        self, url: str, body: bytes, seconds: float, connections: int | None = None, name: str = "listing"
    ) -> LoadResult:
        body_file = self.script_dir / f"{name}.json"
        body_file.parent.mkdir(parents=True, exist_ok=True)
        body_file.write_bytes(body)
        argv = [
            sys.executable, "-m", "bench.pyload", "--url", url, "--body-file", str(body_file),
            "--connections", str(connections or self.connections), "--seconds", str(seconds),
        ]  # fmt: skip
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=seconds + 120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"bench.pyload failed: {done.stderr.decode(errors='replace')}")
        result = orjson.loads(done.stdout)
        return LoadResult(**result)


def choose_tool(script_dir: Path, threads: int, connections: int, install: bool, tool: str) -> Wrk | PyLoad:
    """wrk unless `tool` is "python"; "wrk" insists on it (installing it if allowed)."""
    path = shutil.which("wrk") if tool != "python" else None
    if path is None and tool != "python" and install:
        print("bench: wrk is missing; trying `apt-get install -y wrk` ...", flush=True)
        path = _install_wrk()
    if path is None and tool == "wrk":
        raise SystemExit("bench: --tool wrk, but wrk is unavailable")
    if path is None:
        print("bench: load from the Python generator (bench.pyload), not wrk: fast servers will read low")
        return PyLoad(script_dir, connections)
    return Wrk(path, script_dir, threads, connections)
