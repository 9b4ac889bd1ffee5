"""The improvement workshop: timeboxes, dot-voting on the register, a decisions log.

A facilitator walks the room through the seven questions of the continual
improvement model with ``csi workshop CYCLE_DIR`` (the facilitation notebook
``notebooks/workshop.ipynb`` served by Voilà). This module holds the logic
behind its controls, as plain functions that need no browser:

* :data:`TIMEBOXES` - minutes per stage, :func:`timeboxes` to override them;
* :func:`cast_votes` / :func:`save_votes` - dot-voting on the ideas of the
  improvement register (``plan.yaml``, key ``register``, field ``votes``);
* :func:`record_decision` / :func:`read_decisions` - the append-only
  ``decisions.md`` of the cycle folder, so what the room decided becomes the
  input of the next stage.

Voilà does not run papermill: it executes the notebook as it is, so the
command passes its arguments through environment variables
(:data:`ENV_CYCLE_DIR` and the others below). The notebook's ``parameters``
cell stays plain assignments; its first code cell calls :func:`settings`,
which prefers an environment variable when it is set.

Writing ``decisions.md``: the old content is read and the whole new content
written through :func:`csi_lib.storage.atomic_write` (temporary file, fsync,
rename), under a lock file. Appending in place (``open(..., "a")`` + fsync)
could leave half an entry behind if the kernel dies mid-write; the atomic
rewrite never does. The lock makes the read-modify-write safe when two
browser tabs (two Voilà kernels) record at the same moment. ``save_votes``
takes the same lock around its round-trip edit of ``plan.yaml``.

Examples
--------
>>> record_decision(cycle_dir, "Promote R2 to an initiative", stage=3).name  # a copy of the sample
'decisions.md'
>>> read_decisions(cycle_dir)[["stage", "text"]]
   stage                         text
0      3  Promote R2 to an initiative
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from .errors import ConfigError, OutputError
from .plan import load_plan
from .report.stages import STAGE_BY_KEY, STAGES, Stage
from .storage import atomic_write
from .yamlio import edit_yaml

__all__ = [
    "ENV_CYCLE_DIR",
    "ENV_AS_OF",
    "ENV_TIMEBOXES",
    "ENV_DOTS",
    "ENV_PARTICIPANTS",
    "TIMEBOXES",
    "DECISIONS_FILE",
    "Settings",
    "resolve_cycle_dir",
    "settings",
    "timeboxes",
    "stage_of",
    "new_tally",
    "cast_votes",
    "save_votes",
    "record_decision",
    "read_decisions",
    "decisions_html",
    "next_cycle_id",
    "next_cycle_proposal",
    "next_cycle_text",
    "next_cycle_targets",
    "agenda",
    "agenda_text",
]

#: Environment variables ``csi workshop`` sets for the notebook's kernel.
ENV_CYCLE_DIR = "CSI_CYCLE_DIR"
ENV_AS_OF = "CSI_AS_OF"
ENV_TIMEBOXES = "CSI_TIMEBOXES"
ENV_DOTS = "CSI_DOTS"
ENV_PARTICIPANTS = "CSI_PARTICIPANTS"

#: Default timebox of each stage, in minutes (stage number -> minutes): 100 minutes in all.
TIMEBOXES: dict[int, float] = {0: 10, 1: 15, 2: 20, 3: 20, 4: 10, 5: 15, 6: 10}

#: The decisions log of a cycle folder.
DECISIONS_FILE = "decisions.md"
_DECISIONS_HEADER = """\
# Decisions

