"""The value of one run: what it reads, as of when, in which timezone, over which periods.

Every entry point builds it once, at the edge: ``csi report`` from its command line,
a stage notebook from its parameters (:func:`start_run`), ``csi kpis`` and the
library's functions from their arguments. Everything after reads the same value:

- :class:`DataSource`: the data as one typed value (a file path or database URL, the
  preset or mapping file, the query, the sheet);
- ``as_of``, the inclusive report date, and ``timezone``: together the **cut**, the end
  of the as-of day in the reporting timezone. Every output uses the data up to the
  cut and nothing after it (:func:`as_known_at`): requests opened later are left
  out, and what happened to the others later (an assessment, a closure, its score) is
  not known yet;
- the periods (a cycle's three, or the period asked for), each cut once
  (:meth:`Run.clip`), and where complete months or weeks end
  (:attr:`Run.complete_until`): a bin that is not over by then is *partial*, drawn and
  labelled as such but never judged (:meth:`Run.partial`).

A report run saves the value into its run folder (:meth:`Run.save`: the canonical
frame as Arrow, cut at as-of, and ``run.json``); each stage notebook gets one
parameter, ``run_dir``, and reads it back (:func:`open_run`), so the pages, the Excel
workbook, the summaries and the PDF all read the same data, cut and periods. A
database URL (and its password) is never written there: the frame is.

Examples
--------
>>> run = make_run(sample_cycle, as_of="2025-10-15")   # the folder data/sample-cycle
>>> run.cut
Timestamp('2025-10-16 00:00:00+0000', tz='UTC')
>>> run.clip(run.periods["action"]).label
'2025-07-01 to 2025-10-15'
>>> run.complete_until                                    # September is the last full month
Timestamp('2025-10-01 00:00:00+0000', tz='UTC')
>>> int((run.data["opened_at"] >= run.cut).sum())        # nothing after the cut
0
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import shipped
from .errors import ConfigError, CsiError
from .periods import Period, local_instant, natural_bin, partial_bins
from .storage import atomic_write

if TYPE_CHECKING:
    from .cycle.config import CycleConfig
    from .sources import LoadResult

__all__ = [
    "RUN_FILE",
    "SAMPLE_DATA",
    "DataSource",
    "Run",
    "as_known_at",
    "make_run",
    "open_run",
    "start_run",
]

#: The run's small JSON beside its stored frame (see :meth:`Run.save`).
RUN_FILE = "run.json"
#: The bundled sample data: a run without a cycle or data reads it.
SAMPLE_DATA = shipped.SAMPLE_DATA


# --------------------------------------------------------------------------- the source


@dataclass(frozen=True)
class DataSource:
    """Where the requests come from and how they are mapped onto the canonical columns.

    Attributes
    ----------
    location:
        A file path (absolute) or a database URL (SQLAlchemy). A URL is never written
        to disk nor shown with its password (:attr:`label`).
    preset, mapping:
        A built-in mapping preset, or a mapping file (absolute path); at most one.
    query:
        The SELECT statement or table name of a database source.
    sheet:
        The worksheet of an Excel file (name or 0-based number).
    engine, master:
        The engine that loads and validates the data (None or ``pandas``: the pandas
        loader; ``spark``: :func:`csi_lib.engines.rows.load_rows`) and Spark's master URL.
    """

    location: str
    preset: str | None = None
    mapping: str | None = None
    query: str | None = None
    sheet: str | int | None = None
    engine: str | None = None
    master: str | None = None

    @property
    def is_url(self) -> bool:
        return "://" in self.location

    @property
    def label(self) -> str:
        """The source for readers: a file's name, a URL without its password."""
        from .sources import redact_url

        return redact_url(self.location) if self.is_url else Path(self.location).name

    def load(self, *, quarantine_dir: str | Path | None = None) -> LoadResult:
        """Read, map and validate the source (:func:`csi_lib.sources.load_requests`)."""
        if self.engine not in (None, "pandas"):
            from .engines.rows import load_rows

            return load_rows(
                self.location,
                engine=self.engine,
                master=self.master,
                preset=self.preset,
                mapping=self.mapping,
                query=self.query,
                quarantine_dir=quarantine_dir,
            )
        from .sources import load_requests

        return load_requests(
            self.location,
            preset=self.preset,
            mapping=self.mapping,
            query=self.query,
            sheet=self.sheet,
            quarantine_dir=quarantine_dir,
        )

    def to_dict(self) -> dict[str, Any]:
        """For ``run.json``: a URL only as its label (never its password)."""
        return {
            "location": self.label if self.is_url else self.location,
            "is_url": self.is_url,
            "preset": self.preset,
            "mapping": self.mapping,
            "query": self.query,
            "sheet": self.sheet,
            "engine": self.engine,
            "master": self.master,
        }


