"""``csi notify test CYCLE``: send a test message to every channel of the cycle's ``notify:``."""

from __future__ import annotations

from pathlib import Path

import typer

notify_app = typer.Typer(
    name="notify",
    help="Alerts after a scheduled report (notify: in cycle.yaml): try the channels.",
    no_args_is_help=True,
    add_completion=False,
)


@notify_app.command("test")
def cmd_test(
    cycle_dir: Path = typer.Argument(
        ..., help="Cycle folder whose cycle.yaml has a notify: section."
    ),
) -> None:
    """Send a test message to every channel (e-mail, webhooks) and say how each went.

    Exit status: 0 when every channel took it, 1 when one did not, 2 on a cycle.yaml
    with problems or without channels.
    """
    from ..cycle.config import load_config
    from ..errors import ConfigError
    from ..notify import send_test

    config = load_config(cycle_dir)
    settings = config.notify
    if settings is None or not settings.has_channels:
        raise ConfigError(
            "cycle.yaml has no notify: channel (email: or webhooks:)",
            file=str(Path(cycle_dir) / "cycle.yaml"),
            hint="add a notify: section (see the README) and run csi cycle check",
        )
    deliveries = send_test(
        settings, cycle_dir=Path(cycle_dir), cycle_id=config.id, title=config.title
    )
    for d in deliveries:
        if d.ok:
            typer.echo(f"ok: {d.channel}: {d.detail}")
        else:
            typer.echo(f"FAILED: {d.channel}: {d.detail}", err=True)
    failed = sum(not d.ok for d in deliveries)
    n = len(deliveries)
    took = n - failed
    if n == 1:
        typer.echo(
            "the channel took the test message"
            if took
            else "the channel did not take the test message"
        )
    else:
        typer.echo(f"{took} of {n} channels took the test message")
    raise typer.Exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    """Add ``csi notify`` to ``app``."""
    app.add_typer(notify_app, name="notify")
