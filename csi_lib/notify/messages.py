"""Messages a person reads: a subject naming the cycle and what changed, a body with the
headline, the targets that moved and the link to the report; plain text and HTML.

A message holds no data rows and nothing personal (no request, no owner's name: a target
is named by its KPI label and scope) and no secret (no webhook address, no password, no
path of the machine: the link is ``$CSI_REPORT_URL/...`` or relative to the reports
folder). Every text from the cycle files (title, scope) is shown as written: on one line
in plain text, escaped in HTML (:mod:`csi_lib.safe`).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..safe import plain_text
from .events import RULE_ORDER, Event

__all__ = ["Message", "alert_message", "test_message"]

#: Words of each rule in a subject: (one target, several).
_SUBJECT_WORDS: dict[str, tuple[str, str]] = {
    "failed": ("{what}", "{what}"),
    "off_track": ("{label} {status}", "{n} targets off track or not met"),
    "met": ("{label} met", "{n} targets met"),
    "due": ("{label} due soon", "{n} targets due soon"),
    "signal": ("new signal on {label}", "{n} new signals"),
}


@dataclass
class Message:
    """One message: ``subject``, ``text`` (plain), ``html`` (an HTML body for e-mail),
    ``headline``, ``link`` and the ``events`` and ``moved`` targets it tells of (for the
    card and block formats of chat webhooks)."""

    subject: str
    text: str
    html: str
    headline: str = ""
    link: str = ""
    title: str = ""
    cycle_id: str = ""
    as_of: str = ""
    kind: str = "alert"
    events: list[Event] = field(default_factory=list)
    moved: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The plain JSON payload (the ``json`` webhook format)."""
        return {
            "source": "csi-workbook",
            "kind": self.kind,
            "cycle": {"id": self.cycle_id, "title": self.title},
            "as_of": self.as_of,
            "subject": self.subject,
            "headline": self.headline,
            "link": self.link,
            "events": [e.to_dict() for e in self.events],
            "targets": self.moved,
            "text": self.text,
        }


def _subject_part(rule: str, events: list[Event]) -> str:
    one, many = _SUBJECT_WORDS[rule]
    if rule == "failed":
        what = events[0].key
        return "the run failed" if what == "run" else f"{what.replace(',', ', ')} failed"
    targets = {e.target_id for e in events}
    if rule == "signal" and len(targets) == 1 and len(events) > 1:
        return f"{len(events)} new signals on {plain_text(events[0].label)}"
    if len(targets) == 1:
        status = "not met" if events[0].key == "not met" else "off track"
        return one.format(label=plain_text(events[0].label), status=status)
    if rule == "off_track" and all(e.key == "off track" for e in events):
        many = "{n} targets off track"
    return many.format(n=len(targets) if rule != "signal" else len(events))


def subject(cycle_id: str, as_of: str, events: Sequence[Event], title: str = "") -> str:
    """``<title> (<cycle>): <what changed> (as of <date>)`` (``CSI <cycle>: ...`` without a
    title).

    Examples
    --------
    >>> e = [Event("off_track", "off track", "T4", "Mean satisfaction score", "is off track"),
    ...      Event("signal", "k1", "T2", "Closed within SLA", "..."),
    ...      Event("signal", "k2", "T3", "Median time to assessment", "...")]
    >>> subject("2025-h2", "2025-11-03", e, title="Faster requests")
    'Faster requests (2025-h2): Mean satisfaction score off track; 2 new signals (as of 2025-11-03)'
    """
    by_rule: dict[str, list[Event]] = {}
    for e in events:
        by_rule.setdefault(e.rule, []).append(e)
    parts = [_subject_part(rule, by_rule[rule]) for rule in RULE_ORDER if rule in by_rule]
    return plain_text(f"{_cycle_name(title, cycle_id)}: {'; '.join(parts)} (as of {as_of})")


def _cycle_name(title: str, cycle_id: str) -> str:
    """How a subject names the cycle: its title and id, or ``CSI <id>``."""
    title = plain_text(title)
    return f"{title} ({cycle_id})" if title else f"CSI {cycle_id}"


def _moved(summary: dict[str, Any] | None, events: Sequence[Event]) -> list[dict[str, Any]]:
    """The targets the events are about, in the summary's order, with their values in words."""
    ids = {e.target_id for e in events if e.target_id is not None}
    out = []
    for t in (summary or {}).get("targets") or []:
        if not isinstance(t, dict) or str(t.get("id")) not in ids:
            continue
        out.append(
            {
                "id": str(t["id"]),
                "label": str(t.get("label") or t["id"]),
                "baseline": t.get("baseline"),
                "now": t.get("now"),
                "target": t.get("target"),
                "standing": t.get("status"),
                "due": t.get("due"),
            }
        )
    return out


def _benefits_line(summary: dict[str, Any] | None) -> str:
    """The benefits' one-line total, when ``summary.json`` has one (issue 26 items 1-3)."""
    benefits = (summary or {}).get("benefits")
    if isinstance(benefits, dict):
        for key in ("headline", "total_text", "text"):
            if isinstance(benefits.get(key), str) and benefits[key]:
                return plain_text(benefits[key])
    return ""


