"""Stage 5 tables: the review table, the qualitative measures, breakdowns and contributions."""

from __future__ import annotations

import functools
import math
from typing import Any

import pandas as pd

from .. import kpis as kpi_engine
from ..evidence import compare, observations_for
from ..periods import period_edges, period_word
from ..present import COLUMN_WORDS, MISSING, present, signed_change
from ..tables import evidence_arrow, format_value
from ..targets import complete_bins, per_bin
from .assess import CycleReview, TargetReview, assess
from .gap import QUALITATIVE_KPIS
from .record import signal_words
from .standing import rests_on

# --------------------------------------------------------------------------- stage 5 tables


def review_note(cycle: Any) -> str:
    """One markdown paragraph: which periods are compared and how final the verdict is.

    By the cycle's phase (:mod:`csi_lib.phases`): before the action period it
    says when there will be something to judge; during the action and review
    periods the verdict is labelled *provisional*, on the months so far, with
    the date the final verdict is due; after the review period it is final.

    Examples
    --------
    >>> review_note(open_cycle(sample_cycle, as_of="2025-10-15"))
    '**Provisional verdict, on the action period so far.** ...'
    """
    rv = assess(cycle)
    c = rv.standing.config
    base = rv.planned("baseline").label
    due = rv.standing.verdict_due
    if rv.compared is None:
        return (
            f"**Nothing to judge yet.** As of {rv.cycle.as_of} the action period has not "
            f"started: it runs {c.action.from_} to {c.action.to}. From {c.action.from_} this "
            "stage shows a provisional verdict on the months so far; the final verdict, which "
            f"compares the baseline with the review period ({c.review.from_} to {c.review.to}), "
            f"is due on {due}."
        )
    judged = rv.periods[rv.compared]
    so_far = rests_on(judged, rv.compared, rv.freq)
    partial = (
        f" The {period_word(rv.freq)} under way is drawn as partial and takes no part."
        if rv.run is not None
        and rv.run.complete_until is not None
        and rv.run.cut is not None
        and rv.run.complete_until < rv.run.cut
        else ""
    )
    if rv.compared == "action":
        return (
            "**Provisional verdict, on the action period so far.** The review period has no "
            f"complete {period_word(rv.freq)} yet (it runs {c.review.from_} to {c.review.to}), so "
            f"the baseline ({base}) is compared with {so_far}. These are early readings, not "
            f"the review: the final verdict is due on {due}, when the review period ends." + partial
        )
    if rv.phase.provisional or judged != rv.planned("review"):
        return (
            "**Provisional verdict, on the review period so far.** The baseline "
            f"({base}) is compared with {so_far}; the review period runs to {c.review.to}. "
            f"The final verdict is due on {due}, when it ends." + partial
        )
    return (
        f"The baseline ({base}) is compared with the review period ({judged.label}). "
        "The review period is over: the verdicts are final."
    )


_REVIEW_COLUMNS = [
    "target",
    "kpi",
    "label",
    "measure",
    "kind",
    "baseline",
    "review",
    "target_value",
    "change",
    "change_pct",
    "met",
    "standing",
    "chart_evidence",
    "test",
    "p_value",
    "verdict",
    "evidence",
]


def _review_row(tr: TargetReview, formatted: bool) -> dict[str, Any]:
    change = tr.compared_value - tr.baseline_value
    pct = 100 * change / tr.baseline_value if tr.baseline_value else math.nan
    ev = tr.evidence
    met = tr.met
    measure = "qualitative" if tr.kpi.key in QUALITATIVE_KPIS else "quantitative"
    row = {
        "target": tr.id,
        "kpi": tr.kpi.key,
        "label": tr.label,
        "measure": measure,
        "kind": tr.target.kind,
        "baseline": tr.baseline_value,
        "review": tr.compared_value,
        "target_value": tr.target_value,
        "change": change,
        "change_pct": pct,
        "met": met,
        "standing": tr.standing.state.value,
        "chart_evidence": signal_words(tr),
        "test": ev.test if ev is not None else "",
        "p_value": ev.p_value if ev is not None else math.nan,
        "verdict": tr.problem or tr.verdict,
        "evidence": ev.wording if ev is not None else "",
    }
    if formatted:
        now, goal = tr.texts_apart(tr.compared_value)
        row.update(
            baseline=tr.fmt(tr.baseline_value),
            review=now,
            target_value=goal,
            change=_signed(change, tr),
            met={True: "met", False: "not met", None: "—"}[met],
            standing=tr.standing.words,
            p_value="—" if pd.isna(row["p_value"]) else _p_text(row["p_value"]),
        )
    return row