What the improvement workshops of this cycle decided, oldest first. Each entry is
appended by the workshop (`csi workshop`): a heading with the time (UTC), the stage
and who recorded it, then the decision quoted. Do not edit the entries; add a new
decision that corrects an old one instead.
"""
_HEADING = re.compile(
    r"^## (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC"
    r"(?: \u2014 stage (?P<stage>\d+): [^\n\u2014]*?)?"
    r"(?: \u2014 recorded by (?P<author>.*))?$"
)
_DECISION_COLUMNS = ["recorded_at", "stage", "stage_title", "author", "text"]
#: Longest decision text accepted (characters).
MAX_DECISION_CHARS = 5000
_LOCK_TIMEOUT_S = 15


# --------------------------------------------------------------------------- settings


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value is not None and value.strip() else None


def resolve_cycle_dir(cycle_dir: str | Path | None) -> Path:
    """The cycle folder of the workshop: ``$CSI_CYCLE_DIR`` when set, else ``cycle_dir``.

    Voilà runs the notebook as it is (no papermill parameters), so
    ``csi workshop CYCLE_DIR`` passes the folder in the environment variable
    :data:`ENV_CYCLE_DIR`; in JupyterLab the notebook's ``cycle_dir`` is used.

    Raises
    ------
    ConfigError
        No folder is given, or it is not a cycle folder (no ``cycle.yaml``).

    Examples
    --------
    >>> resolve_cycle_dir(sample_cycle) == sample_cycle     # the folder data/sample-cycle
    True
    >>> os.environ[ENV_CYCLE_DIR] = str(tmp)                # as csi workshop sets it
    >>> resolve_cycle_dir(sample_cycle)
    Traceback (most recent call last):
    ...
    csi_lib.errors.ConfigError: file '...': this is not a cycle folder (it has no cycle.yaml).
    Give the folder made by csi cycle new.
    """
    chosen = _env(ENV_CYCLE_DIR) or cycle_dir
    if chosen is None or not str(chosen).strip():
        raise ConfigError(
            "no cycle folder is given",
            column="cycle_dir",
            hint=f"set cycle_dir in the notebook or run csi workshop CYCLE_DIR ({ENV_CYCLE_DIR})",
        )
    path = Path(chosen).expanduser()
    if not (path / "cycle.yaml").is_file():
        raise ConfigError(
            "this is not a cycle folder (it has no cycle.yaml)",
            file=str(path),
            hint="give the folder made by csi cycle new",
        )
    return path


def timeboxes(minutes: Any = None) -> dict[int, float]:
    """Minutes per stage: :data:`TIMEBOXES` with ``minutes`` (or ``$CSI_TIMEBOXES``) applied.

    Parameters
    ----------
    minutes:
        ``None`` for the defaults; seven numbers (a list, or text such as
        ``"10,15,20,20,10,15,10"``) for stages 0..6; or a mapping
        ``{stage: minutes}`` overriding some of them. ``$CSI_TIMEBOXES``
        (text) wins when it is set.

    Raises
    ------
    ConfigError
        Not seven numbers, an unknown stage, or a duration not in 0 < minutes <= 240.

    Examples
    --------
    >>> timeboxes("5,5,5,5,5,5,5")[3]
    5.0
    >>> timeboxes({2: 30})[2], timeboxes({2: 30})[0]
    (30.0, 10)
    """
    minutes = _env(ENV_TIMEBOXES) or minutes
    out: dict[int, float] = dict(TIMEBOXES)
    if minutes is None:
        return out
    if isinstance(minutes, str):
        minutes = [m for m in re.split(r"[,\s]+", minutes.strip()) if m]
    if isinstance(minutes, Mapping):
        pairs = list(minutes.items())
    else:
        values = list(minutes)
        if len(values) != len(STAGES):
            raise ConfigError(
                f"{len(values)} timebox(es) given, {len(STAGES)} are needed (one per stage 0-6)",
                column="timeboxes",
                hint="write seven numbers of minutes, e.g. 10,15,20,20,10,15,10",
            )
        pairs = list(enumerate(values))
    for stage, value in pairs:
        try:
            number, mins = int(stage), float(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"the timebox '{value}' of stage {stage} is not a number of minutes",
                column="timeboxes",
                hint="write minutes as numbers, e.g. 10,15,20,20,10,15,10",
            ) from exc
        if number not in TIMEBOXES:
            raise ConfigError(
                f"there is no stage {stage}", column="timeboxes", hint="stages are numbered 0-6"
            )
        if not 0 < mins <= 240:
            raise ConfigError(
                f"the timebox of stage {number} ({value} min) is not between 0 and 240 minutes",
                column="timeboxes",
                hint="give each stage a few minutes",
            )
        out[number] = mins
    return out


def _positive_int(value: Any, name: str, env: str) -> int:
    raw = _env(env) or value
    try:
        number = int(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{name} '{raw}' is not a whole number", column=name, hint="give a number such as 3"
        ) from exc
    if not 1 <= number <= 100:
        raise ConfigError(f"{name} must be between 1 and 100 (got {number})", column=name)
    return number


@dataclass(frozen=True)
class Settings:
    """What the workshop runs on, after the environment overrides.

    Attributes
    ----------
    cycle_dir:
        The cycle folder.
    as_of:
        The workshop date (``YYYY-MM-DD``) or ``None``.
    minutes:
        Timebox per stage number, in minutes.
    dots:
        Dots each participant may place.
    participants:
        How many people vote.
    """

    cycle_dir: Path
    as_of: str | None
    minutes: dict[int, float] = field(default_factory=lambda: dict(TIMEBOXES))
    dots: int = 3
    participants: int = 6


def settings(
    cycle_dir: str | Path | None,
    *,
    as_of: str | None = None,
    minutes: Any = None,
    dots: int = 3,
    participants: int = 6,
) -> Settings:
    """Resolve the notebook's parameters against the environment set by ``csi workshop``.

    ``$CSI_CYCLE_DIR``, ``$CSI_AS_OF``, ``$CSI_TIMEBOXES``, ``$CSI_DOTS`` and
    ``$CSI_PARTICIPANTS`` win over the arguments when they are set.

    Examples
    --------
    >>> s = settings(sample_cycle, dots=3)     # the folder data/sample-cycle
    >>> s.minutes[2], s.dots                   # stage 2's timebox (minutes), dots per person
    (20, 3)
    >>> os.environ[ENV_DOTS] = "5"             # as ``csi workshop --dots 5`` sets it
    >>> settings(sample_cycle, dots=3).dots
    5
    """
    return Settings(
        cycle_dir=resolve_cycle_dir(cycle_dir),
        as_of=_env(ENV_AS_OF) or as_of,
        minutes=timeboxes(minutes),
        dots=_positive_int(dots, "dots", ENV_DOTS),
        participants=_positive_int(participants, "participants", ENV_PARTICIPANTS),
    )


def stage_of(stage: int | str | Stage | None) -> Stage | None:
    """The :class:`~csi_lib.report.stages.Stage` named by a number, a key or itself."""
    if stage is None or isinstance(stage, Stage):
        return stage
    found = STAGE_BY_KEY.get(str(stage))
    if found is None:
        raise ConfigError(
            f"there is no stage '{stage}'", column="stage", hint="name a stage by number, 0-6"
        )
    return found


# --------------------------------------------------------------------------- locking


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``path`` (one writer at a time across kernels)."""
    lock = FileLock(str(path.parent / f".{path.name}.lock"), timeout=_LOCK_TIMEOUT_S)
    try:
        with lock:
            yield
    except Timeout as exc:
        raise OutputError(
            "another workshop is writing this file and did not finish in time",
            file=str(path),
            hint="try again in a moment",
        ) from exc


