"""Safe output: the one path every text from a file or a user takes to an output.

Text written in a cycle file (a title, an owner, a scope, a note) or read from
the data (a category, a group, a channel, a priority name) is untrusted: it may
hold HTML, Markdown links, spreadsheet formulas or control characters. Each
output format has one function here, and every writer of that format uses it:

================  ==========================================================
output            function
================  ==========================================================
HTML              :func:`escape` (tables: :func:`csi_lib.present.to_html`,
                  pandas Stylers: :func:`styler_escape`)
Markdown, plain   :func:`markdown_text`: shown exactly as written (summary.md,
text quoted       conclusions, headings)
Markdown, rich    :func:`safe_markdown`: a vision or an objective keeps its
                  formatting; HTML shown as text, images never loaded, only
                  http(s) and mailto links stay links
Plotly figures    :func:`safe_figure`: every string of a figure (titles, hover
                  text, axis categories) keeps only the workbook's own markup
                  (``<b>``, ``<br>``, ``<i>``, ``<sup>``, ``<sub>``, ``<extra>``)
CSV and Excel     :func:`neutralise_cell` / :func:`neutralise_csv_frame` (formulas),
                  :func:`spreadsheet_frame` (also control characters Excel refuses)
any text          :func:`clean_text`: control characters removed (the loader does
                  this to every text column and says so)
================  ==========================================================

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage
return) is run as a formula by Excel and LibreOffice ("CSV injection"). Text
cells written to CSV or Excel are prefixed with a single quote so they are
shown as text. Numbers are left alone (a negative number is not a formula).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """``value`` with a leading ``'`` if it is text that a spreadsheet would run as a formula.

    Text that already starts with quotes before a formula character gets one more, so
    :func:`restore_cell` gives back exactly the original text.

    Examples
    --------
    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell(-3.5)
    -3.5
    >>> neutralise_cell("'=1")
    "''=1"
    """
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def restore_cell(value: object) -> object:
    """The text :func:`neutralise_cell` was given (one leading ``'`` taken off a neutralised
    cell); anything else unchanged.

    Examples
    --------
    >>> restore_cell("'=SUM(1)"), restore_cell("''=1"), restore_cell("'quoted")
    ('=SUM(1)', "'=1", "'quoted")
    """
    if (
        isinstance(value, str)
        and value.startswith("'")
        and value.lstrip("'").startswith(FORMULA_PREFIXES)
    ):
        return value[1:]
    return value


def _map_text(df: pd.DataFrame, cell: Any) -> pd.DataFrame:
    """A copy of ``df`` with ``cell`` applied to every text cell and column name."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if (
            s.dtype == object
            or pd.api.types.is_string_dtype(s)
            or isinstance(s.dtype, pd.CategoricalDtype)
        ):
            out[col] = s.astype(object).map(cell)
    out.columns = [cell(str(c)) for c in out.columns]
    return out


def neutralise_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) cannot run as formulas."""
    return _map_text(df, neutralise_cell)


def escape(text: object) -> str:
    """HTML-escape any user-written text (quotes included).

    Examples
    --------
    >>> escape("<script>alert('x')</script>")
    '&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;'
    """
    return html.escape("" if text is None else str(text), quote=True)


def styler_escape(styler: Any) -> Any:
    """A pandas ``Styler`` whose cells and headers are HTML-escaped (a Styler writes
    its cells as raw HTML unless told otherwise)."""
    return (
        styler.format(escape="html")
        .format_index(escape="html", axis=0)
        .format_index(escape="html", axis=1)
    )


# --------------------------------------------------------------------------- control characters

#: Control characters no text value should hold: C0 (but tab, line feed and carriage
#: return), DEL and C1; and U+FFFE and U+FFFF, which are no characters at all. Excel
#: (XML) refuses the C0 ones; the last two make a workbook Excel cannot open.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")

#: Halves of a UTF-16 pair on their own (JSON's "\ud800" escape makes one): no file can
#: hold them (UTF-8 refuses them), so each becomes U+FFFD, the replacement character.
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    r"""``text`` without control characters (tab, line feed, carriage return kept).

    Examples
    --------
    >>> clean_text("Lap\x0btop\x01\uffff")
    'Laptop'
    >>> clean_text("Lap\ud800top")               # a lone surrogate cannot be written
    'Lap\ufffdtop'
    """
    return _LONE_SURROGATES.sub("\ufffd", CONTROL_CHARACTERS.sub("", text))


def clean_series(values: pd.Series) -> tuple[pd.Series, int]:
    """A text column without control characters, and how many of its values had some."""
    text = values.dropna()
    text = text[text.map(lambda v: isinstance(v, str))]
    if text.empty:
        return values, 0
    has = text.str.contains(CONTROL_CHARACTERS, regex=True)
    count = int(has.sum())
    if not count:
        return values, 0
    out = values.astype(object).copy()
    out.loc[has[has].index] = text[has].map(clean_text)
    return out.astype(values.dtype) if pd.api.types.is_string_dtype(values.dtype) else out, count


def spreadsheet_cell(value: object) -> object:
    """A cell for CSV or Excel: control characters removed, formulas neutralised."""
    if isinstance(value, str):
        return neutralise_cell(clean_text(value))
    return value


def spreadsheet_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` safe for Excel: text without control characters (which openpyxl
    refuses) and unable to run as formulas; column names too."""
    return _map_text(df, spreadsheet_cell)