def _same(value: Any) -> Any:
    return value


def _per_bin_text(value: float, tr: TargetReview) -> str | float:
    """A count target's value per month or week as text with its unit; NaN stays NaN."""
    return value if pd.isna(value) else tr.fmt(value)


def _signed(value: float, tr: TargetReview) -> str:
    if pd.isna(value):
        return "—"
    return signed_change(value, tr.fmt(abs(value)), tr.kpi.unit)


def _p_text(p: float) -> str:
    from ..evidence import format_p

    return format_p(p)


def review_table(cycle: Any, *, formatted: bool = False) -> pd.DataFrame:
    """Stage 5: per target, baseline against review, met or not, and whether the change is real.

    During the action period (before the review starts) the ``review`` column
    holds the action period so far and the verdict is provisional; so it is
    during the review period (the review so far). ``attrs["compared"]`` names
    the period (``"action"``, ``"review"`` or None before the action period)
    and ``attrs["provisional"]`` says whether the verdict can still change.

    Returns
    -------
    pandas.DataFrame
        One row per target: ``target``, ``kpi``, ``label``, ``measure``
        (quantitative / qualitative), ``kind``, ``baseline``, ``review``,
        ``target_value`` (KPI unit), ``change`` (review - baseline),
        ``change_pct`` (% of the baseline), ``met`` (bool, None before the
        review starts), ``chart_evidence`` (the signal in words),
        ``test``, ``p_value``, ``verdict`` (see :data:`VERDICTS`) and
        ``evidence`` (the test's sentence). ``attrs["note"]`` says which
        periods are compared. With ``formatted``, a table for readers
        (:func:`csi_lib.present.present`) without the KPI key, measure, kind, test and
        p-value (the evidence sentence names the test and its p-value).
    """
    rv = assess(cycle)
    rows = [_review_row(tr, formatted) for tr in rv] if rv.compared is not None else []
    table = pd.DataFrame(rows, columns=_REVIEW_COLUMNS)
    table.attrs["note"] = review_note(rv)
    table.attrs["compared"] = rv.compared
    table.attrs["provisional"] = rv.phase.provisional
    table.attrs["freq"] = rv.freq  # a count target's values are per month or week
    if formatted:  # for reading: headers in words, units, no index (csi_lib.present)
        labels = {"standing": "Standing"}
        if rv.compared is not None and rv.periods[rv.compared] != rv.planned(rv.compared):
            n = len(period_edges(rv.periods[rv.compared], rv.freq)) - 1
            labels["review"] = (
                f"{rv.compared.capitalize()} period, {period_word(rv.freq, n)} so far"
            )
        table = present(
            table, labels=labels, drop=("kpi", "measure", "kind", "met", "test", "p_value")
        )
    return table


def _test_verdict(ev: Any) -> str | None:
    """A test's evidence alone, as a verdict: at most "likely" (the chart is not drawn here)."""
    if ev is None or not getattr(ev, "significant", False):
        return None
    return {"improved": "likely improvement", "worsened": "likely deterioration"}.get(
        getattr(ev, "direction", "")
    )


def qualitative_table(cycle: Any, *, kpis: tuple[str, ...] = QUALITATIVE_KPIS) -> pd.DataFrame:
    """How customers feel, whole service: baseline against review with the test's wording.

    Reported beside the targets whether or not a target names them.

    Returns
    -------
    pandas.DataFrame
        ``kpi`` (shown as its label), ``baseline``, ``review`` (formatted with units),
        ``change``, ``evidence`` (the test's sentence).
    """
    rv = assess(cycle)
    base = rv.periods["baseline"]
    review = rv.periods[rv.compared] if rv.compared else None
    if review is None:
        return pd.DataFrame(columns=["kpi", "baseline", "review", "change", "evidence"])
    df = rv.cycle.data
    before = kpi_engine.kpi_values(df, base, kpis=list(kpis))
    after = kpi_engine.kpi_values(df, review, kpis=list(kpis))
    rows = []
    for key in kpis:
        kpi = kpi_engine.get_kpi(key)
        ev = compare(
            observations_for(df, base, kpi),
            observations_for(df, review, kpi),
            kind=kpi.kind,
            better=kpi.better,
            agg=kpi.agg,
            baseline_period=base,
            review_period=review,
            population=kpi.population,
        )
        rows.append(
            {
                "kpi": key,
                "baseline": format_value(before[key], kpi.unit, kpi.decimals),
                "review": format_value(after[key], kpi.unit, kpi.decimals),
                "change": evidence_arrow(before[key], after[key], kpi.better, _test_verdict(ev)),
                "evidence": ev.wording,
            }
        )
    return pd.DataFrame(rows)


