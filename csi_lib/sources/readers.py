"""Readers of files, in a registry keyed by suffix: delimited text (CSV, TSV, gz, zip), Excel and Parquet."""

from __future__ import annotations

import contextlib
import csv
import difflib
import gzip
import io
import re
import warnings as pywarnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError, CsiError, InputError
from ..safe import clean_text, restore_cell
from ..schema import (
    _WHOLE_MAX,
    QUARANTINE_COLUMNS,
)
from ..storage import broken_link, require_regular_file
from .mapping import DEFAULT_NA_VALUES

# --------------------------------------------------------------------------------------
# Readers (registry keyed by file suffix)
# --------------------------------------------------------------------------------------


@dataclass
class ReadOptions:
    """What a reader needs to know: missing-value spellings and, for workbooks, the sheet."""

    na_values: list[str] = field(default_factory=lambda: list(DEFAULT_NA_VALUES))
    sheet: str | int | None = None
    #: Columnar formats (Parquet, Arrow/Feather): given the file's column names (stripped),
    #: the ones to read; None reads them all. Text formats read every column.
    select: Callable[[list[str]], list[str]] | None = None


@dataclass
class RawTable:
    """A source table read as text (``str`` columns, NaN for missing), plus warnings."""

    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


Reader = Callable[[Path, ReadOptions], RawTable]
READERS: dict[str, Reader] = {}


def register_reader(*suffixes: str) -> Callable[[Reader], Reader]:
    """Register a reader for file suffixes (lower case, with the dot: ``".csv.gz"``)."""

    def deco(func: Reader) -> Reader:
        for s in suffixes:
            READERS[s.lower()] = func
        return func

    return deco


_SAMPLE_BYTES = 1 << 16
_DELIMITERS = ",;\t|"


def _zip_member(zf: zipfile.ZipFile, path: Path) -> str:
    """The one data file of a zip archive: folder entries, macOS metadata (``__MACOSX/``)
    and hidden files (``.DS_Store``) are skipped."""
    members = [
        m
        for m in zf.namelist()
        if not m.endswith("/")
        and not m.startswith("__MACOSX/")
        and not m.rsplit("/", 1)[-1].startswith(".")
    ]
    if len(members) != 1:
        raise InputError(
            f"the zip archive holds {len(members)} files ({', '.join(members[:5])})",
            file=str(path),
            hint="a zip must contain exactly one CSV file",
        )
    return members[0]


#: Environment variable: the most megabytes a compressed export (gzip, zip, a workbook)
#: may expand to (default :data:`DEFAULT_MAX_EXPANDED_MB`).
MAX_EXPANDED_ENV = "CSI_MAX_EXPANDED_MB"
#: Default of :data:`MAX_EXPANDED_ENV`: 2 GB of text, about 14 million requests.
DEFAULT_MAX_EXPANDED_MB = 2048


