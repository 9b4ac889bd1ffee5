"""``csi slides``: one reveal.js deck per stage of a cycle.

The stage notebooks are run with papermill and exported with a reveal.js
template (code hidden, one slide per heading, plotly charts drawn by plotly.js).
The decks of one run share one copy of plotly.js and reveal.js in the folder's
``assets/`` (as the report pages do): seven decks weigh about 5 MB, not 35 MB,
and need no network. reveal.js comes with the package (``csi_lib/assets/reveal``,
MIT licence); ``--reveal-dir`` or ``$CSI_REVEAL_DIR`` name another copy. The
command is registered by :func:`csi_lib.cli.session.register` with ``csi lab``
and ``csi workshop``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from markupsafe import Markup

from ..errors import ConfigError
from ..storage import make_folder
from .usage import iso_date

#: reveal.js bundled with the package (dist/reveal.js, reveal.css, theme/white.css; MIT).
REVEAL_BUNDLED = Path(__file__).resolve().parents[1] / "assets" / "reveal"
REVEAL_THEME = "white"
#: reveal.js in a slides folder, beside plotly.js (``assets/plotly.min.js``), shared by its decks.
REVEAL_ASSET = "assets/reveal"

__all__ = [
    "slides",
    "find_reveal",
    "export_slides",
    "build_slides",
    "make_slides_exporter",
    "write_slides_assets",
]


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
{% else %}<link rel="stylesheet" href="{{ resources.csi.reveal_prefix }}/reveal.css">
<link rel="stylesheet" href="{{ resources.csi.reveal_prefix }}/theme/{{ resources.csi.theme }}.css">
{% endif %}
{% for css in resources.inlining.css -%}<style type="text/css">{{ css }}</style>{% endfor %}
{%- if resources.csi.link_css -%}
{%- set _ = resources.update({"include_css": resources.csi.link_css}) -%}
{%- endif -%}
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
{% if resources.csi.plotly_src %}<script src="{{ resources.csi.plotly_src | e }}" charset="utf-8"></script>
{% else %}<script>{{ resources.csi.plotlyjs }}</script>
{% endif %}
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
{% else %}<script src="{{ resources.csi.reveal_prefix }}/reveal.js"></script>
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


def find_reveal(reveal_dir: str | Path | None = None) -> Path:
    """The reveal.js package folder (holding ``dist/reveal.js``) the decks use.

    ``reveal_dir`` if given, else ``$CSI_REVEAL_DIR``, else the copy bundled with
    the package. Nothing is downloaded.

    >>> find_reveal() == REVEAL_BUNDLED
    True
    """
    if reveal_dir:
        if (Path(reveal_dir) / "dist" / "reveal.js").is_file():
            return Path(reveal_dir)
        raise ConfigError(
            "this folder holds no reveal.js (dist/reveal.js is missing)",
            file=str(reveal_dir),
            hint="give the reveal.js package folder, e.g. node_modules/reveal.js",
        )
    env = os.environ.get("CSI_REVEAL_DIR")
    if env and (Path(env) / "dist" / "reveal.js").is_file():
        return Path(env)
    return REVEAL_BUNDLED


def _script_safe(text: str) -> str:
    return text.replace("</script", "<\\/script")


def _reveal_files(reveal: Path) -> dict[str, str]:
    """reveal.js's script, its stylesheet and the theme's, by their name in a slides folder.

    A theme's ``@import`` of web fonts (a fonts folder beside the theme) is left out: the
    deck would look for it beside itself; the theme's font list falls back to system fonts.
    """
    dist = reveal / "dist"
    files = {
        "reveal.js": (dist / "reveal.js").read_text(encoding="utf-8"),
        "reveal.css": (dist / "reveal.css").read_text(encoding="utf-8"),
    }
    theme = dist / "theme" / f"{REVEAL_THEME}.css"
    if theme.is_file():
        css = theme.read_text(encoding="utf-8")
        files[f"theme/{REVEAL_THEME}.css"] = re.sub(r"@import url\([^)]*\);?", "", css)
    return files


def _reveal_resources(reveal: Path) -> dict[str, str]:
    """reveal.js inline in one deck (a deck on its own: :func:`export_slides`)."""
    files = _reveal_files(reveal)
    css = files["reveal.css"] + "\n" + files.get(f"theme/{REVEAL_THEME}.css", "")
    return {
        "reveal_prefix": "",
        "reveal_css": _script_safe(css).replace("</style", "<\\/style"),
        "reveal_js": _script_safe(files["reveal.js"]),
    }


def write_slides_assets(folder: Path, reveal: Path) -> list[Path]:
    """plotly.js, JupyterLab's stylesheets and reveal.js once in ``folder/assets/``, for every
    deck of the folder (exported with ``shared_assets=True``)."""
    from ..report.export import write_report_assets
    from ..storage import atomic_write

    written = write_report_assets(folder)
    for name, text in _reveal_files(reveal).items():
        written.append(atomic_write(folder / REVEAL_ASSET / name, text, overwrite=True))
    return written


def _link_css(name: str) -> Markup:
    """nbconvert's ``include_css`` for decks with shared assets: JupyterLab's stylesheets
    linked from ``assets/``; the reveal template's own small one stays inline."""
    from ..report.export import LAB_CSS

    if name in LAB_CSS:
        return Markup(f'<link rel="stylesheet" type="text/css" href="{LAB_CSS[name]}">')
    from nbconvert.exporters.html import HTMLExporter

    env = HTMLExporter(template_name="reveal").environment
    return Markup(f'<style type="text/css">{env.loader.get_source(env, name)[0]}</style>')


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

    from ..report.export import StaticOutputs, live_only_remover

    # "preprocessors" run before the template's own (_RevealMetadataPreprocessor), which
    # turns the slide types into the sections of the deck.
    return SlidesExporter(
        template_file="csi_slides.html.j2",
        extra_loaders=[DictLoader({"csi_slides.html.j2": _SLIDES_TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        preprocessors=[live_only_remover(), StaticOutputs(), _slide_types()],
    )


def export_slides(
    notebook: Path,
    slides_path: Path,
    *,
    title: str,
    footer: str = "",
    reveal_dir: str | Path | None = None,
    shared_assets: bool = False,
) -> Path:
    """Write one executed notebook as a reveal.js deck (atomically, never overwriting).

    By default the deck stands alone (plotly.js and reveal.js inline, about 5 MB); with
    ``shared_assets=True`` it loads them from ``assets/`` beside it, written once for the
    folder by :func:`write_slides_assets` (a few hundred kB per deck).
    """
    import nbformat

    from ..report.export import PLOTLY_ASSET, _plotlyjs
    from ..storage import atomic_write

    nb = nbformat.read(str(notebook), as_version=4)
    if shared_assets:
        scripts: dict[str, Any] = {
            "plotly_src": PLOTLY_ASSET,
            "link_css": _link_css,
            "reveal_prefix": REVEAL_ASSET,
            "reveal_css": "",
            "reveal_js": "",
        }
    else:
        scripts = {
            "plotlyjs": _script_safe(_plotlyjs()),
            **_reveal_resources(find_reveal(reveal_dir)),
        }
    resources = {"csi": {"title": title, "footer": footer, "theme": REVEAL_THEME, **scripts}}
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
    ``build_slides("data/sample-cycle", out="slides", as_of="2026-04-15")`` runs the seven
    stage notebooks (a few minutes) and returns ``(PosixPath('slides/2025-h2/2026-04-15'),
    [StageRun, ...])``. What it is asked is checked before any notebook starts:

    >>> build_slides(sample_cycle, out=tmp, stages=["9"])
    Traceback (most recent call last):
    ...
    csi_lib.errors.ConfigError: unknown stage 9. Name stages by number (0-6) or notebook name, ...
    """
    from ..cycle import load_config
    from ..report.stages import no_notebooks_error, select_stages

    say = progress or (lambda _msg: None)
    cycle_path = Path(cycle_dir).resolve()
    cfg = load_config(cycle_path)
    as_of_date = dt.date.fromisoformat(str(as_of)) if as_of else dt.datetime.now(dt.UTC).date()
    chosen = select_stages(stages, cycle=True)
    if not chosen:
        raise no_notebooks_error()
    reveal = find_reveal(reveal_dir)
    parent = Path(out).resolve() / str(cfg.id)
    staging = parent / f".{as_of_date.isoformat()}.partial-{os.getpid()}"
    make_folder(staging, what="slides folder")
    write_slides_assets(staging, reveal)
    params = {
        "cycle_dir": str(cycle_path),
        "as_of": as_of_date.isoformat(),
        "data_path": None,
        "preset": None,
        "mapping": None,
    }
    try:
        with tempfile.TemporaryDirectory(prefix="csi-slides-") as work:
            runs = [
                _stage_deck(stage, params, Path(work), staging, cfg, as_of_date, reveal, say,
                            f"[{i}/{len(chosen)}]")
                for i, stage in enumerate(chosen, 1)
            ]  # fmt: skip
        folder, n = parent / as_of_date.isoformat(), 2
        while folder.exists():
            folder, n = parent / f"{as_of_date.isoformat()}_{n}", n + 1
        os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder, runs


def _stage_deck(
    stage: Any,
    params: dict[str, Any],
    work: Path,
    staging: Path,
    cfg: Any,
    as_of_date: dt.date,
    reveal: Path | None,
    say: Any,
    counter: str,
) -> Any:
    """Run one stage notebook in ``work`` and write its deck into ``staging`` (if it ran)."""
    from ..report.execute import execute_stage

    say(f"{counter} {stage.title} ...")
    staged = work / stage.slug
    staged.mkdir()
    run = execute_stage(stage, {**params, "output_dir": str(staged)}, staged / stage.notebook)
    if run.executed.exists():
        export_slides(
            run.executed,
            staging / f"{stage.slug}.slides.html",
            title=f"{stage.number}. {stage.title} | {cfg.title or cfg.id}",
            footer=f"{cfg.id} \u00b7 stage {stage.number} \u00b7 as of {as_of_date}",
            shared_assets=True,
        )
    status = "done" if run.ok else f"FAILED: {run.error}"
    say(f"{counter} {stage.title}: {status} ({run.seconds:.1f} s)")
    return run


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
        typer.Option(help="Another reveal.js package folder (default: the bundled reveal.js 5)."),
    ] = None,
) -> None:
    """Export reveal.js slides of the cycle's stages (code hidden, one slide per heading).

    Each stage notebook is run with papermill and written as
    OUT/<cycle>/<as-of>/<stage>.slides.html; the decks share one copy of plotly.js
    and reveal.js in OUT/<cycle>/<as-of>/assets/ and need no network (copy the
    whole folder). reveal.js comes with the package (--reveal-dir or
    $CSI_REVEAL_DIR name another copy). Exit status: 0 when every stage ran, 1
    when one failed, 2 on bad input.
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
