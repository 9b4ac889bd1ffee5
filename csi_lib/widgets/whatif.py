"""What-if target: pick a KPI and scope, slide a target value, see its SMART verdict live.

The control of stage 2, "Where do we want to be?". Every change recomputes
the SMART check of the draft target and redraws where the value sits against
the baseline's natural process limits and best month; "Save target" writes the
draft into the cycle's ``targets.yaml`` (other entries and comments kept).

The logic lives in plain methods (:meth:`WhatIf.draft_target`,
:meth:`WhatIf.verdicts`, :meth:`WhatIf.figure_for_draft`, :meth:`WhatIf.save`)
so it can be driven without a browser: set the controls' ``value`` and read
the results.

Notebooks call :func:`what_if`: the live control in JupyterLab or Voila; in a
report run (:func:`csi_lib.nb.interactive` is False) the verdict of the draft the
control opens with, as a table, and no ipywidgets at all.

Examples
--------
>>> from csi_lib.widgets.whatif import WhatIf                                  # doctest: +SKIP
>>> whatif = WhatIf(cycle.data, baseline_period=cycle.periods["baseline"],
...                 cycle_end=cycle.config.review.to, objectives=cycle.vision.objective_ids,
...                 targets_path=cycle.dir / "targets.yaml")                    # doctest: +SKIP
>>> whatif.widget                                                               # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go
from pydantic import ValidationError

from ..charts.targets import context_figure, target_context_figure
from ..charts.theme import RAG
from ..errors import ConfigError, CsiError
from ..kpis import get_kpi, kpi_catalogue
from ..nb import interactive
from ..periods import Period
from ..targets import (
    KINDS,
    Target,
    TargetContext,
    _check,
    _dimensions,
    _make_run,
    _wanted_direction,
)
from ..yamlio import load_yaml, update_yaml_list_item

__all__ = ["WhatIf", "what_if", "DraftVerdict"]

_WHOLE = ""  # dimension choice meaning "no scope"
_DEFAULT_KIND = {"lower": "minimize", "higher": "maximize", "neither": "maintain_below"}


def _nice_step(span: float) -> float:
    """A round slider step giving about 100 to 1000 positions over ``span``."""
    if not span or not math.isfinite(span) or span <= 0:
        return 0.1
    return float(10 ** math.floor(math.log10(span / 100)))


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step))) if step < 1 else 0


def _slider_range(
    run: Any, kpi_key: str, scope: dict[str, str] | None
) -> tuple[float, float, float, float]:
    """(min, max, step, start value) from the baseline series, limits and best, widened."""
    st = run.evaluator.stats(kpi_key, scope)
    kpi = get_kpi(kpi_key)
    values = pd.concat(
        [
            pd.to_numeric(st.history.get("value", pd.Series(dtype=float)), errors="coerce"),
            pd.Series([st.value], dtype="float64"),
        ]
    ).dropna()
    for col in ("lower", "upper"):
        if st.chart is not None and col in st.chart.columns:
            values = pd.concat([values, pd.to_numeric(st.chart[col], errors="coerce").dropna()])
    if values.empty:
        lo, hi = 0.0, 100.0 if kpi.unit == "%" else 1.0
    else:
        lo, hi = float(values.min()), float(values.max())
    span = hi - lo or (abs(hi) or 1.0)
    lo, hi = lo - 0.5 * span, hi + 0.5 * span
    if values.empty or values.min() >= 0:
        lo = max(lo, 0.0)
    if kpi.unit == "%":
        lo, hi = max(lo, 0.0), min(hi, 100.0)
    step = _nice_step(hi - lo)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    start = st.value if not pd.isna(st.value) else (lo + hi) / 2
    return lo, hi, step, round(round(start / step) * step, 10)


def _next_id(targets_path: Path | None) -> str:
    """``T<n+1>`` after the highest ``T<n>`` id of targets.yaml (``T1`` when none)."""
    ids: list[str] = []
    if targets_path is not None and targets_path.exists():
        try:
            data, _ = load_yaml(targets_path)
            ids = [
                str(t.get("id")) for t in (data or {}).get("targets") or [] if isinstance(t, dict)
            ]
        except (CsiError, AttributeError):
            ids = []
    numbers = [int(i[1:]) for i in ids if i[:1] == "T" and i[1:].isdigit()]
    return f"T{max(numbers, default=0) + 1}"


def _draft(fields: dict[str, Any], step: float) -> Target:
    """A :class:`Target` from the control values (the value rounded to the slider's step)."""
    step = step or 0.1
    fields = {**fields, "value": round(round(fields["value"] / step) * step, _decimals(step))}
    try:
        return Target.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise ConfigError(
            f"the draft target is not valid: {msg}", column=field, hint="correct it in the form"
        ) from exc


def _summary_html(ctx: TargetContext | None, error: str | None) -> str:
    """One line: baseline, target, change, natural process limits, best observed."""
    if error:
        return f"<span style='color:{RAG['fail']}'>{html.escape(error)}</span>"
    if ctx is None:
        return ""
    from ..targets import _fmt

    f = lambda v: _fmt(v, ctx.kpi)  # noqa: E731
    parts = [f"baseline <b>{f(ctx.baseline_value)}</b>", f"target <b>{f(ctx.target_value)}</b>"]
    if not (pd.isna(ctx.baseline_value) or ctx.baseline_value == 0):
        change = 100 * (ctx.target_value / ctx.baseline_value - 1)
        parts.append(f"{change:+.0f}% against the baseline")
    if ctx.has_limits:
        parts.append(f"natural process limits {f(ctx.lower)} to {f(ctx.upper)}")
    if not pd.isna(ctx.best_value):
        direction = _wanted_direction(ctx.target, ctx.baseline_value, ctx.target_value)
        word = "lowest" if direction < 0 else "highest"
        month = "" if ctx.best_period is None else f" ({pd.Timestamp(ctx.best_period):%Y-%m})"
        parts.append(f"{word} month observed {f(ctx.best_value)}{month}")
    return " &middot; ".join(parts)


def _verdict_html(smart: pd.DataFrame) -> str:
    """The SMART letters of a draft as a small coloured table."""
    if smart.empty:
        return ""
    rows = []
    for letter, verdict, reason in smart[["letter", "verdict", "reason"]].itertuples(index=False):
        colour = RAG.get(str(verdict), RAG["unknown"])
        rows.append(
            f"<tr><td><b>{letter}</b></td>"
            f"<td style='background:{colour};color:white;padding:0 6px'>{verdict}</td>"
            f"<td style='padding-left:8px'>{html.escape(str(reason))}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _cycle_defaults(cycle: Any) -> dict[str, Any]:
    """The keyword arguments of :class:`WhatIf` (and :class:`DraftVerdict`) for a cycle."""
    config = cycle.config
    return {
        "baseline_period": cycle.planned_periods["baseline"],
        "cycle_end": config.review.to,
        "objectives": list(cycle.vision.objective_ids),
        "targets_path": Path(cycle.dir) / "targets.yaml",
        "freq": config.freq,
        "action_start": config.action.from_,
    }


class DraftVerdict:
    """The static what-if of a report run: the draft the control opens with and its verdict.

    Same parameters as :class:`WhatIf`; no ipywidgets are created. It displays as
    HTML: one line (baseline, target, change, limits, best observed) and the SMART
    letters with their reasons.

    Attributes
    ----------
    target:
        The draft :class:`~csi_lib.targets.Target` (None when it could not be made).
    smart:
        Its SMART frame (``letter``, ``verdict``, ``reason``).
    context:
        Its :class:`~csi_lib.targets.TargetContext`.
    error:
        Why there is no draft, or None.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        objectives: Iterable[str],
        targets_path: str | Path | None = None,
        kpi: str = "fulfil_median_h",
        **run_options: Any,
    ) -> None:
        # run_options: baseline_period, cycle_end and optionally freq, min_coverage, action_start
        defaults = {"freq": "month", "min_coverage": 0.8, "action_start": None}
        run = _make_run(df, objectives=objectives, **{**defaults, **run_options})
        keys = [str(k) for k in kpi_catalogue()["key"]]
        kpi = kpi if kpi in keys else keys[0]
        _, _, step, start = _slider_range(run, kpi, None)
        objective_ids = sorted({str(o) for o in objectives})
        self.target: Target | None = None
        self.context: TargetContext | None = None
        self.smart = pd.DataFrame(columns=["target", "kpi", "letter", "verdict", "reason"])
        self.error: str | None = None
        try:
            self.target = _draft(
                {
                    "id": _next_id(Path(targets_path) if targets_path else None),
                    "kpi": kpi,
                    "scope": None,
                    "kind": _DEFAULT_KIND.get(get_kpi(kpi).better, "minimize"),
                    "value": start,
                    "tolerance": None,
                    "due": run.cycle_end,
                    "objective": objective_ids[0] if objective_ids else None,
                },
                step,
            )
            self.smart = _check([self.target], run)
            self.context = run.evaluator.context(self.target)
        except CsiError as exc:
            self.error = str(exc)

    @classmethod
    def for_cycle(cls, cycle: Any, **kwargs: Any) -> DraftVerdict:
        """The static what-if of a :class:`csi_lib.cycle.Cycle`."""
        return cls(cycle.data, **{**_cycle_defaults(cycle), **kwargs})

    def _repr_html_(self) -> str:
        label = get_kpi(self.target.kpi).label if self.target is not None else ""
        head = f"<p><b>Draft target on {html.escape(label)}</b>: " if label else "<p>"
        return (
            f"<div class='csi-whatif-static'>{head}{_summary_html(self.context, self.error)}</p>"
            f"{_verdict_html(self.smart)}</div>"
        )


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
        dims = [d for d in _dimensions(df) if df[d].notna().any()]
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

        self.kpi.observe(self._on_kpi, names="value")
        self.dimension.observe(self._on_dimension, names="value")
        self.scope_value.observe(self._on_scope, names="value")
        self.kind.observe(self._on_kind, names="value")
        for control in (self.value, self.tolerance, self.due, self.objective):
            control.observe(self._on_change, names="value")
        self.save_button.on_click(self._on_save)

        self.widget = w.VBox(
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
        self._reset_for_kpi()
        self.refresh()

    @classmethod
    def for_cycle(cls, cycle: Any, **kwargs: Any) -> WhatIf:
        """The control for a :class:`csi_lib.cycle.Cycle`: its data, periods, objectives, targets.yaml.

        Examples
        --------
        >>> WhatIf.for_cycle(open_cycle("data/sample-cycle")).widget   # doctest: +SKIP
        """
        return cls(cycle.data, **{**_cycle_defaults(cycle), **kwargs})

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
        self._busy = True
        try:
            kpi = get_kpi(self.kpi.value)
            self.kind.value = _DEFAULT_KIND.get(kpi.better, "minimize")
            self.tolerance.disabled = self.kind.value != "within"
            self._reset_slider()
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
        if self._busy:
            return
        self._busy = True
        try:
            dim = self.dimension.value
            if dim == _WHOLE:
                self.scope_value.options = []
                self.scope_value.disabled = True
            else:
                base = self._run.baseline_period
                received = self.df[base.contains(self.df["opened_at"])]
                counts = received[dim].astype("string").value_counts()
                others = sorted(
                    {str(v) for v in pd.unique(self.df[dim].dropna())} - set(counts.index)
                )
                options = [str(v) for v in counts.index] + others
                self.scope_value.options = options
                self.scope_value.value = options[0] if options else None
                self.scope_value.disabled = False
            self._reset_slider()
        finally:
            self._busy = False
        self.refresh()

    def _on_scope(self, _change: dict) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self._reset_slider()
        finally:
            self._busy = False
        self.refresh()

    def _on_kind(self, _change: dict) -> None:
        self.tolerance.disabled = self.kind.value != "within"
        if not self._busy:
            self.refresh()

    def _on_change(self, _change: dict) -> None:
        if not self._busy:
            self.refresh()

    def _on_save(self, _button: Any) -> None:
        try:
            path = self.save()
        except CsiError as exc:
            self.status.value = f"<span style='color:{RAG['fail']}'>{html.escape(str(exc))}</span>"
            return
        self.status.value = (
            f"<span style='color:{RAG['pass']}'>Saved {html.escape(self.target_id.value)} "
            f"to {html.escape(str(path))}.</span>"
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
