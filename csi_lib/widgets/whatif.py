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
from collections.abc import Callable, Iterable, Iterator
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
from ..targets import KINDS, Target, TargetContext, _check, _dimensions, _make_run
from ..yamlio import update_yaml_list_item
from .draft import (
    _DEFAULT_KIND,
    _WHOLE,
    DraftVerdict,
    _cycle_defaults,
    _decimals,
    _draft,
    _next_id,
    _slider_range,
    _summary_html,
    _verdict_html,
)
from .status import attempt, done_html

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
        The KPI shown first.

    Attributes
    ----------
    widget:
        The ipywidgets ``VBox`` to display.
    smart:
        The SMART frame of the current draft (``letter``, ``verdict``, ``reason``).
    figure:
        The current plotly figure (target against the baseline's limits).
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
        self.smart: pd.DataFrame = pd.DataFrame(
            columns=["target", "kpi", "letter", "verdict", "reason"]
        )
        self.figure: go.Figure = go.Figure()
        self.context: TargetContext | None = None
        self.error: str | None = None

        self._make_controls(kpi, objectives)
        self._observe_controls()
        self.widget = self._layout()
        self._reset_for_kpi()
        self.refresh()

    @classmethod
    def for_cycle(cls, cycle: Any, **kwargs: Any) -> WhatIf:
        """The control for a :class:`csi_lib.cycle.Cycle`: its data, periods, objectives, targets.yaml.

        Examples
        --------
        >>> whatif = WhatIf.for_cycle(open_cycle(cycle_dir))   # a copy of data/sample-cycle
        >>> whatif.kpi.value, whatif.value.value, whatif.target_id.value   # the first draft
        ('fulfil_median_h', 27.6, 'T6')
        >>> whatif.value.value = 26.0
        >>> whatif.save().name                                 # T6 added to targets.yaml
        'targets.yaml'
        """
        return cls(cycle.data, **{**_cycle_defaults(cycle), **kwargs})

    def _make_controls(self, kpi: str, objectives: Iterable[str]) -> None:
        """The dropdowns, slider, fields, button and outputs of the form."""
        catalogue = kpi_catalogue()
        keys = [str(k) for k in catalogue["key"]]
        labels = dict(
            zip(catalogue["key"].astype(str), catalogue["label"].astype(str), strict=True)
        )
        self.kpi = w.Dropdown(
            options=[(f"{labels[k]} ({k})", k) for k in keys],
            value=kpi if kpi in keys else keys[0],
            description="KPI",
        )
        dims = [d for d in _dimensions(self.df) if self.df[d].notna().any()]
        self.dimension = w.Dropdown(
            options=[("whole service", _WHOLE)] + [(d, d) for d in dims],
            value=_WHOLE,
            description="Scope",
        )
        self.scope_value = w.Dropdown(options=[], description="equal to", disabled=True)
        self.kind = w.Dropdown(options=list(KINDS), description="Kind")
        self.value = w.FloatSlider(
            description="Target", continuous_update=False, readout=True, layout={"width": "480px"}
        )
        self.tolerance = w.BoundedFloatText(
            value=0.0, min=0.0, max=1e12, description="+/- band", disabled=True
        )
        self.due = w.DatePicker(value=self._run.cycle_end, description="Due")
        objective_ids = sorted({str(o) for o in objectives})
        self.objective = w.Dropdown(
            options=objective_ids,
            value=objective_ids[0] if objective_ids else None,
            description="Objective",
        )
        self.target_id = w.Text(value=self._next_id(), description="Id")
        self.owner = w.Text(value="", description="Owner")
        self.note = w.Text(value="", description="Note")
        self.save_button = w.Button(
            description="Save target",
            button_style="primary",
            icon="save",
            disabled=self.targets_path is None,
            tooltip="write this target into targets.yaml"
            if self.targets_path
            else "no targets.yaml given",
        )
        self.summary = w.HTML()
        self.verdict_html = w.HTML()
        self.status = w.HTML()
        self.output = w.Output()

    def _observe_controls(self) -> None:
        """Each control's handler: a new KPI, dimension or scope refits the slider."""
        self.kpi.observe(self._on_kpi, names="value")
        self.dimension.observe(self._on_dimension, names="value")
        self.scope_value.observe(self._on_scope, names="value")
        self.kind.observe(self._on_kind, names="value")
        for control in (self.value, self.tolerance, self.due, self.objective):
            control.observe(self._on_change, names="value")
        self.save_button.on_click(self._on_save)

    def _layout(self) -> w.VBox:
        """The form in four rows, then the summary, the verdict, the figure and the status."""
        return w.VBox(
            [
                w.HBox([self.kpi, self.dimension, self.scope_value]),
                w.HBox([self.kind, self.value, self.tolerance]),
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

    def _scope(self) -> dict[str, str] | None:
        dim = self.dimension.value
        if dim == _WHOLE or self.scope_value.value is None:
            return None
        return {dim: str(self.scope_value.value)}

    def _slider_range(self) -> tuple[float, float, float, float]:
        """(min, max, step, start value) from the baseline series, limits and best, widened."""
        return _slider_range(self._run, self.kpi.value, self._scope())

    def _reset_for_kpi(self) -> None:
        """Default kind from the KPI's better direction and a slider fitted to its baseline."""
        with self._quietly():
            kpi = get_kpi(self.kpi.value)
            self.kind.value = _DEFAULT_KIND.get(kpi.better, "minimize")
            self.tolerance.disabled = self.kind.value != "within"
            self._reset_slider()

    @contextlib.contextmanager
    def _quietly(self) -> Iterator[None]:
        """Set controls without their handlers refreshing (the caller refreshes once)."""
        self._busy = True
        try:
            yield
        finally:
            self._busy = False

    def _reset_slider(self) -> None:
        lo, hi, step, start = self._slider_range()
        slider = self.value
        if lo > slider.max:
            slider.max, slider.min = hi, lo
        else:
            slider.min, slider.max = lo, hi
        slider.step = step
        slider.readout_format = f".{_decimals(step)}f"
        slider.value = min(max(start, lo), hi)
        unit = get_kpi(self.kpi.value).unit
        slider.description = f"Target ({unit})" if unit else "Target"

    # ------------------------------------------------------------------ events

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
        """Refit the slider without the handlers firing (after ``first``), then refresh once."""
        with self._quietly():
            if first is not None:
                first()
            self._reset_slider()
        self.refresh()

    def _fill_scope_values(self) -> None:
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
        self.scope_value.options = options
        self.scope_value.value = options[0] if options else None
        self.scope_value.disabled = False

    def _on_kind(self, _change: dict) -> None:
        self.tolerance.disabled = self.kind.value != "within"
        if not self._busy:
            self.refresh()

    def _on_change(self, _change: dict) -> None:
        if not self._busy:
            self.refresh()

    def _on_save(self, _button: Any) -> None:
        ok, path = attempt(self.status, self.save)
        if ok:
            self.status.value = done_html(
                f"Saved {html.escape(self.target_id.value)} to {html.escape(str(path))}."
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
            "value": self.value.value,
            "tolerance": float(self.tolerance.value) if self.kind.value == "within" else None,
            "due": self.due.value,
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
                "no targets.yaml to save into",
                hint="create the widget with targets_path=cycle.dir / 'targets.yaml'",
            )
        draft = self.draft_target()
        item = draft.model_dump(exclude_none=True)
        return update_yaml_list_item(self.targets_path, "targets", draft.id, item)

    def refresh(self) -> None:
        """Recompute the verdicts and the figure from the controls and redraw them."""
        try:
            self.smart = self.verdicts()
            self.figure = self.figure_for_draft()
            self.error = None
        except CsiError as exc:
            self.error = str(exc)
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

        self.output.clear_output(wait=True)
        with self.output:
            display(self.figure)

    def _repr_mimebundle_(self, **kwargs):  # display the control directly in a notebook
        return self.widget._repr_mimebundle_(**kwargs)
