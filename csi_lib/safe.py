"""Safe output: spreadsheet formula neutralisation and HTML escaping.

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage
return) is run as a formula by Excel and LibreOffice ("CSV injection"). Text
cells written to CSV or Excel are prefixed with a single quote so they are
shown as text. Numbers are left alone (a negative number is not a formula).
"""

from __future__ import annotations

import html

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


def neutralise_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) cannot run as formulas."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if (
            s.dtype == object
            or pd.api.types.is_string_dtype(s)
            or isinstance(s.dtype, pd.CategoricalDtype)
        ):
            out[col] = s.astype(object).map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def escape(text: object) -> str:
    """HTML-escape any user-written text (quotes included)."""
    return html.escape("" if text is None else str(text), quote=True)