# --------------------------------------------------------------------------- dot-voting


def new_tally(ideas: Sequence[Any]) -> dict[str, int]:
    """An empty tally: every idea id (``RegisterItem`` or dict with ``id``) at 0 dots."""
    return {str(i["id"] if isinstance(i, Mapping) else i.id): 0 for i in ideas}


def cast_votes(
    tally: Mapping[str, int], idea_id: str, dots_left: int
) -> tuple[dict[str, int], int]:
    """Place one dot on ``idea_id``; returns the new tally and the dots left.

    The tally given is not changed. A participant may put several dots on one idea.

    Parameters
    ----------
    tally:
        Dots per idea id so far (:func:`new_tally` makes one).
    idea_id:
        The idea voted for; it must be a key of ``tally``.
    dots_left:
        The dots this participant still has.

    Raises
    ------
    ConfigError
        No dot left, or an unknown idea.

    Examples
    --------
    >>> cast_votes({"R1": 0, "R2": 1}, "R2", 3)
    ({'R1': 0, 'R2': 2}, 2)
    """
    if idea_id not in tally:
        known = ", ".join(tally) or "none"
        raise ConfigError(
            f"the improvement register has no idea '{idea_id}'",
            column="register",
            hint=f"known ids: {known}",
        )
    if dots_left <= 0:
        raise ConfigError(
            "this participant has no dot left",
            hint="pick the next participant, or clear the dots to vote again",
        )
    new = dict(tally)
    new[idea_id] = int(new[idea_id]) + 1
    return new, int(dots_left) - 1


