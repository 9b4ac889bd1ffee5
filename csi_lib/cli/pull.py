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


def _report(result) -> None:
    typer.echo(result.sentence())


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
    credentials: CredentialsOpt = None,
) -> None:
    """Fetch records updated since the last pull from a ServiceNow table (REST Table API)."""
    from ..pull import SERVICENOW_FIELDS, ServiceNowSource, credentials_for, pull

    source = ServiceNowSource(
        instance=instance,
        table=table,
        fields=tuple(field) if field else SERVICENOW_FIELDS,
        query=query,
        page_size=page_size,
    )
    _report(pull(source, store, credentials_for("servicenow", credentials), since=since))


@pull_app.command("jira")
def cmd_jira(
    store: StoreArg,
    site: Annotated[str, typer.Option(help="The site URL, e.g. https://acme.atlassian.net.")],
    jql: Annotated[str, typer.Option(help="The issues to pull, e.g. 'project = ITSD'.")],
    page_size: Annotated[int, typer.Option(help="Issues per page.", min=1, max=5000)] = 100,
    search_path: Annotated[
        str, typer.Option(help="The search endpoint (/rest/api/2/search on Jira Data Center).")
    ] = "/rest/api/3/search/jql",
    since: SinceOpt = None,
    credentials: CredentialsOpt = None,
) -> None:
    """Fetch issues updated since the last pull from Jira Service Management (JQL search)."""
    from ..pull import JiraSource, credentials_for, pull

    source = JiraSource(site=site, jql=jql, page_size=page_size, search_path=search_path)
    _report(pull(source, store, credentials_for("jira", credentials), since=since))


@pull_app.command("history")
def cmd_history(store: StoreArg) -> None:
    """Print the audit of every pull into STORE (when, since, received, new, updated, total)."""
    from ..errors import ConfigError
    from ..pull import pull_history

    if not store.exists():
        raise ConfigError("the store does not exist", file=str(store), hint="check the path")
    history = pull_history(store)
    for row in history.itertuples(index=False):
        since = f"since {row.since}" if row.since else "first pull"
        typer.echo(
            f"{row.at}  {since}: {row.received:,} received, {row.new:,} new, "
            f"{row.updated:,} updated, {row.total:,} in the store"
        )


def register(app: typer.Typer) -> None:
    """Add ``csi pull`` to ``app``."""
    app.add_typer(pull_app)
