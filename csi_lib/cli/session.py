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
  plotly charts drawn by an embedded plotly.js). reveal.js itself is embedded
  from a local copy when one is found (``--reveal-dir``, ``$CSI_REVEAL_DIR``
  or ``node_modules/reveal.js`` of the checkout, e.g. after
  ``npm install reveal.js@5``), so the slides work with no network; without
  one they load it from a CDN and need the network when shown.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigError
from ..storage import make_folder
from .usage import iso_date

#: The checkout (holds notebooks/ and data/).
REPO = Path(__file__).resolve().parents[2]
WORKSHOP_NOTEBOOK = "workshop.ipynb"
LOOPBACK = "127.0.0.1"
#: reveal.js from a CDN when no local copy is found (same major version as the npm package).
REVEAL_CDN = "https://cdn.jsdelivr.net/npm/reveal.js@5.2.1"
REVEAL_THEME = "white"


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
            f"container, for example): csi {command} --allow-root",
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
        raise ConfigError(
            "the notebooks folder is missing", file=str(REPO / "notebooks"),
            hint="run csi lab from a checkout of csi-workbook",
        )  # fmt: skip
    _refuse_root(allow_root, "lab")
    _check_port(port)
    token = secrets.token_hex(24)
    url = f"http://{LOOPBACK}:{port}/lab/tree/notebooks?token={token}"
    typer.echo(f"JupyterLab on {url}\n(stop with Ctrl+C)")
    cmd = lab_command(port=port, root_dir=REPO, open_browser=not no_browser, allow_root=allow_root)
    raise typer.Exit(_run(cmd, env=server_env(token)))


# --------------------------------------------------------------------------- csi workshop


def workshop_command(notebook: str | Path, *, port: int, open_browser: bool = False) -> list[str]:
    """The Voilà command line: loopback only, a token, code hidden, no tracebacks shown.

    The token is not on it: ``--Voila.auto_token=True`` makes Voilà read it from
    ``JUPYTER_TOKEN`` (see :func:`server_env`).

    Examples
    --------
    >>> cmd = workshop_command("nb.ipynb", port=8866)
    >>> "--Voila.ip=127.0.0.1" in cmd, "--strip_sources=True" in cmd, "--Voila.auto_token=True" in cmd
    (True, True, True)
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
    ]
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
    base: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of the workshop's kernel: ``CSI_CYCLE_DIR`` (absolute) and the options set."""
    from .. import workshop as ws

    env = dict(os.environ if base is None else base)
    env[ws.ENV_CYCLE_DIR] = str(Path(cycle_dir).resolve())
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
    allow_root: AllowRootOpt = False,
) -> None:
    """Serve the facilitation notebook for a workshop on CYCLE_DIR (Voilà, code hidden).

    The room walks through the seven questions with a timebox each, the
    essentials of the cycle, dot-voting on the improvement register ("Save
    votes" adds them to plan.yaml) and a decisions log appended to
    CYCLE_DIR/decisions.md. Serves on 127.0.0.1 with a token carried by the
    URL printed. Stop with Ctrl+C.
    """
    from .. import workshop as ws
    from ..cycle import check_cycle
    from ..report.stages import notebooks_dir

    _need("voila", "Voilà")
    ws.resolve_cycle_dir(cycle_dir.resolve())  # a clear error before anything starts
    problems = check_cycle(cycle_dir)
    if problems:
        listed = "; ".join(str(p) for p in problems[:5])
        raise ConfigError(
            f"the cycle folder has {len(problems)} problem(s): {listed}",
            file=str(cycle_dir),
            hint="run csi cycle check to see them all",
        )
    if timeboxes:
        ws.timeboxes(timeboxes)  # a clear error for a bad list, before the server starts
    for name, value in (("dots", dots), ("participants", participants)):
        if not 1 <= value <= 100:
            raise ConfigError(f"--{name} must be between 1 and 100 (got {value})")
    notebook = notebooks_dir() / WORKSHOP_NOTEBOOK
    if not notebook.exists():
        raise ConfigError("the facilitation notebook is missing", file=str(notebook))
    _refuse_root(allow_root, "workshop")
    _check_port(port)
    env = workshop_env(
        cycle_dir, as_of=as_of, timeboxes=timeboxes, dots=dots, participants=participants
    )
    token = secrets.token_hex(24)
    typer.echo(
        f"Workshop on {cycle_dir} at http://{LOOPBACK}:{port}/?token={token}\n(stop with Ctrl+C)"
    )
    raise typer.Exit(
        _run(
            workshop_command(notebook, port=port, open_browser=browser), env=server_env(token, env)
        )
    )


