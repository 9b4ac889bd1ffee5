"""The next cycle worked out from a review: periods, re-stated and held targets, moved initiatives; nothing is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from .. import cycle as cycle_mod
from ..errors import ConfigError
from ..periods import Period
from ..present import KIND_WORDS
from ..review import CycleReview, TargetReview, assess
from ..spc import xmr
from ..targets.model import scope_words
from ..words import plural

#: How a met target is held in the next cycle: its kind -> (kind, limit of the review months).
_HOLD: dict[str, tuple[str, str]] = {
    "minimize": ("maintain_below", "upper"),
    "maintain_below": ("maintain_below", "upper"),
    "maximize": ("maintain_above", "lower"),
    "maintain_above": ("maintain_above", "lower"),
}
#: The stricter of two values for a kind held below (min) or above (max).
_STRICTER = {"maintain_below": min, "maintain_above": max}
#: Initiative statuses carried into the next cycle.
UNFINISHED: tuple[str, ...] = ("planned", "in progress")


# --------------------------------------------------------------------------- dates


def _months(r: Any) -> int | None:
    """Whole months of an inclusive date range starting on the 1st and ending on a month end."""
    end = r.to + dt.timedelta(days=1)
    if r.from_.day != 1 or end.day != 1:
        return None
    return (end.year - r.from_.year) * 12 + end.month - r.from_.month


def _follow(previous_to: dt.date, like: Any) -> tuple[dt.date, dt.date]:
    """An inclusive range starting the day after ``previous_to``, as long as ``like``."""
    start = previous_to + dt.timedelta(days=1)
    months = _months(like)
    if months is not None and start.day == 1:
        end = (pd.Timestamp(start) + pd.DateOffset(months=months)).date() - dt.timedelta(days=1)
    else:
        end = start + (like.to - like.from_)
    return start, end


# --------------------------------------------------------------------------- the proposal


@dataclass
class NextCycle:
    """The next cycle, worked out from a reviewed one (nothing written yet).

    Attributes
    ----------
    id, title:
        Of the new cycle.
    previous:
        The id of the cycle it follows.
    dates:
        ``{"baseline": (from, to), "action": ..., "review": ...}`` inclusive dates.
    targets:
        One dict per target as written to ``targets.yaml`` plus ``origin`` (a comment).
    initiatives:
        The carried initiatives (dicts as in ``plan.yaml``) plus ``origin``.
    finished:
        ``"I1 Laptop build automation (done)"`` lines of the initiatives left behind.
    register:
        The improvement register, carried unchanged.
    """

    id: str
    title: str
    previous: str
    dates: dict[str, tuple[dt.date, dt.date]]
    targets: list[dict[str, Any]]
    initiatives: list[dict[str, Any]]
    finished: list[str]
    register: list[dict[str, Any]]
    source: str | Path
    preset: str | None
    mapping: str | Path | None
    config: Any
    old_dir: Path
    review: CycleReview = field(repr=False)
    #: True for a preview made before the old cycle's review period is over (never written)
    provisional: bool = False
    #: The expected benefits not realised, carried into the plan (:func:`_unrealised`):
    #: ``initiative`` (the id in the next plan), ``from_initiative``, ``tied_to``, ``label``,
    #: ``change`` (what is left of the expected change), ``value``, ``origin``.
    benefits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def baseline_period(self) -> Period:
        start, end = self.dates["baseline"]
        return Period.from_dates(start, end, self.config.timezone)

    def periods_table(self) -> pd.DataFrame:
        """The three periods of the next cycle (inclusive dates)."""
        return pd.DataFrame(
            [{"period": name, "from": a, "to": b} for name, (a, b) in self.dates.items()]
        )

    def targets_table(self) -> pd.DataFrame:
        """The proposed targets: ``id``, ``kpi``, ``scope``, ``kind``, ``value``, ``due``, ``origin``."""
        columns = ["id", "kpi", "scope", "kind", "value", "tolerance", "due", "objective", "origin"]
        rows = [{c: t.get(c) for c in columns} for t in self.targets]
        table = pd.DataFrame(rows, columns=columns)
        table["scope"] = table["scope"].map(scope_words)
        return table

    def plan_table(self) -> pd.DataFrame:
        """The carried initiatives: ``id``, ``title``, ``targets``, ``start``, ``end``, ``status``, ``origin``."""
        columns = ["id", "title", "targets", "start", "end", "status", "origin"]
        rows = [{c: i.get(c) for c in columns} for i in self.initiatives]
        table = pd.DataFrame(rows, columns=columns)
        table["targets"] = table["targets"].map(lambda ts: ", ".join(ts or []))
        return table

    def register_table(self) -> pd.DataFrame:
        """The improvement register carried into the next cycle."""
        return pd.DataFrame(self.register)

    @property
    def proposed_initiatives(self) -> list[dict[str, Any]]:
        """The initiatives proposed to realise benefits a finished one did not realise (the
        others of :attr:`initiatives` are carried over)."""
        return [i for i in self.initiatives if str(i.get("origin", "")).startswith("proposed:")]

    def benefits_table(self) -> pd.DataFrame:
        """The expected benefits carried over, for readers: the initiative of the next plan,
        what the benefit is of, the expected change left, and why."""
        from ..present import present

        rows = [
            {
                "Initiative": b["initiative"] + " " + b["title"],
                "Benefit of": b["label"],
                "Expected change": b["change_words"],
                "Why": b["origin"],
            }
            for b in self.benefits
        ]
        table = pd.DataFrame(rows, columns=["Initiative", "Benefit of", "Expected change", "Why"])
        return present(table, kpi_column=None)


def _round(value: float, decimals: int) -> float:
    return float(round(float(value), decimals + 1))


def _due(old_due: dt.date | None, old: Any, dates: dict[str, tuple[dt.date, dt.date]]) -> dt.date:
    """A due date inside the new cycle at the same place: end of action or end of review."""
    if old_due is not None and old_due <= old.action.to:
        return dates["action"][1]
    return dates["review"][1]


def _review_limits(tr: TargetReview) -> dict[str, float]:
    """XmR limits of the review months alone (NaN with fewer than 2 values).

    In a preview made during the action period, of the action months so far.
    """
    review = tr.series[tr.series["phase"] == (tr.compared or "review")]
    values = pd.Series(
        review["value"].to_numpy(dtype="float64"), index=pd.DatetimeIndex(review["period_start"])
    )
    if values.notna().sum() < 2:
        return {"lower": float("nan"), "upper": float("nan"), "centre": float("nan")}
    chart = xmr(values, better=tr.kpi.better)
    return {k: float(chart[k].iloc[-1]) for k in ("lower", "upper", "centre")}


def _so_far(tr: TargetReview, provisional: bool) -> str:
    """ "in the review period" or, in a preview, e.g. "in the action period so far"."""
    return f"in the {tr.compared or 'review'} period" + (" so far" if provisional else "")


def _restated(
    tr: TargetReview, due: dt.date, previous: str, *, provisional: bool = False
) -> dict[str, Any]:
    t = tr.target
    was = f" (was change {t.change} of the baseline)" if t.change is not None else ""
    now, goal = tr.texts_apart(tr.compared_value)
    if tr.met is None:
        origin = (
            f"carried over unchanged from {previous}: not judged yet (no data after the "
            "baseline); re-stated against the new baseline"
        )
    else:
        origin = (
            f"not met in {previous} ({now} {_so_far(tr, provisional)} against {goal}{was}); "
            "re-stated against the new baseline"
        )
    return {
        "id": t.id,
        "kpi": t.kpi,
        "scope": t.scope,
        "kind": t.kind,
        "value": _round(tr.target_value, tr.decimals),
        "tolerance": t.tolerance,
        "due": due,
        "objective": t.objective,
        "owner": t.owner,
        "note": t.note,
        "origin": origin,
    }


def _hold(
    tr: TargetReview, due: dt.date, previous: str, *, provisional: bool = False
) -> dict[str, Any]:
    t = tr.target
    entry = _restated(tr, due, previous, provisional=provisional)
    so_far = _so_far(tr, provisional)
    best = _best(tr)
    further = f"; or improve further: the best period was {best}" if best else ""
    if t.kind not in _HOLD:  # within: keep the band
        entry["origin"] = (
            f"met in {previous} ({tr.fmt(tr.compared_value)} {so_far}): keep it in the band"
        )
        return entry
    kind, limit_name = _HOLD[t.kind]
    limit = _review_limits(tr)[limit_name]
    value = tr.target_value if pd.isna(limit) else _STRICTER[kind](limit, tr.target_value)
    entry.update(kind=kind, value=_round(value, tr.decimals))
    months = tr.compared or "review"
    limit_text = f"no limit (too few {months} periods)" if pd.isna(limit) else tr.fmt(limit)
    now, goal = tr.texts_apart(tr.compared_value)
    entry["origin"] = (
        f"met in {previous} ({now} {so_far} against {goal}): "
        f"hold the gain, {KIND_WORDS[kind].lower()} the stricter of the {months} months' "
        f"{limit_name} process limit "
        f"({limit_text}) and the old target{further}"
    )
    return entry


def _best(tr: TargetReview) -> str:
    """The best period after the baseline in the target's direction, in words."""
    after = tr.series[tr.series["phase"] != "baseline"].dropna(subset=["value"])
    if after.empty or tr.kpi.better == "neither":
        return ""
    pick = after["value"].idxmin() if tr.kpi.better == "lower" else after["value"].idxmax()
    row = after.loc[pick]
    return f"{tr.fmt(row['value'])} in {pd.Timestamp(row['period_start']):%B %Y}"


