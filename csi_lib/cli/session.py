"""``csi lab``, ``csi workshop`` and ``csi slides``: the workbook in front of people.

* ``csi lab`` starts JupyterLab on 127.0.0.1 in the checkout (the stage
  notebooks and the sample cycle are there), with a token: the URL printed
  carries it, nobody else on the network can reach the server.
* The token of both servers reaches them in their environment
  (``JUPYTER_TOKEN``, readable only by the same user), never on their command
  line, which every local user can read with ``ps``. As root both refuse to
  start unless ``--allow-root`` is given.
* ``csi workshop CYCLE_DIR`` serves the facilitation notebook
  (``notebooks/workshop.ipynb``) with Voilà on 127.0.0.1: code hidden, widgets
  live. Voilà runs the notebook without papermill parameters, so the cycle
  folder and the other options reach its kernel as environment variables
  (``CSI_CYCLE_DIR``, ``CSI_AS_OF``, ``CSI_TIMEBOXES``, ``CSI_DOTS``,
  ``CSI_PARTICIPANTS``; see :mod:`csi_lib.workshop`).
* ``csi slides CYCLE_DIR`` runs the stage notebooks with papermill and writes
  one reveal.js slide deck per stage (code hidden, one slide per heading,
  plotly charts drawn by plotly.js). The decks share one copy of plotly.js
  and of reveal.js (bundled with the package; ``--reveal-dir`` or
  ``$CSI_REVEAL_DIR`` for another) in the folder's ``assets/``, so they work
  with no network. The slides are built in :mod:`csi_lib.cli.slides`.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import shipped
from ..errors import ConfigError
from ..words import plural
from .slides import (  # csi slides lives in its own module; its names stay importable here
    build_slides,
    export_slides,
    find_reveal,
    make_slides_exporter,
    slides,
)
from .usage import iso_date

#: The folder holding notebooks/ and data/: the checkout, or the installed package's copy
#: (:mod:`csi_lib.shipped`).
REPO = shipped.ROOT
WORKSHOP_NOTEBOOK = "workshop.ipynb"
LOOPBACK = "127.0.0.1"


# --------------------------------------------------------------------------- helpers


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _check_port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a TCP port", hint="give a number 1024-65535")
    if not _port_free(port):
        raise ConfigError(
            f"port {port} on {LOOPBACK} is in use (another server is running there)",
            column="--port",
            hint=f"stop it or choose another port, e.g. --port {port + 1}",
        )
    return port


def _need(module: str, what: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ConfigError(
            f"{what} is not installed in this environment",
            hint="install the extras: pip install -e '.[lab]' (make setup does it)",
        )


#: The environment variable Jupyter Server reads its token from (JupyterLab, and Voilà
#: with ``auto_token``): unlike the command line, a process's environment is readable
#: only by its user (``/proc/PID/environ`` is mode 0400).
TOKEN_ENV = "JUPYTER_TOKEN"


def server_env(token: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a server: ``base`` (default ``os.environ``) with its token.

    Examples
    --------
    >>> server_env("t0k", base={"PATH": "/bin"})
    {'PATH': '/bin', 'JUPYTER_TOKEN': 't0k'}
    """
    env = dict(os.environ if base is None else base)
    env.pop("JUPYTER_TOKEN_FILE", None)  # the token given here wins
    env[TOKEN_ENV] = token
    return env


def _refuse_root(allow_root: bool, command: str) -> None:
    """As root, start a server only when ``--allow-root`` was given."""
    if hasattr(os, "geteuid") and os.geteuid() == 0 and not allow_root:
        raise ConfigError(
            f"csi {command} is running as root: the notebooks' code would run with every "
            "right on this machine",
            hint=f"run it as an ordinary user, or add --allow-root if you mean it (in a "
            f"container, for example): csi {command} --allow-root, or make {command} "
            "ARGS=--allow-root",
        )


AllowRootOpt = Annotated[
    bool,
    typer.Option("--allow-root", help="Start even when running as root (e.g. in a container)."),
]