_DIMENSIONS: tuple[str, ...] = ("category", "group", "channel", "priority")


def _group_values(tr: TargetReview, period: Any, by: str, rv: CycleReview) -> pd.DataFrame:
    """The KPI per group over ``period``, every group (no suppression); a count target's
    per month or week over the period's complete bins, as the target is valued."""
    if not per_bin(tr.kpi):
        return kpi_engine.breakdown(tr.data, period, by=by, kpis=[tr.kpi.key], min_group_size=None)
    until = rv.run.complete_until if rv.run is not None else None
    span, n = complete_bins(period, tr.freq, until)
    if span is None:
        return pd.DataFrame(columns=[by, "value", "n"])
    table = kpi_engine.breakdown(tr.data, span, by=by, kpis=[tr.kpi.key], min_group_size=None)
    return table.assign(value=table["value"] / n)


def _target_breakdown(tr: TargetReview, by: str, min_group_size: int, rv: CycleReview):
    base, review = rv.periods["baseline"], tr.compared_period
    # every group first (no suppression), then hide by the KPI's own population
    before = _group_values(tr, base, by, rv)
    after = _group_values(tr, review, by, rv)
    merged = pd.merge(
        before[[by, "value", "n"]].rename(columns={"value": "baseline", "n": "n_baseline"}),
        after[[by, "value", "n"]].rename(columns={"value": "review", "n": "n_review"}),
        on=by,
        how="outer",
    )
    merged[["n_baseline", "n_review"]] = merged[["n_baseline", "n_review"]].fillna(0)
    large = (merged["n_baseline"] >= min_group_size) & (merged["n_review"] >= min_group_size)
    shown = large & merged[["baseline", "review"]].notna().all(axis=1)
    hidden = int((~shown).sum())
    merged = merged[shown].copy()
    if tr.kpi.agg in ("count", "sum"):
        merged["contribution"] = merged["review"] - merged["baseline"]
    else:  # weighted by each group's share of the population in each period
        wb = merged["n_baseline"] / merged["n_baseline"].sum()
        wr = merged["n_review"] / merged["n_review"].sum()
        merged["contribution"] = wr * merged["review"] - wb * merged["baseline"]
    total = merged["contribution"].sum()
    merged["share_of_change_pct"] = 100 * merged["contribution"] / total if total else math.nan
    merged = merged.rename(columns={by: "group_value"})
    merged.insert(0, "by", by)
    merged.insert(0, "label", tr.label)
    merged.insert(0, "target", tr.id)
    return merged.sort_values("contribution", key=abs, ascending=False), hidden


def breakdowns(
    cycle: Any,
    *,
    by: str | None = None,
    target_id: str | None = None,
    formatted: bool = False,
    top: int = 5,
) -> pd.DataFrame:
    """Where each target's change came from: per group, baseline against review.

    Parameters
    ----------
    cycle:
        A Cycle or :class:`CycleReview`.
    by:
        The dimension (``category``, ``group``, ``channel``, ``priority`` or an
        extra column); default for each target the first of these that its
        scope does not fix.
    target_id:
        One target; default all.
    formatted:
        A table for readers (:func:`contributions_table`): per target the
        ``top`` groups that contributed most, the rest together, values with
        units.
    top:
        Groups listed per target when ``formatted``.

    Returns
    -------
    pandas.DataFrame
        ``target``, ``label``, ``by``, ``group_value``, ``baseline``,
        ``n_baseline``, ``review``, ``n_review`` (KPI unit; populations: the
        requests each value is computed over, e.g. fulfilled requests for a
        fulfilment time), ``contribution`` (KPI unit: the group's
        population-weighted part of the change, exact for means and
        percentages, indicative for medians and percentiles),
        ``share_of_change_pct``. Groups whose KPI population is under the
        cycle's ``min_group_size`` in either period are hidden;
        ``attrs["hidden_groups"]`` counts them (``attrs["hidden_by_target"]``
        per target) and ``attrs["hidden_note"]`` says so in words;
        ``attrs["kpis"]`` maps each target to its KPI key (for units).
    """
    rv = assess(cycle)
    cache = rv.__dict__.setdefault("_breakdown_tables", {})  # one computation per review
    if (by, target_id) not in cache:
        cache[(by, target_id)] = _breakdown_table(rv, by, target_id)
    table = cache[(by, target_id)].copy()  # attrs are copied too
    return contributions_table(table, rv, top=top) if formatted else table


