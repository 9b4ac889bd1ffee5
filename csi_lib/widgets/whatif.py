"""What-if target: pick a KPI and scope, slide a target value, see its SMART verdict live.

The control of stage 2, "Where do we want to be?". Every change recomputes
the SMART check of the draft target and redraws where the value sits against
the baseline's natural process limits and best month; "Save target" writes the
draft into the cycle's ``targets.yaml`` (other entries and comments kept).

The logic lives in plain methods (:meth:`WhatIf.draft_target`,
:meth:`WhatIf.verdicts`, :meth:`WhatIf.figure_for_draft`, :meth:`WhatIf.save`)
so it can be driven without a browser: set the controls' ``value`` and read
the results.
The parts that need no widget (the slider's range, the next free id, the
draft target, the summary and verdict HTML, :class:`DraftVerdict`) are in
:mod:`csi_lib.widgets.draft`.

Notebooks call :func:`what_if`: the live control in JupyterLab or Voila; in a
report run (:func:`csi_lib.nb.interactive` is False) the verdict of the draft the
control opens with, as a table, and no ipywidgets at all.

Examples
--------
>>> from csi_lib.widgets.whatif import WhatIf
>>> whatif = WhatIf(cycle.data, baseline_period=cycle.periods["baseline"],
...                 cycle_end=cycle.config.review.to, objectives=cycle.vision.objective_ids,
...                 targets_path=cycle.dir / "targets.yaml")
>>> whatif.widget                       # what JupyterLab shows
VBox(children=(HBox(children=(Dropdown(description='KPI', ...
>>> whatif.value.value = 26.0           # what moving the slider does (hours)
>>> whatif.verdicts()[["letter", "verdict", "reason"]].iloc[2].tolist()
['A', 'pass', 'Inside the natural process limits (25.0 h to 30.3 h): achievable without
changing the process.']
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go

from ..charts.targets import context_figure, target_context_figure
from ..errors import ConfigError, CsiError
from ..kpis import get_kpi, kpi_catalogue
from ..nb import interactive
from ..periods import Period
from ..present import KIND_WORDS
from ..schema import COLUMNS
from ..targets import (
    KINDS,
    Target,
    TargetContext,
    _check,
    _dimensions,
    _make_run,
    per_bin,
    scope_words,
    value_unit,
)
from ..workshop.lock import _locked
from ..yamlio import update_yaml_list_item
from .draft import (
    _DEFAULT_KIND,
    _WHOLE,
    DraftVerdict,
    _cycle_defaults,
    _draft,
    _next_id,
    _slider_range,
    _summary_html,
    _verdict_html,
)
from .status import attempt, done_html, in_words

__all__ = ["WhatIf", "what_if", "DraftVerdict"]


def what_if(cycle: Any, **kwargs: Any) -> w.VBox | DraftVerdict:
    """The what-if control of a cycle where someone can use it; its first verdict in a report.

    Returns the live control's ``VBox`` (:class:`WhatIf`) in JupyterLab or Voila;
    in report mode (:func:`csi_lib.nb.interactive` is False) a :class:`DraftVerdict`:
    the same first draft and its SMART verdict as a table, without ipywidgets.
    """
    if interactive():
        return WhatIf.for_cycle(cycle, **kwargs).widget
    return DraftVerdict.for_cycle(cycle, **kwargs)


class WhatIf:
    """A what-if control for one draft target.

    Parameters
    ----------
    df:
        The canonical request frame of the cycle.
    baseline_period:
        The baseline :class:`~csi_lib.periods.Period`.
    cycle_end:
        Last day of the cycle (end of the review period), inclusive.
    objectives:
        Ids of the vision's objectives (offered in a dropdown).
    targets_path:
        The cycle's ``targets.yaml``; without it "Save target" is disabled.
    freq, min_coverage, action_start:
        As for :func:`csi_lib.targets.smart_check`.
    kpi:
        The KPI shown first (for a new target).
    targets:
        The cycle's targets (:class:`~csi_lib.targets.Target`): the control starts
        from the first one ("Start from" picks another, or a new target); none: a
        new target at the baseline value.
    objective_labels:
        What each objective says (its id -> statement), shown beside its id.

    Attributes
    ----------
    widget:
        The ipywidgets ``VBox`` to display.
    smart:
        The SMART frame of the current draft (``letter``, ``verdict``, ``reason``).
    figure:
        The current plotly figure (target against the baseline's limits).
    on_saved:
        Functions called with the saved :class:`~csi_lib.targets.Target` after
        "Save target" (the workshop redraws what depends on the targets).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        baseline_period: Period,
        cycle_end: dt.date | str,
        objectives: Iterable[str],
        targets_path: str | Path | None = None,
        freq: str = "month",
        min_coverage: float = 0.8,
        action_start: dt.date | str | None = None,
        kpi: str = "fulfil_median_h",
        targets: Sequence[Target] = (),
        objective_labels: Mapping[str, str] | None = None,
    ) -> None:
        self.df = df
        self.targets_path = Path(targets_path) if targets_path is not None else None
        self._run = _make_run(
            df,
            baseline_period=baseline_period,
            cycle_end=cycle_end,
            objectives=objectives,
            freq=freq,
            min_coverage=min_coverage,
            action_start=action_start,
        )
        self._busy = False
        self.targets: list[Target] = list(targets)
        self.objective_labels = dict(objective_labels or {})
        self.on_saved: list[Callable[[Target], None]] = []
        #: layout applied to every figure drawn (the workshop enlarges the text for a room)
        self.figure_layout: dict[str, Any] = {}
        self.smart: pd.DataFrame = pd.DataFrame(
            columns=["target", "kpi", "letter", "verdict", "reason"]
        )
        self.figure: go.Figure = go.Figure()
        self.context: TargetContext | None = None
        self.error: str | None = None

        self._make_controls(kpi, objectives)
        self._observe_controls()
        self.widget = self._layout()
        self.widget.add_class("csi-whatif")
        if self.targets:
            self.start.value = self.targets[0].id  # fills the form from it (handler)
        else:
            self._reset_for_kpi()
            self.refresh()

    @classmethod
    def for_cycle(cls, cycle: Any, **kwargs: Any) -> WhatIf:
        """The control for a :class:`csi_lib.cycle.Cycle`: its data, periods, objectives,
        targets (it starts from the first) and targets.yaml.

        Examples
        --------
        >>> whatif = WhatIf.for_cycle(open_cycle(cycle_dir))   # a copy of data/sample-cycle
        >>> whatif.start.value, whatif.kpi.value, whatif.value.value, whatif.due.value
        ('T1', 'fulfil_median_h', 28.0, '2025-12-31')
        >>> whatif.number.value = 30                           # T1 at 30 h: type it
        >>> whatif.save().name                                 # T1 replaced in targets.yaml
        'targets.yaml'
        >>> whatif.start.value = ""                            # or a new target
        >>> whatif.target_id.value, whatif.value.value
        ('T6', 27.6)
        """
        objectives = {o.id: o.statement for o in cycle.vision.objectives}
        defaults = {
            **_cycle_defaults(cycle),
            "targets": list(cycle.targets.targets),
            "objective_labels": objectives,
        }
        return cls(cycle.data, **{**defaults, **kwargs})

    def _make_controls(self, kpi: str, objectives: Iterable[str]) -> None:
        """The dropdowns, slider, fields, button and outputs of the form (labels in words)."""
        catalogue = kpi_catalogue()
        keys = [str(k) for k in catalogue["key"]]
        labels = dict(
            zip(catalogue["key"].astype(str), catalogue["label"].astype(str), strict=True)
        )
        wide = {"description_width": "initial"}
        self.start = w.Dropdown(
            options=[(_target_words(t), t.id) for t in self.targets] + [("A new target", NEW)],
            value=NEW,
            description="Start from",
            style=wide,
            layout={"width": "34em"},
        )
        self.kpi = w.Dropdown(
            options=[(labels[k], k) for k in keys],
            value=kpi if kpi in keys else keys[0],
            description="KPI",
            style=wide,
            layout={"width": "22em"},
        )
        dims = [d for d in _dimensions(self.df) if self.df[d].notna().any()]
        self.dimension = w.Dropdown(
            options=[("The whole service", _WHOLE)] + [(_column_label(d), d) for d in dims],
            value=_WHOLE,
            description="Scope",
            style=wide,
            layout={"width": "16em"},
        )
        self.scope_value = w.Dropdown(
            options=[], description="equal to", disabled=True, style=wide, layout={"width": "16em"}
        )
        self.kind = w.Dropdown(
            options=[(KIND_WORDS.get(k, k), k) for k in KINDS],
            description="Kind",
            style=wide,
            layout={"width": "18em"},
        )
        self.value = w.FloatSlider(
            description="", continuous_update=False, readout=False, layout={"width": "14em"}
        )
        self.number = w.FloatText(description="Target", style=wide, layout={"width": "9em"})
        self.unit = w.HTML(layout={"width": "auto"})
        self.unit.add_class("csi-unit")
        self.tolerance = w.BoundedFloatText(
            value=0.0,
            min=0.0,
            max=1e12,
            description="± band",
            disabled=True,
            style=wide,
            layout={"width": "9em", "display": "none"},
        )
        self.due = w.Text(
            value=str(self._run.cycle_end),
            description="Due (YYYY-MM-DD)",
            style=wide,
            layout={"width": "18em"},
        )
        objective_ids = sorted({str(o) for o in objectives})
        self.objective = w.Dropdown(
            options=[(self._objective_words(o), o) for o in objective_ids],
            value=objective_ids[0] if objective_ids else None,
            description="Objective",
            style=wide,
            # the rest of its row: an objective's words were cut at 26em on a projector
            layout={"flex": "1 1 auto", "min_width": "20em", "width": "auto"},
        )
        self.target_id = w.Text(
            value=self._next_id(), description="Target id", style=wide, layout={"width": "10em"}
        )
        self.owner = w.Text(value="", description="Owner", style=wide, layout={"width": "22em"})
        self.note = w.Text(value="", description="Note", style=wide, layout={"width": "30em"})
        self.save_button = w.Button(
            description="Save target",
            button_style="primary",
            icon="save",
            disabled=self.targets_path is None,
            tooltip="Save this target in the cycle's targets"
            if self.targets_path
            else "No targets file was given",
            layout={"width": "auto"},
        )
        self.summary = w.HTML()
        self.verdict_html = w.HTML()
        self.status = w.HTML()
        self.output = w.Output()

    def _objective_words(self, objective_id: str) -> str:
        said = self.objective_labels.get(objective_id)
        return f"{objective_id} · {_short(said, 52)}" if said else objective_id

    def _observe_controls(self) -> None:
        """Each control's handler: a new KPI, dimension or scope refits the slider."""
        self.start.observe(self._on_start, names="value")
        self.kpi.observe(self._on_kpi, names="value")
        self.dimension.observe(self._on_dimension, names="value")
        self.scope_value.observe(self._on_scope, names="value")
        self.kind.observe(self._on_kind, names="value")
        self.value.observe(self._on_slider, names="value")
        self.number.observe(self._on_number, names="value")
        for control in (self.tolerance, self.due, self.objective):
            control.observe(self._on_change, names="value")
        self.save_button.on_click(self._on_save)

    def _layout(self) -> w.VBox:
        """The form in rows, then the summary, the verdict, the figure and the status."""
        first = [w.HBox([self.start])] if self.targets else []  # "Start from" a target
        return w.VBox(
            [
                *first,
                w.HBox([self.kpi, self.dimension, self.scope_value]),
                w.HBox([self.kind, self.number, self.unit, self.value, self.tolerance]),
                w.HBox([self.due, self.objective, self.target_id]),
                w.HBox([self.owner, self.note, self.save_button]),
                self.summary,
                self.verdict_html,
                self.output,
                self.status,
            ]
        )

    # ------------------------------------------------------------------ state

    def _next_id(self) -> str:
        """``T<n+1>`` after the highest ``T<n>`` id of targets.yaml (``T1`` when none)."""
        return _next_id(self.targets_path)

    def _scope(self) -> dict[str, str | list[str]] | None:
        dim = self.dimension.value
        chosen = self.scope_value.value
        if dim == _WHOLE or chosen is None:
            return None
        if isinstance(chosen, ScopeValues):
            return {dim: list(chosen.values)}
        return {dim: str(chosen)}

    def _slider_range(self) -> tuple[float, float, float, float]:
        """(min, max, step, start value) from the baseline series, limits and best, widened."""
        return _slider_range(self._run, self.kpi.value, self._scope())

    def _reset_for_kpi(self) -> None:
        """Default kind from the KPI's better direction and a slider fitted to its baseline."""
        with self._quietly():
            kpi = get_kpi(self.kpi.value)
            self.kind.value = _DEFAULT_KIND.get(kpi.better, "minimize")
            self._show_tolerance()
            self._reset_slider()

    @contextlib.contextmanager
    def _quietly(self) -> Iterator[None]:
        """Set controls without their handlers refreshing (the caller refreshes once)."""
        busy, self._busy = self._busy, True
        try:
            yield
        finally:
            self._busy = busy

    def _reset_slider(self, keep: float | None = None) -> None:
        """Fit the slider to the baseline of the KPI and scope; its value is ``keep`` (widened
        to hold it) or the baseline value."""
        lo, hi, step, start = self._slider_range()
        if keep is not None and not pd.isna(keep):
            lo, hi = min(lo, math.floor(keep / step) * step), max(hi, math.ceil(keep / step) * step)
            start = round(round(keep / step) * step, 10)
        slider = self.value
        if lo > slider.max:
            slider.max, slider.min = hi, lo
        else:
            slider.min, slider.max = lo, hi
        slider.step = step
        slider.value = min(max(start, lo), hi)
        self.number.step = step
        self.number.value = slider.value
        kpi = get_kpi(self.kpi.value)
        unit = _UNIT_WORDS.get(kpi.unit, kpi.unit)
        if per_bin(kpi):  # a count target is per month or week: "requests a month"
            unit = value_unit(kpi, self._run.evaluator.freq)
        self.unit.value = html.escape(unit)

    def _apply_target(self, target: Target) -> None:
        """Fill the form from a target of the cycle (its absolute value, even if written as a change)."""
        with self._quietly():
            self.kpi.value = target.kpi
            dim, val = _single_scope(target.scope)
            self.dimension.value = dim if dim in [v for _, v in self.dimension.options] else _WHOLE
            self._fill_scope_values(extra=val)
            if val is not None and dim == self.dimension.value:
                self.scope_value.value = val
            self.kind.value = target.kind
            self._show_tolerance()
            self.tolerance.value = float(target.tolerance or 0.0)
            value = target.value
            if value is None:
                value = self._run.evaluator.context(target).target_value
            self._reset_slider(keep=value)
            self.due.value = str(target.due or self._run.cycle_end)
            if target.objective in [v for _, v in self.objective.options]:
                self.objective.value = target.objective
            self.target_id.value = target.id
            self.owner.value = str(getattr(target, "owner", None) or "")
            self.note.value = str(getattr(target, "note", None) or "")

    # ------------------------------------------------------------------ events

    def _on_start(self, _change: dict) -> None:
        if self._busy:
            return
        chosen = next((t for t in self.targets if t.id == self.start.value), None)
        if chosen is None:  # a new target: the next free id, the KPI's baseline value
            with self._quietly():
                self.target_id.value = self._next_id()
                self.dimension.value = _WHOLE
                self._fill_scope_values()
                self.owner.value = self.note.value = ""
                self.due.value = str(self._run.cycle_end)
            self._reset_for_kpi()
        else:
            self._apply_target(chosen)
        self.status.value = ""
        self.refresh()

    def _on_kpi(self, _change: dict) -> None:
        if self._busy:
            return
        self._reset_for_kpi()
        self.refresh()

    def _on_dimension(self, _change: dict) -> None:
        if not self._busy:
            self._refit(self._fill_scope_values)

    def _on_scope(self, _change: dict) -> None:
        if not self._busy:
            self._refit()

    def _refit(self, first: Callable[[], None] | None = None) -> None:
        """Refit the slider to the new scope, keeping the value typed, then refresh once."""
        with self._quietly():
            if first is not None:
                first()
            self._reset_slider(keep=self.number.value)
        self.refresh()

    def _fill_scope_values(self, extra: str | None = None) -> None:
        """The values of the chosen dimension, most requests in the baseline first."""
        dim = self.dimension.value
        if dim == _WHOLE:
            self.scope_value.options = []
            self.scope_value.disabled = True
            return
        base = self._run.baseline_period
        received = self.df[base.contains(self.df["opened_at"])]
        counts = received[dim].astype("string").value_counts()
        others = sorted({str(v) for v in pd.unique(self.df[dim].dropna())} - set(counts.index))
        options = [str(v) for v in counts.index] + others
        if extra is not None and extra not in options:
            options.append(extra)
        self.scope_value.options = options
        self.scope_value.value = options[0] if options else None
        self.scope_value.disabled = False

    def _on_slider(self, _change: dict) -> None:
        if self._busy:
            return
        with self._quietly():
            self.number.value = self.value.value
        self.refresh()

    def _on_number(self, _change: dict) -> None:
        if self._busy:
            return
        with self._quietly():
            typed = float(self.number.value)
            if not self.value.min <= typed <= self.value.max:
                self._reset_slider(keep=typed)
            else:
                self.value.value = typed
        self.refresh()

    def _show_tolerance(self) -> None:
        """The ± band is asked for (and shown) for a target kept within a range only."""
        within = self.kind.value == "within"
        self.tolerance.disabled = not within
        self.tolerance.layout.display = None if within else "none"

    def _on_kind(self, _change: dict) -> None:
        self._show_tolerance()
        if not self._busy:
            self.refresh()

    def _on_change(self, _change: dict) -> None:
        if not self._busy:
            self.refresh()

    def _on_save(self, _button: Any) -> None:
        ok, path = attempt(self.status, self.save)
        if ok:
            self.status.value = done_html(
                f"Saved {html.escape(self.target_id.value)} in the cycle's targets."
            )

    # ------------------------------------------------------------------ logic

    def draft_target(self) -> Target:
        """The target the controls describe (absolute value, rounded to the slider's step).

        Raises
        ------
        ConfigError
            The controls do not make a valid target (e.g. an empty id).
        """
        fields: dict[str, Any] = {
            "id": self.target_id.value.strip(),
            "kpi": self.kpi.value,
            "scope": self._scope(),
            "kind": self.kind.value,
            "value": float(self.number.value),
            "tolerance": float(self.tolerance.value) if self.kind.value == "within" else None,
            "due": _due(self.due.value),
            "objective": self.objective.value,
            "owner": self.owner.value.strip() or None,
            "note": self.note.value.strip() or None,
        }
        return _draft(fields, self.value.step)

    def verdicts(self) -> pd.DataFrame:
        """The SMART check of the draft: ``letter``, ``verdict``, ``reason`` (5 rows)."""
        return _check([self.draft_target()], self._run)

    def figure_for_draft(self) -> go.Figure:
        """Where the draft's value sits against the baseline limits and the best month."""
        draft = self.draft_target()
        self.context = self._run.evaluator.context(draft)
        return context_figure(self.context)

    def save(self) -> Path:
        """Write the draft into ``targets.yaml`` (replacing the entry with the same id).

        Other entries and comments are kept (round-trip edit). Returns the path.

        Raises
        ------
        ConfigError
            No ``targets_path`` was given, or the draft is not valid.
        """
        if self.targets_path is None:
            raise ConfigError(
                "there is no targets file to save into",
                hint="create the control with targets_path=cycle.dir / 'targets.yaml'",
            )
        draft = self.draft_target()
        item = draft.model_dump(exclude_none=True)
        with _locked(self.targets_path):
            path = update_yaml_list_item(self.targets_path, "targets", draft.id, item)
        self._remember(draft)
        for callback in self.on_saved:
            callback(draft)
        return path

    def _remember(self, saved: Target) -> None:
        """The saved target replaces (or joins) the ones "Start from" offers."""
        self.targets = [t for t in self.targets if t.id != saved.id] + [saved]
        self.targets.sort(key=lambda t: (len(t.id), t.id))
        with self._quietly():
            self.start.options = [(_target_words(t), t.id) for t in self.targets] + [
                ("A new target", NEW)
            ]
            self.start.value = saved.id

    def refresh(self) -> None:
        """Recompute the verdicts and the figure from the controls and redraw them."""
        try:
            self.smart = self.verdicts()
            self.figure = self.figure_for_draft()
            self.error = None
        except CsiError as exc:
            self.error = in_words(exc)
            self.smart = self.smart.iloc[0:0]
            self.figure = target_context_figure(
                pd.DataFrame(columns=["period_start", "value"]),
                None,
                target_value=float("nan"),
                best_value=float("nan"),
                kpi=self.kpi.value,
            )
        self.summary.value = self._summary_html()
        self.verdict_html.value = self._verdict_html()
        self._render()

    def overall(self) -> str | None:
        """The worst verdict of the draft (``pass`` / ``warn`` / ``fail``), None on error."""
        if self.smart.empty:
            return None
        order = {"pass": 0, "warn": 1, "fail": 2}
        return max(self.smart["verdict"], key=lambda v: order[str(v)])

    # ------------------------------------------------------------------ display

    def _summary_html(self) -> str:
        return _summary_html(self.context, self.error)

    def _verdict_html(self) -> str:
        return _verdict_html(self.smart)

    def _render(self) -> None:
        from IPython import get_ipython

        if get_ipython() is None:  # no kernel (tests, scripts): nothing to draw into
            return
        from IPython.display import display

        if self.figure_layout:
            self.figure.update_layout(self.figure_layout)
        self.output.clear_output(wait=True)
        with self.output:
            display(self.figure)

    def _repr_mimebundle_(self, **kwargs):  # display the control directly in a notebook
        return self.widget._repr_mimebundle_(**kwargs)