def save_votes(
    plan_path: str | Path, votes: Mapping[str, int], *, replace: bool = False
) -> dict[str, int]:
    """Write dot-votes into the ``votes`` of the register entries of ``plan.yaml``.

    By default the dots are *added* to the votes already recorded (a register
    keeps a running total across workshops and breakout groups); with
    ``replace=True`` they replace them. Ideas with no dot are left as they are.
    The edit is a ruamel round trip (comments, order and flow style kept),
    written atomically under a lock.

    Parameters
    ----------
    plan_path:
        The cycle's ``plan.yaml``.
    votes:
        Dots per register id (counts, >= 0).

    Returns
    -------
    dict[str, int]
        The new ``votes`` of every entry that was changed.

    Raises
    ------
    ConfigError
        An id not in the register, a negative or non-integer count, or a broken file.

    Examples
    --------
    >>> save_votes(cycle_dir / "plan.yaml", {"R2": 3, "R4": 1})   # R2 had 8 votes, R4 2
    {'R2': 11, 'R4': 3}
    """
    plan_path = Path(plan_path)
    counts: dict[str, int] = {}
    for idea_id, n in votes.items():
        if isinstance(n, bool) or not float(n).is_integer() or n < 0:
            raise ConfigError(
                f"the vote count {n!r} of idea '{idea_id}' is not a whole number >= 0",
                file=str(plan_path),
                column="register",
            )
        if int(n):
            counts[str(idea_id)] = int(n)
    known = {r.id for r in load_plan(plan_path).ideas}
    unknown = sorted(set(counts) - known)
    if unknown:
        raise ConfigError(
            f"the improvement register has no idea {', '.join(unknown)}",
            file=str(plan_path),
            column="register",
            hint=f"known ids: {', '.join(sorted(known)) or 'none'}",
        )
    if not counts:
        return {}
    totals: dict[str, int] = {}
    with _locked(plan_path), edit_yaml(plan_path) as doc:
        for entry in doc.get("register") or []:
            idea_id = str(entry.get("id"))
            if idea_id in counts:
                before = 0 if replace else int(entry.get("votes") or 0)
                entry["votes"] = before + counts[idea_id]
                totals[idea_id] = entry["votes"]
    return totals


# --------------------------------------------------------------------------- decisions log


