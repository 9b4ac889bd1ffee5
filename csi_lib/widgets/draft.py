"""The draft target of the what-if control, without widgets.

What :class:`csi_lib.widgets.whatif.WhatIf` computes from its controls (the
slider's range and step, the next free target id, the draft
:class:`~csi_lib.targets.Target`, the one-line summary and the SMART verdict as
HTML) and :class:`DraftVerdict`, the static what-if of a report run: the draft
the control opens with and its verdict, no ipywidgets at all.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..charts.theme import RAG
from ..errors import ConfigError, CsiError
from ..kpis import get_kpi, kpi_catalogue
from ..targets import Target, TargetContext, _check, _make_run, _wanted_direction
from ..yamlio import load_yaml
from .status import error_html

__all__ = ["DraftVerdict"]

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
        return error_html(error)
    if ctx is None:
        return ""
    from ..targets import _fmt, per_bin

    f = lambda v: _fmt(v, ctx.kpi, ctx.freq)  # noqa: E731
    parts = [f"baseline <b>{f(ctx.baseline_value)}</b>", f"target <b>{f(ctx.target_value)}</b>"]
    if not (pd.isna(ctx.baseline_value) or ctx.baseline_value == 0):
        change = 100 * (ctx.target_value / ctx.baseline_value - 1)
        if round(change) == 0:  # never "-0%"
            parts.append("the same as the baseline")
        else:
            parts.append(f"{'+' if change > 0 else '−'}{abs(change):.0f}% on the baseline")
    if ctx.has_limits:
        low = _fmt(ctx.lower, ctx.kpi, ctx.freq, unit=not per_bin(ctx.kpi))
        parts.append(f"natural process limits {low} to {f(ctx.upper)}")
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