#: "Start from" value of a new target.
NEW = ""
#: Units in words beside the target value.
_UNIT_WORDS = {
    "hours": "hours",
    "%": "%",
    "requests": "requests",
    "score": "score (1-5)",
    "ratio": "",
}


def _short(text: str | None, width: int = 60) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _column_label(column: str) -> str:
    return COLUMNS[column].label if column in COLUMNS else column.replace("_", " ").capitalize()


def _target_words(target: Target) -> str:
    """``T1 · Median time to fulfil (Category: Laptop)``: a target by its id and its words."""
    label = get_kpi(target.kpi).label if target.kpi in set(kpi_catalogue()["key"]) else target.kpi
    scope = f" ({scope_words(target.scope)})" if target.scope else ""
    return f"{target.id} · {label}{scope}"


def _single_scope(scope: Mapping[str, Any] | None) -> tuple[str, str | None]:
    """The form's (dimension, value) of a target's scope: its first column; a list of values
    reads as one option ("Laptop or Phone") the form keeps as it is."""
    if not scope:
        return _WHOLE, None
    dim, val = next(iter(scope.items()))
    if isinstance(val, list):
        return dim, ScopeValues(val)
    return dim, str(val)


class ScopeValues(str):
    """Several values of one scope column, shown as "Laptop or Phone", kept as a list."""

    def __new__(cls, values: Sequence[Any]) -> ScopeValues:
        obj = super().__new__(cls, " or ".join(map(str, values)))
        obj.values = [str(v) for v in values]
        return obj


def _due(text: Any) -> dt.date:
    """The due date typed (``YYYY-MM-DD``), or a :class:`ConfigError` saying how to write it."""
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise ConfigError(
            f"the due date '{text}' is not a date", column="due", hint="write it as YYYY-MM-DD"
        ) from exc
