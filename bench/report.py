"""The table on the terminal and bench/RESULTS.md: what was run, where, and what it gave."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.inprocess import InProcess
from bench.listing import ROOT
from bench.load import LoadResult

REFERENCE = "baseline-orjson"  # every ratio is against this server, measured in the same run
ROUGH_BELOW = 50  # answers per round under which a req/s figure is mostly quantization

# The prose at the top of RESULTS.md: how to run, what is measured (kept as Markdown, not code).
HEADER = Path(__file__).with_name("results_header.md")


@dataclass
class Measured:
    name: str
    rounds: list[LoadResult] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.median(r.requests_per_s for r in self.rounds)

    def percentile(self, which: str) -> float | None:
        values = [v for r in self.rounds if (v := getattr(r, which)) is not None]
        return statistics.median(values) if values else None

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.rounds)


def machine() -> str:
    model = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0))  # what `nproc` says
    return f"{cpus} cpus ({model}), Python {platform.python_version()}, {platform.system()}"


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    return head + ("+dirty" if git("status", "--porcelain").strip() else "")


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _ratio(server: Measured, reference: Measured | None) -> str:
    """Median over rounds of req/s relative to the reference's req/s in the same round: the two ran
    a minute apart at most, so a machine getting busier or quieter mostly cancels out."""
    if reference is None:
        return "-"
    pairs = zip(server.rounds, reference.rounds, strict=True)
    ratios = [a.requests_per_s / b.requests_per_s for a, b in pairs if b.requests_per_s > 0]
    return f"{statistics.median(ratios):.3f}" if ratios else "-"


def _http_rows(servers: list[Measured]) -> list[list[str]]:
    reference = next((s for s in servers if s.name == REFERENCE), None)
    rows = []
    for s in servers:
        rounds = ", ".join(f"{r.requests_per_s:.1f}" for r in s.rounds)
        rows.append(
            [s.name, f"{s.rps:.1f}", rounds, ms(s.percentile("p50_ms")), ms(s.percentile("p99_ms")),
             _ratio(s, reference), str(s.errors)]
        )  # fmt: skip
    return rows


HTTP_COLUMNS = ["server", "req/s (median)", "each round", "p50 ms", "p99 ms", f"x {REFERENCE}", "errors"]


def _markdown_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _text_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(x) for x in column) for column in zip(columns, *rows, strict=True)]
    return ["  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)) for row in [columns, *rows]]


def _in_process_rows(inproc: InProcess) -> list[list[str]]:
    return [[step.name, ms(step.ms), step.note] for step in inproc.steps]


@dataclass
class Run:
    """Everything one `python -m bench` measured, and the facts needed to judge it."""

    tool: str
    version: str
    servers: list[Measured]
    inproc: InProcess
    load_before: str
    load_after: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    def facts(self) -> list[str]:
        return [
            f"Date: {self.started.strftime('%Y-%m-%d %H:%M UTC')}",
            f"Machine: {machine()}",
            f"Load average (1, 5, 15 min) before / after: {self.load_before} / {self.load_after}"
            " (other work on the machine shows here)",
            f"Commit: {self.version}",
            f"Load: {self.tool}",
        ]

    def warnings(self) -> list[str]:
        notes = []
        rough = sorted({s.name for s in self.servers for r in s.rounds if r.requests < ROUGH_BELOW})
        if rough:
            notes.append(
                f"{', '.join(rough)}: fewer than {ROUGH_BELOW} answers in some round, so a rough "
                "figure (answers arrive in batches of --connections); a longer --seconds helps."
            )
        if any(s.errors for s in self.servers):
            notes.append("Some requests failed (socket errors, timeouts or non-2xx): see the errors column.")
        return notes


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _statements(inproc: InProcess) -> list[list[str]]:
    return [[label, str(count)] for label, count in inproc.statements.items()]


def print_summary(run: Run) -> None:
    print("\n" + "\n".join(run.facts()) + "\n")
    print("\n".join(_text_table(HTTP_COLUMNS, _http_rows(run.servers))))
    for note in run.warnings():
        print(f"note: {note}")
    print("\n" + "\n".join(_text_table(["listing request", "SQL statements"], _statements(run.inproc))))
    print(f"\nin process, median of {run.inproc.runs} runs:")
    print("\n".join(_text_table(["step", "ms", "note"], _in_process_rows(run.inproc))))


def write_markdown(path: Path, run: Run) -> None:
    lines = [
        HEADER.read_text(),
        "## Latest run",
        "",
        *(f"- {fact}" for fact in run.facts()),
        "",
        "### Over HTTP",
        "",
        *_markdown_table(HTTP_COLUMNS, _http_rows(run.servers)),
        *(f"\n{note}" for note in run.warnings()),
        "",
        "### SQL statements per request (listing query)",
        "",
        *_markdown_table(["listing request", "SQL statements"], _statements(run.inproc)),
        "",
        f"### In process, no HTTP (median of {run.inproc.runs} runs; serialization: of 10x as many)",
        "",
        *_markdown_table(["step", "ms", "note"], _in_process_rows(run.inproc)),
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
