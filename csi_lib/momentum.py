"""Stage 6, "How do we keep the momentum going?": the next cycle and the history of cycles.

When a cycle's review period is over it becomes the baseline of the next
cycle. :func:`propose_next` works out that next cycle without writing
anything (the notebook shows it as tables); :func:`write_next` writes it into
a new folder beside the old one; :func:`next_cycle` does both from a folder
path (what ``csi cycle next`` runs). The next cycle carries

* ``cycle.yaml``: the old review period as the new baseline, an action and a
  review period of the old lengths after it, the same data source, mapping,
  timezone, frequency and group size;
* ``vision.yaml``: copied byte for byte;
* ``targets.yaml``: each unmet target re-stated (same KPI, scope, kind and
  absolute value, a due date inside the new cycle), and for each met one a
  suggestion to *hold the gain* (``maintain_below`` / ``maintain_above`` at the
  new process limit of the review months, never looser than the target that
  was met), every entry with a comment saying where it came from;
* ``plan.yaml``: the unfinished initiatives (planned / in progress) moved to
  the new action period, and the whole improvement register;
* ``baseline/``: a new baseline snapshot of the old review period.

The old cycle folder is never written to. :func:`cycle_history` lists every
cycle of a workspace with, per target, the baseline, target and achieved
values, read from the snapshots each cycle stored (never from its data), and :func:`csi_lib.charts.review.history_figure` draws each KPI across
cycles.

Examples
--------
>>> from csi_lib.momentum import next_cycle, cycle_history
>>> next_cycle(cycle_dir, id="2026-h1")      # cycle_dir: tmp/sample-cycle, a copy of the sample
PosixPath('.../2026-h1')
>>> cycle_history(tmp)[["cycle", "target", "target_value", "achieved", "met"]].round(1)
     cycle target  target_value  achieved    met
0  2025-h2     T1          28.0      26.6   True
1  2025-h2     T2          90.0      90.6   True
2  2025-h2     T3           1.5       1.4   True
3  2025-h2     T4           4.3       4.0  False
4  2025-h2     T5           5.0       4.5   True
5  2026-h1     T1          28.0       NaN   None
6  2026-h1     T2          90.0       NaN   None
7  2026-h1     T3           1.4       NaN   None
8  2026-h1     T4           4.3       NaN   None
9  2026-h1     T5           5.0       NaN   None
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import cycle as cycle_mod
from .errors import ConfigError, OutputError
from .periods import Period
from .review import CycleReview, TargetReview, assess
from .spc import xmr
from .storage import atomic_write

__all__ = [
    "NextCycle",
    "propose_next",
    "proposal_note",
    "save_for_report",
    "write_next",
    "next_cycle",
    "cycle_history",
]

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
        table["scope"] = table["scope"].map(_scope_words)
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


def _scope_words(scope: Any) -> str:
    if not scope:
        return "whole service"
    return ", ".join(
        f"{k} = {' or '.join(v) if isinstance(v, list) else v}" for k, v in scope.items()
    )


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
    now = tr.fmt(tr.compared_value)
    if tr.met is None:
        origin = (
            f"carried over unchanged from {previous}: not judged yet (no data after the "
            "baseline); re-stated against the new baseline"
        )
    else:
        origin = (
            f"not met in {previous} ({now} {_so_far(tr, provisional)} against {tr.target_text}{was}); "
            "re-stated against the new baseline"
        )
    return {
        "id": t.id,
        "kpi": t.kpi,
        "scope": t.scope,
        "kind": t.kind,
        "value": _round(tr.target_value, tr.kpi.decimals),
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
    entry.update(kind=kind, value=_round(value, tr.kpi.decimals))
    months = tr.compared or "review"
    limit_text = f"no limit (too few {months} periods)" if pd.isna(limit) else tr.fmt(limit)
    entry["origin"] = (
        f"met in {previous} ({tr.fmt(tr.compared_value)} {so_far} against {tr.target_text}): "
        f"hold the gain, {kind.replace('_', ' ')} the stricter of the {months} months' "
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
    dropped = f", {len(item.stages)} stage(s) to re-plan" if item.stages else ""
    entry["origin"] = (
        f"carried over from {previous} (status {item.status}; "
        f"planned {item.start} to {item.end}{dropped})"
    )
    return entry


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
    except ValueError as exc:
        raise ConfigError(
            f"the next cycle cannot be created: {exc}",
            column="id",
            hint="use a simple id such as 2026-h1",
        ) from exc
    targets = []
    for tr in rv:
        due = _due(tr.target.due, config, dates)
        make = _hold if tr.met else _restated
        targets.append(make(tr, due, config.id, provisional=provisional))
    carried = [i for i in old.plan.initiatives if i.status in UNFINISHED]
    finished = [f"{i.id} {i.title} ({i.status})" for i in old.plan.initiatives if i not in carried]
    return NextCycle(
        id=id,
        title=title or config.title,
        previous=config.id,
        dates=dates,
        targets=targets,
        initiatives=[_initiative(i, dates, config.id) for i in carried],
        finished=finished,
        register=[r.model_dump(mode="json", exclude_none=True) for r in old.plan.ideas],
        source=old.source,
        preset=old.preset,
        mapping=old.mapping,
        config=config,
        old_dir=old.dir,
        review=rv,
        provisional=provisional,
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
    from .review import headline

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


def _scalar(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip().removesuffix("...").strip()  # fmt: skip


def _entry_yaml(entry: dict[str, Any]) -> str:
    """One list entry in block style, its ``origin`` as a comment above it."""
    body = {k: v for k, v in entry.items() if k != "origin" and v is not None}
    text = yaml.safe_dump([body], sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)  # fmt: skip
    origin = textwrap.wrap(entry.get("origin") or "", width=96)
    lines = [f"  # {line}" for line in origin]
    lines += ["  " + line if line else line for line in text.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def _relative(target: str | Path | None, start: Path) -> str | None:
    if target is None:
        return None
    if "://" in str(target):
        return str(target)
    try:
        return Path(os.path.relpath(os.path.abspath(target), os.path.abspath(start))).as_posix()
    except ValueError:  # another drive on Windows
        return Path(os.path.abspath(target)).as_posix()


def _cycle_yaml(nxt: NextCycle, directory: Path, shared: bool = False) -> str:
    from .sources import redact_url

    c = nxt.config
    data = {"source": _relative(nxt.source, directory)}
    hidden = shared and "://" in str(nxt.source) and redact_url(str(nxt.source)) != str(nxt.source)
    if hidden:  # a report folder is shared: its copy of cycle.yaml holds no password
        data["source"] = redact_url(str(nxt.source))
    if nxt.preset is not None:
        data["preset"] = nxt.preset
    else:
        data["mapping"] = _relative(nxt.mapping, directory)
    if c.data.sheet is not None:
        data["sheet"] = c.data.sheet
    if c.data.query is not None:
        data["query"] = c.data.query
    d = nxt.dates
    lines = [
        f"# Improvement cycle {nxt.id}, the next cycle after {nxt.previous}.",
        f"# Its baseline is the review period of {nxt.previous}; dates are inclusive (YYYY-MM-DD)",
        "# in the timezone below; paths are relative to this folder.",
        f"# Check it with: csi cycle check {directory.as_posix()}",
        f"id: {_scalar(nxt.id)}",
        f"title: {_scalar(nxt.title)}",
        "",
        *(
            ["# The password of the data source is not written here: put it back in place of ***."]
            if hidden
            else []
        ),
        "data:",
        *(f"  {k}: {_scalar(v)}" for k, v in data.items()),
        "",
        f"# Stage 1: the baseline snapshot (the review period of {nxt.previous})",
        "baseline:",
        f"  from: {d['baseline'][0]}",
        f"  to: {d['baseline'][1]}",
        "",
        '# Stage 4, "Take action": when the initiatives run',
        "action:",
        f"  from: {d['action'][0]}",
        f"  to: {d['action'][1]}",
        "",
        '# Stage 5, "Did we get there?": the period compared with the baseline',
        "review:",
        f"  from: {d['review'][0]}",
        f"  to: {d['review'][1]}",
        "",
        f"timezone: {_scalar(c.timezone)}",
        f"freq: {c.freq}",
        f"min_group_size: {c.min_group_size}",
    ]
    return "\n".join(lines) + "\n"


def _targets_yaml(nxt: NextCycle) -> str:
    head = (
        f'# Stage 2, "Where do we want to be?" for cycle {nxt.id}, proposed from the review of '
        f"{nxt.previous}.\n# Unmet targets are re-stated; met ones are suggested as 'hold the gain'. "
        "Edit freely,\n# then check with: csi targets check <this folder>\n"
    )
    if not nxt.targets:
        return head + "targets: []\n"
    return head + "targets:\n" + "\n".join(_entry_yaml(t) for t in nxt.targets)


def _plan_yaml(nxt: NextCycle) -> str:
    lines = [
        f'# Stage 3, "How do we get there?" for cycle {nxt.id}, carried over from {nxt.previous}.'
    ]
    if nxt.finished:
        lines.append(f"# Finished in {nxt.previous} (not carried): " + "; ".join(nxt.finished))
    text = "\n".join(lines) + "\n"
    if nxt.initiatives:
        text += "initiatives:\n" + "\n".join(_entry_yaml(i) for i in nxt.initiatives)
    else:
        text += "initiatives: []\n"
    text += f"\n# Improvement register, carried from {nxt.previous}.\n"
    if nxt.register:
        flow = [yaml.safe_dump(r, sort_keys=False, default_flow_style=True, allow_unicode=True, width=10_000).strip() for r in nxt.register]  # fmt: skip
        text += "register:\n" + "".join(f"  - {r}\n" for r in flow)
    else:
        text += "register: []\n"
    return text


def texts(nxt: NextCycle, directory: str | Path, *, shared: bool = False) -> dict[str, str | bytes]:
    """The files of the next cycle (name -> text; ``vision.yaml`` as the old file's bytes).

    With ``shared`` (a report folder), a password in a database URL is redacted."""
    directory = Path(directory)
    return {
        "cycle.yaml": _cycle_yaml(nxt, directory, shared),
        "vision.yaml": (nxt.old_dir / "vision.yaml").read_bytes(),
        "targets.yaml": _targets_yaml(nxt),
        "plan.yaml": _plan_yaml(nxt),
    }


# --------------------------------------------------------------------------- writing


def _refuse_existing(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise OutputError(
            "the folder of the next cycle exists already and is not empty",
            file=str(directory),
            hint="choose another --id or --out; nothing was changed",
        )


def write_next(
    nxt: NextCycle, directory: str | Path, *, snapshot: bool = True, shared: bool = False
) -> Path:
    """Write the next cycle into ``directory`` (must not exist or be empty), with its baseline.

    Everything is written into a temporary folder beside ``directory`` and
    renamed at the end, so a failure leaves nothing half-written. The old
    cycle's folder is only read.

    Parameters
    ----------
    nxt:
        From :func:`propose_next`.
    directory:
        The new cycle folder.
    snapshot:
        Take the new baseline snapshot (the old review period) into ``baseline/``.
    shared:
        The folder is shared (a report's): a password of the data source is not written.

    Returns
    -------
    Path
        The new cycle folder.
    """
    directory = Path(directory)
    if nxt.provisional:
        raise ConfigError(
            "the next cycle is a provisional preview: the review period of "
            f"{nxt.previous} is not over, so it is not written",
            column="review",
            hint=f"write it after {nxt.config.review.to} (or with a later as_of)",
        )
    _refuse_existing(directory)
    if directory.resolve() == nxt.old_dir.resolve():
        raise OutputError("the next cycle cannot replace the old one", file=str(directory))
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    mask = os.umask(0)
    os.umask(mask)
    try:
        tmp.chmod(0o777 & ~mask)  # mkdtemp makes it private; a cycle folder is not
        for name, content in texts(nxt, directory, shared=shared).items():
            atomic_write(tmp / name, content)
        if snapshot:
            _snapshot(nxt).save(tmp / "baseline")
        if directory.exists():
            directory.rmdir()  # empty (checked above)
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def save_for_report(nxt: NextCycle, output_dir: str | Path | None) -> str:
    """Stage 6 in a report: write the next cycle to ``output_dir/next-cycle/`` when it is final.

    Nothing is written for a provisional preview, nor without ``output_dir``.

    Returns
    -------
    str
        One markdown sentence saying what was written, or why nothing was.
    """
    if nxt.provisional:
        return (
            "Nothing is written: this is a provisional preview. The next cycle is written "
            f"with the first report after {nxt.config.review.to}, when the review period is over."
        )
    if not output_dir:
        return "Nothing is written: no report folder was given."
    folder = write_next(nxt, Path(output_dir) / "next-cycle", shared=True)
    return f"The next cycle **{nxt.id}** was written to the report's folder `{folder.name}/`."


def _snapshot(nxt: NextCycle) -> Any:
    from .baseline import create_snapshot

    load = nxt.review.cycle.load
    return create_snapshot(
        load.data,
        nxt.baseline_period,
        source=str(load.source),
        fingerprint=load.fingerprint,
        mapping=load.mapping.model_dump(mode="json"),
        rows={"read": load.rows_read, "kept": load.rows_kept, "quarantined": load.rows_quarantined},
        min_group_size=nxt.config.min_group_size,
    )


def _open_read_only(cycle_dir: str | Path, **kwargs: Any) -> Any:
    """Open a cycle and load its data without writing anything into its folder."""
    from .sources import load_requests

    cycle = cycle_mod.open_cycle(cycle_dir, **kwargs)
    extra: dict[str, Any] = {}
    if cycle.config.data.query is not None:
        extra["query"] = cycle.config.data.query
    if cycle.config.data.sheet is not None:
        extra["sheet"] = cycle.config.data.sheet
    cycle.load = load_requests(
        cycle.source, preset=cycle.preset, mapping=cycle.mapping, quarantine_dir=None, **extra
    )
    return cycle


def next_cycle(
    cycle_dir: str | Path,
    *,
    id: str,  # noqa: A002 - the YAML key is "id"
    out: str | Path | None = None,
    title: str | None = None,
    as_of: str | dt.date | None = None,
) -> Path:
    """Create the next cycle of ``cycle_dir`` in ``out/<id>`` (default: beside the old folder).

    The old folder is left byte for byte unchanged (its data is loaded
    without writing a quarantine file there).

    Raises
    ------
    OutputError
        The new folder exists and is not empty.
    ConfigError
        The old cycle has problems, or its review period is not over as of ``as_of``.

    Examples
    --------
    ``next_cycle("cycles/2025-h2", id="2026-h1")`` returns ``PosixPath('cycles/2026-h1')``
    (see the module's example). A folder that holds something is refused before anything
    is read:

    >>> (tmp / "2026-h1").mkdir()
    >>> _ = (tmp / "2026-h1" / "notes.md").write_text("ours")
    >>> next_cycle(sample_cycle, id="2026-h1", out=tmp)
    Traceback (most recent call last):
    ...
    csi_lib.errors.OutputError: file '.../2026-h1': the folder of the next cycle exists already
    and is not empty. Choose another --id or --out; nothing was changed.
    """
    cycle_dir = Path(cycle_dir)
    directory = Path(out if out is not None else cycle_dir.resolve().parent) / id
    _refuse_existing(directory)
    cycle = _open_read_only(cycle_dir, as_of=as_of)
    return write_next(propose_next(cycle, id=id, title=title), directory)


# --------------------------------------------------------------------------- history


_HISTORY_COLUMNS = [
    "cycle",
    "review_to",
    "target",
    "kpi",
    "label",
    "unit",
    "kind",
    "baseline",
    "target_value",
    "achieved",
    "met",
    "state",
]

#: Where a history row's values come from (the ``state`` column).
MEASURED = "measured on this cycle's data"
STORED = "from the stored baseline snapshots"
NO_BASELINE = "no baseline snapshot stored"
NO_REVIEW = "no stored review yet (the next cycle's baseline snapshot holds it)"
NOT_STORED = "not in the stored snapshot (scope or KPI)"


def _stored_snapshot(folder: Path) -> tuple[Any, str | None]:
    """The sealed baseline snapshot of a cycle folder (files only, never its data), or why not."""
    from .baseline import load_snapshot
    from .errors import SnapshotError

    if not (folder / "baseline").is_dir():
        return None, NO_BASELINE
    try:
        return load_snapshot(folder / "baseline"), None
    except (SnapshotError, ConfigError, OSError, ValueError) as exc:
        return None, f"baseline snapshot unreadable ({getattr(exc, 'message', exc)})"


def _snapshot_value(snap: Any, kpi: str, scope: dict[str, Any] | None) -> float | None:
    """``kpi`` over the snapshot's period, whole service or one group of one dimension
    (its breakdown); None when the snapshot does not hold it (NaN = held, no data)."""
    if not scope:
        found = snap.kpis[snap.kpis["kpi"] == kpi]
    else:
        if len(scope) != 1:
            return None
        ((dim, value),) = scope.items()
        values = value if isinstance(value, list) else [value]
        if len(values) != 1:
            return None
        b = snap.breakdowns
        found = b[(b["dimension"] == dim) & (b["group"] == str(values[0])) & (b["kpi"] == kpi)]
    return float(found["value"].iloc[0]) if len(found) else None


def _history_row(cycle_id: str, review_to: Any, tr: TargetReview, state: str) -> dict[str, Any]:
    return {
        "cycle": cycle_id,
        "review_to": review_to,
        "target": tr.id,
        "kpi": tr.kpi.key,
        "label": tr.label,
        "unit": tr.kpi.unit,
        "kind": tr.target.kind,
        "baseline": tr.baseline_value,
        "target_value": tr.target_value,
        "achieved": tr.review_value,
        "met": tr.met if tr.compared == "review" else None,
        "state": state,
    }


def _stored_rows(
    folder: Path, snapshots: dict[Path, tuple[Any, str | None]]
) -> list[dict[str, Any]]:
    """History rows of a cycle from what its folder and its successor's stored: the cycle's
    own baseline snapshot (baseline values) and the snapshot of its review period, the
    baseline of the next cycle (achieved values). Its data is never read."""
    from .kpis import get_kpi
    from .targets import resolve_target_value

    checked = cycle_mod._check(folder, check_data=False)
    config = checked.config
    planned = config.periods()
    base, why_base = snapshots[folder]
    review_period = planned["review"]
    after = next(
        (
            snap
            for snap, _ in snapshots.values()
            if snap is not None
            and (snap.period.start, snap.period.end) == (review_period.start, review_period.end)
        ),
        None,
    )
    rows = []
    for target in checked.targets.targets:
        kpi = get_kpi(target.kpi)
        tr = TargetReview(target=target, kpi=kpi, periods=dict(planned), freq=config.freq)
        states = []
        value = None if base is None else _snapshot_value(base, kpi.key, target.scope)
        if base is None:
            states.append(why_base or NO_BASELINE)
        elif value is None:
            states.append(NOT_STORED)
        tr.baseline_value = float("nan") if value is None else value
        tr.target_value = resolve_target_value(target, tr.baseline_value)
        achieved = None if after is None else _snapshot_value(after, kpi.key, target.scope)
        if after is None:
            states.append(NO_REVIEW)
        elif achieved is None and NOT_STORED not in states:
            states.append(NOT_STORED)
        tr.review_value = float("nan") if achieved is None else achieved
        tr.compared = "review" if achieved is not None else None
        rows.append(_history_row(config.id, config.review.to, tr, "; ".join(states) or STORED))
    return rows


def _measured_rows(rv: CycleReview) -> list[dict[str, Any]]:
    """History rows of the cycle this stage runs on, from its review (already measured)."""
    config = rv.cycle.config
    state = MEASURED
    if rv.periods.get("review") is None:
        state += ": the review period has not started"
    elif rv.status["review"] != "complete":
        state += ": the review period so far"
    return [_history_row(config.id, config.review.to, tr, state) for tr in rv]


def cycle_history(workspace_dir: str | Path, *, current: Any = None) -> pd.DataFrame:
    """Per cycle of a workspace and per target: baseline, target and achieved value.

    Every cycle's values come from what the cycle folders *stored*, never from
    loading their data again: the baseline from the cycle's sealed baseline snapshot
    (``baseline/``), the achieved value from the snapshot of its review period, which
    is the baseline snapshot of the next cycle (``csi cycle next`` and stage 1 write
    it). A value a snapshot does not hold (a scope of several values or dimensions, a
    KPI added since) or a snapshot not taken yet is left empty and the ``state``
    column says so. ``current`` (the cycle, or its review, that stage 6 runs on) is
    taken as measured on its own data instead.

    Wraps :func:`csi_lib.cycle.cycle_history` (which lists the cycle folders); cycles
    whose files cannot be read are skipped (that table says why). Nothing is written
    into the cycle folders.

    Parameters
    ----------
    workspace_dir:
        The folder holding the cycle folders.
    current:
        A :class:`~csi_lib.cycle.Cycle` or :class:`~csi_lib.review.CycleReview` already
        loaded and assessed; its folder's rows come from it. None: every cycle from
        its stored snapshots.

    Returns
    -------
    pandas.DataFrame
        ``cycle`` (id), ``review_to`` (date), ``target``, ``kpi``, ``label`` (KPI label
        and scope), ``unit``, ``kind``, ``baseline``, ``target_value``, ``achieved`` (the
        KPI over the review period; NaN when it is not known), ``met`` (bool, None
        without an achieved value) and ``state`` (where the values come from, or why
        one is missing), oldest cycle first. Values are in the KPI's unit.

    Examples
    --------
    >>> cycle_history(sample_cycle.parent)[["cycle", "target", "kind", "baseline", "met"]].round(1)
         cycle target            kind  baseline   met
    0  2025-h2     T1        minimize      41.8  None
    1  2025-h2     T2        maximize      86.5  None
    2  2025-h2     T3        minimize       1.9  None
    3  2025-h2     T4        maximize       4.0  None
    4  2025-h2     T5  maintain_below       4.9  None
    """
    folders = cycle_mod.cycle_history(workspace_dir)
    readable = [Path(d) for d in folders.loc[folders["problem"].isna(), "dir"]]
    rv = assess(current) if current is not None else None
    own = rv.cycle.dir.resolve() if rv is not None else None
    snapshots = {folder: _stored_snapshot(folder) for folder in readable}
    rows: list[dict[str, Any]] = []
    for folder in readable:
        if own is not None and folder.resolve() == own:
            rows += _measured_rows(rv)
        else:
            rows += _stored_rows(folder, snapshots)
    return pd.DataFrame(rows, columns=_HISTORY_COLUMNS)
