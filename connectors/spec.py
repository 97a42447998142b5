"""Source specifications: load and validate connectors/sources.yml into typed objects.

The YAML file is configuration, not code: which file is which registry, how it is encoded and how
its headers map to the hub's canonical field names. Everything is checked on load, by pydantic models
(`SourcesFile`: unknown keys refused); a `SpecError` names the file, then the source and the key of
every problem found (all of them at once, not just the first).

    specs = load_specs()                       # connectors/sources.yml
    spec = specs.sources["police_population"]
    spec.columns["id_number"]                  # ('公民身份号码',): accepted headers, contract one first
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

import yaml
from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator, model_validator

from normalize.vocabularies import vocabularies as all_vocabularies
from normalize.vocabularies import vocabulary
from pipelines.yaml_models import StrictModel

DEFAULT_PATH = Path(__file__).with_name("sources.yml")

FORMATS = ("csv", "xlsx")
# accepted spelling -> the encoding family the readers use
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "utf_8_sig": "utf-8-sig",
    "gbk": "gbk",
    "cp936": "gbk",
    "gb2312": "gbk",
    "gb18030": "gb18030",
}
SUPPORTED_ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")

# Columns every raw table carries besides the canonical fields: a field may not use these names.
RESERVED_FIELDS = ("delivery", "source", "source_file", "source_row", "extra_columns", "ingested_at")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_EXTENSIONS = {"csv": (".csv", ".txt", ".tsv"), "xlsx": (".xlsx", ".xlsm")}


class SpecError(ValueError):
    """sources.yml is invalid. `errors` lists every problem, each naming the source and the key."""

    def __init__(self, errors: list[str], path: Path | None = None):
        self.errors = list(errors)
        self.path = path
        where = path.name if path else "sources.yml"
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{where}: {len(self.errors)} problem(s) in the source specifications:\n{lines}")


def header_key(text: Any) -> str:
    """How a header is compared: NFKC, no whitespace/BOM/zero-width characters, case-folded.

    '  联系电话（手机）\ufeff' and '联系电话(手机)' compare equal; so do 'Phone No' and 'phoneno'.
    """
    s = unicodedata.normalize("NFKC", str(text))
    s = "".join(ch for ch in s if not (ch.isspace() or ch in "\ufeff\u200b\u200c\u200d\u2060"))
    return s.casefold()


@dataclass(frozen=True, eq=False)
class SourceSpec:
    """One registry (or one reference file): its file, format, encoding and column mapping."""

    name: str
    file: str
    format: str
    columns: dict[str, tuple[str, ...]]  # canonical field -> accepted headers (first = contract one)
    encoding: str | None = None  # csv only, one of SUPPORTED_ENCODINGS
    department: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()
    required_any: tuple[str, ...] = ()
    key_fields: tuple[str, ...] = ()
    vocabularies: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> its vocabulary's values
    optional_columns: tuple[str, ...] = ()  # fields whose column may be absent from a file (loaded as NULL)
    delimiter: str = ","
    sheet: str | int | None = None  # xlsx: sheet name or 0-based index; None = the first sheet
    kind: str = "source"  # "source" (monthly delivery) or "reference"

    @property
    def fields(self) -> list[str]:
        return list(self.columns)

    @property
    def filenames(self) -> tuple[str, ...]:
        return (self.file, *self.aliases)

    @property
    def required_columns(self) -> list[str]:
        return [f for f in self.columns if f not in self.optional_columns]

    def header(self, fld: str) -> str:
        """The contract header of a field."""
        return self.columns[fld][0]

    def header_lookup(self) -> dict[str, str]:
        """header_key(accepted header) -> canonical field."""
        out: dict[str, str] = {}
        for fld, headers in self.columns.items():
            for h in headers:
                out.setdefault(header_key(h), fld)
        return out

    @property
    def decode_as(self) -> str | None:
        """The Python codec the readers decode with (GBK files decode as GB18030, its superset)."""
        if self.encoding is None:
            return None
        return {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb18030": "gb18030"}[self.encoding]


@dataclass(frozen=True, eq=False)
class Specs:
    sources: dict[str, SourceSpec]
    reference: dict[str, SourceSpec]
    path: Path | None = None

    def all(self) -> list[SourceSpec]:
        return [*self.sources.values(), *self.reference.values()]


# --------------------------------------------------------------------------------------------- YAML


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            continue
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"duplicate key {key!r} (first at line {seen[key] + 1}, again at line {key_node.start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# --------------------------------------------------------------------------------------------- load


def load_specs(path: Path | str | None = None) -> Specs:
    """Load and validate the source specifications (default: connectors/sources.yml, or $CIVICHUB_SOURCES)."""
    if path is None:
        path = os.environ.get("CIVICHUB_SOURCES") or DEFAULT_PATH
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([f"file not found: {path}"], path) from None
    except UnicodeDecodeError as e:
        raise SpecError([f"not UTF-8 text ({e.reason} at byte {e.start})"], path) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as e:
        raise SpecError([f"invalid YAML: {e}"], path) from None
    return parse_specs(data, path)


def parse_specs(data: Any, path: Path | None = None) -> Specs:
    """Validate an already-parsed sources.yml document."""
    if not isinstance(data, dict):
        raise SpecError(["the document must be a mapping with a 'sources' key"], path)
    try:
        doc = SourcesFile.model_validate(data)
    except ValidationError as e:
        raise SpecError(_problems(e), path) from None
    return Specs(
        sources={name: entry.to_spec(name, "source") for name, entry in doc.sources.items()},
        reference={name: entry.to_spec(name, "reference") for name, entry in doc.reference.items()},
        path=path,
    )


# ------------------------------------------------------------------------------------ the YAML's shape
# Each value is checked by a before-validator of its own so that every message says what the key
# takes in words a data office understands (pydantic's own wording names Python types).


def _name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ValueError("the name must be lower_snake_case (it becomes table raw.<name>)")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _names(value: Any) -> tuple[str, ...]:
    """A list of names (one name alone is a list of one), each given once."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise ValueError("must be a list of names")
    out = tuple(str(v).strip() for v in value)
    if any(not v for v in out):
        raise ValueError("contains an empty name")
    dup = sorted({v for v in out if out.count(v) > 1})
    if dup:
        raise ValueError(f"lists {', '.join(dup)} more than once")
    return out


