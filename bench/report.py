"""The tables on the terminal and bench/RESULTS.md: what was run, where, and what it gave."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.inprocess import InProcess
from bench.load import LoadResult
from bench.machine import machine
from bench.productpage import PageLatency

REFERENCE = "baseline-static-orjson"  # every ratio is against this server, measured in the same round
DB_REFERENCE = "baseline-db-orjson"  # the same floor reading the database every request
ROUGH_BELOW = 50  # answers per round under which a req/s figure is mostly quantization

# The prose at the top of RESULTS.md: how to run, what is measured (kept as Markdown, not code).
HEADER = Path(__file__).with_name("results_header.md")

Table = tuple[str, list[str], list[list[str]]]  # title, columns, rows


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

    def ratio(self, reference: Measured | None) -> float | None:
        """Median over rounds of req/s relative to the reference's in the same round: the two ran
        a minute apart at most, so a machine getting busier or quieter mostly cancels out."""
        if reference is None:
            return None
        pairs = zip(self.rounds, reference.rounds, strict=True)
        ratios = [a.requests_per_s / b.requests_per_s for a, b in pairs if b.requests_per_s > 0]
        return statistics.median(ratios) if ratios else None


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}" if value < 10 else f"{value:.1f}"


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
    product_page: list[PageLatency] = field(default_factory=list)
    page_tool: str = ""
    notes: list[str] = field(default_factory=list)  # peers skipped and the like
    targets: list[list[str]] = field(default_factory=list)  # bench.targets fills these
    duration_s: float = 0.0
    scenarios: list[Any] = field(default_factory=list)  # bench.scenarios.Outcome, in run order

    def server(self, name: str) -> Measured | None:
        return next((s for s in self.servers if s.name == name), None)

    def facts(self) -> list[str]:
        return [
            f"Date: {self.started.strftime('%Y-%m-%d %H:%M UTC')}",
            f"Machine: {machine()}",
            f"Load average (1, 5, 15 min) before / after: {self.load_before} / {self.load_after}"
            " (other work on the machine shows here)",
            f"Commit: {self.version}",
            f"Load, listing: {self.tool}",
            f"Load, product page: {self.page_tool or 'not run'}",
            f"Duration of the whole run: {self.duration_s / 60:.1f} min",
        ]

    def warnings(self) -> list[str]:
        notes = list(self.notes)
        rough = sorted({s.name for s in self.servers for r in s.rounds if r.requests < ROUGH_BELOW})
        if rough:
            notes.append(
                f"{', '.join(rough)}: fewer than {ROUGH_BELOW} answers in some round, so a rough "
                "figure (answers arrive in batches of --connections); a longer --seconds helps."
            )
        if any(s.errors for s in self.servers) or any(p.errors for p in self.product_page):
            notes.append("Some requests failed (socket errors, timeouts or non-2xx): see the errors column.")
        return notes


def _http(run: Run) -> Table:
    reference, db = run.server(REFERENCE), run.server(DB_REFERENCE)
    rows = [
        [s.name, f"{s.rps:.1f}", ", ".join(f"{r.requests_per_s:.1f}" for r in s.rounds),
         ms(s.percentile("p50_ms")), ms(s.percentile("p99_ms")), fmt_ratio(s.ratio(reference)),
         fmt_ratio(s.ratio(db)), str(s.errors)]
        for s in run.servers
    ]  # fmt: skip
    columns = ["server", "req/s (median)", "each round", "p50 ms", "p99 ms", f"x {REFERENCE}",
               f"x {DB_REFERENCE}", "errors"]  # fmt: skip
    return "Listing over HTTP", columns, rows


def _product_page(run: Run) -> Table:
    rows = [
        [p.server, str(p.clients), f"{p.median('requests_per_s') or 0:.1f}", ms(p.median("p50_ms")),
         ms(p.median("p99_ms")), ", ".join(ms(r.p99_ms) for r in p.rounds), str(p.errors)]
        for p in run.product_page
    ]  # fmt: skip
    columns = ["server", "clients", "req/s", "p50 ms", "p99 ms", "p99 each round", "errors"]
    return "Product page over HTTP (one gateway worker; medians over rounds)", columns, rows


def _statements(inproc: InProcess) -> Table:
    sizes = sorted({size for counts in inproc.statements.values() for size in counts})
    rows = [
        [name, *(str(counts.get(size, "-")) for size in sizes)] for name, counts in inproc.statements.items()
    ]
    title = "SQL statements per listing request (a repeat request, in process)"
    return title, ["gateway variant", *(f"first: {size}" for size in sizes)], rows


def _sql(count: int | None) -> str:
    return f"{count if count is not None else '?'} SQL statement(s) per execution"


def _execution(inproc: InProcess) -> Table:
    e = inproc.execution
    title = "In-process execution of the listing document, entity cache warm (median of each)"
    if e is None or e.compiled_ms is None:
        return title, ["executor", "ms", "note"], [["-", "-", e.note if e else "not measured"]]
    core = "graphql-core `execute`, same schema and document"
    slower = f"graphql-core takes {1 / e.ratio:.1f}x as long" if e.ratio else ""
    rows = [
        ["gateway compiled executor", ms(e.compiled_ms), _sql(e.statements.get("compiled"))],
        [core, ms(e.graphql_core_ms), _sql(e.statements.get("graphql-core"))],
        ["gateway / graphql-core", fmt_ratio(e.ratio), slower],
    ]
    return title, ["executor", "ms", "note"], rows


def _breakdown(inproc: InProcess) -> Table:
    rows = [[step.name, ms(step.ms), step.note] for step in inproc.steps]
    title = f"In process, no HTTP (median of {inproc.runs} runs; serialization: of 10x as many)"
    return title, ["step", "ms", "note"], rows


def tables(run: Run) -> list[Table]:
    found = [("Targets of the issue", ["target", "measured", "status"], run.targets)] if run.targets else []
    found += [_http(run)]
    if run.product_page:
        found.append(_product_page(run))
    return [*found, _statements(run.inproc), _execution(run.inproc), _breakdown(run.inproc)]


def _markdown_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _text_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(x) for x in column) for column in zip(columns, *rows, strict=True)]
    return ["  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)) for row in [columns, *rows]]


def print_summary(run: Run) -> None:
    print("\n" + "\n".join(run.facts()))
    for title, columns, rows in tables(run):
        print(f"\n{title}:\n" + "\n".join(_text_table(columns, rows)))
    for note in run.warnings():
        print(f"note: {note}")


def write_markdown(path: Path, run: Run) -> None:
    lines = [HEADER.read_text(), "## Latest run", "", *(f"- {fact}" for fact in run.facts())]
    lines += [f"\n{note}" for note in run.warnings()]
    for title, columns, rows in tables(run):
        lines += ["", f"### {title}", "", *_markdown_table(columns, rows)]
    lines += scenarios.markdown(run.scenarios)
    # The soak (python -m bench.soak, ten minutes, not part of this run) keeps its block.
    soak = kept_block(path, "soak")
    lines += ["", soak] if soak else []
    # So does `python -m bench.analytics --write` (a year of history takes a while to seed).
    analytics = kept_block(path, "analytics")
    lines += ["", analytics] if analytics else []
    # The targets not met, each with its distance and what the profile shows: written by hand
    # after a run (the figures move from run to run; the reasons, so far, have not).
    distances = kept_block(path, "distances")
    lines += ["", distances] if distances else []
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*lines, ""]))


def kept_block(path: Path, name: str) -> str:
    """The `<!-- name:start -->` ... `<!-- name:end -->` block of an earlier RESULTS file, if any."""
    if not path.exists():
        return ""
    text = path.read_text()
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        return ""
    return text[text.index(start) : text.index(end) + len(end)]
