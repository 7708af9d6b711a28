"""The issue's targets, each with the figure this run measured and whether it is met. Ratios are to
the plain-JSON limit (`baseline-static-orjson`) in the same round, as the issue defines them."""

from __future__ import annotations

from bench.execution import TARGET as EXECUTION_TARGET
from bench.inprocess import InProcess
from bench.productpage import TARGET_CLIENTS, TARGET_P99_MS
from bench.report import REFERENCE, Run, fmt_ratio, ms

NOT_MEASURED = ["-", "not measured"]
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
    return found