def _absolute(path: str | Path | None) -> str | None:
    """A file path made absolute from the current directory; URLs and None unchanged."""
    if path is None:
        return None
    text = str(path)
    return text if "://" in text else str(Path(text).expanduser().absolute())


# --------------------------------------------------------------------------- the cut


def as_known_at(df: pd.DataFrame, cut: pd.Timestamp | None) -> tuple[pd.DataFrame, dict[str, int]]:
    """The requests as they stood at the instant ``cut``: what an export taken then held.

    Requests opened at or after the cut are left out. For the others, an assessment or
    a closure at or after the cut has not happened yet: it is emptied, a closed request
    is open again, and what only a closure gives (its satisfaction score, whether the
    SLA was met) is not known yet. The reopen count is kept (a source does not say when
    a request was reopened). Every KPI over a period that ends by the cut is the same
    on the result as on ``df``.

    Returns
    -------
    (frame, counts)
        The cut frame (``df`` itself when nothing changes) and ``{"left_out": requests
        opened after the cut, "not_closed_yet": closures after the cut emptied,
        "not_assessed_yet": assessments emptied}``.

    Examples
    --------
    >>> from csi_lib.testing import make_requests
    >>> df = make_requests([
    ...     {"opened_at": "2025-03-01", "closed_at": "2025-03-02", "csat": 5},
    ...     {"opened_at": "2025-03-10", "closed_at": "2025-04-02", "csat": 4},
    ...     {"opened_at": "2025-04-01"}])
    >>> cut, counts = as_known_at(df, pd.Timestamp("2025-04-01", tz="UTC"))
    >>> cut[["request_id", "outcome", "csat"]]
      request_id    outcome  csat
    0       R001  fulfilled   5.0
    1       R002       open   NaN
    >>> counts
    {'left_out': 1, 'not_closed_yet': 1, 'not_assessed_yet': 0}
    """
    counts = {"left_out": 0, "not_closed_yet": 0, "not_assessed_yet": 0}
    if cut is None or df.empty:
        return df, counts
    opened = df["opened_at"]
    keep = (opened < cut).to_numpy(dtype=bool)
    closed_later = (df["closed_at"] >= cut).to_numpy(dtype=bool) & keep
    assessed_later = (
        (df["assessed_at"] >= cut).to_numpy(dtype=bool) & keep
        if "assessed_at" in df
        else np.zeros(len(df), dtype=bool)
    )
    counts = {
        "left_out": int((~keep).sum()),
        "not_closed_yet": int(closed_later.sum()),
        "not_assessed_yet": int(assessed_later.sum()),
    }
    if not (counts["left_out"] or closed_later.any() or assessed_later.any()):
        return df, counts
    out = df.loc[keep].copy() if counts["left_out"] else df.copy()
    later = pd.Series(closed_later[keep], index=out.index)
    if later.any():
        out.loc[later, "closed_at"] = pd.NaT
        out["outcome"] = out["outcome"].mask(later, "open")
        for column in ("csat", "sla_met"):
            if column in out:
                out[column] = out[column].mask(later)
    if assessed_later.any():
        out.loc[pd.Series(assessed_later[keep], index=out.index), "assessed_at"] = pd.NaT
    return out.reset_index(drop=True), counts


def _data_end(df: pd.DataFrame, tz: str) -> pd.Timestamp | None:
    """The end of the last day ``df`` holds an event on (opened, assessed, closed), or None."""
    stamps = [df[c].max() for c in ("opened_at", "assessed_at", "closed_at") if c in df]
    known = [t for t in stamps if not pd.isna(t)]
    if not known:
        return None
    return _end_of_day(max(known).tz_convert(tz).date(), tz)


def _end_of_day(day: dt.date, tz: str) -> pd.Timestamp:
    """The instant the inclusive date ``day`` ends in ``tz`` (the next local midnight), UTC."""
    return local_instant(pd.Timestamp(day + dt.timedelta(days=1)), tz).tz_convert("UTC")