def _initiative(item: Any, dates: dict[str, tuple[dt.date, dt.date]], previous: str) -> dict:
    start, end = dates["action"]
    entry = {
        "id": item.id,
        "title": item.title,
        "owner": item.owner,
        "targets": list(item.targets),
        "way_of_working": item.way_of_working,
        "start": start,
        "end": max(end, item.end) if item.end >= start else end,
        "timebox_weeks": item.timebox_weeks,
        "expected_effect": dict(item.expected_effect) or None,
        "status": item.status,
    }
    dropped = f", {plural(len(item.stages), 'stage')} to re-plan" if item.stages else ""
    entry["origin"] = (
        f"carried over from {previous} (status {item.status}; "
        f"planned {item.start} to {item.end}{dropped})"
    )
    return entry


def _benefit_entry(stmt: Any, change: float) -> dict[str, Any]:
    """A benefit of the next plan: the old one with the change left."""
    entry = {"target": stmt.target, "kpi": stmt.kpi, "scope": stmt.scope, "change": change,
             "value": stmt.value, "note": stmt.note}  # fmt: skip
    return {k: v for k, v in entry.items() if v is not None}


def _unrealised(rv: CycleReview, previous: str) -> list[dict[str, Any]]:
    """The plan's expected benefits that were not realised: not established (the whole
    expected change is carried), or realised short of what the initiative expected (the
    change left: the expected change x the share not realised). Each initiative's expected
    benefit is set against its share of the target's realised benefit."""
    from ..benefits import STATUS_WORDS, assess_benefits
    from ..benefits.realised import _change_words, _key, _num, _review_of, expected_units

    cb = assess_benefits(rv)
    out = []
    for ini, stmt in cb.statements:
        b = cb.target(_key(stmt))
        if b.rule is None:
            continue  # no benefit defined: csi cycle check refuses such a benefit anyway
        tr = _review_of(cb, b)
        expected = expected_units(
            stmt.change, tr, b.rule, tr.compared_period or rv.planned("review"), rv.freq
        )
        share = 1 / max(len(b.initiatives), 1)
        realised = b.realised * share if b.status == "realised" else 0.0
        if b.status == "realised" and (pd.isna(expected) or realised >= expected):
            continue
        left = 1.0 if pd.isna(expected) or expected <= 0 else 1 - realised / expected
        change = float(f"{stmt.change * left:.2g}")
        if change == 0:
            continue
        if b.status == "realised":
            why = f"realised {_num(realised)} of the {_num(expected)} {b.unit} expected"
        else:
            why = f"{STATUS_WORDS[b.status]}" + (f" ({b.reason})" if b.reason else "")
            why += f"; {_num(expected)} {b.unit} were expected" if not pd.isna(expected) else ""
        out.append(
            {
                "from_initiative": ini.id,
                "from_title": ini.title,
                "tied_to": _key(stmt),
                "label": b.label,
                "change": change,
                "change_words": _change_words(change, tr.kpi, b.rule, rv.freq),
                "entry": _benefit_entry(stmt, change),
                "origin": f"benefit of {ini.id} {ini.title} on {b.label} in {previous}: {why}",
            }
        )
    return out


