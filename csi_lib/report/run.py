"""The stages of a report run: each notebook executed (:mod:`.execute`) and exported
to its HTML page (:mod:`.export`) with the run's navigation and provenance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .execute import StageRun, execute_stage
from .export import export_html
from .stages import Stage
from .staging import RUN_FILES, Progress


@dataclass
class ReportResult:
    """Where the report went and how each stage ran."""

    folder: Path
    runs: list[StageRun] = field(default_factory=list)
    #: Problems outside the stages (e.g. the PDF could not be printed); the HTML is still published.
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs) and not self.errors

    @property
    def index(self) -> Path:
        return self.folder / "index.html"

    @property
    def failed(self) -> list[StageRun]:
        return [r for r in self.runs if not r.ok]


def _generated() -> tuple[str, str]:
    """The provenance line of the time a page is written (UTC, to the minute)."""
    return ("Generated at", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))


def _nav(chosen: list[Stage]) -> list[dict[str, Any]]:
    """The links between the pages of the stages that run."""
    return [{"href": s.html, "label": f"{s.number} {s.title}"} for s in chosen]


def _run_stages(
    chosen: list[Stage],
    params: dict[str, Any],
    staging: Path,
    *,
    title: str,
    provenance: list[tuple[str, str]],
    with_code: bool,
    cell_timeout: int,
    say: Progress,
) -> ReportResult:
    """Execute each stage notebook into ``staging/notebooks/`` and export its page; a
    failed stage is reported and the next one runs."""
    nav = _nav(chosen)
    result = ReportResult(folder=staging)
    for i, stage in enumerate(chosen, 1):
        say(f"[{i}/{len(chosen)}] {stage.title} ...")
        run = execute_stage(
            stage,
            params,
            staging / RUN_FILES / stage.notebook,
            cell_timeout=cell_timeout,
        )
        result.runs.append(run)
        page_nav = [{**n, "current": n["href"] == stage.html} for n in nav]
        export_html(
            run.executed,
            staging / stage.html,
            with_code=with_code,
            shared_assets=True,
            context={
                "title": title,
                "nav": page_nav,
                "provenance": [*provenance, _generated()],
            },
        )
        status = "done" if run.ok else f"FAILED: {run.error}"
        say(f"[{i}/{len(chosen)}] {stage.title}: {status} ({run.seconds:.1f} s)")
    return result
