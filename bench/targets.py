"""The issue's targets, each with the figure this run measured and whether it is met. Ratios are to
the plain-JSON limit (`baseline-static-orjson`) in the same round, as the issue defines them."""

from __future__ import annotations

import re

from bench.execution import TARGET as EXECUTION_TARGET
from bench.inprocess import InProcess
from bench.productpage import TARGET_CLIENTS, TARGET_P99_MS
from bench.report import REFERENCE, Run, fmt_ratio, ms

NOT_MEASURED = ["-", "not measured"]
# Issue 22's targets.
LISTING_RATIO, WRITES_RATIO, WRITES_P99_MS, PROCESSES_RATIO, COMMERCE_RATIO = 0.30, 0.25, 100.0, 1.7, 5.0
# Scenarios of the issue that other issues bring: (scenario, the issue, its own bench modules).
SCENARIO_ROWS = {  # scenario key (bench/scenarios.py) -> the row of the targets table
    "checkout": "Cart add + read; checkout under contention",
    "subscriptions": "Subscription fan-out (issue 5's aim: 10,000 subscribers reached within 1 s)",
    "upstream": "Legacy upstream 100 ms away behind an adapter, cold and warm",
}


def _status(ok: bool) -> str:
    return "met" if ok else "not met"


def _at_least(name: str, value: float | None, floor: float) -> list[str]:
    return [name, fmt_ratio(value), _status(value >= floor)] if value is not None else [name, *NOT_MEASURED]


def _ratio(run: Run, name: str) -> float | None:
    server = run.server(name)
    return server.ratio(run.server(REFERENCE)) if server is not None else None


def _listing(run: Run) -> list[list[str]]:
    hit, entity = _ratio(run, "gateway"), _ratio(run, "gateway-entity-cache")
    apollo, jit = _ratio(run, "apollo-server"), _ratio(run, "graphql-jit")
    rows = [
        _at_least("Listing, response-cache hit (`gateway`) >= 0.80 of plain orjson", hit, 0.80),
        _at_least(
            "Listing, no response cache (`gateway-entity-cache`) >= 0.10 of plain orjson", entity, 0.10
        ),
    ]
    twice = "... and at least twice Apollo Server 5's ratio"
    if entity is not None and apollo:
        figure = (
            f"{fmt_ratio(entity)} vs 2 x {fmt_ratio(apollo)} (the gateway {entity / apollo:.1f}x Apollo's)"
        )
        rows.append([twice, figure, _status(entity >= 2 * apollo)])
    else:
        rows.append([twice, *NOT_MEASURED])
    if entity is not None and jit:
        where = f"graphql-jit {fmt_ratio(jit)}; the gateway reaches {entity / jit:.2f} of it"
        rows.append(["... distance to graphql-jit's ratio", where, "recorded"])
    else:
        rows.append(["... distance to graphql-jit's ratio", *NOT_MEASURED])
    return rows


def shares(inproc: InProcess) -> str:
    """The no-cache request's time in process, cut into SQL, the rest of the data layer,
    execution, serialization and request handling (each measured on its own, so roughly)."""
    total, sql, data = inproc.ms("request"), inproc.ms("sql"), inproc.ms("data")
    compiled, dumps = inproc.ms("compiled"), inproc.ms("orjson")
    if None in (total, sql, data, compiled, dumps) or not total:
        return "breakdown not measured"
    assert sql is not None and data is not None and compiled is not None and dumps is not None
    parts = [
        ("SQL (4 statements)", sql),
        ("rows -> records, DataLoaders", max(data - sql, 0.0)),
        ("execution", max(compiled - data, 0.0)),
        ("orjson", dumps),
        ("request handling", max(total - compiled - dumps, 0.0)),
    ]
    whole = max(total, compiled + dumps)  # parts measured apart can outgrow the whole a little
    cut = ", ".join(f"{name} {value / whole:.0%}" for name, value in parts)
    return f"in process {ms(total)} ms per request: {cut}"