def _place_benefits(
    unrealised: list[dict[str, Any]],
    initiatives: list[dict[str, Any]],
    old_ids: set[str],
    dates: dict[str, tuple[dt.date, dt.date]],
) -> list[dict[str, Any]]:
    """Put each unrealised benefit into the next plan: into its initiative when that one is
    carried, else into a proposed initiative that realises the rest. Returns the rows of
    :attr:`NextCycle.benefits`."""
    carried = {i["id"]: i for i in initiatives}
    taken = set(old_ids)
    rows = []
    for u in unrealised:
        home = carried.get(u["from_initiative"])
        if home is None:
            n = len(taken) + 1
            while f"I{n}" in taken:
                n += 1
            taken.add(f"I{n}")
            home = {
                "id": f"I{n}",
                "title": f"Realise the rest of the benefit on {u['label']} "
                f"(after {u['from_initiative']} {u['from_title']})",
                "owner": None,
                "targets": [u["tied_to"]] if u["entry"].get("target") else [],
                "way_of_working": "daily work",
                "start": dates["action"][0],
                "end": dates["action"][1],
                "status": "planned",
                "origin": f"proposed: {u['origin']}",
            }
            initiatives.append(home)
            carried[u["from_initiative"] + "#" + home["id"]] = home
        else:
            home["origin"] += f"; its benefit carried: {u['origin']}"
        home.setdefault("benefits", []).append(u["entry"])
        rows.append({**u, "initiative": home["id"], "title": home["title"]})
    return rows


