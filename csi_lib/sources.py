"""Loading request exports (files or SQL) through a mapping onto the canonical frame.

A *mapping* (YAML, see DESIGN.md "Mapping file") says which source column
holds each canonical column, how outcomes and SLA flags are spelled, the
timezone and date format of the timestamps, and which extra columns to keep.
Built-in presets live in ``csi_lib/presets/*.yaml``.

Everything is read as text first, so that the mapping alone controls parsing;
parsing is vectorised (a million rows load in seconds). Only mapped canonical
columns and the columns named in ``keep`` survive: names, e-mails and free
text in the export never reach the canonical frame.

Examples
--------
>>> res = load_requests("export.csv", preset="servicenow", quarantine_dir="out")  # doctest: +SKIP
>>> res.summary()["rows_quarantined"]                                              # doctest: +SKIP
3
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import gzip
import hashlib
import io
import os
import re
import warnings as pywarnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError, CsiError, InputError
from .events import EventCounts, Events, Rule, check_mapping, fold_events, parse_rule
from .safe import neutralise_csv_frame, restore_cell
from .schema import (
    CANONICAL_COLUMNS,
    CLOSED_OUTCOMES,
    COLUMNS,
    DATE_RANGE_TEXT,
    DATETIME_COLUMNS,
    OUTCOMES,
    QUARANTINE_COLUMNS,
    REQUIRED_COLUMNS,
    parse_booleans,
    parse_datetimes,
    validate,
    value_columns,
)
from .storage import atomic_write, sha256_file
from .yamlio import compose_yaml

__all__ = [
    "Mapping",
    "LoadResult",
    "ReadOptions",
    "RawTable",
    "READERS",
    "register_reader",
    "list_presets",
    "load_mapping",
    "read_table",
    "load_requests",
    "data_quality",
    "redact_url",
]

# --------------------------------------------------------------------------------------
# Mapping model
# --------------------------------------------------------------------------------------

CANONICAL_NAMES: tuple[str, ...] = tuple(c.name for c in CANONICAL_COLUMNS)
CanonicalName = Literal[CANONICAL_NAMES]  # type: ignore[valid-type]
OutcomeName = Literal[OUTCOMES]  # type: ignore[valid-type]
#: A date later than the time of loading plus this is quarantined as "<column> in the future"
#: (the margin absorbs a wrong source timezone).
FUTURE_TOLERANCE = pd.Timedelta(days=1)
DEFAULT_NA_VALUES: list[str] = ["", "NULL", "null", "NaN", "N/A", "n/a", "#N/A"]


def _scalar_to_str(value: Any) -> Any:
    """YAML reads ``3`` and ``true`` as int / bool; source values are text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_scalar_to_str)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Dedupe(_Strict):
    """Event-log exports: keep the last row of each request after sorting by ``order_by``."""

    order_by: Text


class OutcomeMapping(_Strict):
    """Which source values mean which canonical outcome (compared case-insensitively)."""

    column: Text
    values: dict[OutcomeName, list[Text]]
    default: OutcomeName | None = "open"

    @model_validator(mode="after")
    def _no_value_twice(self) -> OutcomeMapping:
        seen: dict[str, str] = {}
        for outcome, vals in self.values.items():
            for v in vals:
                key = v.strip().lower()
                if key in seen and seen[key] != outcome:
                    raise ValueError(
                        f"the value '{v}' is listed under both {seen[key]} and {outcome}"
                    )
                seen[key] = outcome
        return self


class SlaMetMapping(_Strict):
    """A yes/no SLA column: ``true_values`` are met; with ``false_values`` also given,
    anything else is unknown, otherwise anything else (not empty) is not met."""

    column: Text
    true_values: list[Text]
    false_values: list[Text] | None = None


DeriveRule = Annotated[Rule, BeforeValidator(parse_rule)]


class Mapping(_Strict):
    """A mapping file (DESIGN.md "Mapping file (YAML)"; ``events:`` / ``derive:`` in
    "Event logs", see :mod:`csi_lib.events`).

    Keys beyond DESIGN.md: ``description``; ``dayfirst`` (when inferring dates,
    read 01/02 as 1 February); ``optional`` (canonical or kept names whose source
    column may be absent: left empty with a warning); ``keep`` (source columns to
    keep as extra breakdown dimensions). A ``columns`` value may be a list of
    alternative source names (the first one present is used).

    Examples
    --------
    >>> m = Mapping(name="x", columns={"request_id": "Key", "opened_at": "Created"})
    >>> m.timezone, m.outcome is None
    ('UTC', True)
    """

    name: Text
    description: str | None = None
    timezone: str = "UTC"
    datetime_format: str | None = None
    dayfirst: bool = False
    na_values: list[Text] = DEFAULT_NA_VALUES
    dedupe: Dedupe | None = None
    events: Events | None = None
    derive: dict[CanonicalName, DeriveRule] = {}
    columns: dict[CanonicalName, Text | list[Text]]
    optional: list[Text] = []
    outcome: OutcomeMapping | None = None
    sla_met: SlaMetMapping | None = None
    keep: list[Text] = []

    _path: str | None = PrivateAttr(default=None)
    _preset: str | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(value, _zone_names(), n=3)
            raise ValueError(
                f"unknown timezone '{value}'"
                + (f"; did you mean {', '.join(close)}?" if close else "")
                + " Use an IANA name such as Europe/London"
            ) from None
        return value

    @field_validator("datetime_format")
    @classmethod
    def _usable_format(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            pd.to_datetime(pd.Series(["2025-01-31 10:00"]), format=value, errors="coerce")
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"the format '{value}' cannot be used ({exc}); write it with strftime codes "
                "such as %d/%m/%Y %H:%M, or null to infer"
            ) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Mapping:
        if self.outcome is not None and "outcome" in self.columns:
            raise ValueError(
                "give the outcome either under columns: or as an outcome: block, not both"
            )
        if self.sla_met is not None and "sla_met" in self.columns:
            raise ValueError("give sla_met either under columns: or as an sla_met: block, not both")
        check_mapping(self.events, self.derive, self.dedupe, self.columns)
        return self

    @property
    def path(self) -> str | None:
        """The mapping file this was read from (None for a dict or a preset)."""
        return self._path

    @property
    def preset(self) -> str | None:
        """The built-in preset this is (None for a user's mapping)."""
        return self._preset

    @property
    def label(self) -> str:
        """How messages refer to this mapping: ``mapping file <path>`` or ``preset '<name>'``."""
        if self._path:
            return f"mapping file {self._path}"
        if self._preset:
            return f"preset '{self._preset}'"
        return f"mapping '{self.name}'"


def _zone_names() -> list[str]:
    import zoneinfo

    return sorted(zoneinfo.available_timezones())


#: Models at each place in the mapping file (for "did you mean" on unknown keys).
_MODEL_AT: dict[tuple[str, ...], type[BaseModel]] = {
    (): Mapping,
    ("dedupe",): Dedupe,
    ("events",): Events,
    ("outcome",): OutcomeMapping,
    ("sla_met",): SlaMetMapping,
}
#: Valid dict keys at each place.
_KEYS_AT: dict[tuple[str, ...], tuple[str, ...]] = {
    ("columns",): CANONICAL_NAMES,
    ("derive",): CANONICAL_NAMES,
    ("outcome", "values"): OUTCOMES,
}


def _find_node(root: yaml.Node | None, loc: tuple[str | int, ...]) -> yaml.Node | None:
    """The YAML node of the key (or item) at ``loc``, or the deepest node found."""
    node = root
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    if last:
                        return key
                    node = value
                    break
            else:
                return node
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            return node
    return node


def _check_duplicate_keys(node: yaml.Node | None, file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                raise ConfigError(
                    f"the key '{key.value}' appears twice",
                    file=file,
                    column=str(key.value),
                    row=key.start_mark.line + 1,
                    hint="keep one of them",
                )
            seen.add(key.value)
            _check_duplicate_keys(value, file)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicate_keys(item, file)


def _mapping_error(exc: ValidationError, root: yaml.Node | None, file: str) -> ConfigError:
    """One-paragraph error for the first problem pydantic found, with line and suggestion."""
    # a misspelt key also makes the right key "missing": report the misspelling first
    errors = sorted(exc.errors(), key=lambda e: e["type"] == "missing")
    err = errors[0]
    loc = tuple(err["loc"])
    is_key = bool(loc) and loc[-1] == "[key]"
    path = tuple(p for p in loc if p != "[key]" and not (isinstance(p, str) and "[" in p))
    path = tuple(p for p in path if p not in ("str", "list"))
    node = _find_node(root, path)
    line = node.start_mark.line + 1 if node is not None else None
    dotted = ".".join(str(p) for p in path) or None
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    hint = None
    if err["type"] == "extra_forbidden" or is_key:
        key = str(path[-1])
        parent = tuple(str(p) for p in path[:-1])
        if is_key:
            valid = list(_KEYS_AT.get(parent, ()))
        else:
            model = _MODEL_AT.get(parent)
            valid = list(model.model_fields) if model else []
        where = f" under '{'.'.join(parent)}'" if parent else ""
        message = f"unknown key '{key}'{where}{more}"
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        hint = (f"did you mean '{close[0]}'? " if close else "") + (
            f"Valid keys here: {', '.join(valid)}" if valid else ""
        )
    elif err["type"] == "missing":
        message = f"the key '{path[-1]}' is required but missing{more}"
        hint = "see the example mapping data/mappings/my-export.yaml"
    else:
        msg = err["msg"].removeprefix("Value error, ")
        message = msg + more
        if err["type"].startswith("literal") and path:
            close = difflib.get_close_matches(str(err.get("input")), OUTCOMES, n=1)
            hint = f"did you mean '{close[0]}'?" if close else None
    return ConfigError(message, file=file, column=dotted, row=line, hint=hint)


def _mapping_from_text(text: str, file: str) -> Mapping:
    try:
        root = compose_yaml(text, file)  # refuses recursive or exploding aliases
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"it is not valid YAML ({getattr(exc, 'problem', None) or exc})",
            file=file,
            row=mark.line + 1 if mark is not None else None,
            hint="check the indentation and the quotes on that line",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            "a mapping file must be a set of keys (name:, timezone:, columns:, outcome:, ...)",
            file=file,
            hint="see the example mapping data/mappings/my-export.yaml",
        )
    _check_duplicate_keys(root, file)
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        raise _mapping_error(exc, root, file) from None
    mapping._path = file
    return mapping


