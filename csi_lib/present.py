"""Tables for readers: the one place that turns a tidy frame into a table a manager reads.

Every table shown to readers (report pages, JupyterLab, the workshop, the
Excel workbook) goes through :func:`present`:

* headers are words: the column vocabulary (:data:`VOCABULARY`), else the KPI
  catalogue's label (a column named by a KPI key), else the name in words
  (``coverage_pct`` -> "Coverage (%)");
* units go in the header ("Coverage (%)") when a column has one unit, and in
  each cell when the unit follows the row's KPI (``kpi_column``);
* numbers are formatted by unit (:func:`csi_lib.tables.format_value`), dates
  as ISO dates, booleans as "yes" / "no", missing values as "—" (or the
  caller's word, e.g. "not measured");
* there is no index: a meaningful index becomes the first column;
* text is never cut: :func:`to_html` writes every character, the stylesheet
  wraps long text and lets a wide table scroll inside its box.

The result is a DataFrame of strings (``attrs["csi_presented"]`` marks it);
the tidy frame it came from is untouched, so analysts keep the numbers.
:func:`install` makes a notebook kernel draw every DataFrame this way (the
stage notebooks call it through :func:`csi_lib.nb.setup`).

Examples
--------
>>> import pandas as pd
>>> raw = pd.DataFrame({"column": ["csat"], "present": [False], "coverage_pct": [0.0]})
>>> present(raw).to_dict("records")
[{'Column': 'Satisfaction score', 'In the source': 'no', 'Coverage (%)': '0.0'}]
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .kinds import KIND_WORDS
from .kpis import KPI, get_kpi, kpi_catalogue
from .schema import CANONICAL_COLUMNS
from .tables import format_value

__all__ = [
    "Column",
    "VOCABULARY",
    "MISSING",
    "NOT_MEASURED",
    "present",
    "header",
    "format_cell",
    "to_html",
    "install",
    "is_presented",
]

#: A cell that reads as a number: optional sign, digits, optional exponent and unit ("41.8 h",
#: "−36", "1,265", "90.0 %"), or a missing one; columns of such cells are right-aligned.
NUMBER = re.compile(
    r"^[\s]*[+\-−±]?[\d][\d,.\s]*(?:e[+\-]?\d+)?\s*(?:%|pp|h|hours?|d|days?|x|requests?)?\s*$"
    r"|^\s*(?:—|not measured)\s*$",
    re.IGNORECASE,
)

#: A missing value in a table ("no value here"); see :data:`MISSING_MEANING`.
MISSING = "—"
#: A KPI value with no data in its population (e.g. survey KPIs without any survey score).
NOT_MEASURED = "not measured"
#: What the dash means, for a note under a table that shows one.
MISSING_MEANING = "— means no value (not applicable or no data)."


@dataclass(frozen=True)
class Column:
    """How a column is shown: its header words and the unit of its values.

    ``unit`` is a KPI unit (``"%"``, ``"hours"``, ``"requests"``, ``"ratio"``,
    ``"score"``), ``"count"`` (whole number), ``"p"`` (a p-value), ``"date"``,
    ``"kpi"`` (a KPI key, shown as the KPI's label), ``"by_kpi"`` (the unit of
    the row's KPI, given in each cell) or ``None`` (text as it is). ``words``
    turns a code the library uses in its frames (a column or target kind) into
    the words readers see; other values are shown as they are.
    """

    label: str
    unit: str | None = None
    decimals: int = 1
    words: Mapping[str, str] | None = field(default=None, compare=False, hash=False)


#: The canonical columns in words (a column the user kept keeps its own name).
COLUMN_WORDS: dict[str, str] = {c.name: c.label for c in CANONICAL_COLUMNS}

#: A cycle's periods (:data:`csi_lib.cycle.config.PERIOD_NAMES`) in words.
PERIOD_WORDS: dict[str, str] = {
    "baseline": "Baseline",
    "action": "Action period",
    "review": "Review period",
}


#: The letters of a SMART check with their word ("R" alone on a phone's card said nothing).
SMART_LETTERS: dict[str, str] = {
    "S": "S: Specific",
    "M": "M: Measurable",
    "A": "A: Achievable",
    "R": "R: Relevant",
    "T": "T: Time-bound",
}


#: Column names of the library's tidy frames and the words readers see.
VOCABULARY: dict[str, Column] = {
    # targets, KPIs, values
    "target": Column("Target"),
    "target_id": Column("Target"),
    "kpi": Column("KPI", "kpi"),
    "label": Column("What is measured"),
    "measure": Column("Kind of measure"),
    "kind": Column("Target kind", words=KIND_WORDS),
    "scope": Column("Scope"),
    "value": Column("Value", "by_kpi"),
    "baseline": Column("Baseline", "by_kpi"),
    "baseline_value": Column("Baseline", "by_kpi"),
    "review": Column("Review period", "by_kpi"),
    "review_value": Column("Review period", "by_kpi"),
    "current": Column("Action period so far", "by_kpi"),
    "now": Column("Now", "by_kpi"),
    "achieved": Column("Achieved", "by_kpi"),
    "target_value": Column("Target value", "by_kpi"),
    "change": Column("Change", "by_kpi"),
    "change_pct": Column("Change (% of baseline)", "%", 0),
    "contribution": Column("Contribution to the change", "by_kpi"),
    "share_of_change_pct": Column("Share of the change (%)", "%", 0),
    "gap_closed_pct": Column("Gap closed (%)", "%", 0),
    "met": Column("Target met"),
    "progress": Column("Progress"),
    "projection": Column("Projection"),
    "latest_signal": Column("Latest signal"),
    "chart_evidence": Column("Chart evidence"),
    "test": Column("Statistical test"),
    "p_value": Column("p-value", "p"),
    "verdict": Column("Verdict"),
    "evidence": Column("Evidence"),
    "conclusion": Column("Conclusion"),
    "initiatives": Column("Initiatives"),
    "better": Column("Better"),
    "unit": Column("Unit"),
    "description": Column("Definition"),
    # populations and breakdowns
    "n": Column("Requests counted", "count"),
    "n_baseline": Column("Requests counted (baseline)", "count"),
    "n_review": Column("Requests counted (review)", "count"),
    "by": Column("Broken down by", words=COLUMN_WORDS),
    "group_value": Column("Group"),
    "category": Column("Category"),
    "channel": Column("Channel"),
    "priority": Column("Priority"),
    "group": Column("Support group"),
    "period_start": Column("From", "date"),
    "period_end": Column("Until", "date"),
    "period": Column("Period", words=PERIOD_WORDS),
    "start": Column("Start", "date"),
    "end": Column("End", "date"),
    "due": Column("Due", "date"),
    # data quality
    "column": Column("Column", words=COLUMN_WORDS),
    "source": Column("Source column"),
    "present": Column("In the source"),
    "non_null": Column("Rows with a value", "count"),
    "coverage_pct": Column("Coverage (%)", "%"),
    "distinct": Column("Distinct values", "count"),
    "min": Column("Lowest"),
    "max": Column("Highest"),
    # vision, plan, cycles
    "id": Column("Id"),
    "title": Column("Title"),
    "objective": Column("Objective"),
    "owner": Column("Owner"),
    "status": Column("Status"),
    "way_of_working": Column("Way of working"),
    "cycle": Column("Cycle"),
    "overall": Column("Overall"),
    "reason": Column("Reason"),
    "letter": Column("Letter", words=SMART_LETTERS),
}

#: Units in headers (the cell shows the bare number); a ratio has none (its label says it).
_HEADER_UNIT: dict[str, str] = {
    "%": "%",
    "hours": "h",
    "requests": "requests",
    "score": "1-5",
    "ratio": "",
}


def _catalogue_keys() -> set[str]:
    return set(kpi_catalogue()["key"])


def _kpi_or_none(key: Any) -> KPI | None:
    try:
        return get_kpi(str(key))
    except Exception:  # noqa: BLE001 - not a KPI key: shown as it is
        return None


def _words(name: str) -> str:
    """A column name in words: ``n_requests`` -> "N requests", ``share_pct`` -> "Share (%)"."""
    text = str(name)
    unit = ""
    for suffix, word in (("_pct", "%"), ("_h", "h"), ("_hours", "h"), ("_days", "days")):
        if text.endswith(suffix):
            text, unit = text[: -len(suffix)], word
            break
    text = re.sub(r"[_\s]+", " ", text).strip()
    text = text[:1].upper() + text[1:]
    return f"{text} ({unit})" if unit else text


def header(column: Any, *, unit: str | None = None) -> str:
    """The header readers see for ``column``.

    Examples
    --------
    >>> header("coverage_pct"), header("fulfil_median_h"), header("owner"), header("Already words")
    ('Coverage (%)', 'Median time to fulfil (h)', 'Owner', 'Already words')
    """
    name = str(column)
    if name in VOCABULARY:
        return VOCABULARY[name].label
    kpi = _kpi_or_none(name) if name in _catalogue_keys() else None
    if kpi is not None:
        short = _HEADER_UNIT.get(kpi.unit, kpi.unit)
        return f"{kpi.label} ({short})" if short and short != "requests" else kpi.label
    if "_" in name or name.islower():
        return _words(name)
    return name


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return False


def format_cell(
    value: Any, unit: str | None = None, *, decimals: int = 1, missing: str = MISSING
) -> str:
    """One value as text: numbers by unit, dates as ISO dates, booleans and missing values in words.

    Examples
    --------
    >>> format_cell(True), format_cell(None), format_cell(41.83, "hours"), format_cell(0.0312, "p")
    ('yes', '—', '41.8 h', 'p = 0.031')
    >>> format_cell(pd.Timestamp("2025-06-30", tz="UTC")), format_cell(12345, "count")
    ('2025-06-30', '12,345')
    """
    if isinstance(value, list | tuple | set):
        return (
            ", ".join(format_cell(v, unit, decimals=decimals, missing=missing) for v in value)
            or missing
        )
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        return missing
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC")
        return value.strftime("%Y-%m-%d" if value == value.normalize() else "%Y-%m-%d %H:%M")
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()
    if isinstance(value, int | float | np.integer | np.floating):
        if unit == "p":
            from .evidence import format_p

            return format_p(float(value))
        if unit == "count":
            return f"{value:,.0f}"
        if unit in ("%", "hours", "requests", "ratio", "score"):
            return format_value(float(value), unit, decimals)
        if isinstance(value, int | np.integer):
            return f"{value:,}"
        from .nb import readable_float

        return readable_float(float(value))
    return str(value)


#: Columns of changes: shown with their sign (+ / − / ±).
_SIGNED = frozenset({"change", "contribution", "change_pct"})


def _sign_of(value: float) -> str:
    return "+" if value > 0 else "−" if value < 0 else "±"


def _sign(cell: str, value: Any) -> str:
    if _is_missing(value) or not isinstance(value, int | float | np.integer | np.floating):
        return cell
    return _sign_of(value) + cell.lstrip("-")


def signed_change(value: float, magnitude: str, unit: str) -> str:
    """A change as readers see it: the sign of ``value``, then ``magnitude`` (its absolute
    value formatted); a percentage KPI's change in percentage points ("+4.1 pp", not
    "+4.1 %").

    Examples
    --------
    >>> signed_change(4.1, "4.1 %", "%"), signed_change(-15.2, "15.2 h", "hours")
    ('+4.1 pp', '−15.2 h')
    """
    points = unit == "%" and magnitude.endswith(" %")
    return _sign_of(value) + (magnitude[:-1] + "pp" if points else magnitude)


def _kpi_cell(value: Any, kpi: KPI | None, *, signed: bool, missing: str) -> str:
    if kpi is None:
        return format_cell(value, missing=missing)
    if isinstance(value, str):
        return value
    if _is_missing(value):
        return missing
    number = float(value)
    decimals = kpi.decimals
    if signed and 0 < abs(number) < 10.0**-decimals:
        # a small change keeps two significant digits (0.006, not 0.0)
        decimals = min(6, int(math.ceil(-math.log10(abs(number)))) + 1)
    text = format_value(abs(number) if signed else number, kpi.unit, decimals)
    return signed_change(number, text, kpi.unit) if signed else text


def present(
    frame: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str | None] | None = None,
    kpi_column: str | None = "kpi",
    drop: tuple[str, ...] | list[str] = (),
    missing: str = MISSING,
    kpi_missing: str = NOT_MEASURED,
    note: str | None = None,
) -> pd.DataFrame:
    """``frame`` as a table for readers (a DataFrame of strings; the input is not changed).

    Parameters
    ----------
    frame:
        A tidy frame of the library. A named (or non-default) index becomes the
        first column; a frame already presented is returned as it is.
    labels:
        Headers for some columns, overriding the vocabulary (and ``frame.attrs["labels"]``,
        the headers a library function gives its frame where a column name means something
        else there, e.g. a warning's ``kind``).
    units:
        Units for some columns (see :class:`Column`), overriding the vocabulary.
    kpi_column:
        Column holding each row's KPI key: columns of unit ``"by_kpi"`` are
        formatted with that KPI's unit and decimals, and the KPI key itself is
        shown as the KPI's label. Without it, such columns are plain numbers.
    drop:
        Columns left out (e.g. a KPI key when its label is shown already).
    missing:
        The word for a missing value (default "—").
    kpi_missing:
        The word for a missing KPI value (default "not measured").
    note:
        Kept in ``attrs["note"]`` (shown under the table by :func:`to_html`).

    Returns
    -------
    pandas.DataFrame
        Strings only, headers in words, a fresh 0..n-1 index that is never shown;
        ``attrs["csi_presented"]`` is True, ``attrs["numeric"]`` lists the
        headers of number columns (right-aligned).
    """
    if is_presented(frame):
        return frame
    df = _index_as_column(frame)
    labels = {**(frame.attrs.get("labels") or {}), **(labels or {})}
    units = dict(units or {})
    kpis: list[KPI | None] | None = None
    if kpi_column and kpi_column in df.columns:
        kpis = [_kpi_or_none(k) for k in df[kpi_column]]
    df = df.drop(columns=[c for c in drop if c in df.columns])
    out: dict[str, list[str]] = {}
    numeric: list[str] = []
    for col in df.columns:
        name = str(col)
        spec = VOCABULARY.get(name)
        unit = units.get(name, spec.unit if spec else None)
        values = df[col].tolist()
        if spec is not None and spec.words:
            values = [spec.words.get(v, v) if isinstance(v, str) else v for v in values]
        cells = _column_cells(
            name,
            values,
            unit=unit,
            decimals=spec.decimals if spec else 1,
            kpis=kpis,
            missing=missing,
            kpi_missing=kpi_missing,
        )
        title = labels.get(name) or header(name)
        while title in out:  # two columns with one header: keep both
            title += " "
        out[title] = cells
        is_number = (
            pd.api.types.is_numeric_dtype(df[col].dtype)
            and not pd.api.types.is_bool_dtype(df[col].dtype)
        ) or (any(c != missing for c in cells) and all(NUMBER.match(c) for c in cells))
        if is_number or unit in ("by_kpi", "%", "hours", "count", "p", "score", "ratio"):
            numeric.append(title)
    result = pd.DataFrame(out, columns=list(out), dtype=object)
    result.attrs = {
        **{k: v for k, v in frame.attrs.items() if isinstance(v, str | int | float)},
        "csi_presented": True,
        "numeric": numeric,
    }
    if note is not None:
        result.attrs["note"] = note
    return result


def _index_as_column(frame: pd.DataFrame) -> pd.DataFrame:
    """Row numbers dropped; a meaningful index (KPI, target, column...) as the first column."""
    unnamed = all(name is None for name in frame.index.names)
    if unnamed and pd.api.types.is_integer_dtype(frame.index.dtype):
        return frame.reset_index(drop=True)
    if not isinstance(frame.index, pd.RangeIndex):
        return frame.reset_index()
    return frame


def _column_cells(
    name: str,
    values: list[Any],
    *,
    unit: str | None,
    decimals: int,
    kpis: list[KPI | None] | None,
    missing: str,
    kpi_missing: str,
) -> list[str]:
    """The cells of one column in words: KPI keys as labels, values in their KPI's unit
    (``by_kpi``) or the column's unit, signs on changes, no unit where the header has it."""
    kpi_here = _kpi_or_none(name) if name not in VOCABULARY and name in _catalogue_keys() else None
    if unit == "kpi":
        return [
            k.label if (k := _kpi_or_none(v)) else format_cell(v, missing=missing) for v in values
        ]
    if unit == "by_kpi" and kpis is not None:
        signed = name in _SIGNED
        return [_kpi_cell(v, k, signed=signed, missing=kpi_missing if name != "change" else missing)
                for v, k in zip(values, kpis, strict=True)]  # fmt: skip
    if kpi_here is not None:
        return [format_cell(v, kpi_here.unit, decimals=kpi_here.decimals, missing=kpi_missing)
                for v in values]  # fmt: skip
    cells = [format_cell(v, unit if unit != "by_kpi" else None, decimals=decimals,
                         missing=missing) for v in values]  # fmt: skip
    if name in _SIGNED:
        cells = [_sign(c, v) for c, v in zip(cells, values, strict=True)]
    if unit in ("%", "hours", "score", "ratio") and name in VOCABULARY:
        # the unit is in the header: cells show the bare number
        cells = [_strip_unit(c, unit) for c in cells]
    return cells


def _strip_unit(cell: str, unit: str) -> str:
    suffix = {"%": " %", "hours": " h"}.get(unit)
    return cell[: -len(suffix)] if suffix and cell.endswith(suffix) else cell


def is_presented(frame: Any) -> bool:
    """True for a frame made by :func:`present`."""
    return isinstance(frame, pd.DataFrame) and bool(frame.attrs.get("csi_presented"))


def to_html(frame: pd.DataFrame, *, note: bool = True) -> str:
    """HTML of a table for readers: no index, every character of every cell, escaped.

    The table (class ``csi-presented``) sits in a ``csi-table-wrap`` box that
    scrolls sideways when the table is wider than the page (see
    ``assets/report.css``); number columns are classed ``csi-num``
    (right-aligned), columns of long text ``csi-long`` (wrapped at a readable
    width). ``attrs["note"]`` (markdown-free
    text) is shown under the table when ``note``.

    Examples
    --------
    >>> to_html(pd.DataFrame({"kpi": ["received"], "value": [3.0]}))[:65]
    '<div class="csi-table-wrap"><table class="csi-table csi-presented'
    """
    table = present(frame)
    numeric = set(table.attrs.get("numeric", []))
    esc = html.escape
    classes = {}
    for c in table.columns:
        longest = max((len(str(v)) for v in table[c]), default=0)
        classes[c] = (
            ' class="csi-num"' if c in numeric else ' class="csi-long"' if longest > _LONG else ""
        )
    head = "".join(f'<th scope="col"{classes[c]}>{esc(str(c).strip())}</th>' for c in table.columns)
    rows = []
    for record in table.itertuples(index=False, name=None):
        cells = "".join(
            f"<td{classes[c]}>{esc(str(v))}</td>"
            for c, v in zip(table.columns, record, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    body = (
        "".join(rows)
        if rows
        else (
            f'<tr><td colspan="{max(len(table.columns), 1)}" class="csi-empty">No rows to show.</td></tr>'
        )
    )
    html_text = (
        '<div class="csi-table-wrap"><table class="csi-table csi-presented dataframe">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )
    text = table.attrs.get("table_note") if note else None
    if text:
        html_text += f'<p class="csi-table-note">{esc(str(text))}</p>'
    return html_text


#: Cells longer than this (characters) make their column a text column that wraps at a readable width.
_LONG = 40


def _html_formatter(frame: pd.DataFrame) -> str:
    return to_html(frame)


def install(ip: Any | None = None) -> bool:
    """Draw every DataFrame of this notebook kernel as a table for readers.

    The frames themselves do not change (``print(df)`` or ``df.to_string()``
    still shows the raw values). Returns False outside IPython.
    """
    if ip is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency
            return False
        ip = get_ipython()
    if ip is None:
        return False
    ip.display_formatter.formatters["text/html"].for_type(pd.DataFrame, _html_formatter)
    return True