def max_expanded_bytes() -> int:
    """The most bytes a compressed export may expand to (``$CSI_MAX_EXPANDED_MB``).

    Examples
    --------
    >>> max_expanded_bytes() == DEFAULT_MAX_EXPANDED_MB * 2**20
    True
    """
    import os

    text = os.environ.get(MAX_EXPANDED_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_EXPANDED_MB * 2**20
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise ConfigError(
            f"${MAX_EXPANDED_ENV} is {text!r}, not a number of megabytes",
            column=MAX_EXPANDED_ENV,
            hint=f"set it to a positive number such as {DEFAULT_MAX_EXPANDED_MB}, or unset it",
        )
    return int(value * 2**20)


def _too_big(path: Path, limit: int, *, columnar: bool = False) -> InputError:
    if columnar:
        what = "its text columns expand to"
        first = "compute with --engine duckdb (it reads the file without holding it)"
    else:
        what = "it expands to"
        first = "decompress it first (a plain CSV of any size is read in blocks)"
    return InputError(
        f"{what} more than {limit / 2**20:,.0f} MB once decompressed (a file made to "
        "exhaust memory, or a very large export)",
        file=str(path),
        hint=f"if the export is genuine, {first} or raise the limit with the environment "
        f"variable {MAX_EXPANDED_ENV} (in MB)",
    )


class TextBudget:
    """Counts the text a columnar file (Parquet, Arrow) expands to, batch by batch, and
    refuses it beyond :func:`max_expanded_bytes`: a few kilobytes of Parquet can hold
    millions of copies of a long string (dictionary pages and zstd), gigabytes once read.
    Text is what expands: numbers and timestamps take their fixed width.

    Examples
    --------
    >>> import pyarrow as pa
    >>> budget = TextBudget(Path("x.parquet"), limit=100)
    >>> budget.add(pa.record_batch({"c": ["a" * 60]})).num_rows
    1
    >>> budget.add(pa.record_batch({"c": ["a" * 60]}))
    Traceback (most recent call last):
    ...
    csi_lib.errors.InputError: file 'x.parquet': its text columns expand to more than 0 MB once decompressed (a file made to exhaust memory, or a very large export). If the export is genuine, compute with --engine duckdb (it reads the file without holding it) or raise the limit with the environment variable CSI_MAX_EXPANDED_MB (in MB).
    """

    def __init__(self, path: Path, limit: int | None = None) -> None:
        self.path, self.size = path, 0
        self.limit = max_expanded_bytes() if limit is None else limit

    def add(self, batch: Any) -> Any:
        """``batch`` itself, once its text is counted (:class:`InputError` past the limit)."""
        self.size += _text_bytes(batch)
        if self.size > self.limit:
            raise _too_big(self.path, self.limit, columnar=True)
        return batch


def _text_bytes(batch: Any) -> int:
    """The bytes of a record batch's text and binary columns (a dictionary column: its
    values), as held in memory."""
    import pyarrow as pa

    size = 0
    for column in batch.columns:
        kind = column.type
        if pa.types.is_dictionary(kind):
            column, kind = column.dictionary, kind.value_type
        if (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind)
            or pa.types.is_string_view(kind)
        ):
            size += column.nbytes
    return size


class _Bounded(io.RawIOBase):
    """A decompressing file object that refuses to give more than ``limit`` bytes, and
    words a damaged or truncated archive as :class:`InputError`."""

    def __init__(self, raw: Any, path: Path, limit: int) -> None:
        self._raw, self._path, self._limit, self.given = raw, path, limit, 0
        self.name = str(path)  # pandas reads a name, never decompresses again (compression=None)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._raw.read(len(buffer))
        except (EOFError, OSError, zipfile.BadZipFile, zlib.error) as exc:
            raise _damaged(self._path, exc) from None
        self.given += len(data)
        if self.given > self._limit:
            raise _too_big(self._path, self._limit)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.close()
        super().close()


def _damaged(path: Path, exc: BaseException) -> InputError:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError):
        what = (
            f"it cannot be read: the compressed data ends before its end marker ({detail}), "
            "so the file is incomplete"
        )
    else:
        what = f"it cannot be read ({detail})"
    return InputError(
        what,
        file=str(path),
        hint="download or copy the export again and check that it is complete, and that "
        "its suffix matches its format",
    )


def _check_zip_sizes(zf: zipfile.ZipFile, path: Path, names: Iterable[str] | None = None) -> None:
    """Refuse an archive whose members (or ``names``) declare more than the expansion
    limit (a zip member is never read beyond its declared size)."""
    limit = max_expanded_bytes()
    infos = zf.infolist() if names is None else [zf.getinfo(n) for n in names]
    if sum(i.file_size for i in infos) > limit:
        raise _too_big(path, limit)


def _check_gzip_size(path: Path) -> None:
    """Decompress a gzip file once without keeping anything (constant memory), so a file
    that expands beyond :func:`max_expanded_bytes`, or ends early, is refused before the
    parser holds any of it (a parser holding 2 GB of rows needs many times that)."""
    limit = max_expanded_bytes()
    size = 0
    try:
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(1 << 22):
                size += len(chunk)
                if size > limit:
                    raise _too_big(path, limit)
    except (EOFError, OSError, zlib.error) as exc:
        raise _damaged(path, exc) from None