def _run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    """Run a server in the foreground until Ctrl+C; returns its exit status.

    On POSIX the server replaces this process (``exec``), so Ctrl+C and a
    SIGTERM reach it directly and no orphan is left behind.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(cmd[0], cmd, dict(os.environ) if env is None else env)
    proc = subprocess.Popen(cmd, env=env)  # pragma: no cover - not POSIX
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()


def _serve(cmd: list[str], env: dict[str, str], cleanup: Path) -> int:
    """Run a server as a child until it ends, then remove ``cleanup`` (its runtime folder).

    Ctrl+C reaches the child with the terminal's process group; a SIGTERM or SIGHUP
    sent to this process is passed on to it. Either way the child is waited for, so
    its kernels end first, and the folder goes last: nothing is left behind.
    """
    import shutil
    import signal

    sys.stdout.flush()
    sys.stderr.flush()
    proc = subprocess.Popen(cmd, env=env)

    def forward(signum: int, _frame: Any) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {
        sig: signal.signal(sig, forward)
        for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
        if sig is not None
    }
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:  # the child got it too; wait for it to stop
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(cleanup, ignore_errors=True)


# --------------------------------------------------------------------------- csi lab


def lab_command(
    *, port: int, root_dir: str | Path, open_browser: bool = True, allow_root: bool = False
) -> list[str]:
    """The JupyterLab command line: loopback only, ``root_dir`` as its root.

    The token is not on it: run it with :func:`server_env`.

    Examples
    --------
    >>> cmd = lab_command(port=8888, root_dir="/repo", open_browser=False)
    >>> "--ServerApp.ip=127.0.0.1" in cmd, any("token" in part.lower() for part in cmd)
    (True, False)
    """
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.ip={LOOPBACK}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        f"--ServerApp.open_browser={open_browser}",
        "--MultiKernelManager.default_kernel_name=python3",
    ]
    if allow_root:  # asked for with --allow-root (containers, CI)
        cmd.append("--ServerApp.allow_root=True")
    return cmd


def lab(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8888,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a web browser.")
    ] = False,
    allow_root: AllowRootOpt = False,
) -> None:
    """Start JupyterLab on 127.0.0.1 with the stage notebooks and the sample cycle.

    The server answers on the loopback address only and asks for a token: the
    URL printed below carries it (open it, or paste the token when asked).
    Notebooks run on the project's "python3" kernel. Stop with Ctrl+C.
    """
    _need("jupyterlab", "JupyterLab")
    if not (REPO / "notebooks").is_dir():
        from ..report.stages import no_notebooks_error

        raise no_notebooks_error()
    _refuse_root(allow_root, "lab")
    _check_port(port)
    token = secrets.token_hex(24)
    url = f"http://{LOOPBACK}:{port}/lab/tree/notebooks?token={token}"
    typer.echo(f"JupyterLab on {url}\n(stop with Ctrl+C)")
    cmd = lab_command(port=port, root_dir=REPO, open_browser=not no_browser, allow_root=allow_root)
    raise typer.Exit(_run(cmd, env=server_env(token)))


# --------------------------------------------------------------------------- csi workshop


#: Jupyter data folder of the workshop's Voila template (``voila/templates/csi-workshop``).
VOILA_TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "jupyter"
WORKSHOP_TEMPLATE = "csi-workshop"
#: The workshop's Voila configuration (``voila.py``), written into the server's runtime folder.
VOILA_CONFIG = """\
# Voila configuration of csi workshop: each page gets the _xsrf cookie its
# kernel-shutdown request needs when the page closes (csi_lib.workshop.server).
from csi_lib.workshop.server import prelaunch

