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
>>> _ = (tmp / "export.csv").write_text(
...     "request_id,opened_at,closed_at,outcome,csat\\n"
...     "R1,2025-03-01 09:00,2025-03-02 09:00,fulfilled,5\\n"
...     "R2,2025-03-03 10:00,2025-03-01 10:00,fulfilled,4\\n"   # closed before it opened
...     "R3,2025-03-04 11:00,2025-03-05 11:00,fulfilled,9\\n")  # csat is 1..5
>>> res = load_requests(tmp / "export.csv", preset="generic", quarantine_dir=tmp / "out")
>>> res.summary()["rows_quarantined"], list(res.data["request_id"])
(2, ['R1'])
>>> [p.name for p in (tmp / "out").iterdir()]
['quarantine-export-....csv']


The package has one module per responsibility: :mod:`.mapping` (the mapping model and presets), :mod:`.readers` (the readers registry: CSV, Excel, Parquet), :mod:`.sql` (read-only database sources and redaction), :mod:`.result` (LoadResult), :mod:`.plan` (which source column feeds which canonical column; dates, outcomes, dedupe), :mod:`.convert` (text to typed canonical columns), :mod:`.blocks` (big files read in blocks), :mod:`.loading` (load_requests), :mod:`.quality` (data_quality). Every name is importable from ``csi_lib.sources`` as before.
"""

from __future__ import annotations

from .blocks import (  # noqa: F401
    STREAM_BLOCK_BYTES,
    STREAM_MIN_BYTES,
    _concat_canonical,
    _duplicated_ids,
    _load_in_blocks,
    _Piece,
    _stream_delimiter,
    _validate_piece,
)
from .convert import (  # noqa: F401
    _blank_rows,
    _clean_categories,
    _clean_text,
    _columns_used,
    _convert,
    _event_warnings,
    _fold_events,
    _NotStreamable,
    _parse_dates,
)
from .loading import (  # noqa: F401
    ENV_SOURCE,
    _load,
    _quarantine_file,
    _source_stem,
    load_requests,
    source_from_environment,
)
from .mapping import (  # noqa: F401
    _KEYS_AT,
    _MODEL_AT,
    CANONICAL_NAMES,
    DEFAULT_NA_VALUES,
    FUTURE_TOLERANCE,
    CanonicalName,
    Dedupe,
    DeriveRule,
    Mapping,
    OutcomeMapping,
    OutcomeName,
    SlaMetMapping,
    Text,
    _check_duplicate_keys,
    _find_node,
    _mapping_error,
    _mapping_from_text,
    _preset_files,
    _scalar_to_str,
    _Strict,
    _zone_names,
    list_presets,
    load_mapping,
)
from .plan import (  # noqa: F401
    _NUMERIC_DATE,
    _adjusted_values,
    _check_day_month_order,
    _check_repeated_columns,
    _date_warnings,
    _DateStats,
    _dedupe,
    _missing_column_error,
    _outcomes,
    _Plan,
    _plan,
    _shared_column_warnings,
)
from .quality import (  # noqa: F401
    data_quality,
)
from .readers import (  # noqa: F401
    _DELIMITERS,
    _NULLABLE,
    _SAMPLE_BYTES,
    READERS,
    RawTable,
    Reader,
    ReadOptions,
    _columns_to_read,
    _frame_as_text,
    _frame_typed,
    _from_quarantine,
    _head_bytes,
    _header_cells,
    _is_typed,
    _mangled,
    _not_text,
    _nullable_types,
    _read_columnar,
    _reader_for,
    _sniff_delimiter,
    _text_source,
    _unmangle,
    _zip_member,
    read_arrow,
    read_delimited,
    read_excel,
    read_parquet,
    read_table,
    register_reader,
)
from .result import (  # noqa: F401
    LoadResult,
)
from .sql import (  # noqa: F401
    _PARAM_EQUALS,
    _PARAM_START,
    _PARAM_VALUE,
    _SECRET_KEY,
    _SECRET_PARAM,
    _TABLE_NAME,
    _USERINFO,
    _WRITE_WORDS,
    READ_ONLY_TRANSACTION,
    _read_only_url,
    _read_sql,
    _scrub,
    _secrets,
    check_read_only_query,
    redact_url,
)

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