@contextlib.contextmanager
def _text_source(path: Path) -> Iterator[Any]:
    """What the CSV parser reads: the path, or the decompressed text of a gzip file or of
    the data file of a zip archive, never more than :func:`max_expanded_bytes`."""
    name = path.name.lower()
    if name.endswith(".gz"):
        with _Bounded(gzip.open(path, "rb"), path, max_expanded_bytes()) as fh:
            yield fh
        return
    if not name.endswith(".zip"):
        yield path
        return
    with zipfile.ZipFile(path) as zf:
        member = _zip_member(zf, path)
        _check_zip_sizes(zf, path, [member])
        with _Bounded(zf.open(member), path, max_expanded_bytes()) as fh:
            yield fh


def _head_bytes(path: Path) -> bytes:
    """The first bytes of the (decompressed) text."""
    try:
        with _text_source(path) as source:
            if isinstance(source, Path):
                with open(source, "rb") as fh:
                    return fh.read(_SAMPLE_BYTES)
            return source.read(_SAMPLE_BYTES)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(
            f"it cannot be read ({exc})",
            file=str(path),
            hint="check that the file is complete and that its suffix matches its format",
        ) from None


def _header_cells(sample: bytes, encoding: str, sep: str) -> list[Any] | None:
    """The header row of delimited text as written (first non-blank row of ``sample``)."""
    text = sample.decode(encoding, errors="ignore")
    for row in csv.reader(io.StringIO(text), delimiter=sep):
        if any(cell.strip() for cell in row):
            return list(row)
    return None