# --------------------------------------------------------------------------- csi slides


_SLIDES_TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{%- block header -%}
<!DOCTYPE html>
<html lang="{{ resources.language_code }}">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{{ resources.csi.title | e }}</title>
{% if resources.csi.reveal_css %}<style>{{ resources.csi.reveal_css }}</style>
{% else %}<link rel="stylesheet" href="{{ resources.csi.reveal_prefix }}/dist/reveal.css">
<link rel="stylesheet" href="{{ resources.csi.reveal_prefix }}/dist/theme/{{ resources.csi.theme }}.css">
{% endif %}
{% for css in resources.inlining.css -%}<style type="text/css">{{ css }}</style>{% endfor %}
{{ self.notebook_css() }}
<style>
.reveal .slides { text-align: left; }
.reveal .slides section { height: 100%; overflow-y: auto; }
.reveal h1, .reveal h2 { text-transform: none; }
.reveal table { font-size: 0.55em; margin: 0; }
.reveal .jp-RenderedHTMLCommon p, .reveal li { font-size: 0.8em; }
.csi-widget-note { font-style: italic; color: #555; font-size: 0.6em; }
.csi-slides-footer { position: fixed; bottom: 6px; left: 12px; font-size: 12px; color: #777; z-index: 10; }
</style>
<script>{{ resources.csi.plotlyjs }}</script>
</head>
{%- endblock header -%}

{% block body_footer %}
</div>
</div>
<div class="csi-slides-footer">{{ resources.csi.footer | e }}</div>
</main>
</body>
{% endblock body_footer %}

{% block footer_js %}
{% if resources.csi.reveal_js %}<script>{{ resources.csi.reveal_js }}</script>
{% else %}<script src="{{ resources.csi.reveal_prefix }}/dist/reveal.js"></script>
{% endif %}
<script>
Reveal.initialize({controls: true, progress: true, hash: true, slideNumber: "c/t",
                   transition: "slide", width: 1280, height: 800, margin: 0.04});
Reveal.on("slidechanged", function () { window.dispatchEvent(new Event("resize")); });
</script>
</html>
{% endblock footer_js %}
{% block footer %}{{ self.footer_js() }}{% endblock footer %}
"""


def find_reveal(reveal_dir: str | Path | None = None) -> Path | None:
    """A local reveal.js package folder (holding ``dist/reveal.js``), or ``None``.

    Looked for in ``reveal_dir``, ``$CSI_REVEAL_DIR``, then ``node_modules/reveal.js``
    of the checkout. Nothing is downloaded.
    """
    if reveal_dir:
        if (Path(reveal_dir) / "dist" / "reveal.js").is_file():
            return Path(reveal_dir)
        raise ConfigError(
            "this folder holds no reveal.js (dist/reveal.js is missing)",
            file=str(reveal_dir),
            hint="give the reveal.js package folder, e.g. node_modules/reveal.js",
        )
    for candidate in (os.environ.get("CSI_REVEAL_DIR"), REPO / "node_modules" / "reveal.js"):
        if candidate and (Path(candidate) / "dist" / "reveal.js").is_file():
            return Path(candidate)
    return None


def _script_safe(text: str) -> str:
    return text.replace("</script", "<\\/script")


def _reveal_resources(reveal: Path | None) -> dict[str, str]:
    if reveal is None:
        return {"reveal_prefix": REVEAL_CDN, "reveal_css": "", "reveal_js": ""}
    dist = reveal / "dist"
    css = (dist / "reveal.css").read_text(encoding="utf-8")
    theme = dist / "theme" / f"{REVEAL_THEME}.css"
    if theme.is_file():
        css += "\n" + theme.read_text(encoding="utf-8")
    return {
        "reveal_prefix": "",
        "reveal_css": _script_safe(css).replace("</style", "<\\/style"),
        "reveal_js": _script_safe((dist / "reveal.js").read_text(encoding="utf-8")),
    }


def _slide_types():
    """A preprocessor giving each cell a slide type: a new slide at every ``#``/``##``
    heading, a sub-slide at ``###``, the rest on the slide above; the parameters cell
    and cells with nothing to show are skipped."""
    from nbconvert.preprocessors import Preprocessor

    class SlideTypes(Preprocessor):
        def preprocess_cell(self, cell, resources, index):  # noqa: D102 (nbconvert API)
            slideshow = cell.setdefault("metadata", {}).setdefault("slideshow", {})
            if "parameters" in cell.metadata.get("tags", []) or "injected-parameters" in (
                cell.metadata.get("tags", [])
            ):
                slideshow["slide_type"] = "skip"
            elif cell.cell_type == "markdown":
                first = cell.source.lstrip().split("\n", 1)[0]
                if first.startswith(("# ", "## ")) or index == 0:
                    slideshow["slide_type"] = "slide"
                elif first.startswith("### "):
                    slideshow["slide_type"] = "subslide"
                else:
                    slideshow["slide_type"] = "-"
            elif cell.cell_type == "code" and not cell.get("outputs"):
                slideshow["slide_type"] = "skip"
            else:
                slideshow["slide_type"] = "-"
            return cell, resources

    return SlideTypes()


def make_slides_exporter():
    """A reveal.js SlidesExporter: code hidden, static plotly, a slide per heading."""
    from jinja2 import DictLoader
    from nbconvert import SlidesExporter

    from ..report.export import StaticOutputs

    # "preprocessors" run before the template's own (_RevealMetadataPreprocessor), which
    # turns the slide types into the sections of the deck.
    return SlidesExporter(
        template_file="csi_slides.html.j2",
        extra_loaders=[DictLoader({"csi_slides.html.j2": _SLIDES_TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        preprocessors=[StaticOutputs(), _slide_types()],
    )


def export_slides(
    notebook: Path,
    slides_path: Path,
    *,
    title: str,
    footer: str = "",
    reveal_dir: str | Path | None = None,
) -> Path:
    """Write one executed notebook as a reveal.js deck (atomically, never overwriting)."""
    import nbformat

    from ..report.export import _plotlyjs
    from ..storage import atomic_write

    nb = nbformat.read(str(notebook), as_version=4)
    reveal = _reveal_resources(find_reveal(reveal_dir))
    resources = {
        "csi": {
            "title": title,
            "footer": footer,
            "theme": REVEAL_THEME,
            "plotlyjs": _script_safe(_plotlyjs()),
            **reveal,
        }
    }
    body, _ = make_slides_exporter().from_notebook_node(nb, resources=resources)
    return atomic_write(slides_path, body)


def build_slides(
    cycle_dir: str | Path,
    *,
    out: str | Path = "slides",
    as_of: str | None = None,
    stages: list[str] | None = None,
    reveal_dir: str | Path | None = None,
    progress: Any = None,
) -> tuple[Path, list[Any]]:
    """Run the stage notebooks of a cycle and write one slide deck per stage.

    The decks go to ``<out>/<cycle id>/<as-of>/`` (``_2``, ``_3``... if it
    exists: nothing is overwritten), one ``<stage>.slides.html`` each.

    Returns
    -------
    (folder, runs)
        The folder and the :class:`csi_lib.report.execute.StageRun` of each stage.

    Examples
    --------
    >>> folder, runs = build_slides("data/sample-cycle", out="slides", as_of="2026-04-15")  # doctest: +SKIP
    """
    from ..cycle import load_config
    from ..report.execute import execute_stage
    from ..report.stages import select_stages

    say = progress or (lambda _msg: None)
    cycle_path = Path(cycle_dir).resolve()
    cfg = load_config(cycle_path)
    as_of_date = dt.date.fromisoformat(str(as_of)) if as_of else dt.datetime.now(dt.UTC).date()
    chosen = select_stages(stages, cycle=True)
    if not chosen:
        raise ConfigError("there is no stage notebook to run", hint="check the notebooks/ folder")
    reveal = find_reveal(reveal_dir)
    if reveal is None:
        say(f"reveal.js: no local copy found, the slides load it from {REVEAL_CDN}")
    parent = Path(out).resolve() / str(cfg.id)
    staging = parent / f".{as_of_date.isoformat()}.partial-{os.getpid()}"
    make_folder(staging, what="slides folder")
    params = {
        "cycle_dir": str(cycle_path),
        "as_of": as_of_date.isoformat(),
        "data_path": None,
        "preset": None,
        "mapping": None,
    }
    runs = []
    try:
        with tempfile.TemporaryDirectory(prefix="csi-slides-") as work:
            for i, stage in enumerate(chosen, 1):
                say(f"[{i}/{len(chosen)}] {stage.title} ...")
                staged = Path(work) / stage.slug
                staged.mkdir()
                run = execute_stage(
                    stage, {**params, "output_dir": str(staged)}, staged / stage.notebook
                )
                runs.append(run)
                if run.executed.exists():
                    export_slides(
                        run.executed,
                        staging / f"{stage.slug}.slides.html",
                        title=f"{stage.number}. {stage.title} | {cfg.title or cfg.id}",
                        footer=f"{cfg.id} \u00b7 stage {stage.number} \u00b7 as of {as_of_date}",
                        reveal_dir=reveal,
                    )
                status = "done" if run.ok else f"FAILED: {run.error}"
                say(f"[{i}/{len(chosen)}] {stage.title}: {status} ({run.seconds:.1f} s)")
        folder, n = parent / as_of_date.isoformat(), 2
        while folder.exists():
            folder, n = parent / f"{as_of_date.isoformat()}_{n}", n + 1
        os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder, runs


def slides(
    cycle_dir: Annotated[Path, typer.Argument(help="The cycle folder (csi cycle new).")],
    out: Annotated[
        Path, typer.Option(help="Slides folder; decks go to OUT/<cycle>/<as-of>/.")
    ] = Path("slides"),
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", parser=iso_date, help="Date, YYYY-MM-DD (default: today, UTC)."),
    ] = None,
    stage: Annotated[
        list[str] | None, typer.Option("--stage", help="Only this stage (0-6); repeatable.")
    ] = None,
    reveal_dir: Annotated[
        Path | None,
        typer.Option(help="A local reveal.js package folder to embed (default: found locally)."),
    ] = None,
) -> None:
    """Export reveal.js slides of the cycle's stages (code hidden, one slide per heading).

    Each stage notebook is run with papermill and written as
    OUT/<cycle>/<as-of>/<stage>.slides.html with plotly.js embedded. reveal.js is
    embedded too when a local copy is found (--reveal-dir, $CSI_REVEAL_DIR, or
    node_modules/reveal.js of the checkout after `npm install reveal.js@5`);
    otherwise the slides load reveal.js from a CDN and need the network when
    shown. Exit status: 0 when every stage ran, 1 when one failed, 2 on bad input.
    """
    from .report import _progress_printer

    say = _progress_printer()
    folder, runs = build_slides(
        cycle_dir, out=out, as_of=as_of, stages=stage, reveal_dir=reveal_dir, progress=say
    )
    for run in runs:
        if not run.ok:
            typer.echo(f"error: stage '{run.stage.title}' failed at {run.error}", err=True)
    typer.echo(str(folder))
    raise typer.Exit(0 if all(r.ok for r in runs) else 1)


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