def _database(run: Run) -> list[str]:
    nocache = _ratio(run, "gateway-nocache")
    if nocache is None:
        return ["Listing, every request reading the database (`gateway-nocache`)", *NOT_MEASURED]
    return ["Listing, every request reading the database (`gateway-nocache`): recorded",
            f"{fmt_ratio(nocache)}; {shares(run.inproc)}", "recorded"]  # fmt: skip


def _execution(run: Run) -> list[str]:
    e = run.inproc.execution
    name = "In process: compiled execution of the listing <= 1/8 of graphql-core's `execute`"
    if e is None or e.ratio is None:
        return [name, *NOT_MEASURED]
    figure = f"{ms(e.compiled_ms)} ms vs {ms(e.graphql_core_ms)} ms = 1/{1 / e.ratio:.0f} (entity cache warm)"
    return [name, figure, _status(e.ratio <= EXECUTION_TARGET)]


def _product_page(run: Run) -> list[list[str]]:
    rows = []
    for p in run.product_page:
        if p.clients != TARGET_CLIENTS:
            continue
        p99 = p.median("p99_ms")
        name = (
            f"Product page p99 < {TARGET_P99_MS:g} ms at {TARGET_CLIENTS} clients, one worker (`{p.server}`)"
        )
        rows.append(
            [name, *([f"{ms(p99)} ms", _status(p99 < TARGET_P99_MS)] if p99 is not None else NOT_MEASURED)]
        )
    return rows or [[f"Product page p99 < {TARGET_P99_MS:g} ms at {TARGET_CLIENTS} clients", *NOT_MEASURED]]


def _round_trips(run: Run) -> list[str]:
    counts = run.inproc.statements
    name = "SQL round trips constant in page size"
    if not counts:
        return [name, *NOT_MEASURED]
    figure = "; ".join(f"{variant}: {'/'.join(str(n) for n in c.values())}" for variant, c in counts.items())
    sizes = "/".join(f"{size}" for size in next(iter(counts.values())))
    constant = all(len(set(c.values())) == 1 for c in counts.values())
    return [name, f"statements at first {sizes}: {figure}", _status(constant)]


def _output(run: Run, key: str) -> str | None:
    outcome = next((o for o in run.scenarios if o.scenario.key == key), None)
    return None if outcome is None else outcome.output


def _line(text: str | None, pattern: str) -> re.Match[str] | None:
    return None if text is None else re.search(pattern, text, re.MULTILINE)


def _write_path(run: Run) -> list[list[str]]:
    """Issue 22's write-path targets, from bench.writes' lines."""
    text = _output(run, "writes")
    why = "`python -m bench.writes` did not run (no PostgreSQL: --database-url)"
    checkout = _line(
        text, r"^postgresql, 1 process: checkout.*?([\d.]+) checkouts/s overall, ([\d.]+) of pgbench"
    )
    tps = _line(text, r"^pgbench \((.*)\): ([\d.]+) tps")
    name = f"#22 Checkout under contention on PostgreSQL, one process: >= {WRITES_RATIO} of pgbench's tps"
    rows = []
    if checkout and tps:
        figure = f"{checkout.group(1)} checkouts/s over pgbench's {tps.group(2)} tps = {checkout.group(2)}"
        rows.append([name, figure, _status(float(checkout.group(2)) >= WRITES_RATIO)])
    else:
        rows.append([name, why if text is None else "not measured (see the section below)", "not measured"])
    pairs = _line(
        text, r"^postgresql, 1 process: cart add \+ read.*?p99 ([\d.]+) ms; gateway CPU ([\d.]+) ms"
    )
    name = f"#22 Cart add + read p99 < {WRITES_P99_MS:g} ms, 50 clients (full run), PostgreSQL, one process"
    if pairs:
        figure = f"p99 {pairs.group(1)} ms (gateway CPU {pairs.group(2)} ms per pair)"
        rows.append([name, figure, _status(float(pairs.group(1)) < WRITES_P99_MS)])
    else:
        rows.append([name, why if text is None else "not measured", "not measured"])
    setups = r"^(postgresql, 2 processes|sqlite, 1 process): .*$"
    others = [m.group(0) for m in re.finditer(setups, text or "", re.MULTILINE)]
    rows.append(["#22 The same with two processes on PostgreSQL, and on SQLite (one writer queue)",
                 "; ".join(others) or "not measured", "recorded" if others else "not measured"])  # fmt: skip
    return rows


