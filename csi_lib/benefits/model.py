"""What the cycle files say about benefits: an initiative's expected benefits
(``benefits:`` in ``plan.yaml``) and the value of a unit (``value:`` in ``cycle.yaml``).

Only pydantic and the standard library here: :mod:`csi_lib.plan` and
:mod:`csi_lib.cycle.config` import these models.

Example ``plan.yaml`` (one initiative)::

    initiatives:
      - id: I1
        title: Laptop build automation
        targets: [T1, T2]
        start: 2025-07-01
        end: 2025-10-31
        benefits:
          - {target: T1, change: -20, value: customer_hour}   # 20 h less per request, on the mean
          - {target: T2, change: +3, value: 25}               # +3 percentage points within the SLA
          - {kpi: pct_reopened, change: -0.5, value: agent_hour}

Example ``cycle.yaml``::

    value: {customer_hour: 30, agent_hour: 45, currency: EUR}

>>> Benefit(target="T1", change=-20, value="customer_hour").tied_to
'T1'
>>> ValueSettings(customer_hour=30, currency="EUR").of("customer_hour")
30.0
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Named values a benefit's ``value:`` may give instead of a number (``cycle.yaml``'s
#: ``value:`` section holds their amounts).
VALUE_NAMES: tuple[str, ...] = ("customer_hour", "agent_hour")
#: What each named value is, for readers.
VALUE_WORDS: dict[str, str] = {
    "customer_hour": "an hour a customer waits",
    "agent_hour": "an hour of an agent's work",
}


class ValueSettings(BaseModel):
    """``value:`` of ``cycle.yaml``: what an hour is worth, and the currency of every
    amount of the cycle (``currency`` is required as soon as an amount is given).

    >>> ValueSettings(customer_hour=30, agent_hour=45, currency="EUR").of("agent_hour")
    45.0
    """

    model_config = ConfigDict(extra="forbid")

    customer_hour: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    agent_hour: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    currency: str | None = Field(default=None, min_length=1, max_length=12)

    @field_validator("customer_hour", "agent_hour", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"{str(value).lower()} is not an amount; give a number, e.g. 30")
        return value

    @field_validator("currency")
    @classmethod
    def _currency_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value or any(not (c.isalnum() or c in "$€£¥ .") for c in value):
            raise ValueError("the currency is a short code or sign, e.g. EUR, USD or €")
        return value

    @model_validator(mode="after")
    def _currency_with_amounts(self) -> ValueSettings:
        if self.currency is None and (
            self.customer_hour is not None or self.agent_hour is not None
        ):
            raise ValueError("give the currency of the amounts, e.g. currency: EUR")
        return self

    def of(self, name: str) -> float | None:
        """The amount of a named value (``customer_hour``, ``agent_hour``), None when not given."""
        amount = getattr(self, name, None) if name in VALUE_NAMES else None
        return None if amount is None else float(amount)


class Benefit(BaseModel):
    """One expected benefit of an initiative.

    Attributes
    ----------
    target, kpi:
        Exactly one: the id of a target the initiative serves, or the key of a catalogue
        KPI (with an optional ``scope``, as a target's) that the initiative should move.
    change:
        The expected change of the KPI in its unit, with its sign: hours for a duration
        (of the mean of the durations behind the KPI: hours add up, a median does not),
        percentage points for a share, requests per month (or week) for a count.
    value:
        Optional: what one unit of the benefit is worth (an hour of waiting saved, a
        request avoided), in the currency of ``cycle.yaml``: a number, or the name of an
        amount of ``cycle.yaml``'s ``value:`` (``customer_hour``, ``agent_hour``). Without
        it, hours of waiting are worth ``customer_hour`` when ``cycle.yaml`` gives one.
    note:
        Why, in a sentence.
    """

    model_config = ConfigDict(extra="forbid")

    target: str | None = None
    kpi: str | None = None
    scope: dict[str, str | list[str]] | None = None
    change: float = Field(allow_inf_nan=False)
    value: float | str | None = None
    note: str | None = None

    @field_validator("target", "kpi", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("change", mode="before")
    @classmethod
    def _change_number(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(
                f"{str(value).lower()} is not a number; give the change in the KPI's unit"
            )
        if isinstance(value, str):
            text = value.strip().replace(" ", "")
            if text.endswith("%"):
                raise ValueError(
                    f"'{value}' is relative; give the change in the KPI's unit: hours for a "
                    "time, percentage points for a share (e.g. -2 for 5 % -> 3 %), requests "
                    "per month for a count"
                )
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"'{value}' is not a number") from None
        return value

    @field_validator("value", mode="before")
    @classmethod
    def _value_kind(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool):
            raise ValueError(f"{str(value).lower()} is not an amount")
        if isinstance(value, str):
            name = value.strip()
            try:
                return float(name)
            except ValueError:
                pass
            if name not in VALUE_NAMES:
                raise ValueError(
                    f"'{value}' is neither an amount nor a value of cycle.yaml; give a number "
                    f"or one of {', '.join(VALUE_NAMES)}"
                )
            return name
        return value

    @field_validator("value")
    @classmethod
    def _not_negative(cls, value: float | str | None) -> float | str | None:
        if isinstance(value, float) and (value < 0 or not math.isfinite(value)):
            raise ValueError("the value of a unit is an amount of 0 or more")
        return value

    @model_validator(mode="after")
    def _one_link(self) -> Benefit:
        if (self.target is None) == (self.kpi is None):
            raise ValueError(
                "give exactly one of 'target' (a target id of this initiative) and 'kpi' "
                "(a KPI key)"
            )
        if self.scope is not None and self.kpi is None:
            raise ValueError("'scope' goes with 'kpi'; a target has its own scope")
        if self.change == 0:
            raise ValueError("an expected change of 0 is no benefit; give the change you expect")
        return self

    @property
    def tied_to(self) -> str:
        """The target id, or the KPI key (with its scope) the benefit is tied to."""
        if self.target is not None:
            return self.target
        return self.kpi + (f" ({scope_text(self.scope)})" if self.scope else "")


def scope_text(scope: dict[str, Any] | None) -> str:
    """``{"category": "Laptop"}`` -> ``"Laptop"``; lists joined with commas.

    >>> scope_text({"category": ["Laptop", "Phone"]})
    'Laptop, Phone'
    """
    values = [
        v for val in (scope or {}).values() for v in (val if isinstance(val, list) else [val])
    ]
    return ", ".join(str(v) for v in values)