# --------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------


def _preset_files() -> dict[str, Any]:
    folder = resources.files("csi_lib") / "presets"
    return {p.name.removesuffix(".yaml"): p for p in folder.iterdir() if p.name.endswith(".yaml")}


def list_presets() -> list[str]:
    """Names of the built-in mapping presets.

    Examples
    --------
    >>> list_presets()
    ['generic', 'jira-sm', 'servicenow']
    """
    return sorted(_preset_files())


def load_mapping(
    preset: str | None = None,
    mapping: str | Path | Mapping | dict[str, Any] | None = None,
) -> Mapping:
    """The mapping to use: a built-in preset, a mapping file, or the generic preset.

    Parameters
    ----------
    preset:
        A name from :func:`list_presets`.
    mapping:
        A mapping YAML file (or an already-built :class:`Mapping` / dict).

    Raises
    ------
    ConfigError
        Both given, an unknown preset (the message lists the known ones), a
        missing file, or a bad mapping file (with the line and a suggestion).

    Examples
    --------
    >>> load_mapping(preset="servicenow").name
    'servicenow-sc-req-item'
    """
    if preset is not None and mapping is not None:
        raise ConfigError(
            "both a preset and a mapping file were given",
            hint="give one of them: --preset for a built-in export, --mapping for your own file",
        )
    if isinstance(mapping, Mapping):
        return mapping
    if isinstance(mapping, dict):
        try:
            return Mapping.model_validate(mapping)
        except ValidationError as exc:
            raise _mapping_error(exc, None, "<mapping>") from None
    if mapping is not None:
        path = Path(mapping)
        if not path.is_file():
            raise ConfigError(
                "the mapping file does not exist",
                file=str(path),
                hint=f"check the path, or use a preset ({', '.join(list_presets())})",
            )
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigError(
                "the mapping file is not UTF-8 text", file=str(path), hint="save it as UTF-8"
            ) from None
        return _mapping_from_text(text, str(path))
    name = preset or "generic"
    files = _preset_files()
    if name not in files:
        close = difflib.get_close_matches(name, list(files), n=1)
        raise ConfigError(
            f"unknown preset '{name}'",
            column="preset",
            hint=(f"did you mean '{close[0]}'? " if close else "")
            + f"Known presets: {', '.join(sorted(files))}",
        )
    result = _mapping_from_text(files[name].read_text(encoding="utf-8"), f"preset {name}")
    result._path = None
    result._preset = name
    return result


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


@contextlib.contextmanager
def _text_source(path: Path) -> Iterator[Any]:
    """What the CSV parser reads: the path, or the open data file of a zip archive."""
    if not path.name.lower().endswith(".zip"):
        yield path
        return
    with zipfile.ZipFile(path) as zf, zf.open(_zip_member(zf, path)) as fh:
        yield fh


def _head_bytes(path: Path) -> bytes:
    """The first bytes of the (decompressed) text."""
    name = path.name.lower()
    try:
        if name.endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                return fh.read(_SAMPLE_BYTES)
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


@register_reader(".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz", ".gz", ".zip", ".csv.zip")
def read_delimited(path: Path, options: ReadOptions) -> RawTable:
    """Read delimited text (plain, gzip or a zip of one file); delimiter sniffed.

    Encoding: UTF-8 (with or without BOM); otherwise Windows-1252, then Latin-1,
    with a warning. UTF-16 with a BOM is accepted.
    """
    warnings: list[str] = []
    sample = _head_bytes(path)
    if not sample.strip():
        raise InputError(
            "the file is empty", file=str(path), hint="export the data again, with a header row"
        )
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    elif b"\x00" in sample:
        raise _not_text(path, sample)
    else:
        try:
            sample[: len(sample) - 4].decode("utf-8")
            encodings = ["utf-8-sig", "cp1252", "latin-1"]
        except UnicodeDecodeError:
            encodings = ["cp1252", "latin-1"]
    default = "\t" if ".tsv" in path.name.lower() else ","
    sep = _sniff_delimiter(sample.decode(encodings[0], errors="ignore"), default)
    csv_options = {
        "sep": sep,
        "dtype": str,
        "keep_default_na": False,
        "na_values": options.na_values,
        "compression": "infer",
    }
    if encodings[0] == "utf-8-sig":
        # fast path: the multi-threaded Arrow parser; anything it cannot handle (odd quoting,
        # line breaks inside fields, invalid UTF-8) is read again by the C parser below
        try:
            with _text_source(path) as source:
                frame = pd.read_csv(source, engine="pyarrow", encoding="utf-8", **csv_options)
            if _mangled(frame):
                _unmangle(frame, _header_cells(sample, "utf-8-sig", sep))
            return RawTable(frame, warnings)
        except Exception:  # noqa: BLE001 - fall back to the slower, more forgiving parser
            pass
    for i, encoding in enumerate(encodings):
        try:
            with pywarnings.catch_warnings():
                # every data row longer than the header: pandas would silently use the first
                # column as the index (index_col=False stops that) or drop the extra fields
                pywarnings.simplefilter("error", pd.errors.ParserWarning)
                with _text_source(path) as source:
                    frame = pd.read_csv(source, encoding=encoding, index_col=False, **csv_options)
        except pd.errors.ParserWarning:
            raise InputError(
                f"the data rows have more fields than the header row (delimiter {sep!r})",
                file=str(path),
                row=1,
                hint="add the missing column names to the header, or remove the extra "
                "fields (a cell holding the delimiter must be quoted)",
            ) from None
        except UnicodeDecodeError:
            if i == len(encodings) - 1:
                raise
            continue
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
        except ValueError as exc:  # e.g. a zip with several files
            raise InputError(f"it cannot be read ({exc})", file=str(path)) from None
        if _mangled(frame):
            _unmangle(frame, _header_cells(sample, encoding, sep))
        if encoding not in ("utf-8-sig", "utf-16"):
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
        book = pd.ExcelFile(path)
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


def _frame_as_text(frame: pd.DataFrame, na_values: Iterable[str]) -> pd.DataFrame:
    """Typed columns (SQL) as text; timezone-aware or naive datetimes kept as they are."""
    na = list(na_values)
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[str(col)] = s
            continue
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
        if pd.api.types.is_float_dtype(s.dtype) and (s.dropna() % 1 == 0).all():
            s = s.astype("Int64")  # whole numbers (an id, a count) as in the other readers
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


def _read_columnar(path: Path, options: ReadOptions, kind: str) -> RawTable:
    """Parquet or Arrow IPC (Feather v2) with pyarrow: only the selected columns, with their
    types (timestamps stay timestamps, numbers stay numbers, dictionary columns become
    categories); text columns stay text for the mapping's rules."""
    import pyarrow as pa

    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            names = pq.read_schema(path).names
            table = pq.read_table(path, columns=_columns_to_read(names, options))
        else:
            import pyarrow.feather as feather

            try:
                names = feather.read_table(path, memory_map=True).schema.names
            except pa.ArrowInvalid:
                names = []
            table = feather.read_table(
                path, columns=_columns_to_read(names, options), memory_map=True
            )
        # nullable booleans and integers stay booleans and integers (not object / float)
        frame = table.to_pandas(types_mapper=_nullable_types().get)
        del table
    except CsiError:
        raise
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


@register_reader(".feather", ".arrow", ".ipc")
def read_arrow(path: Path, options: ReadOptions) -> RawTable:
    """Read an Arrow IPC file (Feather v2), memory-mapped, with its column types."""
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
        siblings = [p.name for p in path.parent.glob("*")] if path.parent.is_dir() else []
        close = difflib.get_close_matches(path.name, siblings, n=3)
        raise InputError(
            "the file does not exist",
            file=str(path),
            hint=f"did you mean {', '.join(close)}?" if close else "check the path",
        )
    if path.is_dir():
        raise InputError("it is a folder, not a file", file=str(path), hint="give the export file")
    table = _reader_for(path)(path, options or ReadOptions())
    table.frame.columns = [str(c).strip().lstrip("\ufeff") for c in table.frame.columns]
    if list(table.frame.columns[: len(QUARANTINE_COLUMNS)]) == list(QUARANTINE_COLUMNS):
        table.frame = _from_quarantine(table.frame)
    if len(table.frame) == 0:
        raise InputError(
            "the file has a header row but no data rows",
            file=str(path),
            hint="check the export filter (it may have matched no requests)",
        )
    return table


