"""The Jira Service Management connector: issues found by a JQL query, flattened to the
columns of the ``jira-sm`` preset.

Jira Cloud is searched with ``GET /rest/api/3/search/jql`` (pages follow
``nextPageToken`` until ``isLast``), Jira Data Center with ``GET /rest/api/2/search``
(pages by ``startAt``, overlapping as :mod:`.paging` says; ``total`` says whether more
follow). The service-management fields are custom fields found by their type in the
field list (``/rest/api/{2,3}/field``): the request type
(``com.atlassian.servicedesk:vp-origin``), the SLA (``...:sd-sla-field``, the one named
"Time to resolution" unless another is chosen by name or field id), the satisfaction
(``...:sd-request-feedback``) and the team (``com.atlassian.teams:rm-teams-custom-field-team``);
``fields`` names their ids instead.

Columns: ``Issue id``, ``Issue key``, ``Created``, ``Updated``, ``Resolved`` (the
resolution date), ``Status``, ``Status Category`` (its name), ``Status Category Key``
(``new``, ``indeterminate`` or ``done``, the same in every language), ``Status Category
Changed``, ``Closed`` (the resolution date; for an issue in the Done category without a
resolution, when it entered that category), ``Resolution``, ``Resolution id``,
``Priority``, ``Request Type``, ``Team``, ``SLA met`` and ``Satisfaction rating``.
Dates are UTC, written ``YYYY-MM-DD hh:mm:ss``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ConfigError
from .findings import Findings
from .paging import Page, anchored_pages
from .transport import _Http

#: Jira field types (``schema.custom``) of the custom fields pulled.
JSM_TYPES: dict[str, tuple[str, ...]] = {
    "request_type": ("com.atlassian.servicedesk:vp-origin",),
    "sla": ("com.atlassian.servicedesk:sd-sla-field",),
    "satisfaction": ("com.atlassian.servicedesk:sd-request-feedback",),
    "team": (
        "com.atlassian.teams:rm-teams-custom-field-team",
        "com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team",
    ),
}
#: The SLA read by default (by its name as Jira ships it).
DEFAULT_SLA = "Time to resolution"
_SYSTEM_FIELDS = [
    "created",
    "updated",
    "resolutiondate",
    "statuscategorychangedate",
    "status",
    "resolution",
    "priority",
]


def split_order_by(jql: str) -> tuple[str, str | None]:
    """A JQL query without its ``ORDER BY`` clause (outside quotes), and the clause.

    Examples
    --------
    >>> split_order_by('project = ITSD AND summary ~ "order by" ORDER BY created DESC')
    ('project = ITSD AND summary ~ "order by"', 'ORDER BY created DESC')
    >>> split_order_by("project = ITSD")
    ('project = ITSD', None)
    """
    quote = None
    upper = jql.upper()
    i = 0
    while i < len(jql):
        ch = jql[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif upper.startswith("ORDER", i) and (i == 0 or not jql[i - 1].isalnum()):
            rest = upper[i + 5 :]
            if rest[:1].isspace() and rest.lstrip().startswith("BY"):
                return jql[:i].rstrip(), jql[i:].strip()
        i += 1
    return jql.strip(), None


def _time(value: Any) -> tuple[str | None, bool]:
    """Jira's ``2025-03-12T10:15:30.000+0000`` as UTC ``2025-03-12 10:15:30``; the text
    as it is (and False) when it is not a date; None when empty."""
    if value in (None, ""):
        return None, True
    text = str(value).strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            stamp = dt.datetime.strptime(text, fmt).astimezone(dt.UTC)
            return stamp.strftime("%Y-%m-%d %H:%M:%S"), True
        except ValueError:
            continue
    try:
        stamp = pd.to_datetime(text, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return text, False
    if pd.isna(stamp):
        return text, False
    return stamp.strftime("%Y-%m-%d %H:%M:%S"), True


def _name(value: Any, *keys: str) -> str | None:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text if text else None


def _team(value: Any) -> str | None:
    """A team field's name (Cloud: an object; Data Center: the team's id)."""
    if isinstance(value, list):
        names = [n for n in (_team(v) for v in value) if n]
        return ", ".join(names) or None
    if isinstance(value, dict):
        return _name(value, "name") or _name(value, "title") or _name(value, "id")
    return None if value in (None, "") else str(value)


def sla_met(value: Any) -> tuple[str | None, str | None]:
    """``true`` / ``false`` from an SLA field, or None while it is open or unknown; and
    what is wrong with the field, if anything.

    Not met when a completed cycle breached (or, with none completed, the ongoing
    cycle has breached); met when cycles completed without a breach.

    Examples
    --------
    >>> sla_met({"completedCycles": [{"breached": False}, {"breached": True}]})
    ('false', None)
    >>> sla_met({"completedCycles": [], "ongoingCycle": {"breached": False}})
    (None, None)
    >>> sla_met({"completedCycles": ["late"]})
    (None, 'an SLA cycle that is not an object')
    """
    if value is None:
        return None, None
    if not isinstance(value, dict):
        return None, "an SLA field that is not an object"
    cycles = value.get("completedCycles")
    ongoing = value.get("ongoingCycle")
    if cycles is not None and not isinstance(cycles, list):
        return None, "SLA completedCycles that is not a list"
    cycles = cycles or []
    if any(not isinstance(c, dict) for c in cycles) or (
        ongoing is not None and not isinstance(ongoing, dict)
    ):
        return None, "an SLA cycle that is not an object"
    if any(c.get("breached") in (True, "true") for c in cycles):
        return "false", None
    if cycles:
        return "true", None
    if ongoing and ongoing.get("breached") in (True, "true"):
        return "false", None
    return None, None


@dataclass
class JiraSource:
    """Jira Service Management issues found by a JQL query.

    Parameters
    ----------
    site:
        The site URL, e.g. ``https://acme.atlassian.net``.
    jql:
        The issues to pull (e.g. ``project = ITSD``); ``updated >= ...`` is added, and an
        ``ORDER BY`` clause removed (with a note).
    page_size:
        Issues per page (``maxResults``).
    search_path:
        The search endpoint (``/rest/api/2/search`` on Data Center).
    sla:
        The SLA field whose breach gives ``SLA met``: its name (in the site's language)
        or its field id; default "Time to resolution", or the only SLA field.
    fields:
        Custom field ids to use instead of discovering them: keys ``request_type``,
        ``sla``, ``satisfaction``, ``team``.
    """

    site: str
    jql: str
    page_size: int = 100
    search_path: str = "/rest/api/3/search/jql"
    sla: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    tool = "jira"
    key = "Issue id"
    updated = "Updated"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields) - set(JSM_TYPES))
        if unknown:
            raise ConfigError(
                f"unknown field name '{unknown[0]}'",
                column="--field",
                hint=f"name one of {', '.join(JSM_TYPES)} as NAME=FIELD_ID, "
                "e.g. --field sla=customfield_10031",
            )

    @property
    def address(self) -> str:
        return self.site

    def describe(self) -> dict[str, str]:
        """Where the store comes from (kept in its metadata)."""
        return {"tool": self.tool, "url": self.site.rstrip("/")}

    def query_text(self) -> str:
        """The user's filter, as the store's metadata keeps it."""
        return split_order_by(self.jql)[0]

    # custom fields ----------------------------------------------------------------------

    def custom_fields(self, http: _Http, findings: Findings) -> dict[str, str]:
        """Field ids of the service-management fields (given, or found by type)."""
        found = dict(self.fields)
        sla_wanted = self.sla
        if sla_wanted and sla_wanted.startswith("customfield_") and "sla" not in found:
            found["sla"] = sla_wanted
        if all(k in found for k in JSM_TYPES):
            return found
        api = self.search_path.rsplit("/search", 1)[0]
        body = http.get(api + "/field").body
        if not isinstance(body, list):
            raise http.error(
                "the jira server sent a malformed field list (not a list)",
                "check the site and the search path",
            )
        by_type: dict[str, list[dict[str, Any]]] = {k: [] for k in JSM_TYPES}
        for item in body:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            schema = item.get("schema") if isinstance(item.get("schema"), dict) else {}
            for key, types in JSM_TYPES.items():
                if schema.get("custom") in types:
                    by_type[key].append(item)
        for key in ("request_type", "satisfaction", "team"):
            if key not in found and by_type[key]:
                found[key] = str(by_type[key][0]["id"])
        if "sla" not in found:
            chosen = self._choose_sla(by_type["sla"], findings)
            if chosen:
                found["sla"] = chosen
        return found

    def _choose_sla(self, slas: list[dict[str, Any]], findings: Findings) -> str | None:
        def names(item: dict[str, Any]) -> set[str]:
            return {
                str(item.get(k)).casefold()
                for k in ("name", "untranslatedName", "id")
                if item.get(k)
            }

        listed = ", ".join(f"'{i.get('name')}' ({i['id']})" for i in slas) or "none"
        wanted = self.sla or DEFAULT_SLA
        hits = [i for i in slas if wanted.casefold() in names(i)]
        if hits:
            return str(hits[0]["id"])
        if self.sla:
            raise ConfigError(
                f"the site has no SLA field named '{self.sla}'",
                column="--sla",
                hint=f"its SLA fields are: {listed}; name one of them (or its field id)",
            )
        if len(slas) == 1:
            findings.note(
                f"the SLA is read from the site's only SLA field, '{slas[0].get('name')}' "
                f"({slas[0]['id']}); name another with --sla"
            )
            return str(slas[0]["id"])
        if slas:
            findings.note(
                f"'SLA met' is left empty: the site has several SLA fields ({listed}) and none "
                f"is named '{DEFAULT_SLA}'; name one with --sla NAME or --field sla=FIELD_ID"
            )
        return None

    # the search -------------------------------------------------------------------------

    def _jql(self, since: pd.Timestamp | None, findings: Findings) -> str:
        where, order = split_order_by(self.jql)
        if order:
            findings.note(
                f"the JQL's '{order}' was removed: a pull orders the issues by update time itself"
            )
        clauses = [f"({where})"] if where else []
        if since is not None:
            clauses.append(f'updated >= "{since.strftime("%Y-%m-%d %H:%M")}"')
        return " AND ".join(clauses) + " ORDER BY updated ASC"

    def _search(
        self, http: _Http, params: dict[str, Any], custom: dict[str, str], findings: Findings
    ) -> Iterator[list[dict[str, Any]]]:
        if self.search_path.rstrip("/").endswith("/jql"):
            yield from self._by_token(http, params, custom, findings)
        else:
            yield from self._by_start(http, params, custom, findings)

    def _issues(self, http: _Http, body: Any) -> list[Any]:
        issues = body.get("issues") if isinstance(body, dict) else None
        if not isinstance(issues, list):
            raise http.error(
                "the jira server sent a malformed page (no 'issues' list)",
                "check the site and the search path",
            )
        return issues

    def _flat_page(
        self, issues: list[Any], custom: dict[str, str], findings: Findings
    ) -> list[dict[str, Any]]:
        return [r for r in (_flat_jira(i, custom, findings) for i in issues) if r is not None]

    def _by_token(
        self, http: _Http, params: dict[str, Any], custom: dict[str, str], findings: Findings
    ) -> Iterator[list[dict[str, Any]]]:
        tokens: set[str] = set()
        previous: list[Any] | None = None
        while True:
            body = http.get(self.search_path, params).body
            issues = self._issues(http, body)
            records = self._flat_page(issues, custom, findings)
            ids = [r[self.key] for r in records]
            if previous is not None and ids and ids == previous:
                raise http.error(
                    "the jira server answered the next page with the same issues, so the pull "
                    "stopped instead of looping",
                    "ask the site's administrators",
                )
            previous = ids
            if records:
                yield records
            token = body.get("nextPageToken")
            if body.get("isLast") is True or not token or not issues:
                return
            token = str(token)
            if token in tokens:
                raise http.error(
                    "the jira server sent a nextPageToken it had sent before, so the pull "
                    "stopped instead of looping",
                    "ask the site's administrators",
                )
            tokens.add(token)
            params = {**params, "nextPageToken": token}

    def _by_start(
        self, http: _Http, params: dict[str, Any], custom: dict[str, str], findings: Findings
    ) -> Iterator[list[dict[str, Any]]]:
        def fetch(offset: int) -> Page:
            body = http.get(self.search_path, {**params, "startAt": offset}).body
            issues = self._issues(http, body)
            size = body.get("maxResults")
            size = (
                size
                if isinstance(size, int) and not isinstance(size, bool) and size > 0
                else (self.page_size)
            )
            total = body.get("total")
            if isinstance(total, str) and total.strip().isdigit():
                total = int(total)
            if isinstance(total, int) and not isinstance(total, bool):
                more: bool | None = offset + len(issues) < total
            else:
                more = None
                if total is not None:
                    findings.note(
                        f"the server's total of issues ('{http.quote(str(total))[:20]}') is not a "
                        "number; the pull read pages until a short one"
                    )
            return Page(self._flat_page(issues, custom, findings), len(issues), more, size)

        yield from anchored_pages(
            fetch,
            self.key,
            self.updated,
            overlap=max(1, min(20, self.page_size // 20)),
            error=lambda msg: http.error(msg, "ask the site's administrators"),
            offset_name="startAt",
        )

    def pages(
        self, http: _Http, since: pd.Timestamp | None, findings: Findings | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of flat issues updated at or after ``since`` (UTC, to the minute)."""
        findings = findings if findings is not None else Findings()
        custom = self.custom_fields(http, findings)
        params: dict[str, Any] = {
            "jql": self._jql(since, findings),
            "fields": ",".join([*_SYSTEM_FIELDS, *dict.fromkeys(custom.values())]),
            "maxResults": self.page_size,
        }
        yield from self._search(http, params, custom, findings)

    def keys(self, http: _Http, findings: Findings) -> set[str]:
        """The ids of every issue the JQL finds now (for ``--prune``)."""
        params = {
            "jql": self._jql(None, Findings()),
            "fields": "updated",
            "maxResults": self.page_size,
        }
        sweep = Findings()
        return {r[self.key] for page in self._search(http, params, {}, sweep) for r in page}


def _flat_jira(issue: Any, custom: dict[str, str], findings: Findings) -> dict[str, Any] | None:
    """One issue as the preset's columns, or None (quarantined with its reason)."""
    if not isinstance(issue, dict):
        findings.quarantine(None, "an issue that is not an object", issue)
        return None
    ident = issue.get("id")
    key = issue.get("key")
    if ident in (None, "") or isinstance(ident, dict | list):
        findings.quarantine(key, "an issue without an id", issue)
        return None
    f = issue.get("fields")
    if not isinstance(f, dict):
        findings.quarantine(ident, "an issue without fields", issue)
        return None
    updated, ok = _time(f.get("updated"))
    if updated is None or not ok:
        why = "no update time" if updated is None else f"update time '{updated[:40]}' is not a date"
        findings.quarantine(ident, why, issue)
        return None
    created, _ = _time(f.get("created"))
    resolved, _ = _time(f.get("resolutiondate"))
    changed, _ = _time(f.get("statuscategorychangedate"))
    category_key = _name(f.get("status"), "statusCategory", "key")
    closed = resolved
    if closed is None and category_key == "done":
        closed = changed or updated
        if not changed:
            findings.note(
                "issues in the Done category without a resolution count as closed at their "
                "last update: the server does not say when they entered Done"
            )
    met, problem = sla_met(f.get(custom["sla"])) if "sla" in custom else (None, None)
    if problem:
        findings.quarantine(ident, problem, f.get(custom["sla"]), action="kept; SLA met left empty")
    return {
        "Issue id": str(ident),
        "Issue key": None if key in (None, "") else str(key),
        "Created": created,
        "Updated": updated,
        "Resolved": resolved,
        "Status": _name(f.get("status"), "name"),
        "Status Category": _name(f.get("status"), "statusCategory", "name"),
        "Status Category Key": category_key,
        "Status Category Changed": changed,
        "Closed": closed,
        "Resolution": _name(f.get("resolution"), "name"),
        "Resolution id": _name(f.get("resolution"), "id"),
        "Priority": _name(f.get("priority"), "name"),
        "Request Type": _name(f.get(custom.get("request_type", "")), "requestType", "name"),
        "Team": _team(f.get(custom["team"])) if "team" in custom else None,
        "SLA met": met,
        "Satisfaction rating": _name(f.get(custom.get("satisfaction", "")), "rating"),
    }