c = get_config()  # noqa: F821 (given by traitlets)
c.VoilaConfiguration.prelaunch_hook = prelaunch
# the Host header checked as JupyterLab checks it (Voila turns the check off): a request
# naming another machine, e.g. a page of another site by DNS rebinding, gets 403
c.Voila.tornado_settings = {"allow_remote_access": False, "local_hostnames": ["localhost"]}
"""
#: Seconds between two looks for kernels to end, and the default idle time after which a
#: kernel with no page connected ends (its page was closed without saying so).
CULL_INTERVAL_S = 10
CULL_AFTER_S = 120


def workshop_command(
    notebook: str | Path,
    *,
    port: int,
    open_browser: bool = False,
    cull_after: int = CULL_AFTER_S,
    config_dir: str | Path | None = None,
) -> list[str]:
    """The Voilà command line: loopback only, a token, code hidden, no tracebacks shown.

    The token is not on it: ``--Voila.auto_token=True`` makes Voilà read it from
    ``JUPYTER_TOKEN`` (see :func:`server_env`). The page uses the ``csi-workshop``
    template (no CDN; found through ``JUPYTER_PATH``, see :func:`workshop_env`).
    A page that closes shuts its kernel down (Voilà's page sends that on unload);
    a kernel left with no page connected (a browser that crashed, a lost network)
    is culled once it has been idle ``cull_after`` seconds. ``config_dir`` holds
    the ``voila.py`` Voila reads (:data:`VOILA_CONFIG`, written there by
    ``csi workshop``), and no other: a user's own Voila configuration is not read.

    Examples
    --------
    >>> cmd = workshop_command("nb.ipynb", port=8866)
    >>> "--Voila.ip=127.0.0.1" in cmd, "--strip_sources=True" in cmd, "--Voila.auto_token=True" in cmd
    (True, True, True)
    >>> "--template=csi-workshop" in cmd, "--MappingKernelManager.cull_idle_timeout=120" in cmd
    (True, True)
    """
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        f"--Voila.ip={LOOPBACK}",
        "--Voila.auto_token=True",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--theme=light",
        f"--template={WORKSHOP_TEMPLATE}",
        f"--MappingKernelManager.cull_interval={min(CULL_INTERVAL_S, max(1, cull_after))}",
        f"--MappingKernelManager.cull_idle_timeout={cull_after}",
        "--MappingKernelManager.cull_connected=False",
        "--MappingKernelManager.cull_busy=False",
    ]
    if config_dir is not None:
        cmd += ["--Voila.config_file_paths", str(config_dir)]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def workshop_env(
    cycle_dir: str | Path,
    *,
    as_of: str | None = None,
    timeboxes: str | None = None,
    dots: int | None = None,
    participants: int | None = None,
    runtime: str | Path | None = None,
    base: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of the workshop's server and kernels.

    ``CSI_CYCLE_DIR`` (absolute), the options set, ``CSI_WORKSHOP_RUNTIME`` (the
    server's runtime folder: locks and the room's shared state) and ``JUPYTER_PATH``
    led by the folder of the ``csi-workshop`` Voila template.
    """
    from .. import workshop as ws

    env = dict(os.environ if base is None else base)
    env[ws.ENV_CYCLE_DIR] = str(Path(cycle_dir).resolve())
    # the csi-workshop Voila template is found in this Jupyter data folder (first: it wins)
    paths = [str(VOILA_TEMPLATES)] + [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    if runtime is not None:
        env[ws.ENV_RUNTIME] = str(runtime)
    for name, value in (
        (ws.ENV_AS_OF, as_of),
        (ws.ENV_TIMEBOXES, timeboxes),
        (ws.ENV_DOTS, dots),
        (ws.ENV_PARTICIPANTS, participants),
    ):
        if value is not None:
            env[name] = str(value)
        else:
            env.pop(name, None)
    return env


def workshop(
    cycle_dir: Annotated[Path, typer.Argument(help="The cycle folder (csi cycle new).")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8866,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", parser=iso_date, help="Workshop date, YYYY-MM-DD (default: no cut)."
        ),
    ] = None,
    timeboxes: Annotated[
        str | None,
        typer.Option(help="Minutes of stages 0-6, e.g. 10,15,20,20,10,15,10 (the default)."),
    ] = None,
    dots: Annotated[int, typer.Option(help="Dots per participant in the dot-voting.")] = 3,
    participants: Annotated[int, typer.Option(help="How many participants vote.")] = 6,
    browser: Annotated[
        bool, typer.Option("--browser/--no-browser", help="Open a web browser.")
    ] = True,
    cull_after: Annotated[
        int,
        typer.Option(
            help="Seconds after which a kernel whose page is gone (a crashed browser, a lost "
            "network) ends; a page closed normally ends its kernel at once."
        ),
    ] = CULL_AFTER_S,
    allow_root: AllowRootOpt = False,
) -> None:
    """Serve the facilitation notebook for a workshop on CYCLE_DIR (Voilà, code hidden).

    The room walks through the seven questions, one per screen, each with its
    timebox: the essentials of the cycle, the what-if on the cycle's targets
    ("Save target" writes targets.yaml), dot-voting on the improvement register
    as a grid of participants by ideas ("Save votes" adds them to plan.yaml) and
    a decisions log appended to CYCLE_DIR/decisions.md. Every save shows at once.
    With two screens, open the room view on the projector and the facilitator's
    view (notes, timer, controls) on your own. Serves on 127.0.0.1 with a token
    carried by the URLs printed. Stop with Ctrl+C.
    """
    import tempfile

    from .. import workshop as ws
    from ..cycle import check_cycle
    from ..report.stages import no_notebooks_error, notebooks_dir

    _need("voila", "Voilà")
    ws.resolve_cycle_dir(cycle_dir.resolve())  # a clear error before anything starts
    problems = check_cycle(cycle_dir)
    if problems:
        listed = "; ".join(str(p) for p in problems[:5])
        raise ConfigError(
            f"the cycle folder has {plural(len(problems), 'problem')}: {listed}",
            file=str(cycle_dir),
            hint="run csi cycle check to see them all",
        )
    if timeboxes:
        ws.timeboxes(timeboxes)  # a clear error for a bad list, before the server starts
    for name, value in (("dots", dots), ("participants", participants)):
        if not 1 <= value <= 100:
            raise ConfigError(f"--{name} must be between 1 and 100 (got {value})")
    if not 1 <= cull_after <= 86400:
        raise ConfigError(f"--cull-after must be between 1 and 86400 seconds (got {cull_after})")
    notebook = notebooks_dir() / WORKSHOP_NOTEBOOK
    if not notebook.exists():
        raise no_notebooks_error(WORKSHOP_NOTEBOOK)
    _refuse_root(allow_root, "workshop")
    _check_port(port)
    runtime = Path(tempfile.mkdtemp(prefix="csi-workshop-"))  # locks, the room's state
    (runtime / "voila.py").write_text(VOILA_CONFIG, encoding="utf-8")
    env = workshop_env(
        cycle_dir,
        as_of=as_of,
        timeboxes=timeboxes,
        dots=dots,
        participants=participants,
        runtime=runtime,
    )
    token = secrets.token_hex(24)
    base = f"http://{LOOPBACK}:{port}/?token={token}"
    typer.echo(
        f"Workshop on {cycle_dir} at {base}\n"
        f"Two screens: the room view {base}&view=room on the projector, the facilitator's "
        f"view {base}&view=facilitator on yours.\n(stop with Ctrl+C)"
    )
    cmd = workshop_command(
        notebook, port=port, open_browser=browser, cull_after=cull_after, config_dir=runtime
    )
    raise typer.Exit(_serve(cmd, server_env(token, env), cleanup=runtime))


def register(app: typer.Typer) -> None:
    """Add ``csi lab``, ``csi workshop`` and ``csi slides`` to ``app``."""
    app.command("lab")(lab)
    app.command("workshop")(workshop)
    app.command("slides")(slides)


__all__ = [
    "register",
    "lab_command",
    "workshop_command",
    "workshop_env",
    "find_reveal",
    "export_slides",
    "build_slides",
    "make_slides_exporter",
]