# --------------------------------------------------------------------------------------
# SQL
# --------------------------------------------------------------------------------------


#: Names of parameters that hold a secret (in a URL query, a connection string or an
#: ``odbc_connect=`` value, plain or URL-encoded): password, passwd, pwd, sslpassword,
#: db_password, secret, client_secret, token, access_token, api_key, apikey, credentials ...
_SECRET_KEY = (
    r"[\w.-]*?(?:password|passwd|passphrase|pwd|pass|secret|token|api[_-]?key|credentials?)"
)
#: What stands before a parameter name: the start, ``?``, ``&``, ``;``, a space, or the
#: encoded ``&``/``;``/space of an encoded connection string (``%26``, ``%3B``, ``%20``,
#: also encoded twice, ``%253B``).
_PARAM_START = r"(?:(?<=^)|(?<=[?&;,\s{(+])|(?<=%26)|(?<=%3[Bb])|(?<=%20)|(?<=%2526)|(?<=%253[Bb]))"
#: ``=`` plain or encoded (``%3D``, ``%253D``).
_PARAM_EQUALS = r"(?:=|%(?:25)?3[Dd])"
#: A value: ``{braced; may hold ;}`` or up to the next separator (plain or encoded).
_PARAM_VALUE = r"(?:\{[^}]*\}?|(?:(?!%(?:25)?(?:26|3[Bb]))[^&;\s])+)"
_SECRET_PARAM = re.compile(rf"(?i){_PARAM_START}({_SECRET_KEY}\s*{_PARAM_EQUALS})({_PARAM_VALUE})")
#: ``scheme://user:password@`` (the user may be empty); greedy to the last ``@``, as a
#: password may itself hold one.
_USERINFO = re.compile(r"(://[^:/@\s]*:)\S*@")


def redact_url(source: str) -> str:
    """A source text with its passwords replaced by ``***`` (file paths unchanged).

    Hides the ``user:password@`` part of a URL (also with an empty user) and every
    credential-like parameter (``password=``, ``passwd=``, ``pwd=``, ``sslpassword=``,
    ``secret=``, ``token=``, ``api_key=`` ...) of a URL query or a connection string,
    also inside a URL-encoded ``odbc_connect=`` value.

    Examples
    --------
    >>> redact_url("postgresql://ana:s3cret@db/itsm")
    'postgresql://ana:***@db/itsm'
    >>> redact_url("postgresql://:s3cret@db/itsm")
    'postgresql://:***@db/itsm'
    >>> redact_url("mssql+pyodbc://db/itsm?PWD=s3cret")
    'mssql+pyodbc://db/itsm?PWD=***'
    >>> redact_url("mssql://sa:p@ss@host/db")
    'mssql://sa:***@host/db'
    >>> redact_url("Server=x;Password=hunter2;")
    'Server=x;Password=***;'
    >>> redact_url("mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Dsa%3BPWD%3Ds3cret%3B")
    'mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Dsa%3BPWD%3D***%3B'
    >>> redact_url("postgresql://db/itsm?sslpassword=s3cret&passwd=s3cret")
    'postgresql://db/itsm?sslpassword=***&passwd=***'
    """
    text = _USERINFO.sub(r"\1***@", str(source))
    return _SECRET_PARAM.sub(r"\1***", text)


def _secrets(source: str) -> list[str]:
    """The secret values in ``source`` as written and decoded (longest first)."""
    from urllib.parse import unquote

    found: set[str] = set()
    for text in (source, unquote(source), unquote(unquote(source))):
        user = re.search(r"://[^:/@\s]*:(\S*)@", text)
        if user and user.group(1):
            found.add(user.group(1))
        for match in _SECRET_PARAM.finditer(text):
            value = match.group(2).strip("{}")
            if value:
                found.add(value)
    found |= {unquote(v) for v in found}
    return sorted((v for v in found if len(v) >= 2), key=len, reverse=True)


def _scrub(text: str, source: str) -> str:
    """Remove the raw URL and its secrets (as written or decoded) from a message."""
    text = redact_url(text.replace(source, redact_url(source)))
    for secret in _secrets(source):
        text = text.replace(secret, "***")
    return text


_TABLE_NAME = re.compile(r"[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?")

#: Words refused anywhere in a query besides the data-changing (DML) and definition (DDL)
#: keywords. Other statements (SET, COPY, CALL, EXEC ...) are refused by their first word:
#: a query starts with SELECT, WITH or VALUES. Words such as "comment" or "load" stay
#: usable as column names.
_WRITE_WORDS = frozenset({"INTO", "ATTACH", "DETACH", "PRAGMA", "VACUUM"})
#: Per dialect: the statement that makes the open transaction read-only, sent first.
READ_ONLY_TRANSACTION: dict[str, str] = {
    "postgresql": "SET TRANSACTION READ ONLY",
    "mysql": "SET TRANSACTION READ ONLY",
    "mariadb": "SET TRANSACTION READ ONLY",
    "oracle": "SET TRANSACTION READ ONLY",
    "redshift": "SET TRANSACTION READ ONLY",
    "cockroachdb": "SET TRANSACTION READ ONLY",
}


def check_read_only_query(query: str, label: str) -> None:
    """Refuse, before anything is sent, a query that is not one read-only statement.

    A database source is only ever read: one ``SELECT`` (``WITH ... SELECT`` or
    ``VALUES``); no second statement, no ``INSERT``/``UPDATE``/``DELETE``/``DROP``/
    ``CREATE``, ``SELECT ... INTO``, ``PRAGMA``, ``ATTACH`` or other statement that
    changes the database, its session or its files.

    Raises
    ------
    ConfigError
        Naming the word that was refused (exit 2).

    Examples
    --------
    >>> check_read_only_query("SELECT * FROM requests WHERE state <> 'drop'", "db")
    >>> check_read_only_query("DROP TABLE requests", "db")
    Traceback (most recent call last):
    ...
    csi_lib.errors.ConfigError: file 'db', column 'query': the query 'DROP TABLE requests' is not a query that only reads: it holds DROP, which would change the database. The workbook only ever reads a database. Give one SELECT statement (or a table name).
    """
    import sqlparse
    from sqlparse import tokens as T

    shown = " ".join(query.split())
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    hint = "give one SELECT statement (or a table name)"
    statements = [
        s
        for s in sqlparse.parse(query)
        if sqlparse.format(str(s), strip_comments=True).strip(" \n\t;")
    ]
    if len(statements) != 1:
        raise ConfigError(
            f"the query '{shown}' holds {len(statements)} statements; a database source is "
            "read with exactly one",
            file=label,
            column="query",
            hint=hint,
        )
    words = [
        tok
        for tok in statements[0].flatten()
        if tok.ttype not in T.Whitespace
        and tok.ttype not in T.Comment
        and tok.ttype not in T.Punctuation
    ]
    first = words[0].normalized.upper() if words else ""
    refused = next(
        (
            tok.normalized.upper()
            for tok in words
            if tok.ttype in T.Keyword
            and (
                tok.ttype in T.Keyword.DDL
                or (tok.ttype in T.Keyword.DML and tok.normalized.upper() != "SELECT")
                or tok.normalized.upper() in _WRITE_WORDS
            )
        ),
        None,
    )
    if refused is None and first not in ("SELECT", "WITH", "VALUES"):
        refused = first or "no statement"
    if refused is not None:
        raise ConfigError(
            f"the query '{shown}' is not a query that only reads: it holds {refused}, which "
            "would change the database. The workbook only ever reads a database",
            file=label,
            column="query",
            hint=hint,
        )


def _read_only_url(source: str, label: str) -> Any:
    """The URL to connect with: a SQLite file opened read-only (URI ``mode=ro``), which
    must exist (SQLite would create an empty one); any other URL as given. SQLite has no
    users: a user or password in its URL is ignored."""
    from urllib.parse import quote

    from sqlalchemy.engine import make_url

    url = make_url(source)
    if not url.drivername.startswith("sqlite"):
        return url
    url = url._replace(username=None, password=None)
    database = url.database or ""
    if database in ("", ":memory:"):
        return url
    query = dict(url.query)
    if database.startswith("file:") and str(query.get("uri", "")).lower() == "true":
        return url.set(query={**query, "mode": "ro"})
    path = Path(database)
    if not path.is_file():
        siblings = [p.name for p in path.parent.glob("*")] if path.parent.is_dir() else []
        close = difflib.get_close_matches(path.name, siblings, n=3)
        raise InputError(
            f"there is no such database: the file '{database}' does not exist"
            + (" (it is a folder)" if path.is_dir() else ""),
            file=label,
            hint=(f"did you mean {', '.join(close)}? " if close else "")
            + "Check the path after sqlite:/// (three slashes, then a path relative to the "
            "current folder; four for an absolute path)",
        )
    return url.set(
        database="file:" + quote(str(path.resolve())),
        query={**query, "mode": "ro", "uri": "true"},
    )


