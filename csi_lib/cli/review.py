"""``csi review CYCLE``: stage 5's verdicts and their evidence, without the notebooks.

Prints, per target, the verdict ("real improvement", "likely improvement", "no
evidence of change", ...), the method, the estimate of the change with its 95 %
interval and p-value (where the method has one), the values counted in each period and
the chart's signal: the ``evidence`` object of the report's ``summary.json``
(:func:`csi_lib.review.record.evidence_record`), so the two always agree. Then the
benefits realised (``summary.json``'s ``benefits`` object,
:func:`csi_lib.benefits.benefits_summary`): the total and, per target, its sentence.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from .usage import iso_date


class ReviewFormat(StrEnum):
    table = "table"
    json = "json"


def review_data(cycle_dir: Path, as_of: str | None) -> dict[str, Any]:
    """What ``csi review`` prints: the cycle, the as-of date, the headline, per target its
    id, label, KPI, values and ``evidence``, and the ``benefits`` (as in ``summary.json``)."""
    from ..benefits import benefits_summary
    from ..cycle import open_cycle
    from ..review import assess, headline
    from ..review.conclusions import _json_number
    from ..review.record import evidence_record
    from ..targets import value_unit

    day = as_of or dt.datetime.now(dt.UTC).date().isoformat()
    rv = assess(open_cycle(cycle_dir, as_of=day))
    targets = [
        {
            "id": tr.id,
            "label": tr.label,
            "kpi": tr.kpi.key,
            "unit": value_unit(tr.kpi, tr.freq),  # a count: "requests a month"
            "baseline_value": _json_number(tr.baseline_value),
            "now_value": _json_number(tr.compared_value),
            "compared": tr.compared,
            "evidence": evidence_record(tr),
        }
        for tr in rv
    ]
    return {
        "cycle": rv.cycle.config.id,
        "as_of": day,
        "compared": rv.compared,
        "headline": headline(rv),
        "targets": targets,
        "benefits": benefits_summary(rv),
    }


def _interval(ev: dict[str, Any], decimals: int) -> str:
    from ..evidence import interval_decimals
    from ..evidence.words import suffix

    if ev["interval"] is None:
        return "—"
    low, high = ev["interval"]
    d = interval_decimals(low, high, decimals) or decimals
    return f"{low:+,.{d}f} to {high:+,.{d}f}{suffix(ev['unit'] or '')}"


def _table(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..evidence import format_p, method_kind
    from ..evidence.words import shown_decimals, suffix
    from ..kpis import get_kpi
    from ..review.record import _NO_SIGNAL_WORDS

    table = Table(title=f"Did we get there? Cycle {data['cycle']}, as of {data['as_of']}")
    for name in ("Target", "KPI", "Verdict", "Method", "Change", "95% interval", "p",
                 "Counted (baseline / now)", "Chart signal"):  # fmt: skip
        table.add_column(name)
    for t in data["targets"]:
        ev = t["evidence"]
        kpi = get_kpi(t["kpi"])
        decimals = shown_decimals(method_kind(kpi.kind, kpi.population), kpi.decimals)
        change = (
            "—" if ev["estimate"] is None
            else f"{ev['estimate']:+,.{decimals}f}{suffix(ev['unit'] or '')}"
        )  # fmt: skip
        counts = "—" if ev["n_baseline"] is None else f"{ev['n_baseline']:,} / {ev['n_review']:,}"
        signal = ev["signal"]["text"] or _NO_SIGNAL_WORDS.get(ev["signal"]["evidence"], "no signal")
        table.add_row(
            t["id"],
            t["label"],
            ev["verdict"],
            ev["method"] or "—",
            change,
            _interval(ev, decimals),
            "—" if ev["p_value"] is None else format_p(ev["p_value"]),
            counts,
            signal,
        )
    console = Console(width=None if sys.stdout.isatty() else 200)  # a log gets whole rows
    console.print(table)
    console.print(data["headline"])
    benefits = data["benefits"]
    console.print()
    console.print(benefits["text"], markup=False, highlight=False)
    for t in benefits["targets"]:
        console.print(f"- {t['sentence']}", markup=False, highlight=False)


def cmd_review(
    cycle_dir: Annotated[Path, typer.Argument(help="The cycle folder (csi cycle new).")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", parser=iso_date, help="As of this date, YYYY-MM-DD (default: today, UTC)."
        ),
    ] = None,
    fmt: Annotated[
        ReviewFormat, typer.Option("--format", help="table or json.")
    ] = ReviewFormat.table,
) -> None:
    """Stage 5's verdicts, their evidence and the benefits realised, as in summary.json.

    Per target: the method, the change, its 95 % interval, the p-value,
    the values counted and the chart's signal (summary.json's "evidence");
    then the benefits realised, in total and per target (its "benefits")."""
    data = review_data(cycle_dir, as_of)
    if fmt is ReviewFormat.json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _table(data)


def register(app: typer.Typer) -> None:
    """Add ``csi review`` to ``app``."""
    app.command("review")(cmd_review)
