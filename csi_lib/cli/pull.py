"""``csi pull ...``: fetch requests from ServiceNow or Jira Service Management into a store.

``csi pull servicenow STORE --instance URL`` and ``csi pull jira STORE --site URL
--jql JQL`` fetch what changed since the last pull and merge it into the Parquet
STORE (one row per request, the latest version wins); ``csi pull history STORE``
prints the audit of every pull. Credentials come from environment variables or a
private credentials file (see :mod:`csi_lib.pull`), never from the command line.
A cron job runs ``csi pull ... && csi report ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

pull_app = typer.Typer(
    name="pull",
    help="Fetch requests from ServiceNow or Jira Service Management into a local store.",
    no_args_is_help=True,
    add_completion=False,
)

StoreArg = Annotated[
    Path,
    typer.Argument(help="The Parquet store (created by the first pull), e.g. requests.parquet."),
]
CredentialsOpt = Annotated[
    Path | None,
    typer.Option(
        help="A private (chmod 600) YAML file with the credentials; default: environment variables."
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        help="Pull records updated since this UTC date (YYYY-MM-DD) instead of the last pull."
    ),
]
PruneOpt = Annotated[
    bool,
    typer.Option(
        "--prune",
        help="Also remove from the store the requests the source no longer returns "
        "(deleted, or no longer matched by the query); reads every id once more.",
    ),
]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        help="Seconds one request may take, from asking to the last byte of the answer.",
        min=1,
    ),
]
DeadlineOpt = Annotated[
    float,
    typer.Option(help="Minutes the whole pull may take, waits included.", min=0.1),
]


def _limits(timeout: float, deadline: float):
    from ..pull import Limits

    return Limits(request_timeout=timeout, deadline=deadline * 60)


def _progress(line: str) -> None:
    typer.echo(line, err=True)


def _pull_and_report(source, tool: str, store: Path, credentials: Path | None, **options) -> None:
    """Pull ``source`` into ``store`` with the countdown on stderr; print what it did."""
    from ..pull import credentials_for, pull

    timeout, deadline = options.pop("timeout"), options.pop("deadline")
    result = pull(
        source,
        store,
        credentials_for(tool, credentials),
        progress=_progress,
        limits=_limits(timeout, deadline),
        **options,
    )
    typer.echo(result.sentence())
    for note in result.notes:
        typer.echo(f"note: {note}")


@pull_app.command("servicenow")
def cmd_servicenow(
    store: StoreArg,
    instance: Annotated[
        str, typer.Option(help="The instance URL, e.g. https://acme.service-now.com.")
    ],
    table: Annotated[str, typer.Option(help="The table to read.")] = "sc_req_item",
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="A field to fetch (repeatable; default: what the servicenow preset maps).",
        ),
    ] = None,
    query: Annotated[
        str | None, typer.Option(help="An extra encoded query, e.g. active=true^cat_item=Laptop.")
    ] = None,
    page_size: Annotated[int, typer.Option(help="Records per page.", min=1, max=10000)] = 1000,
    since: SinceOpt = None,
    prune: PruneOpt = False,
    timeout: TimeoutOpt = 120.0,
    deadline: DeadlineOpt = 120.0,
    credentials: CredentialsOpt = None,
) -> None:
    """Fetch records updated since the last pull from a ServiceNow table (REST Table API)."""
    from ..pull import SERVICENOW_FIELDS, ServiceNowSource
    from ..pull.transport import check_address

    source = ServiceNowSource(
        instance=check_address(instance, "--instance"),
        table=table,
        fields=tuple(field) if field else SERVICENOW_FIELDS,
        query=query,
        page_size=page_size,
    )
    _pull_and_report(
        source,
        "servicenow",
        store,
        credentials,
        since=since,
        prune=prune,
        timeout=timeout,
        deadline=deadline,
    )


def _field_ids(given: list[str] | None) -> dict[str, str]:
    from ..errors import ConfigError

    out: dict[str, str] = {}
    for item in given or []:
        name, sep, ident = item.partition("=")
        if not sep or not name.strip() or not ident.strip():
            raise ConfigError(
                f"'{item}' is not NAME=FIELD_ID",
                column="--field",
                hint="write e.g. --field sla=customfield_10031 (names: request_type, sla, "
                "satisfaction, team)",
            )
        out[name.strip()] = ident.strip()
    return out


@pull_app.command("jira")
def cmd_jira(
    store: StoreArg,
    site: Annotated[str, typer.Option(help="The site URL, e.g. https://acme.atlassian.net.")],
    jql: Annotated[
        str,
        typer.Option(help="The issues to pull, e.g. 'project = ITSD' (an ORDER BY is removed)."),
    ],
    page_size: Annotated[int, typer.Option(help="Issues per page.", min=1, max=5000)] = 100,
    search_path: Annotated[
        str, typer.Option(help="The search endpoint (/rest/api/2/search on Jira Data Center).")
    ] = "/rest/api/3/search/jql",
    sla: Annotated[
        str | None,
        typer.Option(
            help="The SLA field that gives 'SLA met': its name in the site's language, or its "
            "field id (default: 'Time to resolution', or the site's only SLA field)."
        ),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="A custom field id instead of finding it by type, as NAME=FIELD_ID "
            "(repeatable; names: request_type, sla, satisfaction, team).",
        ),
    ] = None,
    since: SinceOpt = None,
    prune: PruneOpt = False,
    timeout: TimeoutOpt = 120.0,
    deadline: DeadlineOpt = 120.0,
    credentials: CredentialsOpt = None,
) -> None:
    """Fetch issues updated since the last pull from Jira Service Management (JQL search)."""
    from ..pull import JiraSource
    from ..pull.transport import check_address

    source = JiraSource(
        site=check_address(site, "--site"),
        jql=jql,
        page_size=page_size,
        search_path=search_path,
        sla=sla,
        fields=_field_ids(field),
    )
    _pull_and_report(
        source,
        "jira",
        store,
        credentials,
        since=since,
        prune=prune,
        timeout=timeout,
        deadline=deadline,
    )


@pull_app.command("history")
def cmd_history(store: StoreArg) -> None:
    """Print the audit of every pull into STORE (when, since, received, new, updated,
    removed, quarantined, total)."""
    import pandas as pd

    from ..errors import ConfigError
    from ..pull import pull_history

    if not store.exists():
        raise ConfigError("the store does not exist", file=str(store), hint="check the path")
    history = pull_history(store)

    def count(value) -> int:
        return 0 if pd.isna(value) else int(value)

    for row in history.itertuples(index=False):
        since = "first pull" if pd.isna(row.since) or not row.since else f"since {row.since}"
        line = (
            f"{row.at}  {since}: {count(row.received):,} received, {count(row.new):,} new, "
            f"{count(row.updated):,} updated"
        )
        if count(row.removed):
            line += f", {count(row.removed):,} removed"
        if count(row.quarantined):
            line += f", {count(row.quarantined):,} quarantined"
        typer.echo(line + f", {count(row.total):,} in the store")


def register(app: typer.Typer) -> None:
    """Add ``csi pull`` to ``app``."""
    app.add_typer(pull_app)