def _read_sql(source: str, query: str | None, na_values: list[str]) -> tuple[pd.DataFrame, str]:
    """Run a query (or read a table) through SQLAlchemy; returns (text frame, fingerprint)."""
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError, NoSuchTableError, SQLAlchemyError

    label = redact_url(source)
    if not query or not query.strip():
        raise ConfigError(
            "a database source needs a query",
            file=label,
            column="query",
            hint="give query= a SELECT statement or a table name",
        )
    if not _TABLE_NAME.fullmatch(query.strip()):
        check_read_only_query(query, label)
    try:
        engine = sa.create_engine(_read_only_url(source, label))
    except (ArgumentError, ImportError, ValueError) as exc:
        detail = " ".join(str(exc).splitlines()[0].split())
        raise InputError(
            f"the database URL cannot be used ({_scrub(detail, source)})",
            file=label,
            hint="write it as dialect+driver://user:password@host/database and install the driver",
        ) from None
    try:
        with engine.connect() as conn:
            # a read-only transaction, always rolled back (never committed)
            read_only = READ_ONLY_TRANSACTION.get(engine.dialect.name)
            if read_only:
                conn.exec_driver_sql(read_only)
            if _TABLE_NAME.fullmatch(query.strip()):
                schema, _, name = query.strip().rpartition(".")
                try:
                    table = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
                except NoSuchTableError:
                    tables = sa.inspect(conn).get_table_names(schema=schema or None)
                    close = difflib.get_close_matches(name, tables, n=3)
                    raise InputError(
                        f"there is no table '{query.strip()}'",
                        file=label,
                        hint=(f"did you mean {', '.join(close)}? " if close else "")
                        + f"Tables: {', '.join(tables[:20]) or '(none)'}",
                    ) from None
                statement: Any = sa.select(table)
            else:
                statement = sa.text(query)
            try:
                raw = pd.read_sql_query(statement, conn)
            finally:
                conn.rollback()
    except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
        cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) else exc
        detail = str(getattr(cause, "orig", None) or cause or exc).splitlines()[0]
        raise InputError(
            f"the query failed ({_scrub(detail, source)})",
            file=label,
            hint="check the query, the table name and the credentials",
        ) from None
    finally:
        engine.dispose()
    fingerprint = hashlib.sha256(raw.to_csv(index=False).encode("utf-8")).hexdigest()
    if len(raw) == 0:
        raise InputError(
            "the query returned no rows",
            file=label,
            hint="check the query's WHERE clause and the table",
        )
    return _frame_as_text(raw, na_values), fingerprint


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What :func:`load_requests` returns.

    Attributes
    ----------
    data:
        The canonical frame (see docs/architecture.md), one row per request.
    quarantine:
        Rejected rows: ``source_row`` (1-based data row of the source, header not
        counted), ``request_id``, ``column``, ``reason`` (several joined by ``"; "``),
        then the row as read in every source column the mapping reads (untrimmed,
        ``NULL`` as written): fixed, the quarantine file loads again with the same mapping.
    source:
        The file path, or the database URL with its password hidden.
    mapping:
        The :class:`Mapping` used.
    fingerprint:
        SHA-256 hex of the source file's bytes (SQL: of the result as CSV).
    rows_read, rows_kept, rows_quarantined:
        Counts (rows). ``rows_read = rows_kept + rows_quarantined + rows_deduplicated
        + rows_collapsed + rows_blank``.
    quarantine_path:
        Where the quarantine was written, if it was.
    warnings:
        Things the user should know (encoding guessed, sheet chosen, optional column absent).
    rows_deduplicated:
        Event rows superseded by a later row of the same request (``dedupe``), or
        folded into their request (``events``).
    rows_collapsed:
        Exact duplicate rows collapsed into one.
    rows_blank:
        Rows with nothing in any column the mapping reads (a workbook's formatted but
        empty rows, a CSV line of delimiters only): skipped (an event log quarantines them).
    columns_used:
        Canonical or kept column -> the source column it came from
        (``"derived from sla_due_at"`` for a derived sla_met).
    events:
        For an event log (``events:``): events read, requests formed, requests
        quarantined, events without a readable time; else None.
    adjusted_values:
        Values kept or read as missing (with a warning) rather than quarantined, counted
        by what happened: a date outside 1677..2262 in an optional column read as missing,
        a local time in a skipped daylight-saving hour moved forward, an sla_met value
        that is neither true nor false read as unknown.
    """

    data: pd.DataFrame
    quarantine: pd.DataFrame
    source: str
    mapping: Mapping
    fingerprint: str
    rows_read: int
    rows_kept: int
    rows_quarantined: int
    quarantine_path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    rows_deduplicated: int = 0
    rows_collapsed: int = 0
    columns_used: dict[str, str] = field(default_factory=dict)
    events: EventCounts | None = None
    adjusted_values: dict[str, int] = field(default_factory=dict)
    rows_blank: int = 0

    def quarantined_by_reason(self) -> dict[str, int]:
        """Rows per reason (a row with two reasons counts under both), largest first."""
        if self.quarantine.empty:
            return {}
        counts = self.quarantine["reason"].str.split("; ").explode().value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    def summary(self) -> dict[str, Any]:
        """Everything ``csi validate`` prints, as plain JSON-able values.

        Examples
        --------
        >>> res.summary()["quarantined_by_reason"]   # doctest: +SKIP
        {'closed before opened': 2, 'csat out of range 1..5': 1}
        """
        return {
            "source": self.source,
            "mapping": self.mapping.name,
            "mapping_file": self.mapping.path,
            "fingerprint": self.fingerprint,
            "rows_read": self.rows_read,
            "rows_deduplicated": self.rows_deduplicated,
            "rows_collapsed": self.rows_collapsed,
            "rows_blank": self.rows_blank,
            "rows_kept": self.rows_kept,
            "rows_quarantined": self.rows_quarantined,
            "quarantined_by_reason": self.quarantined_by_reason(),
            "quarantine_path": str(self.quarantine_path) if self.quarantine_path else None,
            "warnings": list(self.warnings),
            "columns": dict(self.columns_used),
            "events": self.events.as_dict() if self.events else None,
            "adjusted_values": dict(self.adjusted_values),
        }


def _missing_column_error(
    wanted: str, purpose: str, available: list[str], mapping: Mapping, label: str
) -> InputError:
    close = difflib.get_close_matches(wanted, available, n=3, cutoff=0.5)
    if not close:
        folded = {c.casefold(): c for c in available}
        close = [folded[c] for c in difflib.get_close_matches(wanted.casefold(), list(folded), n=3)]
    shown = ", ".join(available[:25]) + (" ..." if len(available) > 25 else "")
    return InputError(
        f"the {mapping.label} expects a column '{wanted}' ({purpose}) but the source has "
        "no such column",
        file=label,
        column=wanted,
        hint=(f"closest columns in the file: {', '.join(close)}. " if close else "")
        + f"The file's columns are: {shown}. Fix the mapping or choose another preset",
    )


@dataclass
class _Plan:
    """Which source column feeds which canonical / kept column."""

    columns: dict[str, str] = field(default_factory=dict)
    outcome: str | None = None
    sla_met: str | None = None
    order_by: str | None = None
    keep: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    event_time: str | None = None
    event_status: str | None = None

    def used(self) -> list[str]:
        cols = [*self.columns.values(), self.outcome, self.sla_met, self.order_by, *self.keep]
        cols += [self.event_time, self.event_status]
        return list(dict.fromkeys(c for c in cols if c))


def _check_repeated_columns(available: list[str], plan: _Plan, label: str) -> None:
    """A column the mapping reads must appear once in the header (``category,category``)."""
    for col in plan.used():
        times = available.count(col)
        if times > 1:
            raise InputError(
                f"the column '{col}' appears {times} times in the header, so it is not clear "
                "which one to read",
                file=label,
                column=col,
                hint="rename or remove the repeated column in the export, then load it again",
            )


def _shared_column_warnings(plan: _Plan, mapping: Mapping) -> list[str]:
    """Warnings for a source column mapped to several canonical columns
    (``closed_at: opened_at``): every duration or flag between them would be meaningless."""
    readers: dict[str, list[str]] = {}
    for canon, col in [*plan.columns.items(), ("outcome", plan.outcome), ("sla_met", plan.sla_met)]:
        if col:
            readers.setdefault(col, []).append(canon)
    return [
        f"the {mapping.label} reads the column '{col}' for {', '.join(canons[:-1])} and "
        f"{canons[-1]}; each should come from its own column. Check the columns: section"
        for col, canons in readers.items()
        # opened_at and closed_at alone have their own warning (_event_warnings)
        if len(canons) > 1 and set(canons) != {"opened_at", "closed_at"}
    ]


def _plan(mapping: Mapping, available: list[str], label: str, keep: Iterable[str]) -> _Plan:
    plan = _Plan()
    lookup = {c.casefold(): c for c in available}

    def find(candidates: str | list[str]) -> str | None:
        options = [candidates] if isinstance(candidates, str) else list(candidates)
        for c in options:
            if c in available:
                return c
        for c in options:
            if c.casefold() in lookup:
                return lookup[c.casefold()]
        return None

    def need(name: str, candidates: str | list[str], purpose: str) -> str | None:
        hit = find(candidates)
        if hit is None:
            first = candidates if isinstance(candidates, str) else candidates[0]
            if name in mapping.optional:
                plan.absent.append(name if first == name else f"{name} ('{first}')")
                return None
            raise _missing_column_error(first, purpose, available, mapping, label)
        return hit

    specs: dict[str, str | list[str]] = dict(mapping.columns)
    if mapping.events is not None:  # the case column is the request id
        specs["request_id"] = mapping.events.case
        plan.event_time = need("events.time", mapping.events.time, "events.time")
        plan.event_status = need("events.status", mapping.events.status, "events.status")
    for req in REQUIRED_COLUMNS:  # a required column not mapped is looked for under its own name
        if (req == "outcome" and mapping.outcome is not None) or req in mapping.derive:
            continue
        specs.setdefault(req, req)
    for canon, candidates in specs.items():
        if canon == "outcome":
            plan.outcome = need(canon, candidates, "outcome")
            continue
        if canon == "sla_met":
            plan.sla_met = need(canon, candidates, "sla_met")
            continue
        hit = need(canon, candidates, canon)
        if hit is not None:
            plan.columns[canon] = hit
    if mapping.outcome is not None:
        plan.outcome = need("outcome", mapping.outcome.column, "outcome")
    if mapping.sla_met is not None:
        plan.sla_met = need("sla_met", mapping.sla_met.column, "sla_met")
    if mapping.dedupe is not None:
        plan.order_by = need("dedupe.order_by", mapping.dedupe.order_by, "dedupe.order_by")
    for name in dict.fromkeys([*mapping.keep, *keep]):
        if name in COLUMNS:
            if plan.columns.get(name) == name:
                continue
            raise ConfigError(
                f"the kept column '{name}' has the name of a canonical column",
                file=mapping.path,
                column=name,
                hint=f"map it under columns: ({name}: {name}) instead of keep:",
            )
        hit = need(name, name, "keep")
        if hit is not None:
            plan.keep.append(hit)
    return plan


_NUMERIC_DATE = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?:\D|$)"


@dataclass
class _DateStats:
    """One date (or yes/no) column, gathered over the pieces of a source read in blocks."""

    column: str
    canon: str
    given: int = 0
    failed: int = 0
    example: str | None = None
    ambiguous: int = 0
    #: local times in the skipped hour of a DST change (moved forward), and the first one
    nonexistent: int = 0
    nonexistent_example: str | None = None
    #: dates outside the representable range read as missing (optional columns), first one
    out_of_range: int = 0
    out_of_range_example: str | None = None
    #: yes/no values that are neither true nor false: value -> count
    unrecognised: dict[str, int] = field(default_factory=dict)
    either: bool = False
    day_first: tuple[int, str] | None = None  # first (row, value) that can only be day-first
    month_first: tuple[int, str] | None = None  # first (row, value) that can only be month-first

    def add_order(self, raw: pd.Series, source_rows: pd.Series) -> None:
        """Note which numeric dates (``dd/mm/yyyy`` or ``mm/dd/yyyy``) only one order can read."""
        from .schema import _as_text, _matches

        text = _as_text(raw)
        hit = _matches(text, _NUMERIC_DATE)
        if not hit.any():
            return
        parts = text[hit].str.extract(_NUMERIC_DATE).astype("int64")
        first, second = parts[0], parts[1]
        self.either = self.either or bool(
            ((first <= 12) & (second <= 12) & (first != second)).any()
        )
        for attr, only in (
            ("day_first", (first > 12) & (second <= 12)),
            ("month_first", (second > 12) & (first <= 12)),
        ):
            if getattr(self, attr) is None and only.any():
                pos = only[only].index[0]
                setattr(self, attr, (int(source_rows.iloc[pos]), str(raw.iloc[pos])))


def _check_day_month_order(stats: _DateStats, mapping: Mapping, label: str) -> None:
    """Refuse a date column that would be read day-first for some values and month-first for others.

    Without a ``datetime_format``, ``01/02/2025`` is read as the mapping's ``dayfirst``
    says, but ``13/02/2025`` can only be day-first (and ``02/13/2025`` only month-first),
    and the parser silently swaps day and month for those values: one column would mix
    both readings. This raises an :class:`InputError` naming the first row that
    contradicts the mapping's order.
    """
    if mapping.datetime_format:
        return
    contradicts = stats.month_first if mapping.dayfirst else stats.day_first
    if contradicts is None:
        return
    mixed = stats.day_first is not None and stats.month_first is not None
    if not mixed and not stats.either:
        return  # every value is unambiguous and read the one way it can be
    row, value = contradicts
    column = stats.column
    if mixed:
        message = (
            f"the dates of '{column}' mix day-first and month-first values "
            f"(e.g. '{value}'), so none of them can be trusted"
        )
        hint = "export the dates in one format (ISO 8601, YYYY-MM-DD, is safest)"
    else:
        order = "month-first" if mapping.dayfirst else "day-first"
        other = "day-first" if mapping.dayfirst else "month-first"
        message = (
            f"'{value}' can only be a {order} date, but the {mapping.label} reads dates "
            f"{other}, so values such as 01/02 would be read the other way"
        )
        hint = (
            f"set dayfirst: {str(not mapping.dayfirst).lower()} (or a datetime_format such as "
            f"'{'%d/%m/%Y %H:%M' if not mapping.dayfirst else '%m/%d/%Y %H:%M'}') in your "
            "mapping file (copy a preset from csi_lib/presets to start one)"
        )
    raise InputError(message, file=label, column=column, row=row, hint=hint)


def _adjusted_values(stats: Iterable[_DateStats]) -> dict[str, int]:
    """Values kept or read as missing with a warning, counted by what happened to them."""
    out: dict[str, int] = {}
    for st in stats:
        if st.out_of_range:
            out[f"{st.canon} out of range, read as missing"] = st.out_of_range
        if st.nonexistent:
            out[f"{st.canon} in a skipped daylight-saving hour, moved forward"] = st.nonexistent
        if st.unrecognised:
            out[f"{st.canon} not recognised, read as unknown"] = sum(st.unrecognised.values())
    return out


def _date_warnings(stats: Iterable[_DateStats], mapping: Mapping) -> list[str]:
    out = []
    for st in stats:
        if st.unrecognised:
            shown = ", ".join(
                f"'{v}' ({n:,})"
                for v, n in sorted(st.unrecognised.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
            )
            out.append(
                f"{sum(st.unrecognised.values()):,} value(s) of '{st.column}' ({st.canon}) are "
                f"neither true nor false: {shown}; they are read as unknown. List them under "
                f"sla_met: true_values / false_values in the {mapping.label}"
            )
            continue
        if st.out_of_range:
            out.append(
                f"{st.out_of_range:,} value(s) of '{st.column}' ({st.canon}) are dates outside "
                f"{DATE_RANGE_TEXT} (e.g. '{st.out_of_range_example}'); they are read as "
                "missing (an export's 9999-12-31 usually means 'never')"
            )
        if st.nonexistent:
            out.append(
                f"{st.nonexistent:,} value(s) of '{st.column}' (e.g. '{st.nonexistent_example}') "
                f"fall in the hour skipped by a daylight-saving change in {mapping.timezone}, so "
                "that local time never existed; they were moved forward to the end of the gap. "
                "Check the mapping's timezone"
            )
        if st.given and st.failed / st.given > 0.5:
            out.append(
                f"{st.failed:,} of {st.given:,} values of '{st.column}' ({st.canon}) could not "
                f"be read as dates (e.g. '{st.example}'); check datetime_format "
                f"({mapping.datetime_format or 'inferred'}) and dayfirst in the {mapping.label}"
            )
        if st.ambiguous:
            out.append(
                f"{st.ambiguous} value(s) of '{st.column}' fall in the repeated hour "
                f"of a daylight-saving change in {mapping.timezone} and cannot be placed; their "
                "rows are quarantined as unparseable"
            )
    return out


def _dedupe(work: pd.DataFrame, plan: _Plan, mapping: Mapping) -> pd.Series:
    """Mask of the rows to keep: the last row of each request after a stable sort."""
    order = parse_datetimes(
        work[plan.order_by],
        fmt=mapping.datetime_format,
        dayfirst=mapping.dayfirst,
        tz=mapping.timezone,
    ).values
    ids = work[plan.columns["request_id"]]
    ranked = pd.DataFrame({"t": order.to_numpy(), "id": ids.to_numpy()})
    ranked = ranked.sort_values("t", kind="stable", na_position="first")
    last = ~ranked["id"].duplicated(keep="last") | ranked["id"].isna()
    return last.sort_index().set_axis(work.index)


def _outcomes(raw: pd.Series, mapping: Mapping) -> pd.Series:
    spec = mapping.outcome
    if isinstance(raw.dtype, pd.CategoricalDtype):  # map the categories, then take the codes
        cats = pd.Series([*raw.cat.categories.astype("str"), None], dtype="str")
        mapped = _outcomes(cats, mapping).to_numpy(dtype=object)
        return pd.Series(mapped[raw.cat.codes.to_numpy()], index=raw.index, dtype="str")
    text = raw.astype("str").str.strip()
    text = text.mask(text == "")
    if spec is None:
        return text
    lut = {v.strip().lower(): canon for canon, vals in spec.values.items() for v in vals}
    mapped = text.str.lower().map(lut)
    if spec.default is not None:
        return mapped.fillna(spec.default)
    return mapped.fillna(text)


def _quarantine_file(folder: Path, stem: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    stem = re.sub(r"[^\w.-]+", "_", stem).strip("_") or "source"
    path = folder / f"quarantine-{stem}-{stamp}.csv"
    n = 2
    while path.exists():
        path = folder / f"quarantine-{stem}-{stamp}-{n}.csv"
        n += 1
    return path


def _source_stem(source: str, query: str | None, is_sql: bool) -> str:
    if is_sql:
        q = (query or "").strip()
        return q if _TABLE_NAME.fullmatch(q) else "sql-query"
    name = Path(source).name
    for s in sorted(READERS, key=len, reverse=True):
        if name.lower().endswith(s):
            return name[: -len(s)]
    return Path(source).stem


#: A source written ``env:NAME`` is the value of the environment variable ``NAME``: a
#: database URL with its password then appears in no file, command line or notebook.
ENV_SOURCE = "env:"


def source_from_environment(source: str) -> str:
    """The data source held by the environment variable named in ``env:NAME``.

    Raises
    ------
    ConfigError
        The variable is not set or empty.

    Examples
    --------
    >>> import os; os.environ["CSI_DOCTEST_SOURCE"] = "sqlite:///itsm.db"
    >>> source_from_environment("env:CSI_DOCTEST_SOURCE")
    'sqlite:///itsm.db'
    """
    name = source.removeprefix(ENV_SOURCE)
    value = os.environ.get(name, "")
    if not value:
        raise ConfigError(
            f"the environment variable {name} that should hold the data source is not set",
            file=source,
            hint=f"set {name} to the file or database URL to read, or give the source itself",
        )
    return value


def _stored_load(
    source: str,
    preset: str | None,
    mapping: str | Path | Mapping | dict[str, Any] | None,
    query: str | None,
    keep: tuple[str, ...],
    sheet: str | int | None,
) -> LoadResult | None:
    """The load a report run stored for its stages (:mod:`csi_lib.runstore`), if it is this one."""
    import os

    from . import runstore

    if not os.environ.get(runstore.ENV):
        return None
    try:
        m = load_mapping(preset=preset, mapping=mapping)
    except CsiError:
        return None  # the load itself words the error
    key = runstore.load_key(source, m, query=query, keep=keep, sheet=sheet)
    return runstore.lookup(key, source, m)


def load_requests(
    source: str | Path,
    *,
    preset: str | None = None,
    mapping: str | Path | Mapping | dict[str, Any] | None = None,
    query: str | None = None,
    keep: Iterable[str] = (),
    quarantine_dir: str | Path | None = None,
    sheet: str | int | None = None,
) -> LoadResult:
    """Load an export (file or SQL) into the canonical frame, quarantining bad rows.

    Parameters
    ----------
    source:
        A file (.csv, .csv.gz, .zip of one CSV, .txt/.tsv, .xlsx, .parquet) or a
        SQLAlchemy URL (``sqlite:///itsm.db``, ``postgresql://user:pw@host/db``).
    preset, mapping:
        A built-in preset name (:func:`list_presets`) or a mapping YAML file; neither
        means ``generic``.
    query:
        For a URL: a SELECT statement or a table name.
    keep:
        Further source columns to keep as extra breakdown dimensions (besides the
        mapping's ``keep``). Every other unmapped column is dropped.
    quarantine_dir:
        If given and rows were rejected, they are written to
        ``quarantine-<source>-<UTC time>.csv`` in this folder (never overwriting).
    sheet:
        Workbook sheet name or 0-based number (default: the first).

    Returns
    -------
    LoadResult

    Raises
    ------
    InputError, ConfigError
        Unreadable, empty or header-only source, a mapped column absent from it,
        a bad mapping file.

    Examples
    --------
    >>> res = load_requests("tests/fixtures/exports/servicenow.csv", preset="servicenow")
    >>> res.rows_read, res.rows_kept
    (6, 5)
    """
    if isinstance(source, str) and source.startswith(ENV_SOURCE):
        source = source_from_environment(source)
    source_str = str(source)
    is_sql = isinstance(source, str) and "://" in source
    keep = tuple(keep)
    stored = _stored_load(source_str, preset, mapping, query, keep, sheet)
    if stored is not None:  # a report run loaded this very source once already
        return stored
    try:
        return _load(source_str, is_sql, preset, mapping, query, keep, quarantine_dir, sheet)
    except CsiError as exc:
        if not is_sql:
            raise
        # never let a password reach a message
        raise type(exc)(
            _scrub(exc.message, source_str),
            file=_scrub(str(exc.file), source_str) if exc.file is not None else None,
            column=exc.column,
            row=exc.row,
            hint=_scrub(exc.hint, source_str) if exc.hint else None,
        ) from None


#: Plain UTF-8 delimited files at least this big are read in blocks, so the memory a load
#: needs is about the final frame plus one block, whatever the size of the file.
STREAM_MIN_BYTES = 64 * 2**20
#: Bytes of text parsed per block when reading in blocks.
STREAM_BLOCK_BYTES = 32 * 2**20


class _NotStreamable(Exception):
    """The file cannot be read in blocks: the whole-file reader reads it (and words any error)."""


def _blank_rows(work: pd.DataFrame) -> np.ndarray:
    """Rows with nothing in any column the mapping reads (cleaned text): a spreadsheet's
    formatted but empty rows, or a CSV line of delimiters only. They are skipped."""
    return work.isna().all(axis=1).to_numpy(dtype=bool)


def _clean_categories(s: pd.Series, na: set[str]) -> pd.Series:
    """A category column cleaned like text (values stripped, missing-value spellings and empty
    values missing, categories sorted), working on the categories only."""
    text = pd.Index(s.cat.categories.astype("str")).str.strip()
    gone = text.isin(list(na)) | (text == "")
    kept = sorted(set(text[~gone]))
    position = {v: i for i, v in enumerate(kept)}
    lut = np.array([-1 if g else position[v] for v, g in zip(text, gone, strict=True)] + [-1])
    codes = lut[s.cat.codes.to_numpy()]  # code -1 (missing) takes the last entry: -1
    values = pd.Categorical.from_codes(codes, categories=pd.Index(kept, dtype="str"))
    return pd.Series(values, index=s.index, name=s.name)


def _clean_text(work: pd.DataFrame, na: set[str]) -> pd.DataFrame:
    """Text columns stripped, missing-value spellings and empty strings as missing."""
    cleaned = {}
    for col in work.columns:
        s = work[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = _clean_categories(s, na)
        elif not _is_typed(s.dtype):
            s = s.astype("str").str.strip()
            s = s.mask(s.isin(na) | (s == ""))
        cleaned[col] = s
    return pd.DataFrame(cleaned, index=pd.RangeIndex(len(work)))


def _parse_dates(
    raw: pd.Series,
    source_rows: pd.Series,
    canon: str,
    m: Mapping,
    label: str,
    stats: dict[str, _DateStats],
):
    """Parse one date column of a piece as the mapping says, noting its statistics."""
    col = str(raw.name)
    parsed = parse_datetimes(raw, fmt=m.datetime_format, dayfirst=m.dayfirst, tz=m.timezone)
    st = stats.setdefault(canon, _DateStats(column=col, canon=canon))
    st.given += int(raw.notna().sum())
    st.failed += int(parsed.unparseable.sum())
    if st.example is None and parsed.unparseable.any():
        st.example = str(raw[parsed.unparseable].iloc[0])
    st.ambiguous += int(parsed.ambiguous.sum())
    st.nonexistent += int(parsed.nonexistent.sum())
    if st.nonexistent_example is None and parsed.nonexistent.any():
        st.nonexistent_example = str(raw[parsed.nonexistent].iloc[0])
    if not m.datetime_format and not pd.api.types.is_datetime64_any_dtype(raw.dtype):
        # only text can be read day-first or month-first; typed timestamps are what they are
        st.add_order(raw, source_rows)
        _check_day_month_order(st, m, label)
    return parsed


def _fold_events(
    work: pd.DataFrame, plan: _Plan, m: Mapping, label: str, stats: dict[str, _DateStats]
):
    """An event log (``events:``) folded into one row per request (:mod:`csi_lib.events`)."""
    rows = pd.Series(np.arange(1, len(work) + 1), dtype="int64")
    times = _parse_dates(work[plan.event_time], rows, "event time", m, label, stats)
    return fold_events(
        work,
        case=plan.columns["request_id"],
        status=plan.event_status,
        times=times.values,
        rules=dict(m.derive),
        time_column=plan.event_time,
    )


def _event_warnings(plan: _Plan, m: Mapping, folded: Any) -> list[str]:
    """What the user should know about how the columns of a load were read."""
    out = []
    opened, closed = plan.columns.get("opened_at"), plan.columns.get("closed_at")
    if opened is not None and opened == closed:
        out.append(
            f"opened_at and closed_at both come from '{opened}', so every duration is zero; "
            "map closed_at to the closing time"
            + (
                ", or derive it: closed_at: {last_time_if_final_in: [closing statuses]}"
                if m.events is not None
                else ""
            )
        )
    if folded is None:
        return out
    same = [c for c in DATETIME_COLUMNS if plan.columns.get(c) == plan.event_time]
    if same:
        out.append(
            f"{', '.join(same)} is read from the time of each request's last event "
            f"('{plan.event_time}'), so open requests get a time too; derive it instead "
            "(first_time, {first_time_in: [...]} or {last_time_if_final_in: [...]})"
        )
    n = folded.counts.events_without_time
    if n and folded.untimed_example:
        row, value = folded.untimed_example
        out.append(
            f"{n:,} event(s) have no readable time in '{plan.event_time}' (e.g. row {row}: "
            f"'{value}') and take no part in their request's history"
        )
    return out


def _convert(
    kept: pd.DataFrame,
    source_rows: pd.Series,
    plan: _Plan,
    m: Mapping,
    label: str,
    stats: dict[str, _DateStats],
) -> tuple[pd.DataFrame, dict[str, pd.Series], dict[str, pd.Series]]:
    """Parse one piece of cleaned text into canonical columns (plus ``source_row``);
    also the masks of unparseable and of out-of-range dates per date column."""
    frame: dict[str, pd.Series] = {}
    unparseable: dict[str, pd.Series] = {}
    outside: dict[str, pd.Series] = {}
    for canon, col in plan.columns.items():
        if canon not in DATETIME_COLUMNS:
            frame[canon] = kept[col]
            continue
        parsed = _parse_dates(kept[col], source_rows, canon, m, label, stats)
        frame[canon] = parsed.values
        unparseable[canon] = parsed.unparseable | parsed.ambiguous
        outside[canon] = parsed.out_of_range
    frame["outcome"] = _outcomes(kept[plan.outcome], m)
    for canon, mask in outside.items():
        # a required date out of range is quarantined (schema.validate); else read as missing
        if canon == "opened_at":
            continue
        if canon == "closed_at":
            mask = mask & ~frame["outcome"].str.lower().isin(CLOSED_OUTCOMES).to_numpy()
        if mask.any():
            st = stats[canon]
            st.out_of_range += int(mask.sum())
            if st.out_of_range_example is None:
                st.out_of_range_example = str(kept[plan.columns[canon]][mask].iloc[0])
    if plan.sla_met is not None:
        spec = m.sla_met
        given = kept[plan.sla_met]
        frame["sla_met"] = parse_booleans(
            given,
            true_values=spec.true_values if spec else None,
            false_values=spec.false_values if spec else None,
        )
        unknown = given.notna() & frame["sla_met"].isna()
        if unknown.any():
            st = stats.setdefault("sla_met", _DateStats(column=plan.sla_met, canon="sla_met"))
            for value, n in given[unknown].value_counts().items():
                st.unrecognised[str(value)] = st.unrecognised.get(str(value), 0) + int(n)
    for col in plan.keep:
        frame[col] = kept[col]
    frame["source_row"] = source_rows.reset_index(drop=True)
    return pd.DataFrame(frame), unparseable, outside


def _columns_used(plan: _Plan, m: Mapping) -> dict[str, str]:
    used = dict(plan.columns)
    for canon, rule in m.derive.items():
        used[canon] = f"derived from the events ({rule.kind})"
    used["outcome"] = plan.outcome or ""
    if plan.sla_met is not None:
        used["sla_met"] = plan.sla_met
    elif "sla_due_at" in plan.columns:
        used["sla_met"] = "derived from sla_due_at"
    for col in plan.keep:
        used[col] = col
    return used


@dataclass
class _Piece:
    """One validated piece: kept rows (with their source rows) and quarantined rows."""

    data: pd.DataFrame
    rows: np.ndarray  # source row of each kept row
    quarantine: pd.DataFrame
    collapsed: int


def _validate_piece(
    work: pd.DataFrame,
    kept: pd.DataFrame,
    source_rows: pd.Series,
    work_rows: np.ndarray,
    plan: _Plan,
    m: Mapping,
    label: str,
    stats: dict[str, _DateStats],
    now: pd.Timestamp,
    derived: dict[str, pd.Series] | None = None,
) -> _Piece:
    """Convert and validate ``kept`` (rows ``source_rows``); quarantine values come from
    ``work`` (the mapped text as read, rows ``work_rows``, ascending). ``derived``
    columns (already typed, one value per row of ``kept``) are taken as they are."""
    frame, unparseable, outside = _convert(kept, source_rows, plan, m, label, stats)
    for canon, values in (derived or {}).items():
        frame[canon] = values.array
    validated = validate(
        frame, source=label, unparseable=unparseable, now=now, out_of_range=outside
    )
    q = validated.quarantine[list(QUARANTINE_COLUMNS)]
    positions = np.searchsorted(work_rows, q["source_row"].to_numpy())
    values = work.iloc[positions].reset_index(drop=True)
    quarantine = pd.concat([q, value_columns(values)], axis=1)
    rows = source_rows.to_numpy()
    if validated.collapsed == 0:
        data_rows = rows[~np.isin(rows, q["source_row"].to_numpy())]
    else:  # exact copies collapse into the first: a kept id sits at its first row
        first = pd.Series(rows, index=frame["request_id"].astype("str").to_numpy())
        first = first.groupby(level=0).min()
        data_rows = first.reindex(validated.data["request_id"].astype("str").to_numpy()).to_numpy()
    return _Piece(
        validated.data, np.asarray(data_rows, dtype="int64"), quarantine, validated.collapsed
    )


def _concat_canonical(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    """Canonical frames of several pieces as one; category columns get the union of
    categories, sorted as a one-piece load sorts them."""
    if len(pieces) == 1:
        return pieces[0]
    out = {}
    for col in list(pieces[0].columns):
        parts = [p.pop(col) for p in pieces]  # each piece's column is freed once joined
        if isinstance(parts[0].dtype, pd.CategoricalDtype) and col != "outcome":
            cats = sorted(set().union(*(set(s.cat.categories) for s in parts)))
            if cats:
                dtype = next(s.cat.categories.dtype for s in parts if len(s.cat.categories))
                parts = [s.cat.set_categories(pd.Index(cats, dtype=dtype)) for s in parts]
        out[col] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(out)


def _stream_delimiter(path: Path, m: Mapping) -> str | None:
    """The delimiter if ``path`` is read in blocks: a big plain UTF-8 delimited file
    (not an event log to de-duplicate); else None."""
    name = path.name.lower()
    if m.dedupe is not None or m.events is not None or not name.endswith((".csv", ".txt", ".tsv")):
        return None
    try:
        if not path.is_file() or path.stat().st_size < STREAM_MIN_BYTES:
            return None
        with open(path, "rb") as fh:
            sample = fh.read(_SAMPLE_BYTES)
    except OSError:
        return None
    if not sample.strip() or sample.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in sample:
        return None
    try:
        sample[: len(sample) - 4].decode("utf-8")
    except UnicodeDecodeError:
        return None
    default = "\t" if ".tsv" in name else ","
    return _sniff_delimiter(sample.decode("utf-8", errors="ignore"), default)


def _duplicated_ids(source: str, read: Any, parse: Any, column: str, na: set[str]):
    """(rows, ids given more than once) of a big file, counted in Arrow block by block."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    convert = pacsv.ConvertOptions(
        include_columns=[column], column_types={column: pa.string()}, strings_can_be_null=False
    )
    missing = pa.array(sorted(na | {""}), type=pa.string())
    chunks = []
    rows = 0
    try:
        with pacsv.open_csv(
            source, read_options=read, parse_options=parse, convert_options=convert
        ) as reader:
            for batch in reader:
                ids = pc.utf8_trim_whitespace(batch.column(0))
                rows += len(ids)
                chunks.append(ids.filter(pc.invert(pc.is_in(ids, value_set=missing))))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _NotStreamable from exc
    if not chunks:
        return rows, pd.Index([], dtype="str")
    counts = pc.value_counts(pa.chunked_array(chunks, type=pa.string()))
    dup = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    return rows, pd.Index(dup.to_pylist(), dtype="str")


def _load_in_blocks(
    source: str, sep: str, m: Mapping, label: str, keep: Iterable[str], now: pd.Timestamp
) -> tuple[list[_Piece], _Plan, int, dict[str, _DateStats], int]:
    """Read a big delimited file block by block (pyarrow's streaming CSV reader).

    Returns the validated pieces, the plan, the rows read, the column statistics and
    the number of empty rows skipped.

    Two passes: the first reads only the request ids and finds the duplicated ones;
    the second converts and validates each block, setting aside the rows of duplicated
    ids, which are validated together at the end (exactly as a one-piece load would).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    read = pacsv.ReadOptions(block_size=STREAM_BLOCK_BYTES, encoding="utf8")
    parse = pacsv.ParseOptions(delimiter=sep)
    try:  # the header only: a small block, and the reader freed at once
        head = pacsv.open_csv(
            source, read_options=pacsv.ReadOptions(block_size=1 << 20), parse_options=parse
        )
        raw_names = list(head.schema.names)
        head.close()
        del head
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise _NotStreamable from exc
    names = [n.strip().lstrip("\ufeff") for n in raw_names]
    if names[: len(QUARANTINE_COLUMNS)] == list(QUARANTINE_COLUMNS):
        raise _NotStreamable  # a quarantine file loaded again: the whole-file reader restores it
    plan = _plan(m, names, label, keep)
    _check_repeated_columns(names, plan, label)
    if len(set(names)) != len(names):
        raise _NotStreamable
    raw_of = dict(zip(names, raw_names, strict=True))
    used = plan.used()
    na = set(m.na_values)

    def blocks(columns: list[str]):
        convert = pacsv.ConvertOptions(
            include_columns=[raw_of[c] for c in columns],
            column_types={raw_of[c]: pa.string() for c in columns},
            null_values=[""],  # else text as written: the quarantine keeps it so
            strings_can_be_null=True,
        )
        try:
            with pacsv.open_csv(
                source, read_options=read, parse_options=parse, convert_options=convert
            ) as reader:
                for batch in reader:
                    piece = batch.to_pandas()  # columns in include_columns order
                    piece.columns = columns
                    del batch
                    yield piece, _clean_text(piece, na)
                    pool.release_unused()  # Arrow's allocator keeps freed blocks otherwise
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise _NotStreamable from exc

    pool = pa.default_memory_pool()
    id_col = plan.columns["request_id"]
    rows_read, dup_ids = _duplicated_ids(source, read, parse, raw_of[id_col], na)
    pool.release_unused()
    if rows_read == 0:
        raise InputError(
            "the file has a header row but no data rows",
            file=source,
            hint="check the export filter (it may have matched no requests)",
        )

    stats: dict[str, _DateStats] = {}
    pieces: list[_Piece] = []
    aside: list[tuple[pd.DataFrame, pd.DataFrame, np.ndarray]] = []
    offset = blank_rows = 0
    for values, work in blocks(used):
        rows = np.arange(offset + 1, offset + len(work) + 1, dtype="int64")
        offset += len(work)
        blank = _blank_rows(work)
        if blank.any():
            blank_rows += int(blank.sum())
            work, values, rows = (
                work[~blank].reset_index(drop=True),
                values[~blank].reset_index(drop=True),
                rows[~blank],
            )
        dup = work[id_col].isin(dup_ids).to_numpy(dtype=bool) if len(dup_ids) else None
        if dup is not None and dup.any():
            aside.append(
                (values[dup].reset_index(drop=True), work[dup].reset_index(drop=True), rows[dup])
            )
            work, values, rows = (
                work[~dup].reset_index(drop=True),
                values[~dup].reset_index(drop=True),
                rows[~dup],
            )
        if len(work):
            pieces.append(
                _validate_piece(values, work, pd.Series(rows), rows, plan, m, label, stats, now)
            )
    if aside:
        values = pd.concat([v for v, _, _ in aside], ignore_index=True)
        work = pd.concat([w for _, w, _ in aside], ignore_index=True)
        rows = np.concatenate([r for _, _, r in aside])
        pieces.append(
            _validate_piece(values, work, pd.Series(rows), rows, plan, m, label, stats, now)
        )
    return pieces, plan, offset, stats, blank_rows


def _load(
    source: str,
    is_sql: bool,
    preset: str | None,
    mapping: str | Path | Mapping | dict[str, Any] | None,
    query: str | None,
    keep: Iterable[str],
    quarantine_dir: str | Path | None,
    sheet: str | int | None,
) -> LoadResult:
    m = load_mapping(preset=preset, mapping=mapping)
    keep = tuple(keep)
    label = redact_url(source)
    now = pd.Timestamp.now(tz="UTC") + FUTURE_TOLERANCE
    warnings: list[str] = []
    rows_deduplicated = rows_blank = 0
    folded = None
    sep = None if is_sql else _stream_delimiter(Path(source), m)
    pieces: list[_Piece] | None = None
    if sep is not None:
        try:
            pieces, plan, rows_read, stats, rows_blank = _load_in_blocks(
                source, sep, m, label, keep, now
            )
            fingerprint = sha256_file(source)
        except _NotStreamable:
            pieces = None  # the whole-file reader gives the exact error or reads it
    if pieces is None:
        if is_sql:
            raw, fingerprint = _read_sql(source, query, [""])
        else:
            # text as written (NULL stays NULL): the quarantine keeps it so; it is cleaned below
            options = ReadOptions(
                na_values=[""],
                sheet=sheet,
                # columnar files: only the mapped columns are read at all
                select=lambda names: _plan(m, names, label, keep).used(),
            )
            table = read_table(source, options)
            raw, warnings = table.frame, list(table.warnings)
            fingerprint = sha256_file(source)
        rows_read = len(raw)
        try:
            plan = _plan(m, [str(c) for c in raw.columns], label, keep)
        except InputError as exc:
            # e.g. the first sheet of a workbook is a cover sheet: say which sheets there are
            sheets = [w for w in warnings if " sheets (" in w]
            if sheets:
                exc.hint = (f"{exc.hint}. " if exc.hint else "") + f"{sheets[0]} with --sheet"
                exc.args = (exc.render(),)
            raise

        _check_repeated_columns([str(c) for c in raw.columns], plan, label)
        # only the mapped columns go any further (personal and free-text columns stop here);
        # ``values`` is the text as read, for the quarantine, ``work`` the cleaned text
        values = raw[plan.used()]
        del raw
        work = _clean_text(values, set(m.na_values))
        work_rows = np.arange(1, rows_read + 1)
        blank = _blank_rows(work) if plan.event_time is None else None
        if blank is not None and blank.any():
            rows_blank = int(blank.sum())
            work = work[~blank].reset_index(drop=True)
            values = values[~blank].reset_index(drop=True)
            work_rows = work_rows[~blank]
        source_rows = pd.Series(work_rows, dtype="int64")
        kept = work
        stats: dict[str, _DateStats] = {}
        derived = None
        if plan.order_by is not None:
            last = _dedupe(work, plan, m)
            rows_deduplicated = int((~last).sum())
            kept = work[last].reset_index(drop=True)
            source_rows = source_rows[last].reset_index(drop=True)
        elif plan.event_time is not None:
            folded = _fold_events(work, plan, m, label, stats)
            rows_deduplicated = rows_read - len(folded.positions) - len(folded.quarantine)
            kept = work.iloc[folded.positions].reset_index(drop=True)
            source_rows, derived = folded.source_rows, folded.derived
        pieces = [
            _validate_piece(
                values,
                kept,
                source_rows,
                work_rows,
                plan,
                m,
                label,
                stats,
                now,
                derived,
            )
        ]
        if folded is not None and len(folded.quarantine):
            pieces[0].quarantine = (
                pd.concat([pieces[0].quarantine, folded.quarantine], ignore_index=True)
                .sort_values("source_row", kind="stable")
                .reset_index(drop=True)
            )
    if plan.absent:
        warnings.append(f"optional columns not in the source, left empty: {', '.join(plan.absent)}")
    warnings.extend(_event_warnings(plan, m, folded))
    warnings.extend(_shared_column_warnings(plan, m))
    warnings.extend(_date_warnings(stats.values(), m))

    rows = np.concatenate([p.rows for p in pieces]) if len(pieces) > 1 else None
    frames = [p.data for p in pieces]
    for p in pieces:
        p.data = None  # type: ignore[assignment]  # the joined frame is the only copy left
    data = _concat_canonical(frames)
    del frames
    if rows is not None:
        if not (np.diff(rows) > 0).all():  # rows of duplicated ids were validated last
            data = data.iloc[np.argsort(rows, kind="stable")].reset_index(drop=True)
        quarantine = pd.concat([p.quarantine for p in pieces], ignore_index=True)
        quarantine = quarantine.sort_values("source_row", kind="stable").reset_index(drop=True)
    else:
        quarantine = pieces[0].quarantine

    quarantine_path = None
    if quarantine_dir is not None and len(quarantine):
        path = _quarantine_file(Path(quarantine_dir), _source_stem(source, query, is_sql))
        # users open it in a spreadsheet: cells that would run as formulas are neutralised
        quarantine_path = atomic_write(path, neutralise_csv_frame(quarantine).to_csv(index=False))

    return LoadResult(
        data=data,
        quarantine=quarantine,
        source=label,
        mapping=m,
        fingerprint=fingerprint,
        rows_read=rows_read,
        rows_kept=len(data),
        rows_quarantined=len(quarantine),
        quarantine_path=quarantine_path,
        warnings=warnings,
        rows_deduplicated=rows_deduplicated,
        rows_collapsed=sum(p.collapsed for p in pieces),
        rows_blank=rows_blank,
        columns_used=_columns_used(plan, m),
        events=None
        if folded is None
        else EventCounts(
            events_read=rows_read,
            requests_formed=folded.counts.requests_formed,
            requests_quarantined=folded.counts.requests_formed - len(data),
            events_without_time=folded.counts.events_without_time,
        ),
        adjusted_values=_adjusted_values(stats.values()),
    )


def data_quality(result: LoadResult) -> pd.DataFrame:
    """Coverage of every canonical (and kept) column in the loaded data.

    Returns
    -------
    pd.DataFrame
        One row per column: ``column``, ``source`` (the source column, or None),
        ``present`` (bool: the source provides it), ``non_null`` (count),
        ``coverage_pct`` (0..100 of kept rows), ``distinct`` (count of values),
        ``min`` and ``max`` (dates and numbers; None otherwise).

    Examples
    --------
    >>> data_quality(res).set_index("column").loc["closed_at", "coverage_pct"]  # doctest: +SKIP
    80.0
    """
    df = result.data
    n = len(df)
    extras = [c for c in df.columns if c not in COLUMNS]
    rows = []
    for col in [*CANONICAL_NAMES, *extras]:
        s = df[col] if col in df.columns else pd.Series(dtype="float64")
        source = result.columns_used.get(col)
        present = bool(source)
        non_null = int(s.notna().sum())
        lo = hi = None
        if non_null and (
            pd.api.types.is_datetime64_any_dtype(s.dtype)
            or (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype))
        ):
            lo, hi = s.min(), s.max()
        rows.append(
            {
                "column": col,
                "source": source or None,
                "present": present,
                "non_null": non_null,
                "coverage_pct": 100.0 * non_null / n if n else float("nan"),
                "distinct": int(s.nunique(dropna=True)),
                "min": lo,
                "max": hi,
            }
        )
    return pd.DataFrame(rows)
