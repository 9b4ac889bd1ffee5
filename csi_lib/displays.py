"""How the library's objects show in a notebook: a heading, a sentence and a short table.

JupyterLab draws an object by its ``_repr_html_``; without one it prints
``<CycleReview object at 0x...>`` or a dataclass's whole contents (a load's
40,000-row frame, a snapshot's manifest). The objects analysts hold most often
draw themselves through the functions here:

* a load (:class:`csi_lib.sources.LoadResult`): where the rows came from and
  what became of them (read, kept, set aside and why), the dates they cover;
* a baseline snapshot (:class:`csi_lib.baseline.Snapshot`): its period, rows
  and every KPI with its unit;
* a cycle's review (:class:`csi_lib.review.CycleReview`): the headline and one
  row per target (baseline, now, target, standing, verdict).

Tables go through :func:`csi_lib.present.to_html` (headers in words, numbers
rounded by unit, yes/no, nothing cut); every text from the data is escaped.
The plain ``repr`` of each object is one line (:func:`load_repr` ...).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .words import join_words, plural

__all__ = [
    "instant_words",
    "load_html",
    "load_repr",
    "snapshot_html",
    "snapshot_repr",
    "review_html",
    "review_repr",
]

#: Reasons and warnings listed under a load's table (the rest are counted).
SHOWN = 3


def _source_name(source: str) -> str:
    """A file by its name (the folder is the analyst's own), a database by its redacted URL."""
    if "://" in source:
        return source
    return Path(source).name or source


def _block(title: str, sentence: str, table_html: str, notes: list[str] | None = None) -> str:
    """The HTML of one object: a heading, a sentence, a table and notes (all escaped but the table)."""
    parts = [
        '<div class="csi-repr">',
        f"<p><strong>{html.escape(title)}</strong></p>",
    ]
    if sentence:
        parts.append(f"<p>{sentence}</p>")
    parts.append(table_html)
    for note in notes or []:
        parts.append(f'<p class="csi-table-note">{html.escape(note)}</p>')
    parts.append("</div>")
    return "".join(parts)


def _bold_markdown(text: str) -> str:
    """A library sentence with ``**bold**`` as escaped HTML (nothing else is markup)."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))


def _two_columns(rows: list[tuple[str, str]], first: str, second: str) -> str:
    from .present import present, to_html

    frame = pd.DataFrame(rows, columns=[first, second])
    return to_html(present(frame, kpi_column=None))


# --------------------------------------------------------------------------- a load


def _dates(res: Any) -> str | None:
    opened = res.data["opened_at"] if "opened_at" in res.data.columns else None
    if opened is None or not opened.notna().any():
        return None
    return f"{opened.min():%Y-%m-%d} to {opened.max():%Y-%m-%d}"


def load_rows(res: Any) -> list[tuple[str, str]]:
    """What a load did, as (what, how many) rows in words."""
    rows = [("Rows read", f"{res.rows_read:,}")]
    if res.events is not None:
        ev = res.events.as_dict()
        rows.append(("Events read", f"{ev.get('events_read', res.rows_read):,}"))
    rows.append(("Requests kept", f"{res.rows_kept:,}"))
    rows.append(("Rows set aside (quarantine)", f"{res.rows_quarantined:,}"))
    for count, words in (
        (res.rows_deduplicated, "Rows folded into a later row of their request"),
        (res.rows_collapsed, "Exact duplicate rows collapsed"),
        (res.rows_blank, "Blank rows skipped"),
    ):
        if count:
            rows.append((words, f"{count:,}"))
    return rows


def load_html(res: Any) -> str:
    """A load in a notebook: source, counts, dates covered, reasons and warnings (short)."""
    dates = _dates(res)
    sentence = (
        f"{html.escape(plural(res.rows_kept, 'request'))} from "
        f"<code>{html.escape(_source_name(res.source))}</code> "
        f"(mapping {html.escape(str(res.mapping.name))})" + (f", opened {dates}." if dates else ".")
    )
    notes = []
    reasons = res.quarantined_by_reason()
    if reasons:
        shown = [f"{reason} ({count:,})" for reason, count in list(reasons.items())[:SHOWN]]
        more = len(reasons) - SHOWN
        notes.append(
            "Set aside because: "
            + join_words(shown + ([plural(more, "other reason")] if more > 0 else []))
            + (
                f"; the rows are in {Path(res.quarantine_path).name}."
                if res.quarantine_path
                else "."
            )
        )
    for warning in res.warnings[:SHOWN]:
        notes.append(f"Note: {warning}")
    if len(res.warnings) > SHOWN:
        notes.append(f"… and {plural(len(res.warnings) - SHOWN, 'more note')}.")
    table = _two_columns(load_rows(res), "What", "Rows")
    return _block("Data loaded", sentence, table, notes)


def load_repr(res: Any) -> str:
    """One line: ``<LoadResult: 40,000 requests kept of 40,000 rows read from x.csv>``."""
    return (
        f"<LoadResult: {plural(res.rows_kept, 'request')} kept of {res.rows_read:,} rows read "
        f"from {_source_name(res.source)}; {res.rows_quarantined:,} quarantined>"
    )


# --------------------------------------------------------------------------- a snapshot


def instant_words(stamp: Any) -> str:
    """An ISO instant as readers write it.

    >>> instant_words("2026-11-25T00:41:27+00:00")
    '2026-11-25 00:41 UTC'
    """
    try:
        t = pd.Timestamp(stamp)
    except (TypeError, ValueError):
        return str(stamp)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC")
    return f"{t:%Y-%m-%d %H:%M} UTC"


def snapshot_sentence(snap: Any) -> str:
    """The snapshot in one sentence of plain text (period, requests, source, when)."""
    m = snap.manifest
    rows = (m.get("rows") or {}).get("kept")
    parts = [f"Baseline {snap.period.label}"]
    if rows is not None:
        parts.append(f", {plural(int(rows), 'request')}")
    if m.get("source"):
        parts.append(f" from {_source_name(str(m['source']))}")
    if m.get("created_at"):
        parts.append(f", taken {instant_words(m['created_at'])}")
    return "".join(parts) + "."


def snapshot_html(snap: Any) -> str:
    """A snapshot in a notebook: its period and source in a sentence, its KPI values in a table."""
    from .present import present, to_html

    kpis = snap.kpis[[c for c in ("kpi", "value", "n") if c in snap.kpis.columns]]
    table = to_html(present(kpis))
    m = snap.manifest
    notes = []
    if m.get("fingerprint"):
        notes.append(f"Data fingerprint sha256:{str(m['fingerprint'])[:12]}…")
    if snap.path is not None:
        notes.append(f"Saved in {snap.path}; immutable: later stages read it back and check it.")
    return _block("Baseline snapshot", html.escape(snapshot_sentence(snap)), table, notes)


def snapshot_repr(snap: Any) -> str:
    """One line: ``<Snapshot: baseline 2025-01-01 to 2025-06-30, 40,000 requests, 18 KPIs>``."""
    rows = (snap.manifest.get("rows") or {}).get("kept")
    count = f", {plural(int(rows), 'request')}" if rows is not None else ""
    return f"<Snapshot: baseline {snap.period.label}{count}, {plural(len(snap.kpis), 'KPI')}>"


# --------------------------------------------------------------------------- a review

#: Columns of the review's table in a notebook (the evidence sentences are in the report).
REVIEW_COLUMNS = ("target", "label", "baseline", "review", "target_value", "change", "standing",
                  "verdict")  # fmt: skip


def review_html(rv: Any) -> str:
    """A cycle's review in a notebook: the headline, which periods are compared, one row per target."""
    from .present import VOCABULARY, to_html
    from .review import headline, review_note, review_table

    cycle = rv.cycle
    title = f"Review of {cycle.config.title or cycle.config.id}, as of {cycle.as_of}"
    sentence = _bold_markdown(headline(rv))
    table = review_table(rv, formatted=True)
    keep = {VOCABULARY[c].label for c in REVIEW_COLUMNS if c in VOCABULARY} | {"Standing"}
    keep |= {str(c) for c in table.columns if str(c).endswith("so far")}
    table = table[[c for c in table.columns if str(c).strip() in keep]]
    table_html = to_html(table) if len(table) else ""
    note = f'<p class="csi-table-note">{_bold_markdown(review_note(rv))}</p>'
    return _block(title, sentence, table_html + note)


def review_repr(rv: Any) -> str:
    """One line: ``<CycleReview of 2025-h2 as of 2026-04-15: 5 targets>``."""
    return (
        f"<CycleReview of {rv.cycle.config.id} as of {rv.cycle.as_of}: "
        f"{plural(len(rv.target_ids), 'target')}>"
    )