#: Characters Excel does not allow in a sheet name.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str) -> str:
    """A valid Excel sheet name for ``name`` (forbidden characters as ``_``, 31 characters).

    Examples
    --------
    >>> sheet_name("By region/site [EU]")
    'By region_site _EU_'
    """
    cleaned = _SHEET_FORBIDDEN.sub("_", clean_text(str(name))).strip("'") or "Sheet"
    return cleaned[:31]


# --------------------------------------------------------------------------- Markdown

#: Characters with a meaning in Markdown (CommonMark and GitHub's tables) inside a line.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&|!~#])|(?<=[A-Za-z])(:)(?=//)|(?<=\bwww)(\.)", re.I)


def plain_text(text: object) -> str:
    r"""``text`` on one line, without control characters: for plain-text outputs (a
    mail, a log line), where a line break in a title could forge a line of its own.

    Examples
    --------
    >>> plain_text("Laptops\nFull report: http://elsewhere")
    'Laptops Full report: http://elsewhere'
    """
    return " ".join(clean_text("" if text is None else str(text)).split())


def chat_text(text: object) -> str:
    """``text`` for a chat message (Slack, Teams, Mattermost webhooks): one line, with
    ``&``, ``<`` and ``>`` as entities, so a title cannot mention ``<!channel>`` or
    make a ``<http://...|link>``.

    Examples
    --------
    >>> chat_text("Laptops <!channel> <http://x|click>")
    'Laptops &lt;!channel&gt; &lt;http://x|click&gt;'
    """
    return html.escape(plain_text(text), quote=False)


def markdown_text(text: object) -> str:
    r"""``text`` as Markdown that shows exactly what was written: no emphasis, link,
    image, HTML, table cell break or address made a link comes from it (each Markdown
    character, and the ``:`` of ``http://`` or the ``.`` of ``www.``, gets a backslash, which every CommonMark
    renderer takes as the character itself); line breaks become spaces.

    Examples
    --------
    >>> markdown_text("Laptop <b>*new*</b> [x](javascript:y)")
    'Laptop \\<b\\>\\*new\\*\\</b\\> \\[x\\](javascript:y)'
    """
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m[0], plain_text(text))


#: A link destination that may stay live: http(s) or mailto, no escapes, entities or spaces
#: (``&amp;`` is the ``&`` of a query string, escaped with the rest of the text).
_SAFE_TARGET = re.compile(
    r"[ \t]*\n?[ \t]*(?:https?://|mailto:)(?:[^\s<>()\\&'\"]|&amp;)*(?=[\s)]|$)", re.I
)
#: Where markdown starts a link destination: ``](`` (inline) or ``]:`` (reference definition).
_TARGET_START = re.compile(r"\](?=[(:])")
#: A backslash escape (kept as it is), the start of an image, or a character HTML gives
#: a meaning to.
_MARKUP = re.compile(r"\\[!-/:-@\[-`{-~]|!\[|[<>&]")