def propose_next(
    cycle: Any,
    *,
    id: str,  # noqa: A002 - the YAML key is "id"
    title: str | None = None,
    preview: bool = False,
) -> NextCycle:
    """Work out the next cycle of a reviewed cycle; nothing is written.

    Parameters
    ----------
    cycle:
        The reviewed :class:`~csi_lib.cycle.Cycle` (or its :class:`~csi_lib.review.CycleReview`);
        its review period must be over as of its ``as_of`` unless ``preview``.
    id:
        The new cycle's id, e.g. ``"2026-h1"``.
    title:
        Default: the old title.
    preview:
        Before the review period is over, return a *provisional* proposal
        (``provisional=True``) from what is known so far (met or not on the
        months so far; targets not judged yet are carried unchanged) instead
        of refusing. :func:`write_next` never writes a provisional proposal.

    Raises
    ------
    ConfigError
        The review period is not over yet (without ``preview``), or the id is not valid.

    Examples
    --------
    >>> nxt = propose_next(rv, id="2026-h1")   # rv = csi_lib.review.assess(cycle), or the cycle
    >>> nxt.dates["action"]
    (datetime.date(2026, 4, 1), datetime.date(2026, 9, 30))
    >>> nxt.targets_table()[["id", "kind", "value"]].round(1)
       id            kind  value
    0  T1  maintain_below   28.0
    1  T2  maintain_above   90.0
    2  T3  maintain_below    1.4
    3  T4        maximize    4.3
    4  T5  maintain_below    5.0
    """
    rv = assess(cycle)
    old = rv.cycle
    config = old.config
    provisional = rv.status["review"] != "complete"
    if provisional and not preview:
        raise ConfigError(
            f"the review period ({old.planned_periods['review'].label}) is not over as of "
            f"{old.as_of}; the next cycle's baseline is the whole review period",
            file=str(old.dir / "cycle.yaml"),
            column="review",
            hint="run it after the review period ends (or with a later as_of)",
        )
    baseline = (config.review.from_, config.review.to)
    action = _follow(baseline[1], config.action)
    review = _follow(action[1], config.review)
    dates = {"baseline": baseline, "action": action, "review": review}
    try:
        cycle_mod.CycleConfig.model_validate(
            {
                "id": id,
                "title": title or config.title,
                "data": {"source": "x", "preset": "x"},
                **{k: {"from": a, "to": b} for k, (a, b) in dates.items()},
            }
        )
    except ValidationError as exc:  # one sentence, never pydantic's dump
        first = exc.errors()[0]
        where = str(first["loc"][0]) if first.get("loc") else "id"
        if where == "id":
            raise ConfigError(
                f"'{id}' cannot be the id of a cycle: an id starts with a letter or a digit "
                "and holds only letters, digits, '-', '_' and '.' (it names the cycle's folder "
                "and its reports)",
                column="--id",
                hint="use a simple id such as 2026-h1",
            ) from None
        raise ConfigError(
            f"the next cycle cannot be created: its {where} is not valid ({first['msg']})",
            column=where,
            hint="check the --title and the cycle's periods",
        ) from None
    targets = []
    for tr in rv:
        due = _due(tr.target.due, config, dates)
        make = _hold if tr.met else _restated
        targets.append(make(tr, due, config.id, provisional=provisional))
    carried = [i for i in old.plan.initiatives if i.status in UNFINISHED]
    finished = [f"{i.id} {i.title} ({i.status})" for i in old.plan.initiatives if i not in carried]
    initiatives = [_initiative(i, dates, config.id) for i in carried]
    benefit_rows = _place_benefits(
        _unrealised(rv, config.id), initiatives, {i.id for i in old.plan.initiatives}, dates
    )
    return NextCycle(
        id=id,
        title=title or config.title,
        previous=config.id,
        dates=dates,
        targets=targets,
        initiatives=initiatives,
        finished=finished,
        register=[r.model_dump(mode="json", exclude_none=True) for r in old.plan.ideas],
        source=old.source,
        preset=old.preset,
        mapping=old.mapping,
        config=config,
        old_dir=old.dir,
        review=rv,
        provisional=provisional,
        benefits=benefit_rows,
    )


def proposal_note(nxt: NextCycle) -> str:
    """One markdown paragraph above the proposal: where the old cycle stands or ended, and
    whether the proposal is final or a provisional preview (and when it becomes final).

    Examples
    --------
    >>> cycle = open_cycle(sample_cycle, as_of="2025-10-15")   # data/sample-cycle
    >>> print(proposal_note(propose_next(cycle, id="2026-h1", preview=True)))
    **Provisional preview of the next cycle.** As of 2025-10-15 the cycle is in its **action
    period** ... The proposal becomes final once the review period is over, on 2026-03-31;
    until then nothing is written.
    """
    from ..review import headline

    rv = nxt.review
    if not nxt.provisional:
        return f"**Where this cycle ended:** {headline(rv)}"
    review_to = rv.standing.verdict_due
    so_far = (
        "No target can be judged yet, so the targets are carried over unchanged."
        if rv.compared is None
        else f"Targets are re-stated or held from the months so far: {headline(rv)}"
    )
    return (
        f"**Provisional preview of the next cycle.** {rv.standing.text()} {so_far} "
        f"The proposal becomes final once the review period is over, on {review_to}; until "
        "then nothing is written."
    )


# --------------------------------------------------------------------------- rendering
