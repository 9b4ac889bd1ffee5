"""``csi cycle check`` for benefits: what the file models cannot see alone.

The models (:mod:`.model`) check each benefit and ``value:`` entry in its own file;
here the links between files and the catalogue, each problem with its file and line:

* a benefit's target is one of its initiative's targets;
* the KPI (the target's, or the one named) is in the catalogue and has a benefit rule
  (:mod:`.rules`: a score, a stock or a ratio has none);
* the expected change goes the KPI's better way;
* a named value (``customer_hour``, ``agent_hour``) is given in ``cycle.yaml``, and an
  amount has a currency there;
* two benefits tied to one target do not give it two different values.

Examples
--------
>>> plan = cycle_dir / "plan.yaml"          # a writable copy of the sample cycle
>>> _ = plan.write_text(plan.read_text().replace("{target: T1, change: -20", "{target: T1, change: +20"))
>>> from csi_lib.cycle import check_cycle
>>> print(check_cycle(cycle_dir)[0])
/.../plan.yaml:27: initiatives[0].benefits[0].change: an expected change of +20 h makes
Median time to fulfil (Laptop) worse (lower is better); an expected benefit is a change the
better way
"""

from __future__ import annotations

from typing import Any

from ..yamlio import Problem
from .model import VALUE_NAMES
from .rules import gain_sign, no_rule_reason, rule_for

__all__ = ["benefit_problems"]


def _entries(raw: Any, key: str) -> list[Any]:
    items = raw.get(key) if isinstance(raw, dict) else None
    return items if isinstance(items, list) else []


def _targets_by_id(targets_raw: Any) -> dict[str, dict]:
    return {
        str(t["id"]): t
        for t in _entries(targets_raw, "targets")
        if isinstance(t, dict) and "id" in t
    }


def _kpi(key: Any) -> Any:
    from ..kpis import REGISTRY

    return REGISTRY.get(str(key)) if key is not None else None


def _label(kpi: Any, scope: Any) -> str:
    from .model import scope_text

    values = scope_text(scope) if isinstance(scope, dict) else ""
    return f"{kpi.label} ({values})" if values else kpi.label


def _unit_words(kpi: Any) -> str:
    rule = rule_for(kpi)
    return (
        {"waiting": " h", "avoided": " percentage points"}.get(rule.key, " requests")
        if rule
        else ""
    )


def benefit_problems(
    plan_raw: Any,
    plan_file: str,
    plan_lines: dict[str, int],
    targets_raw: Any,
    cycle_raw: Any,
    cycle_file: str,
) -> list[Problem]:
    """Every problem of the benefits of ``plan.yaml`` against ``targets.yaml``,
    ``cycle.yaml`` and the KPI catalogue (raw YAML data, as read by
    :func:`csi_lib.yamlio.load_yaml`, so that problems are found even in files with
    other problems)."""
    problems: list[Problem] = []
    targets = _targets_by_id(targets_raw)
    value = cycle_raw.get("value") if isinstance(cycle_raw, dict) else None
    value = value if isinstance(value, dict) else {}
    values_seen: dict[str, tuple[Any, str]] = {}

    def add(loc: str, message: str) -> None:
        line = plan_lines.get(loc)
        while line is None and "." in loc:
            loc_up = loc.rsplit(".", 1)[0]
            line = plan_lines.get(loc_up)
            if line is not None:
                break
            loc = loc_up
        problems.append(Problem(plan_file, line, loc, message))

    for i, ini in enumerate(_entries(plan_raw, "initiatives")):
        if not isinstance(ini, dict):
            continue
        own = ini.get("targets")
        own = [str(t) for t in (own if isinstance(own, list) else [own] if own else [])]
        for j, b in enumerate(_entries(ini, "benefits")):
            if not isinstance(b, dict):
                continue
            at = f"initiatives[{i}].benefits[{j}]"
            kpi, scope = None, None
            if b.get("target") is not None and b.get("kpi") is None:
                tid = str(b["target"])
                if tid not in own:
                    add(f"{at}.target", f"the target '{tid}' is not one of this initiative's "
                        f"targets ({', '.join(own) or 'none'}); add it to 'targets' or tie the "
                        "benefit to one of them")  # fmt: skip
                    continue
                t = targets.get(tid)
                if t is None:
                    continue  # reported as an unknown target of the initiative
                kpi, scope = _kpi(t.get("kpi")), t.get("scope")
                if kpi is None:
                    continue  # the target's unknown KPI is reported in targets.yaml
                where = f"{at}.target"
                what = f"the target {tid} is on {kpi.label}: "
            elif b.get("kpi") is not None and b.get("target") is None:
                kpi, scope = _kpi(b["kpi"]), b.get("scope")
                where, what = f"{at}.kpi", ""
                if kpi is None:
                    from ..targets.model import _unknown_kpi_message

                    add(where, _unknown_kpi_message(str(b["kpi"])))
                    continue
                problem = _scope_problem(b)
                if problem:
                    add(f"{at}.scope", problem)
            else:
                continue  # the model says: exactly one of target and kpi
            if rule_for(kpi) is None:
                add(where, f"{what or kpi.label + ': '}{no_rule_reason(kpi)}; a benefit is defined for a time "
                    "(hours of waiting saved), a share of closed requests or a count per day "
                    "(requests avoided)")  # fmt: skip
                continue
            change = b.get("change")
            number = isinstance(change, int | float) and not isinstance(change, bool)
            if number and change * gain_sign(kpi) < 0:
                better = "lower" if gain_sign(kpi) < 0 else "higher"
                add(f"{at}.change", f"an expected change of {change:+g}{_unit_words(kpi)} "
                    f"makes {_label(kpi, scope)} worse ({better} is better); an expected "
                    "benefit is a change the better way")  # fmt: skip
            problems += _value_problems(b.get("value"), value, at, add, cycle_file)
            key = str(b.get("target") or f"{b.get('kpi')} {scope}")
            if b.get("value") is not None:
                if key in values_seen and values_seen[key][0] != b["value"]:
                    add(f"{at}.value", f"another benefit ({values_seen[key][1]}) gives "
                        f"{key.split(' ')[0]} the value {values_seen[key][0]!r}; one target's "
                        "unit has one value")  # fmt: skip
                else:
                    values_seen.setdefault(key, (b["value"], at))
    return problems


def _scope_problem(b: dict) -> str | None:
    """A KPI benefit's scope is read as a target's: the same rules."""
    from pydantic import ValidationError

    from ..targets import Target

    try:
        Target(id="benefit", kpi=str(b["kpi"]), scope=b.get("scope"), kind="minimize", change="+0%")
    except ValidationError as exc:
        errors = [e for e in exc.errors() if e.get("loc", ("",))[0] == "scope"]
        if errors:
            return str(errors[0]["msg"]).removeprefix("Value error, ")
    return None


def _value_problems(given: Any, value: dict, at: str, add: Any, cycle_file: str) -> list[Problem]:
    if given is None:
        return []
    if isinstance(given, str) and given.strip() in VALUE_NAMES:
        name = given.strip()
        if value.get(name) is None:
            add(f"{at}.value", f"'{name}' is not given in the value: section of {cycle_file} "
                f"(e.g. value: {{{name}: 30, currency: EUR}})")  # fmt: skip
        return []
    if isinstance(given, int | float) and not isinstance(given, bool) and not value.get("currency"):
        add(f"{at}.value", f"an amount needs a currency: give it in {cycle_file} "
            "(value: {currency: EUR})")  # fmt: skip
    return []
