"""The ``csi`` command.

Each command group lives in its own module and registers itself on :data:`app`;
this module only assembles them and turns :class:`~csi_lib.errors.CsiError`
into a one-paragraph message and exit status 2, and every usage mistake (an
unknown command or option, a bad value) into one short line and exit status 2
(:mod:`.usage`), whatever typer/click version is installed.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import typer

from .._startup import skip_slow_optional_imports
from ..errors import CsiError, CsiNote
from .usage import usage_error_types, usage_message

app = typer.Typer(
    name="csi",
    help="csi-workbook: continual improvement of a service request management practice.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Modules that add commands to :data:`app` (each has ``register(app)``).
COMMAND_MODULES: tuple[str, ...] = (
    "data",
    "cycle",
    "targets",
    "momentum",
    "report",
    "session",
    "pull",
    "review",
    "notify",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(app)


def _show_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"csi-workbook {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_show_version,
        help="Print the version and exit.",
    ),
) -> None:
    """csi-workbook: continual improvement of a service request management practice."""


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``csi`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    skip_slow_optional_imports()  # papermill and nbconvert import jsonschema (see _startup)
    with warnings.catch_warnings():
        _show_notes()
        return _run(args)


def _show_notes() -> None:
    """Print each :class:`~csi_lib.errors.CsiNote` once, as ``note: ...`` on standard error."""
    shown: set[str] = set()
    default = warnings.showwarning

    def show(message, category, *rest, **kw):  # noqa: ANN001, ANN202 (warnings' API)
        if not issubclass(category, CsiNote):
            return default(message, category, *rest, **kw)
        text = str(message)
        if text not in shown:
            shown.add(text)
            typer.echo(f"note: {text}", err=True)
        return None

    warnings.simplefilter("always", CsiNote)
    warnings.showwarning = show


def _run(args: list[str]) -> int:
    try:
        status = app(args=args, standalone_mode=False, prog_name="csi")
    except CsiError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except MemoryError:  # pyarrow's ArrowMemoryError too: one paragraph, never a traceback
        typer.echo(
            "error: the computer ran out of memory for this command. Give a smaller export "
            "(or a shorter period), close other programs, or run it on a machine with more "
            "memory.",
            err=True,
        )
        return 2
    except usage_error_types() as exc:  # click's or typer's own click: same handling
        typer.echo(usage_message(exc, args), err=True)
        return 2 if exc.exit_code == 1 else exc.exit_code
    return status if isinstance(status, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