def _texts(
    *,
    title: str,
    cycle_id: str,
    as_of: str,
    headline: str,
    standing: str,
    events: Sequence[Event],
    moved: list[dict[str, Any]],
    benefits: str,
    link: str,
) -> tuple[str, str]:
    """The plain-text and HTML bodies."""
    say, esc = plain_text, html.escape
    heading = f"{say(title)} (cycle {say(cycle_id)}): report as of {as_of}"
    lines = [heading, ""]
    parts = [f"<h2>{esc(heading)}</h2>"]
    for text in (headline, standing, benefits):
        if text:
            lines += [say(text), ""]
            parts.append(f"<p>{esc(say(text))}</p>")
    lines.append("What changed:")
    parts.append("<h3>What changed</h3><ul>")
    for e in events:
        sentence = f"{say(e.label)}: {say(e.text)}."
        lines.append(f"* {sentence}")
        parts.append(f"<li><b>{esc(say(e.label))}</b>: {esc(say(e.text))}.</li>")
    lines.append("")
    parts.append("</ul>")
    if moved:
        header = ["Target", "Baseline", "Now", "Target value", "Standing"]
        rows = [
            [say(m[k] if m[k] is not None else "—") for k in ("label", "baseline", "now", "target")]
            + [say(str(m["standing"] or "—").capitalize())]
            for m in moved
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines += ["Targets that moved:"]
        lines += [
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
            for r in [header, *rows]
        ]
        lines.append("")
        parts.append("<h3>Targets that moved</h3><table><thead><tr>")
        parts += [f"<th>{esc(h)}</th>" for h in header]
        parts.append("</tr></thead><tbody>")
        for r in rows:
            parts.append("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in r) + "</tr>")
        parts.append("</tbody></table>")
    lines.append(f"Full report: {link}")
    if "://" in link:
        parts.append(f'<p>Full report: <a href="{esc(link)}">{esc(link)}</a></p>')
    else:
        parts.append(
            f"<p>Full report: {esc(link)} (in the reports folder; set CSI_REPORT_URL to "
            "link it)</p>"
        )
    text = "\n".join(lines) + "\n"
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="font-family: sans-serif">' + "".join(parts) + "</body></html>\n"
    )
    return text, body


def alert_message(
    events: Sequence[Event],
    summary: dict[str, Any] | None,
    *,
    title: str,
    cycle_id: str,
    as_of: str,
    link: str,
) -> Message:
    """The message telling ``events``.

    Examples
    --------
    >>> e = Event("off_track", "off track", "T4", "Mean satisfaction score",
    ...           "is off track (now 4.0, target 4.3)")
    >>> s = {"headline": "Provisional: 4 of 5 targets on track.", "targets": [{"id": "T4",
    ...      "label": "Mean satisfaction score", "baseline": "3.9", "now": "4.0",
    ...      "target": "4.3", "status": "off track"}]}
    >>> m = alert_message([e], s, title="Faster requests", cycle_id="2025-h2",
    ...                   as_of="2025-11-03", link="2025-h2/2025-11-03/index.html")
    >>> print(m.text)
    Faster requests (cycle 2025-h2): report as of 2025-11-03
    <BLANKLINE>
    Provisional: 4 of 5 targets on track.
    <BLANKLINE>
    What changed:
    * Mean satisfaction score: is off track (now 4.0, target 4.3).
    <BLANKLINE>
    Targets that moved:
    Target                   Baseline  Now  Target value  Standing
    Mean satisfaction score  3.9       4.0  4.3           Off track
    <BLANKLINE>
    Full report: 2025-h2/2025-11-03/index.html
    <BLANKLINE>
    """
    summary = summary if isinstance(summary, dict) else None
    headline = str((summary or {}).get("headline") or "")
    standing = (summary or {}).get("standing")
    standing_text = str(standing.get("text") or "") if isinstance(standing, dict) else ""
    moved = _moved(summary, events)
    text, body = _texts(
        title=title,
        cycle_id=cycle_id,
        as_of=as_of,
        headline=headline,
        standing=standing_text,
        events=events,
        moved=moved,
        benefits=_benefits_line(summary),
        link=link,
    )
    return Message(
        subject=subject(cycle_id, as_of, events, title),
        text=text,
        html=body,
        headline=plain_text(headline),
        link=link,
        title=plain_text(title),
        cycle_id=cycle_id,
        as_of=as_of,
        events=list(events),
        moved=moved,
    )


def test_message(*, title: str, cycle_id: str, link: str = "") -> Message:
    """The message of ``csi notify test``: says the channel works, and nothing of the data."""
    heading = f"{plain_text(title)} (cycle {plain_text(cycle_id)}): test message"
    sentence = (
        "This is a test of the alerts of csi-workbook. This channel will be told when a "
        "target turns off track or is met, a special-cause signal appears, a due date nears "
        "or a report run fails."
    )
    text = f"{heading}\n\n{sentence}\n" + (f"\nReports: {link}\n" if link else "")
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f'<body style="font-family: sans-serif"><h2>{html.escape(heading)}</h2>'
        f"<p>{html.escape(sentence)}</p>"
        + (f"<p>Reports: {html.escape(link)}</p>" if link else "")
        + "</body></html>\n"
    )
    return Message(
        subject=plain_text(f"{_cycle_name(title, cycle_id)}: test message"),
        text=text,
        html=body,
        headline=sentence,
        link=link,
        title=plain_text(title),
        cycle_id=cycle_id,
        kind="test",
    )


def rule_counts(events: Sequence[Event]) -> str:
    """``"2 signal, 1 off_track"``-like counts for a log line, in words.

    >>> rule_counts([Event("signal", "k", "T1", "x", "y"), Event("met", "met", "T2", "x", "y")])
    '1 target met, 1 new signal'
    """
    words = {
        "failed": ("failure", "failures"),
        "off_track": ("target off track", "targets off track"),
        "met": ("target met", "targets met"),
        "due": ("due date near", "due dates near"),
        "signal": ("new signal", "new signals"),
    }
    counts = Counter(e.rule for e in events)
    return ", ".join(
        f"{counts[r]} {words[r][0] if counts[r] == 1 else words[r][1]}"
        for r in RULE_ORDER
        if counts[r]
    )
