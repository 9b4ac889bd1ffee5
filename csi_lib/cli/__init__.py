"""The ``csi`` command.

Each command group lives in its own module and registers itself on :data:`app`;
this module only assembles them and turns :class:`~csi_lib.errors.CsiError`
into a one-paragraph message and exit status 2.
"""

from __future__ import annotations

import importlib
import sys

import typer

from ..errors import CsiError

app = typer.Typer(
    name="csi",
    help="csi-workbook: continual improvement of a service request management practice.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Modules that add commands to :data:`app` (each has ``register(app)``).
COMMAND_MODULES: tuple[str, ...] = ("data", "cycle", "targets", "momentum", "report", "session", "pull")


def _register_all() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``csi`` console script; returns the exit status."""
    try:
        status = app(args=argv, standalone_mode=False)
    except CsiError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return 2
        raise
    return status if isinstance(status, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