def _utc(now: dt.datetime | None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return now.astimezone(dt.UTC).replace(microsecond=0)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def record_decision(
    cycle_dir: str | Path,
    text: str,
    *,
    stage: int | str | Stage | None = None,
    author: str | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Append a timestamped decision to ``CYCLE_DIR/decisions.md`` (created if absent).

    The entry is a heading (UTC time, stage, author) and the text as a quote.
    ``<``, ``>`` and ``&`` are written as HTML entities, so any markdown viewer
    shows the text as typed and never runs markup from it; :func:`read_decisions`
    gives the original text back. The whole file is rewritten atomically under
    a lock (see the module's notes); earlier entries are never changed.

    Parameters
    ----------
    cycle_dir:
        The cycle folder.
    text:
        The decision, in the room's words (at most 5000 characters).
    stage:
        The stage it belongs to (0-6 or a notebook name), optional.
    author:
        Who recorded it (one line), optional.
    now:
        The time of the decision (default: now); naive times are taken as UTC.

    Returns
    -------
    Path
        The decisions file.

    Raises
    ------
    ConfigError
        The text is empty or too long, the stage is unknown, or the folder does not exist.

    Examples
    --------
    >>> path = record_decision(cycle_dir, "Promote R2", stage=3, author="Ana",
    ...                        now=dt.datetime(2026, 4, 15, 10, 30))
    >>> print(path.read_text().split("instead.")[1].strip())
    ## 2026-04-15 10:30:00 UTC — stage 3: How do we get there? — recorded by Ana
    <BLANKLINE>
    > Promote R2
    """
    cycle_dir = Path(cycle_dir)
    body = str(text or "").strip()
    if not body:
        raise ConfigError("the decision is empty", column="text", hint="type what the room decided")
    if len(body) > MAX_DECISION_CHARS:
        raise ConfigError(
            f"the decision is {len(body)} characters long (at most {MAX_DECISION_CHARS})",
            column="text",
            hint="keep the decision short and link to a document for the details",
        )
    if not cycle_dir.is_dir():
        raise ConfigError("the cycle folder does not exist", file=str(cycle_dir))
    chosen = stage_of(stage)
    heading = f"## {_utc(now):%Y-%m-%d %H:%M:%S} UTC"
    if chosen is not None:
        heading += f" \u2014 stage {chosen.number}: {chosen.title}"
    who = _one_line(author or "")
    if who:
        heading += f" \u2014 recorded by {html.escape(who, quote=False)}"
    quoted = "\n".join(f"> {line}".rstrip() for line in html.escape(body, quote=False).splitlines())
    path = cycle_dir / DECISIONS_FILE
    with _locked(path):
        old = path.read_text(encoding="utf-8") if path.exists() else _DECISIONS_HEADER
        new = old.rstrip("\n") + "\n\n" + heading + "\n\n" + quoted + "\n"
        atomic_write(path, new, overwrite=True)
    return path


def read_decisions(cycle_dir: str | Path) -> pd.DataFrame:
    """The decisions of a cycle, oldest first.

    Returns
    -------
    pd.DataFrame
        Columns ``recorded_at`` (UTC timestamp), ``stage`` (number or NA),
        ``stage_title``, ``author`` and ``text`` (as typed). Empty when the
        cycle has no ``decisions.md`` yet.

    Examples
    --------
    >>> read_decisions(cycle_dir).empty       # a copy of the sample: no decision yet
    True
    >>> _ = record_decision(cycle_dir, "Promote R2", stage=3, author="Ana",
    ...                     now=dt.datetime(2026, 4, 15, 10, 30))
    >>> read_decisions(cycle_dir)
                    recorded_at  stage          stage_title author        text
    0 2026-04-15 10:30:00+00:00      3  How do we get there?    Ana  Promote R2
    """
    path = Path(cycle_dir) / DECISIONS_FILE
    rows: list[dict[str, Any]] = []
    if path.exists():
        current: dict[str, Any] | None = None
        lines: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            match = _HEADING.match(line)
            if match:
                if current is not None:
                    rows.append({**current, "text": _unquote(lines)})
                stage = stage_of(match["stage"]) if match["stage"] else None
                current = {
                    "recorded_at": pd.Timestamp(match["at"], tz="UTC"),
                    "stage": stage.number if stage else pd.NA,
                    "stage_title": stage.title if stage else "",
                    "author": html.unescape(match["author"] or ""),
                }
                lines = []
            elif current is not None:
                lines.append(line)
        if current is not None:
            rows.append({**current, "text": _unquote(lines)})
    table = pd.DataFrame(rows, columns=_DECISION_COLUMNS)
    table["stage"] = table["stage"].astype("Int64")
    return table


def _unquote(lines: list[str]) -> str:
    quoted = [ln[2:] if ln.startswith("> ") else ln.removeprefix(">") for ln in lines]
    return html.unescape("\n".join(quoted).strip("\n"))


def decisions_html(table: pd.DataFrame, *, stage: int | None = None) -> str:
    """The decisions (of one stage, or all) as an HTML list, every user text escaped."""
    if stage is not None and not table.empty:
        table = table[table["stage"] == stage]
    if table.empty:
        return "<i>No decision recorded yet.</i>"
    items = []
    for row in table.itertuples(index=False):
        meta = f"{row.recorded_at:%Y-%m-%d %H:%M} UTC"
        if not pd.isna(row.stage):
            meta += f", stage {int(row.stage)}"
        if row.author:
            meta += f", {row.author}"
        text = html.escape(row.text).replace("\n", "<br>")
        items.append(f"<li><b>{html.escape(meta)}</b>: {text}</li>")
    return "<ul class='csi-decisions'>" + "".join(items) + "</ul>"


# --------------------------------------------------------------------------- next cycle


def next_cycle_id(cycle_id: str) -> str:
    """A proposed id for the cycle after ``cycle_id``.

    ``2025-h2`` -> ``2026-h1``, ``2025-q4`` -> ``2026-q1``, ``2025-q1`` -> ``2025-q2``,
    ``2025`` -> ``2026``; anything else gets ``-next``.

    Examples
    --------
    >>> next_cycle_id("2025-h2"), next_cycle_id("2025-q1"), next_cycle_id("pilot")
    ('2026-h1', '2025-q2', 'pilot-next')
    """
    match = re.fullmatch(r"(\d{4})-([hHqQ])(\d)", cycle_id)
    if match:
        year, kind, n = int(match[1]), match[2], int(match[3])
        per_year = 2 if kind.lower() == "h" else 4
        year, n = (year + 1, 1) if n >= per_year else (year, n + 1)
        return f"{year}-{kind}{n}"
    if re.fullmatch(r"\d{4}", cycle_id):
        return str(int(cycle_id) + 1)
    return f"{cycle_id}-next"


def next_cycle_proposal(cycle: Any) -> Any | None:
    """The next cycle worked out from ``cycle`` (:func:`csi_lib.momentum.propose_next`),
    or ``None`` while its review period is not over. Nothing is written.

    ``cycle`` is a :class:`~csi_lib.cycle.Cycle` or its :class:`~csi_lib.review.CycleReview`
    (pass the review to reuse its computations); the id comes from :func:`next_cycle_id`.
    """
    from .momentum import propose_next
    from .review import assess

    rv = assess(cycle)
    if rv.status["review"] != "complete":
        return None
    return propose_next(rv, id=next_cycle_id(str(rv.cycle.config.id)))


def next_cycle_text(cycle: Any) -> str:
    """One markdown paragraph on the proposed next cycle (or why there is none yet).

    Examples
    --------
    >>> print(next_cycle_text(rv))   # rv = csi_lib.review.assess(cycle): pass it to reuse it
    Proposed next cycle **2026-h1**: baseline 2026-01-01 to 2026-03-31 (this cycle's review
    period), action 2026-04-01 to 2026-09-30, review 2026-10-01 to 2026-12-31. 5 target(s):
    4 met to hold, 1 re-stated; 1 unfinished initiative(s) carried, the register carried
    whole. Create it with `csi cycle next .../sample-cycle --id 2026-h1`.
    >>> print(next_cycle_text(open_cycle(sample_cycle, as_of="2025-10-15")))
    **The review period (2026-01-01 to 2026-03-31) is not over** as of 2025-10-15: the next
    cycle is proposed once it ends, with the review period as its baseline.
    """
    from .review import assess

    rv = assess(cycle)
    nxt = next_cycle_proposal(rv)
    if nxt is None:
        review = rv.cycle.planned_periods["review"]
        return (
            f"**The review period ({review.label}) is not over** as of {rv.cycle.as_of}: the "
            "next cycle is proposed once it ends, with the review period as its baseline."
        )
    dates = {k: f"{a} to {b}" for k, (a, b) in nxt.dates.items()}
    held = sum(1 for tr in rv if tr.met)
    return (
        f"Proposed next cycle **{nxt.id}**: baseline {dates['baseline']} (this cycle's review "
        f"period), action {dates['action']}, review {dates['review']}. "
        f"{len(nxt.targets)} target(s): {held} met to hold, {len(nxt.targets) - held} re-stated; "
        f"{len(nxt.initiatives)} unfinished initiative(s) carried, the register carried whole. "
        f"Create it with `csi cycle next {rv.cycle.dir} --id {nxt.id}`."
    )


def next_cycle_targets(cycle: Any) -> pd.DataFrame:
    """The targets proposed for the next cycle (empty while the review period is not over)."""
    nxt = next_cycle_proposal(cycle)
    if nxt is None:
        return pd.DataFrame(
            columns=[
                "id",
                "kpi",
                "scope",
                "kind",
                "value",
                "tolerance",
                "due",
                "objective",
                "origin",
            ]
        )
    return nxt.targets_table()


def agenda(minutes: Mapping[int, float] | None = None) -> pd.DataFrame:
    """The workshop's agenda: ``stage``, ``question``, ``minutes``, ``starts_after`` (minutes).

    Examples
    --------
    >>> int(agenda()["minutes"].sum())   # 10+15+20+20+10+15+10
    100
    """
    mins = dict(TIMEBOXES if minutes is None else minutes)
    table = pd.DataFrame(
        [
            {"stage": s.number, "question": s.title, "asks": s.question, "minutes": mins[s.number]}
            for s in STAGES
        ]
    )
    table["starts_after"] = table["minutes"].cumsum() - table["minutes"]
    return table


def agenda_text(cycle: Any, ws: Settings) -> str:
    """Markdown: the cycle, its periods and the agenda with the timebox of each question."""
    cfg = cycle.config
    table = agenda(ws.minutes)
    lines = [
        f"**Cycle {html.escape(str(cfg.id))}**: {html.escape(str(cfg.title or cfg.id))}. "
        f"Baseline {cfg.baseline.from_} to {cfg.baseline.to}, action {cfg.action.from_} to "
        f"{cfg.action.to}, review {cfg.review.from_} to {cfg.review.to}"
        + (f"; as of {cycle.as_of}." if cycle.as_of else "."),
        "",
        "| # | question | timebox | starts after |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r.stage} | {r.question} | {r.minutes:g} min | {r.starts_after:g} min |"
        for r in table.itertuples(index=False)
    ]
    total = table["minutes"].sum()
    lines += [
        "",
        f"In all **{total:g} minutes**, {ws.participants} participant(s) with {ws.dots} dot(s) each.",
    ]
    return "\n".join(lines)