def _sniff_delimiter(text: str, default: str) -> str:
    """The candidate delimiter occurring most in the header line (ties: ``default``)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts.values())
    if best == 0 or counts.get(default, 0) == best:
        if best == 0:
            try:
                return csv.Sniffer().sniff(text[:4096], delimiters=_DELIMITERS).delimiter
            except csv.Error:
                return default
        return default
    return max(counts, key=lambda d: counts[d])


def _unmangle(frame: pd.DataFrame, header: list[Any] | None) -> None:
    """Give back header names that pandas made unique (a second 'category' becomes
    'category.1'), so that a mapping reading a repeated column can be told so."""
    names = [str(c) for c in frame.columns]
    if not header or len(header) != len(names):
        return
    frame.columns = [
        str(h) if isinstance(h, str) and n != h and re.fullmatch(re.escape(h) + r"\.\d+", n) else n
        for h, n in zip(header, names, strict=True)
    ]


def _mangled(frame: pd.DataFrame) -> bool:
    """Whether pandas may have renamed a repeated header name ('x' and 'x.1')."""
    names = {str(c) for c in frame.columns}
    return any(re.sub(r"\.\d+$", "", n) in names for n in names if re.search(r"\.\d+$", n))


def _not_text(path: Path, sample: bytes) -> InputError:
    kind = "a zip or Excel file" if sample.startswith(b"PK\x03\x04") else "binary data"
    return InputError(
        f"it is not a text file (it looks like {kind})",
        file=str(path),
        hint="export the data as CSV, or give the file the suffix of its real format "
        "(.xlsx, .parquet, .zip)",
    )


def _wide_encoding(sample: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte-order mark, judged by where the zero bytes of
    ASCII text fall (``a\\0b\\0`` is UTF-16-LE); None when the zeros follow no pattern."""
    head = sample[: len(sample) // 4 * 4]
    if len(head) < 8:
        return None
    for name, width, zero_at in (
        ("utf-32-le", 4, (1, 2, 3)),
        ("utf-32-be", 4, (0, 1, 2)),
        ("utf-16-le", 2, (1,)),
        ("utf-16-be", 2, (0,)),
    ):
        if all(head[i::width].count(0) >= 0.9 * len(head[i::width]) for i in zero_at) and all(
            head[i::width].count(0) < 0.5 * len(head[i::width])
            for i in range(width)
            if i not in zero_at
        ):
            try:
                head.decode(name)
            except UnicodeDecodeError:
                continue
            return name
    return None


def _text_with_nul_bytes(sample: bytes) -> bool:
    r"""Whether ``sample`` is text apart from its NUL bytes: without them it decodes as
    UTF-8 or is written in a single-byte encoding, and holds (almost) no other control
    byte. Compressed or binary data holds many and is refused as binary.

    Examples
    --------
    >>> _text_with_nul_bytes(b"request_id,category\nR1,Lap\x00top\n")
    True
    >>> _text_with_nul_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    False
    """
    text = sample.replace(b"\x00", b"")
    if not text.strip():
        return False
    controls = sum(text.count(bytes([b])) for b in range(32) if b not in (9, 10, 13))
    if controls > len(text) // 1000:
        return False
    try:
        text[: len(text) - 4].decode("utf-8")
    except UnicodeDecodeError:
        high = sum(1 for b in text if b >= 0x80)
        return high <= len(text) // 10  # accented letters, not random bytes
    return True


def _encodings(path: Path, sample: bytes) -> list[str]:
    """The encodings to try, in order, judged from the file's first bytes: UTF-32 or
    UTF-16 with a BOM, or without one when the zero bytes show it; UTF-8 (with or
    without BOM), then Windows-1252, then Latin-1."""
    if not sample.strip():
        raise InputError(
            "the file is empty", file=str(path), hint="export the data again, with a header row"
        )
    if sample.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return ["utf-32"]  # its BOM starts like UTF-16's: tested first
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ["utf-16"]
    if b"\x00" in sample:
        wide = _wide_encoding(sample)
        if wide is not None:
            return [wide]
        if not _text_with_nul_bytes(sample):
            raise _not_text(path, sample)
        # stray NUL bytes in text (a database field, a padded copy): read; the loader
        # removes them from the values with a warning naming the column
    try:
        sample[: len(sample) - 4].decode("utf-8")
        return ["utf-8-sig", "cp1252", "latin-1"]
    except UnicodeDecodeError:
        return ["cp1252", "latin-1"]


def _read_with_arrow(
    path: Path, sample: bytes, sep: str, csv_options: dict[str, Any]
) -> pd.DataFrame | None:
    """UTF-8 text read by the multi-threaded Arrow parser; None for anything it cannot
    handle (odd quoting, line breaks inside fields, invalid UTF-8)."""
    try:
        with _text_source(path) as source:
            frame = pd.read_csv(source, engine="pyarrow", encoding="utf-8", **csv_options)
        if _mangled(frame):
            _unmangle(frame, _header_cells(sample, "utf-8-sig", sep))
        return frame
    except CsiError:
        raise  # too big once decompressed, or a truncated archive
    except Exception:  # noqa: BLE001 - fall back to the slower, more forgiving parser
        return None


def _read_with_pandas(
    path: Path, encoding: str, sep: str, csv_options: dict[str, Any]
) -> pd.DataFrame:
    """The C parser's read in ``encoding``; its parse errors as :class:`InputError` naming
    the row (a UnicodeDecodeError passes: the next encoding is tried)."""
    try:
        with pywarnings.catch_warnings():
            # every data row longer than the header: pandas would silently use the first
            # column as the index (index_col=False stops that) or drop the extra fields
            pywarnings.simplefilter("error", pd.errors.ParserWarning)
            with _text_source(path) as source:
                return pd.read_csv(source, encoding=encoding, index_col=False, **csv_options)
    except pd.errors.ParserWarning:
        raise InputError(
            f"the data rows have more fields than the header row (delimiter {sep!r})",
            file=str(path),
            row=1,
            hint="add the missing column names to the header, or remove the extra "
            "fields (a cell holding the delimiter must be quoted)",
        ) from None
    except pd.errors.EmptyDataError:
        raise InputError(
            "the file is empty", file=str(path), hint="export the data again, with a header row"
        ) from None
    except pd.errors.ParserError as exc:
        detail = " ".join(str(exc).split())
        line = re.search(r"line (\d+)", detail)
        # "EOF inside string starting at row N": N counts the header as row 0
        quote = re.search(r"starting at row (\d+)", detail)
        raise InputError(
            f"it cannot be parsed as delimited text with delimiter {sep!r} ({detail})",
            file=str(path),
            row=int(line.group(1)) - 1 if line else int(quote.group(1)) if quote else None,
            hint="check the quotes on that line; every row needs as many fields as the header",
        ) from None
    except UnicodeDecodeError:
        raise
    except (EOFError, zlib.error, zipfile.BadZipFile) as exc:  # a truncated or damaged archive
        raise _damaged(path, exc) from None
    except ValueError as exc:  # e.g. a zip with several files
        raise InputError(f"it cannot be read ({exc})", file=str(path)) from None
    except OSError as exc:  # gzip.BadGzipFile, a CRC error, a read error
        raise _damaged(path, exc) from None


@register_reader(".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz", ".gz", ".zip", ".csv.zip")
def read_delimited(path: Path, options: ReadOptions) -> RawTable:
    """Read delimited text (plain, gzip or a zip of one file); delimiter sniffed.

    Encoding: UTF-8 (with or without BOM); otherwise Windows-1252, then Latin-1,
    with a warning. UTF-16 with a BOM is accepted.
    """
    if path.name.lower().endswith(".gz"):
        _check_gzip_size(path)
    sample = _head_bytes(path)
    encodings = _encodings(path, sample)
    default = "\t" if ".tsv" in path.name.lower() else ","
    sep = _sniff_delimiter(sample.decode(encodings[0], errors="ignore"), default)
    csv_options = {
        "sep": sep,
        "dtype": str,
        "keep_default_na": False,
        "na_values": options.na_values,
        "compression": None,  # gzip and zip are decompressed by _text_source, bounded
    }
    if encodings[0] == "utf-8-sig":
        frame = _read_with_arrow(path, sample, sep, csv_options)
        if frame is not None:
            return RawTable(frame, [])
    for i, encoding in enumerate(encodings):
        try:
            frame = _read_with_pandas(path, encoding, sep, csv_options)
        except UnicodeDecodeError:
            if i == len(encodings) - 1:
                raise
            continue
        if _mangled(frame):
            _unmangle(frame, _header_cells(sample, encoding, sep))
        warnings = []
        if encoding not in ("utf-8-sig", "utf-16", "utf-32") and not encoding.startswith("utf-"):
            warnings.append(
                f"'{path.name}' is not UTF-8; it was read as {encoding}. Check accented "
                "characters, or export the file as UTF-8"
            )
        return RawTable(frame, warnings)
    raise AssertionError("unreachable")  # pragma: no cover


@register_reader(".xlsx", ".xlsm", ".xls")
def read_excel(path: Path, options: ReadOptions) -> RawTable:
    """Read one sheet of a workbook (``options.sheet``; else the first, with a warning
    if there are several)."""
    warnings: list[str] = []
    try:
        if zipfile.is_zipfile(path):  # .xlsx: a zip of XML parts, bounded like any archive
            with zipfile.ZipFile(path) as zf:
                _check_zip_sizes(zf, path)
        book = pd.ExcelFile(path)
    except CsiError:
        raise
    except ImportError:
        raise InputError(
            "old .xls workbooks need the xlrd package, which is not installed",
            file=str(path),
            hint="save the workbook as .xlsx (or CSV) and load that",
        ) from None
    except (zipfile.BadZipFile, ValueError, OSError, KeyError) as exc:
        raise InputError(
            f"it is not a readable Excel workbook ({exc})",
            file=str(path),
            hint="open it in Excel and save it again as .xlsx, or export CSV",
        ) from None
    with book:
        names = [str(n) for n in book.sheet_names]
        if options.sheet is None:
            sheet: str | int = names[0]
            if len(names) > 1:
                warnings.append(
                    f"'{path.name}' has {len(names)} sheets ({', '.join(names)}); the first, "
                    f"'{names[0]}', was read. Name the sheet to read another"
                )
        elif isinstance(options.sheet, int):
            if not 0 <= options.sheet < len(names):
                raise InputError(
                    f"there is no sheet number {options.sheet}; the workbook has {len(names)}",
                    file=str(path),
                    hint=f"sheets: {', '.join(names)}",
                )
            sheet = options.sheet
        elif options.sheet not in names and str(options.sheet).isdigit():
            return read_excel(path, ReadOptions(options.na_values, int(options.sheet)))
        else:
            if options.sheet not in names:
                close = difflib.get_close_matches(options.sheet, names, n=1)
                raise InputError(
                    f"there is no sheet named '{options.sheet}'",
                    file=str(path),
                    hint=(f"did you mean '{close[0]}'? " if close else "")
                    + f"The sheets are: {', '.join(names)}",
                )
            sheet = options.sheet
        frame = pd.read_excel(
            book, sheet_name=sheet, dtype=str, keep_default_na=False, na_values=options.na_values
        )
        if _mangled(frame):
            header = pd.read_excel(book, sheet_name=sheet, header=None, nrows=1, dtype=str)
            _unmangle(frame, header.iloc[0].tolist() if len(header) else None)
    if frame.columns.size == 0:
        raise InputError(
            f"the sheet '{sheet}' is empty", file=str(path), hint="choose the sheet with the data"
        )
    return RawTable(frame, warnings)


def _bytes_as_text(s: pd.Series, column: str, warnings: list[str] | None) -> pd.Series:
    """Byte values (a database BLOB) as text: UTF-8, and where they are not UTF-8, with
    the replacement character for each byte that is not, counted in a warning."""
    is_bytes = s.map(lambda v: isinstance(v, bytes | bytearray | memoryview), na_action="ignore")
    is_bytes = is_bytes.fillna(False).astype(bool)
    if not is_bytes.any():
        return s
    bad = 0
    example = None

    def decode(value: Any) -> str:
        nonlocal bad, example
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
            example = example or raw
            return raw.decode("utf-8", errors="replace")

    out = s.astype(object).copy()
    out[is_bytes] = s[is_bytes].map(decode)
    if bad and warnings is not None:
        warnings.append(
            f"{bad:,} value(s) of '{column}' are bytes that are not UTF-8 text (e.g. "
            f"{example[:40]!r}); they were read with \ufffd in place of each byte that is "
            "not. Store the column as text in UTF-8, or convert it in the query"
        )
    return out


def _frame_as_text(
    frame: pd.DataFrame, na_values: Iterable[str], warnings: list[str] | None = None
) -> pd.DataFrame:
    """Typed columns (SQL) as text; timezone-aware or naive datetimes kept as they are;
    byte values (BLOBs) decoded as UTF-8, any that are not counted in ``warnings``."""
    na = list(na_values)
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[str(col)] = s
            continue
        if s.dtype == object:
            s = _bytes_as_text(s, str(col), warnings)
        missing = s.isna()
        if pd.api.types.is_float_dtype(s.dtype) and (s[~missing] % 1 == 0).all():
            s = s.astype("Int64")  # whole numbers as "1", as a CSV or a workbook gives them
        s = s.astype("str").mask(missing)
        out[str(col)] = s.mask(s.isin(na)) if na else s
    return pd.DataFrame(out, index=frame.index)


def _is_typed(dtype: Any) -> bool:
    """A column the loader takes with its own type: datetimes, booleans, numbers, categories."""
    return (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
        or (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_object_dtype(dtype))
    )


def _frame_typed(frame: pd.DataFrame, na_values: Iterable[str]) -> pd.DataFrame:
    """A columnar file's frame: typed columns kept (see :func:`_is_typed`), others as text."""
    na = list(na_values)
    out = {}
    for col in frame.columns:
        s = frame[col]
        whole = s.dropna() if pd.api.types.is_float_dtype(s.dtype) else None
        # whole numbers (an id, a count) as in the other readers; one beyond what a float
        # holds exactly (1e30, infinity) keeps the column a float, for validation to judge
        if whole is not None and ((whole % 1 == 0) & (whole.abs() <= _WHOLE_MAX)).all():
            s = s.astype("Int64")
        elif not _is_typed(s.dtype):
            s = s.astype("str")
            s = s.mask(s.isin(na)) if na else s
        out[str(col)] = s
    return pd.DataFrame(out, index=frame.index)


#: Arrow types read as pandas' nullable types (a missing value does not turn them into
#: object or float columns).
_NULLABLE: dict[Any, Any] = {}


def _nullable_types() -> dict[Any, Any]:
    import pyarrow as pa

    if not _NULLABLE:
        _NULLABLE[pa.bool_()] = pd.BooleanDtype()
        for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"):
            _NULLABLE[getattr(pa, name)()] = pd.Int64Dtype()
    return _NULLABLE


def _columns_to_read(names: list[str], options: ReadOptions) -> list[str] | None:
    """The raw column names of a columnar file to read (None: all of them)."""
    if options.select is None:
        return None
    clean = [str(n).strip().lstrip("\ufeff") for n in names]
    if len(set(clean)) != len(clean):
        return None  # names that differ only by spaces: read all, the loader words the error
    raw_of = dict(zip(clean, names, strict=True))
    return [raw_of[c] for c in options.select(clean)]


def _is_arrow_file(path: Path) -> bool:
    """Whether ``path`` is an Arrow IPC *file* (Feather v2: it starts with ``ARROW1``), not
    an IPC *stream* (which starts with a message: ``0xFFFFFFFF`` and its length)."""
    with open(path, "rb") as fh:
        head = fh.read(6)
    return head == b"ARROW1" or not head.startswith(b"\xff\xff\xff\xff")


#: Rows per batch of a columnar file read whole (each batch's text is counted).
_BATCH_ROWS = 1 << 16


def _bounded_table(path: Path, schema: Any, batches: Iterable[Any], chosen: list[str] | None):
    """The table of an Arrow file's ``batches`` (only the ``chosen`` columns), its text
    counted batch by batch (:class:`TextBudget`): compressed Arrow expands as it is read."""
    import pyarrow as pa

    budget = TextBudget(path)
    if chosen is not None:
        schema = pa.schema([schema.field(c) for c in chosen], metadata=schema.metadata)
    picked = (b.select(chosen) if chosen is not None else b for b in batches)
    return pa.Table.from_batches([budget.add(b) for b in picked], schema=schema)


def _read_columnar(path: Path, options: ReadOptions, kind: str) -> RawTable:
    """Parquet or Arrow IPC (Feather v2) with pyarrow: only the selected columns, with their
    types (timestamps stay timestamps, numbers stay numbers, dictionary columns become
    categories); text columns stay text for the mapping's rules."""
    import pyarrow as pa

    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            file = pq.ParquetFile(path)
            chosen = _columns_to_read(file.schema_arrow.names, options)
            batches = file.iter_batches(_BATCH_ROWS, columns=chosen)
            table = _bounded_table(path, file.schema_arrow, batches, chosen)
        elif not _is_arrow_file(path):  # the IPC stream format: no footer, read in order
            with pa.memory_map(str(path)) as source:
                reader = pa.ipc.open_stream(source)
                chosen = _columns_to_read(reader.schema.names, options)
                table = _bounded_table(path, reader.schema, iter(reader), chosen)
        else:
            # not Arrow at all: ArrowInvalid, worded below (before: "the file's columns are: .")
            with pa.memory_map(str(path)) as source:
                reader = pa.ipc.open_file(source)
                chosen = _columns_to_read(reader.schema.names, options)
                batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
                table = _bounded_table(path, reader.schema, batches, chosen)
        # nullable booleans and integers stay booleans and integers (not object / float)
        # each Arrow column is freed as soon as it is converted (the peak is about one
        # copy, not two), and the freed memory goes back to the system
        frame = table.to_pandas(
            types_mapper=_nullable_types().get, split_blocks=True, self_destruct=True
        )
        del table
        pa.default_memory_pool().release_unused()
    except CsiError:
        raise
    except (MemoryError, pa.ArrowMemoryError):
        raise InputError(
            "it needs more memory than this machine gives to read it whole",
            file=str(path),
            hint="compute with --engine duckdb (it reads the file without holding it), or "
            "export fewer months",
        ) from None
    except Exception as exc:  # pyarrow raises several types for a damaged file
        what = "Parquet" if kind == "parquet" else "Arrow (Feather)"
        raise InputError(
            f"it is not a readable {what} file ({type(exc).__name__}: {exc})",
            file=str(path),
            hint=f"check that the file is complete and really {what}",
        ) from None
    return RawTable(_frame_typed(frame, options.na_values))


@register_reader(".parquet", ".pq")
def read_parquet(path: Path, options: ReadOptions) -> RawTable:
    """Read a Parquet file with its column types (see :func:`_read_columnar`)."""
    return _read_columnar(path, options, "parquet")


@register_reader(".feather", ".arrow", ".arrows", ".ipc")
def read_arrow(path: Path, options: ReadOptions) -> RawTable:
    """Read an Arrow IPC file (Feather v2), memory-mapped, or an IPC stream, with its
    column types."""
    return _read_columnar(path, options, "arrow")


def _reader_for(path: Path) -> Reader:
    suffixes = [s.lower() for s in path.suffixes]
    for n in (2, 1):
        key = "".join(suffixes[-n:])
        if len(suffixes) >= n and key in READERS:
            return READERS[key]
    raise InputError(
        f"files with the suffix '{path.suffix or '(none)'}' cannot be read",
        file=str(path),
        hint=f"supported: {', '.join(sorted(READERS))}, or a SQLAlchemy URL with a query",
    )


def _from_quarantine(frame: pd.DataFrame) -> pd.DataFrame:
    """A quarantine file (fixed by hand) read again: the rows as they were read from the
    source. The leading ``source_row, request_id, column, reason`` are set aside, a source
    column renamed ``<name> (source)`` gets its name back, and the quote that kept a
    formula-like cell from running in a spreadsheet is taken off (see :mod:`csi_lib.safe`)."""
    out = frame.iloc[:, len(QUARANTINE_COLUMNS) :]
    names = [restore_cell(str(c)) for c in out.columns]
    names = [
        n.removesuffix(" (source)") if n.removesuffix(" (source)") in QUARANTINE_COLUMNS else n
        for n in names
    ]
    columns = []
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if pd.api.types.is_string_dtype(s.dtype):
            s = s.map(restore_cell, na_action="ignore")
        columns.append(s.rename(names[i]))
    return pd.concat(columns, axis=1)


def read_table(path: str | Path, options: ReadOptions | None = None) -> RawTable:
    """Read a file with the reader registered for its suffix (all columns as text).

    Raises
    ------
    InputError
        Missing file, unknown suffix, not text, empty, or header only.
    """
    path = Path(path)
    if not path.exists():
        broken = broken_link(path)
        if broken:
            raise InputError(broken, file=str(path), hint="give the path of the export itself")
        siblings = [p.name for p in path.parent.glob("*") if p.name != path.name]
        close = difflib.get_close_matches(path.name, siblings, n=3)
        raise InputError(
            "the file does not exist",
            file=str(path),
            hint=f"did you mean {', '.join(close)}?" if close else "check the path",
        )
    if path.is_dir():
        raise InputError("it is a folder, not a file", file=str(path), hint="give the export file")
    reader = _reader_for(path)
    require_regular_file(path, what="export")  # a pipe or a device is never opened
    table = reader(path, options or ReadOptions())
    header = [str(c).strip().lstrip("\ufeff") for c in table.frame.columns]
    cleaned = [clean_text(c).strip() for c in header]
    changed = [h for h, c in zip(header, cleaned, strict=True) if h != c]
    if changed:  # a NUL or another control character in a header name
        table.warnings.append(
            f"{len(changed)} column name(s) held control characters (e.g. {changed[0]!r}); "
            f"they were removed, so the name reads {clean_text(changed[0]).strip()!r}"
        )
    table.frame.columns = cleaned
    if list(table.frame.columns[: len(QUARANTINE_COLUMNS)]) == list(QUARANTINE_COLUMNS):
        table.frame = _from_quarantine(table.frame)
    if len(table.frame) == 0:
        raise InputError(
            "the file has a header row but no data rows",
            file=str(path),
            hint="check the export filter (it may have matched no requests)",
        )
    return table
