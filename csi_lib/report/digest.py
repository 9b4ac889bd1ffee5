"""A summary to send: ``summary.md`` and ``summary.txt`` beside the report, and an optional webhook.

Every report run writes, in its folder, a short summary for an e-mail or a
chat message: the title and date, the headline, one line per target (label,
baseline, now, target value, result, with units; never column names) and where
the full report is. ``summary.md`` is Markdown (chat tools, Markdown mail);
``summary.txt`` says the same in plain text (``mail``, ``sendmail``).

The content comes from ``summary.json`` (written by stage 5,
:func:`csi_lib.review.write_summary`); keys that an older or newer
``summary.json`` lacks are left out, never an error. Without it (no cycle, or
stage 5 not run or failed) the summary says so.

When the environment variable :data:`WEBHOOK_ENV` holds a URL, the run also
posts a Teams/Slack-style JSON message (``{"text": ...}``) to it when a target
is off track or not met, or a special-cause signal appears; only what changed
since the previous report of the cycle is posted (everything on the first
report). The URL stays off the command line and out of every message.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import CsiError
from ..notify.settings import host_of
from ..safe import chat_text, markdown_text, plain_text
from ..storage import atomic_write

__all__ = [
    "ALERT_STATUSES",
    "REPORT_URL_ENV",
    "WEBHOOK_ENV",
    "alerts",
    "notify",
    "post_webhook",
    "render_summary",
    "report_link",
    "write_summaries",
]

#: Environment variable with the web address of the reports folder (``--out``) when it is served.
REPORT_URL_ENV = "CSI_REPORT_URL"
#: Environment variable with the webhook URL (a secret: never on the command line).
WEBHOOK_ENV = "CSI_WEBHOOK_URL"
#: A target's ``status`` (summary.json) that is worth a message.
ALERT_STATUSES = frozenset({"off track", "not met"})
#: Standings whose reason the summary to send gives (those a reader acts on or asks about).
EXPLAINED_STATUSES = frozenset({"off track", "not met", "not measured", "too early to say"})

#: A target's result in words when summary.json has no ``status`` (older summaries).
_RESULT_WORDS = {True: "met", False: "not met", None: "not yet known"}


def _text(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def _result(target: dict[str, Any]) -> str:
    """The target's standing as every output words it ("On track"), or its result in an
    older summary."""
    status = target.get("status")
    if status:
        return str(status).capitalize()
    return _RESULT_WORDS.get(target.get("met"), "not yet known")


def _signal(target: dict[str, Any]) -> str | None:
    """The target's latest special-cause signal in words, if summary.json has one."""
    signal = target.get("signal")
    if isinstance(signal, dict):
        signal = signal.get("text")
    return str(signal) if signal else None