def _as_date(value: str | dt.date | None, *, tz: str) -> dt.date | None:
    """The as-of date: None, "today" (in ``tz``), a date or ``YYYY-MM-DD``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if str(value).strip().lower() == "today":
        return pd.Timestamp.now(tz=tz).date()
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ConfigError(
            f"as_of '{value}' is not a date", column="as_of", hint="write it as YYYY-MM-DD"
        ) from exc


# --------------------------------------------------------------------------- the run


@dataclass
class Run:
    """One run's data source, as-of cut, timezone and periods (build it with :func:`make_run`).

    Attributes
    ----------
    source:
        The :class:`DataSource` (for a run read back from its folder: as recorded, with a
        URL's password hidden; the data comes from the folder).
    as_of:
        The inclusive report date, or None (all of the data, no cut).
    timezone:
        The reporting timezone (IANA name): dates are midnight to midnight there.
    freq:
        ``"month"`` or ``"week"``: the bins of every series.
    cycle_dir, config:
        The cycle folder and its validated ``cycle.yaml`` (None without a cycle).
    period_from, period_to:
        Without a cycle: the inclusive dates of the period asked for (None: from the
        start of the data, up to the end of the data or the as-of date).
    folder:
        Where the run was saved (:meth:`save`), or None.
    output_dir:
        The report folder the stages write into, or None.
    quarantine_dir:
        Where the quarantine file of a load goes, or None (none written).
    """

    source: DataSource
    as_of: dt.date | None = None
    timezone: str = "UTC"
    freq: str = "month"
    cycle_dir: Path | None = None
    config: CycleConfig | None = field(default=None, repr=False)
    period_from: str | None = None
    period_to: str | None = None
    folder: Path | None = None
    output_dir: Path | None = None
    quarantine_dir: Path | None = None
    _load: Any = field(default=None, repr=False)

    # ---- dates
    @property
    def cut(self) -> pd.Timestamp | None:
        """The end of the as-of day in the reporting timezone (UTC instant), or None."""
        return None if self.as_of is None else _end_of_day(self.as_of, self.timezone)

    @functools.cached_property
    def data_end(self) -> pd.Timestamp | None:
        """The end of the last day the data holds an event on (before the cut), or None.

        Data that goes on past the as-of date covers it: its end is then the cut, even if
        no request happened on the as-of day itself."""
        load = self.load()
        recorded = (load.as_of_cut or {}).get("data_end")
        if recorded is not None:
            return pd.Timestamp(recorded)
        return _data_end(load.data, self.timezone)

    @property
    def complete_until(self) -> pd.Timestamp | None:
        """Where the last complete month (or week) ends: the start of the bin holding the
        cut or the end of the data, whichever is first. Bins ending later are partial."""
        ends = [t for t in (self.cut, self.data_end) if t is not None]
        if not ends:
            return None
        edge = min(ends)
        first, _ = natural_bin(edge - pd.Timedelta(microseconds=1), self.freq, self.timezone)
        _, last = natural_bin(first, self.freq, self.timezone)
        return last if last <= edge else first

    @property
    def periods(self) -> dict[str, Period]:
        """The planned periods, whole: a cycle's baseline, action and review, or ``period``."""
        if self.config is not None:
            return self.config.periods()
        return {"period": self.period}

    @functools.cached_property
    def period(self) -> Period:
        """Without a cycle: the period asked for (default: the data's first day to its last
        day, or to the as-of date). With a cycle: the baseline period."""
        if self.config is not None:
            return self.config.periods()["baseline"]
        if self.period_from and self.period_to:
            return Period.from_dates(self.period_from, self.period_to, self.timezone)
        df = self.data
        if df.empty:
            day = self.period_from or self.period_to or (self.as_of or dt.date(1970, 1, 1))
            return Period.from_dates(day, self.period_to or day, self.timezone)
        first = self.period_from or df["opened_at"].min().tz_convert(self.timezone).date()
        last = self.period_to or (self.data_end - pd.Timedelta(days=1)).date()
        if self.as_of is not None and not self.period_to:
            last = min(pd.Timestamp(last).date(), self.as_of)
        return Period.from_dates(first, last, self.timezone)

    def clip(self, period: Period | None) -> Period | None:
        """``period`` cut at the as-of date: None if it starts later."""
        return None if period is None else period.until(self.cut)

    def judged(self, period: Period | None) -> Period | None:
        """The part of ``period`` made of complete months or weeks (see :attr:`complete_until`):
        what verdicts, standings and projections rest on. None if there is none yet."""
        return None if period is None else period.until(self.complete_until)

    def partial(self, series: pd.DataFrame) -> np.ndarray:
        """Which rows of a series (``period_start``, ``period_end``) are partial bins."""
        if series.empty:
            return np.zeros(0, dtype=bool)
        return partial_bins(
            series["period_start"],
            series["period_end"],
            self.freq,
            complete_until=self.complete_until,
            tz=self.timezone,
        )

    # ---- data
    def load(self) -> LoadResult:
        """The requests of the run (``LoadResult``), cut at as-of; read once."""
        if self._load is None:
            if self.folder is not None:
                from . import runstore

                self._load = runstore.read(self.folder)
            else:
                self.use(self.source.load(quarantine_dir=self.quarantine_dir))
        return self._load

    def use(self, result: LoadResult) -> Run:
        """Take ``result``, a load of this run's source made elsewhere (e.g. shared between
        runs at other as-of dates), cut at this run's as-of; returns the run."""
        cut = None
        data = result.data
        if self.cut is not None:
            end = _data_end(data, self.timezone)
            data, counts = as_known_at(data, self.cut)
            cut = {
                "at": self.cut.isoformat(),
                **counts,
                "data_end": None if end is None else min(end, self.cut).isoformat(),
            }
        self._load = dataclasses.replace(result, data=data, rows_kept=len(data), as_of_cut=cut)
        return self

    @property
    def data(self) -> pd.DataFrame:
        """The canonical request frame, cut at as-of."""
        return self.load().data

    @functools.cached_property
    def data_key(self) -> str:
        """A hash of the run's frame: the source's fingerprint, the mapping, the row counts
        (:func:`csi_lib.runstore.data_key`) and the cut."""
        from . import runstore

        return runstore._digest([runstore.data_key(self.load()), str(self.cut)])

    # ---- saving
    def to_dict(self) -> dict[str, Any]:
        """What ``run.json`` holds (never a URL's password)."""
        return {
            "source": self.source.to_dict(),
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "timezone": self.timezone,
            "freq": self.freq,
            "cut": None if self.cut is None else self.cut.isoformat(),
            "complete_until": (
                None if self.complete_until is None else self.complete_until.isoformat()
            ),
            "cycle_dir": None if self.cycle_dir is None else str(self.cycle_dir),
            "period_from": self.period_from,
            "period_to": self.period_to,
            "periods": {name: p.to_dict() for name, p in self.periods.items()},
            "output_dir": None if self.output_dir is None else str(self.output_dir),
        }

    def save(self, folder: str | Path) -> Path:
        """Write the run into ``folder``: its frame cut at as-of, the quarantine and the
        load's counts (:mod:`csi_lib.runstore`), and ``run.json``. Returns ``folder``."""
        from . import runstore

        folder = Path(folder)
        runstore.save(self.load(), folder)
        atomic_write(folder / RUN_FILE, json.dumps(self.to_dict(), indent=1), overwrite=True)
        return folder

    def shared(self, kind: str, parts: dict[str, Any], compute: Any, encode: Any, decode: Any):
        """A result computed once per saved run and read again by the later stages
        (:func:`csi_lib.runstore.shared`); outside a saved run, ``compute()``."""
        if self.folder is None:
            return compute()
        from . import runstore

        return runstore.shared(self.folder, parts, compute, encode, decode, kind=kind)


# --------------------------------------------------------------------------- building it


def make_run(
    cycle_dir: str | Path | None = None,
    *,
    data: str | Path | None = None,
    preset: str | None = None,
    mapping: str | Path | None = None,
    query: str | None = None,
    sheet: str | int | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    as_of: str | dt.date | None = None,
    timezone: str | None = None,
    output_dir: str | Path | None = None,
    quarantine_dir: str | Path | None = None,
) -> Run:
    """Settle a run once, from a command line or a notebook's parameters.

    Parameters
    ----------
    cycle_dir:
        A cycle folder: its ``cycle.yaml`` gives the data source (unless ``data`` is
        given), the periods, the timezone and the frequency.
    data, preset, mapping, query, sheet:
        The data source, or one to use instead of the cycle's own (without a cycle and
        without ``data``: the bundled sample). Relative paths are from the current folder.
    date_from, date_to:
        Without a cycle: inclusive dates of the period (default: all of the data).
    as_of:
        The inclusive report date (``YYYY-MM-DD``, a date, ``"today"`` in the reporting
        timezone), or None for all of the data.
    timezone:
        The reporting timezone without a cycle (default UTC); a cycle has its own.
    output_dir, quarantine_dir:
        The report folder, and where rejected rows are written (None: no file).

    Raises
    ------
    ConfigError
        A bad date, a preset and a mapping both given, a cycle.yaml with problems.
    """
    if preset is not None and mapping is not None:
        raise ConfigError("give at most one of preset and mapping", hint="remove one of them")
    config = None
    folder = None
    engine = master = None
    if cycle_dir is not None:
        from .cycle.config import _resolve, load_config

        folder = Path(cycle_dir).resolve()
        config = load_config(folder)
        tz, freq = config.timezone, config.freq
        if data is None:
            own = config.data
            data = own.source if own.is_url else _resolve(folder, own.source)
            query = query or own.query
            sheet = sheet if sheet is not None else own.sheet
            engine, master = own.engine, own.master
            if engine == "spark" and not Path(data).exists():
                query = query or own.source  # a table of the Spark session's catalogue
        if preset is None and mapping is None:
            preset = config.data.preset
            mapping = _resolve(folder, config.data.mapping)
    else:
        tz, freq = timezone or "UTC", "month"
        if data is None:
            data = SAMPLE_DATA
        if preset is None and mapping is None:
            preset = "generic"
    source = DataSource(
        location=_absolute(data) or "",
        preset=None if mapping is not None else preset,
        mapping=_absolute(mapping),
        query=query,
        sheet=sheet,
        engine=engine,
        master=master,
    )
    _check_database_source(source, cycle_dir=folder, given=data is not None)
    return Run(
        source=source,
        as_of=_as_date(as_of, tz=tz),
        timezone=tz,
        freq=freq,
        cycle_dir=folder,
        config=config,
        period_from=date_from,
        period_to=date_to,
        output_dir=None if output_dir is None else Path(output_dir),
        quarantine_dir=None if quarantine_dir is None else Path(quarantine_dir),
    )


def _check_database_source(source: DataSource, *, cycle_dir: Path | None, given: bool) -> None:
    """A database URL needs its query."""
    if source.is_url and not source.query:
        raise ConfigError(
            "a database URL needs the query to run",
            file=source.label,
            hint="add --query with a SELECT statement or a table name"
            if cycle_dir is None or given
            else "add data.query to cycle.yaml",
        )


def open_run(folder: str | Path) -> Run:
    """The run saved in ``folder`` by :meth:`Run.save` (its data is the stored frame).

    Raises
    ------
    CsiError
        ``folder`` holds no saved run.
    """
    folder = Path(folder)
    try:
        meta = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CsiError(
            "this folder holds no saved run (run.json is missing or unreadable)",
            file=str(folder),
            hint="give the run folder csi report made, or run the notebook without run_dir",
        ) from exc
    src = dict(meta["source"])
    src.pop("is_url", None)
    config = None
    cycle_dir = Path(meta["cycle_dir"]) if meta.get("cycle_dir") else None
    if cycle_dir is not None:
        from .cycle.config import load_config

        config = load_config(cycle_dir)
    return Run(
        source=DataSource(**src),
        as_of=None if meta["as_of"] is None else dt.date.fromisoformat(meta["as_of"]),
        timezone=meta["timezone"],
        freq=meta["freq"],
        cycle_dir=cycle_dir,
        config=config,
        period_from=meta.get("period_from"),
        period_to=meta.get("period_to"),
        folder=folder,
        output_dir=Path(meta["output_dir"]) if meta.get("output_dir") else None,
    )


def start_run(
    run_dir: str | Path | None = None,
    *,
    cycle_dir: str | Path | None = None,
    data_path: str | Path | None = None,
    preset: str | None = None,
    mapping: str | Path | None = None,
    query: str | None = None,
    period_from: str | None = None,
    period_to: str | None = None,
    as_of: str | dt.date | None = None,
    output_dir: str | Path | None = None,
) -> Run:
    """A stage notebook's run: the one ``csi report`` saved (``run_dir``, which wins over
    every other parameter), or one built live from the notebook's parameters (JupyterLab).

    Rejected rows of a live load go to ``output_dir/quarantine`` when an output folder is
    given, never into the cycle folder.
    """
    if run_dir:
        run = open_run(run_dir)
        if output_dir is not None:
            run.output_dir = Path(output_dir)
        return run
    return make_run(
        cycle_dir or None,
        data=data_path,
        preset=preset,
        mapping=mapping,
        query=query,
        date_from=period_from,
        date_to=period_to,
        as_of=as_of,
        output_dir=output_dir,
        quarantine_dir=Path(output_dir) / "quarantine" if output_dir else None,
    )


def replace(run: Run, **changes: Any) -> Run:
    """A copy of ``run`` with ``changes`` (its load is read again)."""
    return dataclasses.replace(run, _load=None, **changes)