def _processes(run: Run) -> list[list[str]]:
    text = _output(run, "processes")
    ratio = _line(text, r"^2 processes over 1: listing ([\d.]+)x, mixed ([\d.]+)x")
    name = f"#22 --workers 2 over 1 (PostgreSQL + Redis): listing >= {PROCESSES_RATIO}x; mixed load"
    if ratio is None:
        return [[name, "`python -m bench.processes` did not run (PostgreSQL, Redis)", "not measured"]]
    figure = f"listing {ratio.group(1)}x, mixed read/write {ratio.group(2)}x"
    return [[name, figure, _status(float(ratio.group(1)) >= PROCESSES_RATIO)]]


def _pushes(run: Run) -> list[list[str]]:
    text = _output(run, "notify")
    found = []
    for kind, name, limit in (
        ("mutation on process A", "#22 A subscriber on process B sees a mutation on process A: p99", None),
        ("write around the gateway",
         "#22 A write made around the gateway (ERP straight into PostgreSQL) pushed within a second: p99",
         1000.0),
    ):  # fmt: skip
        line = _line(text, rf"^{kind}.*?p50 ([\d.]+) ms, p99 ([\d.]+) ms")
        if line is None:
            found.append([name, "`python -m bench.notify` did not run (PostgreSQL, Redis)", "not measured"])
            continue
        figure = f"p50 {line.group(1)} ms, p99 {line.group(2)} ms"
        status = "recorded" if limit is None else _status(float(line.group(2)) < limit)
        found.append([name, figure, status])
    return found


def _commerce(run: Run) -> list[list[str]]:
    text = _output(run, "commerce")
    line = r"^(.+?): compiled .*?: ([\d.]+)x, CPU ([\d.]+)x$"
    found = list(re.finditer(line, text or "", re.MULTILINE))
    name = f"#22 Carts, orders, me with loyalty compiled: >= {COMMERCE_RATIO:g}x the standard executor"
    if not found:
        return [[name, "`python -m bench.commerce` did not run", "not measured"]]
    figure = "; ".join(f"{m.group(1)} {m.group(2)}x (gateway CPU {m.group(3)}x less)" for m in found)
    return [[name, figure, _status(all(float(m.group(2)) >= COMMERCE_RATIO for m in found))]]


def _issue_22(run: Run) -> list[list[str]]:
    entity = _ratio(run, "gateway-entity-cache")
    name = f"#22 Listing, no response cache (`gateway-entity-cache`) >= {LISTING_RATIO} of plain orjson"
    rows = [_at_least(name, entity, LISTING_RATIO)]
    text = _output(run, "varied")
    varied = _line(text, r"^varied arguments.*?: ([\d.]+) req/s, p50 ([\d.]+) ms, p99 ([\d.]+)")
    fixed = _line(text, r"^varied / fixed: ([\d.]+)")
    name = "#22 A listing whose arguments change on every request (response-cache misses): recorded"
    if varied and fixed:
        figure = (f"{varied.group(1)} req/s, p50 {varied.group(2)} ms, p99 {varied.group(3)} ms; "
                  f"{fixed.group(1)} of the same gateway's rate on one repeated listing")  # fmt: skip
        rows.append([name, figure, "recorded"])
    else:
        rows.append([name, "`python -m bench.varied` did not run", "not measured"])
    rows += _write_path(run) + _processes(run) + _pushes(run)
    rows += _commerce(run)
    return rows


def rows(run: Run) -> list[list[str]]:
    found = [*_listing(run), _database(run), _execution(run), *_product_page(run), _round_trips(run)]
    outcomes = {o.scenario.key: o for o in run.scenarios}
    for key, name in SCENARIO_ROWS.items():
        outcome = outcomes.get(key)
        if outcome is None:
            found.append([name, f"`python -m bench.{key}` (skipped in this run)", "not measured"])
        else:
            status = "recorded" if outcome.ok else "failed"
            found.append([name, f"{outcome.summary()} (section below)", status])
    return found + _issue_22(run)
