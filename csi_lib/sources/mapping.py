"""The mapping model (pydantic), its errors with file and line, and the presets shipped in the package."""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

from ..errors import ConfigError
from ..events import Events, Rule, check_mapping, parse_rule
from ..schema import (
    CANONICAL_COLUMNS,
    OUTCOMES,
)
from ..storage import broken_link, read_bounded
from ..yamlio import compose_yaml
from ..yamlio.read import YAML_MAX_BYTES

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


class OutcomeWhenEmpty(_Strict):
    """Where the outcome column is empty, another column decides (e.g. Jira's status
    category when an issue has no resolution); a value it does not list leaves the default."""

    column: Text | list[Text]
    values: dict[OutcomeName, list[Text]]


class OutcomeMapping(_Strict):
    """Which source values mean which canonical outcome (compared case-insensitively).

    ``other``: the outcome of a value that is not listed (and not empty), reported in
    a warning with its count; without it such a value takes ``default``.
    ``when_empty``: where the column is empty, another column decides.
    """

    column: Text
    values: dict[OutcomeName, list[Text]]
    default: OutcomeName | None = "open"
    other: OutcomeName | None = None
    when_empty: OutcomeWhenEmpty | None = None

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

    @field_validator("na_values")
    @classmethod
    def _stripped_spellings(cls, value: list[str]) -> list[str]:
        """Cells are stripped before they are compared with the spellings: a spelling
        written with white space at an end (" - ") is the stripped one ("-")."""
        return list(dict.fromkeys(v.strip() for v in value))

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
    ("outcome", "when_empty"): OutcomeWhenEmpty,
    ("sla_met",): SlaMetMapping,
}
#: Valid dict keys at each place.
_KEYS_AT: dict[tuple[str, ...], tuple[str, ...]] = {
    ("columns",): CANONICAL_NAMES,
    ("derive",): CANONICAL_NAMES,
    ("outcome", "values"): OUTCOMES,
    ("outcome", "when_empty", "values"): OUTCOMES,
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
        if not path.exists():
            broken = broken_link(path)
            if broken:
                raise ConfigError(
                    broken, file=str(path), hint="give the path of the mapping file itself"
                )
            raise ConfigError(
                "the mapping file does not exist",
                file=str(path),
                hint=f"check the path, or use a preset ({', '.join(list_presets())})",
            )
        try:  # a named pipe or a device is refused, never read (csi_lib.storage)
            text = read_bounded(
                path, YAML_MAX_BYTES, error=ConfigError, what="mapping file"
            ).decode("utf-8-sig")
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