def _field_name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ValueError("the canonical field name must be lower_snake_case")
    if value in RESERVED_FIELDS:
        raise ValueError(f"{value!r} is reserved for lineage (reserved: {', '.join(RESERVED_FIELDS)})")
    return value


def _headers(value: Any) -> tuple[str, ...]:
    """A header, or the list of headers accepted for one field (the first is the contract one)."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(h, (str, int)) and not isinstance(h, bool) for h in value)
    ):
        raise ValueError("must be a header or a non-empty list of accepted headers")
    out = tuple(str(h).strip() for h in value)
    if any(not header_key(h) for h in out):
        raise ValueError("a header must not be empty")
    return out


def _non_empty_mapping(of: str):
    def check(value: Any) -> Any:
        if not isinstance(value, dict) or not value:
            raise ValueError(f"must be a non-empty mapping of {of}")
        return value

    return check


_columns = _non_empty_mapping("canonical_field: header")


SourceName = Annotated[str, BeforeValidator(_name)]
Text = Annotated[str, BeforeValidator(_text)]
Names = Annotated[tuple[str, ...], BeforeValidator(_names)]
Columns = dict[Annotated[str, BeforeValidator(_field_name)], Annotated[tuple[str, ...], BeforeValidator(_headers)]]


class ReferenceEntry(StrictModel):
    """A reference file (divisions, the standard address library): UTF-8 csv unless it says otherwise."""

    KIND: ClassVar[str] = "reference"

    # validated in this order: later checks read the earlier values (info.data)
    department: Text | None = None
    description: Text | None = None
    format: str | None = Field(None, validate_default=True)
    encoding: str | None = Field(None, validate_default=True)
    file: Text | None = Field(None, validate_default=True)
    aliases: Names = ()
    columns: Columns | None = Field(None, validate_default=True)
    required_any: Names = ()
    key_fields: Names = ()
    optional_columns: Names = ()
    delimiter: Any = ","

    @field_validator("department", "description", mode="before")
    @classmethod
    def _required_for_sources(cls, value: Any) -> Any:
        if value is None and cls.KIND == "source":
            raise ValueError("missing")
        return value

    @field_validator("format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> str:
        if value is None:
            if cls.KIND == "reference":
                return "csv"
            raise ValueError(f"missing (one of: {', '.join(FORMATS)})")
        fmt = str(value).strip().lower()
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {value!r} (one of: {', '.join(FORMATS)})")
        return fmt

    @field_validator("encoding", mode="before")
    @classmethod
    def _encoding(cls, value: Any, info: ValidationInfo) -> str | None:
        fmt = info.data.get("format")
        if fmt == "xlsx" and value is not None:
            raise ValueError("only csv files have an encoding (an xlsx is always Unicode); remove it")
        if fmt != "csv":
            return None
        if value is None:
            if cls.KIND == "reference":
                return "utf-8-sig"  # reference files are UTF-8; tolerate a BOM
            raise ValueError(
                f"missing; a csv source must declare its encoding (one of: {', '.join(SUPPORTED_ENCODINGS)})"
            )
        e = value.strip().lower() if isinstance(value, str) else ""
        e = e if e in ENCODINGS else e.replace("_", "-")
        if e not in ENCODINGS:
            raise ValueError(f"unsupported encoding {value!r} (supported: {', '.join(SUPPORTED_ENCODINGS)})")
        return ENCODINGS[e]

    @field_validator("file", mode="before")
    @classmethod
    def _file_given(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("missing")
        return value

    @field_validator("file", "aliases")
    @classmethod
    def _file_names(cls, value: Any, info: ValidationInfo) -> Any:
        fmt = info.data.get("format")
        for f in (value,) if isinstance(value, str) else value:
            if "/" in f or "\\" in f or f in (".", ".."):
                raise ValueError(f"{f!r} must be a file name inside the delivery folder, not a path")
            if fmt in _EXTENSIONS and not f.lower().endswith(_EXTENSIONS[fmt]):
                raise ValueError(f"{f!r} does not look like a {fmt} file (expected {' or '.join(_EXTENSIONS[fmt])})")
        return value

    @field_validator("columns", mode="before")
    @classmethod
    def _columns_given(cls, value: Any) -> Any:
        return _columns(value)

    @field_validator("columns")
    @classmethod
    def _each_header_once(cls, columns: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        seen: dict[str, str] = {}
        problems = []
        for fld, headers in columns.items():
            for h in headers:
                other = seen.setdefault(header_key(h), fld)
                if other == fld and headers.count(h) > 1:
                    problems.append(f"{fld!r} lists header {h!r} twice")
                elif other != fld:
                    problems.append(f"column mapped twice: header {h!r} is also mapped to {other!r}")
        if problems:
            raise ValueError("; ".join(dict.fromkeys(problems)))
        return columns

    @field_validator("required_any", "key_fields", "optional_columns")
    @classmethod
    def _among_the_columns(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        columns = info.data.get("columns")
        unknown = [v for v in value if columns and v not in columns]
        if unknown:
            raise ValueError("; ".join(f"{v!r} is not one of the columns ({', '.join(columns)})" for v in unknown))
        if info.field_name == "optional_columns":
            required_any = info.data.get("required_any") or ()
            if required_any and all(f in value for f in required_any):
                raise ValueError("at least one required_any field must be a required column")
        return value

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: Any, info: ValidationInfo) -> str:
        if not isinstance(value, str) or len(value) != 1 or value in '\r\n"':
            raise ValueError("must be one character (not a quote or a newline)")
        if info.data.get("format") == "xlsx":
            raise ValueError("only csv files have a delimiter")
        return value

    def to_spec(self, name: str, kind: str) -> SourceSpec:
        return SourceSpec(
            name=name,
            file=self.file,
            format=self.format,
            columns=dict(self.columns),
            encoding=self.encoding,
            department=self.department or "",
            description=self.description or "",
            aliases=self.aliases,
            required_any=self.required_any,
            key_fields=self.key_fields,
            vocabularies={f: vocabulary(f) for f in getattr(self, "vocabularies", ())},
            optional_columns=self.optional_columns,
            delimiter=self.delimiter,
            sheet=getattr(self, "sheet", None),
            kind=kind,
        )


class SourceEntry(ReferenceEntry):
    """A registry delivered every month: its department, format and (csv) encoding must be stated."""

    KIND: ClassVar[str] = "source"

    vocabularies: Names = ()
    sheet: Any = None

    @field_validator("vocabularies", mode="before")
    @classmethod
    def _vocabularies_listed(cls, value: Any) -> Any:
        if isinstance(value, dict):  # the earlier form, field: [values]: the values now live in the seed
            raise ValueError(
                f"list the fields, e.g. [{', '.join(map(str, value))}]; their values "
                "are the vocabularies of the same name in dbt_project/seeds/vocabularies.csv"
            )
        return value

    @field_validator("vocabularies")
    @classmethod
    def _vocabularies_known(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        columns = info.data.get("columns")
        problems = [
            f"{f!r} is not one of the columns"
            if columns and f not in columns
            else f"no vocabulary {f!r} (vocabularies: {', '.join(all_vocabularies())})"
            for f in value
            if (columns and f not in columns) or f not in all_vocabularies()
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("sheet")
    @classmethod
    def _sheet(cls, value: Any, info: ValidationInfo) -> str | int | None:
        if value is None:
            return None
        if info.data.get("format") != "xlsx":
            raise ValueError("only xlsx files have sheets")
        if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, int) and value < 0):
            raise ValueError("a sheet name or a 0-based sheet index")
        return value


_sources_given = _non_empty_mapping("source name -> specification")


def _reference_given(value: Any) -> Any:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be a mapping of name -> specification")
    return value


class SourcesFile(StrictModel):
    """connectors/sources.yml: the monthly registries and the reference files."""

    sources: Annotated[dict[SourceName, SourceEntry], BeforeValidator(_sources_given)] = Field(
        None, validate_default=True
    )
    reference: Annotated[dict[SourceName, ReferenceEntry], BeforeValidator(_reference_given)] = {}

    @model_validator(mode="after")
    def _one_table_and_one_file_each(self) -> SourcesFile:
        problems = [
            f"reference {name!r}: the name is also a source name (both would be table raw.{name})"
            for name in self.reference
            if name in self.sources
        ]
        owner: dict[tuple[str, str], str] = {}
        for kind, entries in (("source", self.sources), ("reference", self.reference)):
            for name, entry in entries.items():
                for fname in (entry.file, *entry.aliases):
                    k = (kind, fname.casefold())
                    if owner.setdefault(k, name) != name:
                        problems.append(f"{kind} {name!r}, key 'file': {fname!r} is also the file of {owner[k]!r}")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _problems(e: ValidationError) -> list[str]:
    """pydantic's errors as `<source or reference> '<name>', key '<key>': <problem>` lines."""
    out = []
    for err in e.errors():
        loc = [str(p) for p in err["loc"] if p != "[key]"]
        msg = err["msg"].removeprefix("Value error, ")
        if not loc:  # the file as a whole (cross-entry checks): one problem a line, each already placed
            out += msg.splitlines()
            continue
        if len(loc) == 1:
            where = "top level"
            if err["type"] == "extra_forbidden":
                out.append(f"{where}: unknown key {loc[0]!r} (expected 'sources' and 'reference')")
            else:
                out.append(f"{where}, key {loc[0]!r}: {msg}")
            continue
        kind = "source" if loc[0] == "sources" else "reference"
        label, rest = f"{kind} {loc[1]!r}", loc[2:]
        if err["type"] == "extra_forbidden" and len(rest) == 1:
            model = SourceEntry if kind == "source" else ReferenceEntry
            out.append(f"{label}: unknown key {rest[0]!r} (known keys: {', '.join(sorted(model.model_fields))})")
        elif not rest:
            if err["type"] == "model_type":
                msg = "the specification must be a mapping of keys"
            out.append(f"{label}: {msg}")
        else:
            out.append(f"{label}, key {'.'.join(rest)!r}: {msg}")
    return out
