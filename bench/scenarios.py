"""The scenarios that measure something other than the listing, run by `python -m bench` after it.

Each is also a command of its own (`python -m bench.checkout`, `.subscriptions`, `.upstream`,
whose docstrings say what they measure). Here each runs as a child process once the listing's
servers are stopped, with a time limit, and what it prints goes into bench/RESULTS.md; a
scenario that cannot run here (no Node.js for the OData mock, say) is recorded as such, and
the rest of the run goes on.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    title: str
    module: str
    quick: tuple[str, ...]  # arguments for --quick
    full: tuple[str, ...]
    timeout_s: float
    headline: str = ""  # a regular expression for the lines of the output the targets table shows
    label: str = ""  # what the columns of those lines are


SCENARIOS = (
    Scenario(
        "checkout",
        "Cart add + read, and checkout under contention (embedded SQLite, in process)",
        "bench.checkout",
        ("--clients", "10", "--units", "10", "--carts", "30"),
        ("--clients", "50", "--units", "100", "--carts", "300"),
        600,
    ),
    Scenario(
        "writes",
        "The write path as served: pgbench, then the gateway on PostgreSQL (one process, two) and SQLite",
        "bench.writes",
        ("--clients", "10", "--seconds", "2", "--units", "10", "--carts", "30", "--pgbench-scale", "10"),
        ("--clients", "50", "--seconds", "10", "--units", "100", "--carts", "300", "--pgbench-scale", "50"),
        900,
        r"^(pgbench|postgresql|sqlite)",
    ),
    Scenario(
        "processes",
        "More processes do more: --workers 1 against --workers 2 (PostgreSQL + Redis)",
        "bench.processes",
        ("--seconds", "2"),
        ("--seconds", "10"),
        600,
        r"^(1 process|2 processes)",
    ),
    Scenario(
        "notify",
        "From a write to the push: across processes (Redis) and around the gateway (LISTEN/NOTIFY)",
        "bench.notify",
        ("--writes", "5"),
        ("--writes", "50"),
        300,
        r"->",
    ),
    Scenario(
        "varied",
        "A listing whose arguments change on every request (response-cache misses, entity-cache hits)",
        "bench.varied",
        ("--seconds", "2"),
        ("--seconds", "10"),
        300,
        r"^(varied|one fixed)",
    ),
    Scenario(
        "commerce",
        "Carts, orders and me with loyalty: the compiled path against the standard executor, served",
        "bench.commerce",
        ("--seconds", "2"),
        ("--seconds", "8"),
        600,
        r"^(cart|member's|me with)",
    ),
    Scenario(
        "analytics",
        "The analytics reports over a year of synthetic history (SQLite, and PostgreSQL when given)",
        "bench.analytics",
        ("--lines", "20000", "--runs", "1"),
        ("--lines", "100000", "--runs", "3"),
        1800,
        r"^\| (sales|fulfillment|returns|sell-through|loyalty|points)",
    ),
    Scenario(
        "subscriptions",
        "Subscription fan-out: one stock change to N subscribers (one process; with --redis, two)",
        "bench.subscriptions",
        ("--sizes", "1000", "--rounds", "1"),
        ("--sizes", "1000", "5000", "10000", "--rounds", "3"),
        900,
        r"^\s*\d+\s+\d+\s+[\d.]+|^(one process|two processes)",
        "subscribers, reached, delivery p50 / p99 / max ms, KiB per subscriber, server CPU ms per event: ",
    ),
    Scenario(
        "upstream",
        "A legacy upstream 100 ms away behind the OData adapter, cold and warm",
        "bench.upstream",
        (),
        (),
        600,
        r"^\s*(sync|page):",
    ),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    scenario: Scenario
    ok: bool
    output: str
    seconds: float

    def summary(self) -> str:
        """The scenario's last lines: its headline figures."""
        lines = [ln.strip() for ln in self.output.strip().splitlines() if ln.strip()]
        if not self.ok:
            return f"did not run to the end: {lines[-1] if lines else '?'}"
        if self.scenario.headline:
            chosen = [" ".join(ln.split()) for ln in lines if re.search(self.scenario.headline, ln)]
            if chosen:
                return self.scenario.label + "; ".join(chosen)
        return "; ".join(lines[-2:]) if lines else "no output"


def run_all(quick: bool, extra: dict[str, tuple[str, ...]] | None = None) -> list[Outcome]:
    outcomes = []
    for scenario in SCENARIOS:
        argv = [sys.executable, "-m", scenario.module, *(scenario.quick if quick else scenario.full)]
        argv += list((extra or {}).get(scenario.key, ()))
        print(f"bench: scenario {scenario.key}: {' '.join(argv[1:])}", flush=True)
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv, cwd=ROOT, capture_output=True, text=True, timeout=scenario.timeout_s, check=False
            )
            output = done.stdout + (f"\n{done.stderr.strip().splitlines()[-1]}" if done.returncode else "")
            ok = done.returncode == 0
        except subprocess.TimeoutExpired as exc:
            output = f"{exc.stdout or ''}\nstopped after {scenario.timeout_s:g} s"
            ok = False
        text = output if isinstance(output, str) else output.decode()
        outcome = Outcome(scenario, ok, text, time.monotonic() - started)
        print(outcome.output.rstrip(), flush=True)
        outcomes.append(outcome)
    return outcomes


def markdown(outcomes: list[Outcome]) -> list[str]:
    lines: list[str] = []
    for o in outcomes:
        status = "" if o.ok else " (did not complete)"
        lines += ["", f"### {o.scenario.title}{status}", ""]
        lines += [f"`python -m {o.scenario.module}`, {o.seconds:.0f} s:", ""]
        lines += ["```", o.output.strip(), "```"]
    return lines