def _plain_markup(found: re.Match[str]) -> str:
    token = found[0]
    if token == "![":
        return "\\!["
    return token if token.startswith("\\") else html.escape(token, quote=False)


def safe_markdown(text: str) -> str:
    r"""``text`` with everything that could run or fetch something made plain text.

    User-written text (a vision, an objective, a target's or an initiative's
    title) reaches the pages through the library's sentences, so it is treated
    as untrusted: HTML is shown as text (``<``, ``>`` and ``&`` escaped, which
    also turns ``<url>`` autolinks and character references into text), an
    image (``![alt](url)``) is never loaded (its ``!`` is escaped, a link to
    an http(s) address remains), and a link stays a link only when it goes to
    an ``http``, ``https`` or ``mailto`` address: any other (``javascript:``,
    ``data:``, a relative file) is shown as the text that was written. Text
    already escaped by :func:`markdown_text` is shown as written.

    Examples
    --------
    >>> safe_markdown("[x](javascript:alert(1)) and [site](https://example.org)")
    '[x]\\(javascript:alert(1)) and [site](https://example.org)'
    >>> safe_markdown("![](http://host/p.png) <b>hi</b>")
    '\\![](http://host/p.png) &lt;b&gt;hi&lt;/b&gt;'
    >>> safe_markdown(markdown_text("a <b>")) == markdown_text("a <b>")
    True
    """
    text = _MARKUP.sub(_plain_markup, text)
    out: list[str] = []
    last = 0
    for found in _TARGET_START.finditer(text):
        start = found.end() + 1  # after "(" or ":"
        if not _SAFE_TARGET.match(text, start):
            out.append(text[last : found.end()] + "\\")
            last = found.end()
    out.append(text[last:])
    return "".join(out)


# --------------------------------------------------------------------------- plotly

#: The markup the workbook's own figures use; any other ``<`` in a figure's text is shown.
_FIGURE_TAG = re.compile(r"</?(?:b|i|em|sup|sub|extra)>|<br ?/?>", re.I)


def figure_text(text: str) -> str:
    """A string of a figure with every ``<`` that does not open the workbook's own
    markup shown as text (plotly.js reads ``&lt;`` as ``<``).

    Examples
    --------
    >>> figure_text("<b>T1</b><br>Laptop <a href='http://x'>x</a> <script>")
    "<b>T1</b><br>Laptop &lt;a href='http://x'>x&lt;/a> &lt;script>"
    """
    if "<" not in text:
        return text
    out: list[str] = []
    last = 0
    for tag in _FIGURE_TAG.finditer(text):
        out.append(text[last : tag.start()].replace("<", "&lt;"))
        out.append(tag[0])
        last = tag.end()
    out.append(text[last:].replace("<", "&lt;"))
    return "".join(out)


def _safe_value(value: Any) -> Any:
    if isinstance(value, str):
        return figure_text(value)
    if isinstance(value, dict):
        return {k: _safe_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_safe_value(v) for v in value)
    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "") in "OUS" and hasattr(value, "tolist"):
        import numpy as np

        return np.asarray(_safe_value(value.tolist()), dtype=object)
    return value


def safe_figure(fig: Any) -> Any:
    """A plotly figure (dict or ``go.Figure``) whose every string (title, hover text,
    axis categories, annotations) keeps only the workbook's own markup: a category
    named ``<a href=...>`` is drawn as that text, never as a link. A ``go.Figure`` is
    changed in place and returned; a dict is copied.

    Examples
    --------
    >>> safe_figure({"layout": {"title": {"text": "<b>T1</b> <img src=x>"}}})
    {'layout': {'title': {'text': '<b>T1</b> &lt;img src=x>'}}}
    """
    if isinstance(fig, dict):
        return _safe_value(fig)
    import plotly.graph_objects as go

    safe = _safe_value(fig.to_plotly_json())
    return (
        go.Figure(safe, skip_invalid=True) if not isinstance(fig, go.Figure) else _refill(fig, safe)
    )


def _refill(fig: Any, safe: dict[str, Any]) -> Any:
    with fig.batch_update():
        fig.update_layout(safe.get("layout", {}), overwrite=True)
        for trace, data in zip(fig.data, safe.get("data", []), strict=False):
            trace.update(data, overwrite=True)
    return fig
