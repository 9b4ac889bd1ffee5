"""The next cycle as the text of its files (cycle.yaml, targets.yaml, plan.yaml)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import yaml

from ..periods import period_word
from ..safe import plain_text
from .proposal import NextCycle


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
    from ..sources import redact_url

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
        f"# Check it with: csi cycle check {plain_text(directory.as_posix())}",
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
        *(
            ["# What a unit of the benefits is worth, as in the previous cycle",
             f"value: {_scalar(c.value.model_dump(exclude_none=True))}"]
            if getattr(c, "value", None) is not None
            else []
        ),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def _targets_yaml(nxt: NextCycle) -> str:
    head = (
        f'# Stage 2, "Where do we want to be?" for cycle {nxt.id}, proposed from the review of '
        f"{nxt.previous}.\n# Unmet targets are re-stated; met ones are suggested as 'hold the gain'. "
        "Edit freely,\n# then check with: csi targets check <this folder>\n"
        f"# A value is in the KPI's unit; a count (received, fulfilled, declined, cancelled) "
        f"per {period_word(nxt.config.freq)}.\n"
    )
    if not nxt.targets:
        return head + "targets: []\n"
    return head + "targets:\n" + "\n".join(_entry_yaml(t) for t in nxt.targets)


def _plan_yaml(nxt: NextCycle) -> str:
    lines = [
        f'# Stage 3, "How do we get there?" for cycle {nxt.id}, carried over from {nxt.previous}.'
    ]
    if nxt.finished:
        finished = "; ".join(
            plain_text(f) for f in nxt.finished
        )  # a title's line break ends no comment
        lines.append(f"# Finished in {nxt.previous} (not carried): {finished}")
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