def _breakdown_table(rv: Any, by: str | None, target_id: str | None) -> pd.DataFrame:
    """:func:`breakdowns` of a :class:`CycleReview`, unformatted."""
    columns = ["target", "label", "by", "group_value", "baseline", "n_baseline", "review",
               "n_review", "contribution", "share_of_change_pct"]  # fmt: skip
    if rv.compared is None:
        return pd.DataFrame(columns=columns)
    ids = [target_id] if target_id else rv.target_ids
    frames, hidden, by_target = [], 0, {}
    size = rv.cycle.config.min_group_size
    for tid in ids:
        tr = rv.target(tid)
        if tr.data is None:
            continue
        dim = by or next(
            (
                d
                for d in _DIMENSIONS
                if d in tr.data.columns
                and d not in (tr.target.scope or {})
                and tr.data[d].nunique() > 1
            ),
            "category",
        )
        frame, h = _target_breakdown(tr, dim, size, rv)
        frames.append(frame)
        hidden += h
        by_target[tid] = h
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    table = table[columns]
    table.attrs["hidden_groups"] = hidden
    table.attrs["hidden_by_target"] = by_target
    table.attrs["kpis"] = {tid: rv.target(tid).kpi.key for tid in by_target}
    table.attrs["freq"] = rv.freq  # a count target's values are per month or week
    table.attrs["min_group_size"] = size
    table.attrs["hidden_note"] = _hidden_note(by_target, size)
    return table


def _hidden_note(by_target: dict[str, int], size: int) -> str:
    """ "T1: 2 groups hidden ..." in one sentence ("" when none)."""
    parts = [f"{tid}: {n}" for tid, n in by_target.items() if n]
    if not parts:
        return ""
    return (
        "Groups with fewer than "
        f"{size} requests in the KPI's own population (e.g. fulfilled requests for a fulfilment "
        "time) in the baseline or the review period are hidden to protect individuals; "
        "hidden groups per target: " + ", ".join(parts) + "."
    )


def contributions_table(table: pd.DataFrame, cycle: Any, *, top: int = 5) -> pd.DataFrame:
    """The contribution table for readers: per target the groups that matter, the rest together.

    Parameters
    ----------
    table:
        :func:`breakdowns` (unformatted).
    cycle:
        The cycle or :class:`CycleReview` the table was made of (for the KPIs).
    top:
        Groups listed per target (largest contributions first); the other
        groups form one row "n other groups".

    Returns
    -------
    pandas.DataFrame
        A table of :func:`csi_lib.present.present`: Target, Group, Baseline,
        Review period, Contribution to the change (KPI unit, signed), Effect
        (▲/▼ better/worse by the KPI's direction), requests counted. The
        sentence on hidden groups is in ``attrs["table_note"]``.
    """
    rv = assess(cycle)
    rows: list[dict[str, Any]] = []
    for tid, part in table.groupby("target", sort=False):
        tr = rv.target(str(tid))
        part = part.sort_values("contribution", key=abs, ascending=False)
        head, rest = part.iloc[:top], part.iloc[top:]
        # a count target's values per month or week, with that unit ("12.3 requests a month")
        shown = functools.partial(_per_bin_text, tr=tr) if per_bin(tr.kpi) else _same
        signed = functools.partial(_signed, tr=tr) if per_bin(tr.kpi) else _same
        for rec in head.itertuples(index=False):
            rows.append(
                {
                    "target": f"{tid}: {rec.label}",
                    "kpi": tr.kpi.key,
                    "group_value": f"{COLUMN_WORDS.get(rec.by, rec.by)}: {rec.group_value}",
                    "baseline": shown(rec.baseline),
                    "review": shown(rec.review),
                    "contribution": signed(rec.contribution),
                    "effect": evidence_arrow(0.0, rec.contribution, tr.kpi.better, tr.verdict),
                    "n_review": rec.n_review,
                }
            )
        if len(rest):
            total = float(rest["contribution"].sum())
            rows.append(
                {
                    "target": f"{tid}: {tr.label}",
                    "kpi": tr.kpi.key,
                    "group_value": f"{len(rest)} other groups together",
                    "baseline": math.nan,
                    "review": math.nan,
                    "contribution": signed(total),
                    "effect": evidence_arrow(0.0, total, tr.kpi.better, tr.verdict),
                    "n_review": rest["n_review"].sum(),
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=["target", "kpi", "group_value", "baseline", "review", "contribution",
                 "effect", "n_review"],
    )  # fmt: skip
    note = table.attrs.get("hidden_note", "")
    out = present(
        frame,
        drop=("kpi",),
        labels={"effect": "Effect", "n_review": "Requests counted (review period)"},
        kpi_missing=MISSING,
    )
    out.attrs["table_note"] = note
    return out