def _rows(summary: dict[str, Any] | None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-target table (labels and text values with units)."""
    targets = (summary or {}).get("targets") or []
    header = ["Target", "Baseline", "Now", "Target value"]
    with_gap = any(t.get("gap_closed") for t in targets)
    if with_gap:
        header.append("Gap closed")
    header.append("Standing")
    rows = []
    for t in targets:
        row = [
            _text(t.get("label") or t.get("id")),
            _text(t.get("baseline")),
            _text(t.get("now")),
            _text(t.get("target")),
        ]
        if with_gap:
            row.append(_text(t.get("gap_closed")))
        row.append(_result(t))
        rows.append(row)
    return header, rows


def report_link(folder: Path, cycle_id: str, *, beside: bool = True) -> str:
    """Where the full report is, for a reader of the summary: its web address
    ``$CSI_REPORT_URL/<cycle>/<folder>/index.html`` when the reports folder is served,
    else the cover page relative to where the text is read: ``index.html`` for the
    summaries in the report folder (``beside``), ``<cycle>/<folder>/index.html`` from
    the reports folder (``--out``) for a chat message. Never a path of the machine that
    made the report (useless in an e-mail, and it tells how that machine is laid out).

    Examples
    --------
    >>> report_link(Path("/srv/reports/2025-h2/2026-04-15"), "2025-h2")
    'index.html'
    >>> report_link(Path("/srv/reports/2025-h2/2026-04-15_2"), "2025-h2", beside=False)
    '2025-h2/2026-04-15_2/index.html'
    """
    where = f"{urllib.parse.quote(cycle_id)}/{urllib.parse.quote(folder.name)}/index.html"
    base = os.environ.get(REPORT_URL_ENV, "").strip()
    if base:
        return f"{base.rstrip('/')}/{where}"
    return "index.html" if beside else f"{cycle_id}/{folder.name}/index.html"


def _no_headline(stages: Sequence[dict[str, Any]]) -> str:
    """Why a report has no headline, as it is: stage 5 failed, wrote nothing, or is not
    part of the report (a report on data without a cycle shows where the practice is now).

    Examples
    --------
    >>> _no_headline([{"number": 1, "title": "Where are we now?", "ok": True}])[:62]
    'No headline results: this report shows where the practice is n'
    """
    five = [s for s in stages if s.get("number") == 5]
    if five and not five[0].get("ok", True):
        return "No headline results: they come from stage 5, Did we get there?, which failed."
    if five:
        return "No headline results: stage 5, Did we get there?, ran but gave none."
    return (
        "No headline results: this report shows where the practice is now; whether "
        "targets are met comes from stage 5, Did we get there?, which is not part of it."
    )


def _stage_lines(stages: Sequence[dict[str, Any]]) -> list[str]:
    failed = [s for s in stages if not s.get("ok", True)]
    if not stages:
        return []
    if not failed:
        return [f"All {len(stages)} stages ran." if len(stages) > 1 else "The stage ran."]
    return [
        f"Stage {s['number']}, {s['title']}, failed: its page shows where it stopped."
        for s in failed
    ]


def render_summary(
    summary: dict[str, Any] | None,
    *,
    title: str,
    as_of: str,
    link: str,
    stages: Sequence[dict[str, Any]] = (),
    markdown: bool = True,
) -> str:
    """The summary to send, as Markdown (``markdown=True``) or plain text.

    Parameters
    ----------
    summary:
        The content of ``summary.json`` (headline, optional ``standing``,
        targets), or None when stage 5 wrote none.
    title, as_of:
        The cycle's title and the report date (ISO).
    link:
        Where the full report is (a URL or a path).
    stages:
        ``{"number", "title", "ok"}`` per stage run; failed ones are named.

    Examples
    --------
    >>> s = {"headline": "1 of 1 target met.", "targets": [{"label": "Median time to fulfil",
    ...      "baseline": "41.8 h", "now": "26.6 h", "target": "28.0 h", "met": True}]}
    >>> print(render_summary(s, title="Laptops", as_of="2026-04-15", link="r/index.html",
    ...                      markdown=False))
    Laptops: report as of 2026-04-15
    <BLANKLINE>
    1 of 1 target met.
    <BLANKLINE>
    Target                 Baseline  Now     Target value  Standing
    Median time to fulfil  41.8 h    26.6 h  28.0 h        met
    <BLANKLINE>
    Full report: r/index.html
    <BLANKLINE>
    """
    # every text from the cycle or the data (a title, a scope, a category) is shown as
    # written: escaped for Markdown, on one line in plain text (csi_lib.safe)
    say = markdown_text if markdown else plain_text
    lines = [
        f"**{say(title)}**: report as of {as_of}"
        if markdown
        else f"{say(title)}: report as of {as_of}"
    ]
    lines.append("")
    headline = (summary or {}).get("headline")
    if headline:
        lines += [say(headline), ""]
    standing = (summary or {}).get("standing")
    if isinstance(standing, dict) and standing.get("text"):
        lines += [say(standing["text"]), ""]
    gains = (summary or {}).get("benefits")  # what the changes were worth (csi_lib.benefits)
    if isinstance(gains, dict) and gains.get("text"):
        lines += [say(gains["text"]), ""]
    header, rows = _rows(summary)
    rows = [[say(cell) for cell in row] for row in rows]
    if rows:
        lines += _markdown_table(header, rows) if markdown else _text_table(header, rows)
        lines.append("")
        signals = [
            (say(t.get("label") or t.get("id")), say(_signal(t)))
            for t in (summary or {}).get("targets", [])
            if _signal(t)
        ]
        for label, text in signals:
            lines.append(f"- {label}: {text}" if markdown else f"* {label}: {text}")
        if signals:
            lines.append("")
        # why, for the targets a reader has to act on or ask about (kept short for a chat)
        reasons = [
            (say(t.get("label") or t.get("id")), say(f"{_result(t)}: {t['reason']}."))
            for t in (summary or {}).get("targets", [])
            if t.get("reason") and str(t.get("status")) in EXPLAINED_STATUSES
        ]
        if reasons:
            lines += ["Why:" if not markdown else "**Why:**"]
            for label, text in reasons:
                lines.append(f"- {label}: {text}" if markdown else f"* {label}: {text}")
            lines.append("")
    elif summary is None:
        lines += [_no_headline(stages), ""]
    stage_lines = _stage_lines(stages)
    if stage_lines:
        lines += [*stage_lines, ""]
    lines.append(f"Full report: <{link}>" if markdown and "://" in link else f"Full report: {link}")
    return "\n".join(lines) + "\n"


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def cells(values: list[str]) -> str:  # the values are escaped already (markdown_text)
        return "| " + " | ".join(values) + " |"

    align = ["---", *("---:" for _ in header[1:-1]), "---"]
    return [cells(header), "|" + "|".join(align) + "|", *(cells(r) for r in rows)]


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]


def write_summaries(
    folder: Path,
    summary: dict[str, Any] | None,
    *,
    title: str,
    as_of: str,
    link: str,
    stages: Sequence[dict[str, Any]] = (),
) -> list[Path]:
    """Write ``summary.md`` and ``summary.txt`` into ``folder`` (atomically); returns both paths."""
    out = []
    for name, markdown in (("summary.md", True), ("summary.txt", False)):
        text = render_summary(
            summary, title=title, as_of=as_of, link=link, stages=stages, markdown=markdown
        )
        out.append(atomic_write(folder / name, text, overwrite=True))
    return out


def read_summary(folder: Path | None) -> dict[str, Any] | None:
    """``folder/summary.json``, or None when there is none or it cannot be read."""
    if folder is None:
        return None
    try:
        data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def alerts(summary: dict[str, Any] | None, previous: dict[str, Any] | None = None) -> list[str]:
    """What is worth a message: targets that went off track or not met, and new signals.

    Compared with ``previous`` (the summary of the cycle's previous report),
    only changes count; without one, every target off track or not met and
    every signal does. One sentence per alert.

    Examples
    --------
    >>> now = {"targets": [{"id": "T1", "label": "Median time", "status": "off track"}]}
    >>> alerts(now)
    ['Median time: off track.']
    >>> alerts(now, previous=now)
    []
    """
    before = {t.get("id"): t for t in (previous or {}).get("targets") or []}
    out = []
    for t in (summary or {}).get("targets") or []:
        label = t.get("label") or t.get("id") or "a target"
        old = before.get(t.get("id"), {})
        status = _result(t).lower()
        if status in ALERT_STATUSES and _result(old).lower() != status:
            now = (
                f" (now {t['now']}, target {t['target']})"
                if t.get("now") and t.get("target")
                else ""
            )
            out.append(f"{label}: {status}{now}.")
        signal = _signal(t)
        if signal and signal != _signal(old):
            out.append(f"{label}: {signal}.")
    return out


def post_webhook(url: str, text: str, *, timeout_s: float = 10) -> int:
    """POST ``{"text": text}`` as JSON to ``url`` (Slack, Teams, Mattermost, ...); returns the HTTP status.

    Raises
    ------
    CsiError
        The URL is not http(s), or the post failed (the message names the host
        only: the rest of a webhook URL is its secret).
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise CsiError(
            f"the webhook address in ${WEBHOOK_ENV} is not an http(s) URL",
            hint=f"set {WEBHOOK_ENV} to the incoming-webhook URL of the chat channel",
        )
    from ..notify.smtp import ChannelError
    from ..notify.webhooks import send_json

    try:
        status, _ = send_json(
            url, {"text": text}, where=f"the webhook at {host_of(url)}", timeout_s=timeout_s
        )
    except ChannelError as exc:
        raise CsiError(exc.message, hint=f"check the URL in {WEBHOOK_ENV}") from None
    return status


def notify(
    summary: dict[str, Any] | None,
    previous: dict[str, Any] | None,
    *,
    title: str,
    as_of: str,
    link: str,
    say: Any = None,
) -> list[str]:
    """Post the :func:`alerts` to the webhook in ``$CSI_WEBHOOK_URL``, if it is set and there are any.

    Returns the problems (empty when the message went, or there was nothing to
    send): a webhook that fails does not undo the published report.
    """
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return []
    news = alerts(summary, previous)
    report = say or (lambda _msg: None)
    if not news:
        report("webhook: nothing went off track and no new signal: no message")
        return []
    text = "\n".join(
        [
            f"{chat_text(title)}: report as of {as_of}",
            *(f"- {chat_text(n)}" for n in news),
            f"Full report: {link}",
        ]
    )
    try:
        post_webhook(url, text)
    except CsiError as exc:
        return [f"the webhook message was not sent: {exc.message}"]
    report(f"webhook: {len(news)} alert(s) sent to {host_of(url)}")
    return []
