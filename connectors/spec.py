"""Source specifications: load and validate connectors/sources.yml into typed objects.

The YAML file is configuration, not code: which file is which registry, how it is encoded and how
its headers map to the hub's canonical field names. Everything is checked on load; a `SpecError`
names the source and the key of every problem found (all of them at once, not just the first).

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
from typing import Any

import yaml

from normalize.vocabularies import vocabularies as all_vocabularies
from normalize.vocabularies import vocabulary

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
_SOURCE_KEYS = {
    "department",
    "description",
    "file",
    "aliases",
    "format",
    "encoding",
    "columns",
    "required_any",
    "vocabularies",
    "key_fields",
    "optional_columns",
    "delimiter",
    "sheet",
}
_REFERENCE_KEYS = {
    "file",
    "aliases",
    "encoding",
    "columns",
    "required_any",
    "key_fields",
    "optional_columns",
    "delimiter",
    "description",
    "department",
    "format",
}
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
    errors: list[str] = []
    if not isinstance(data, dict):
        raise SpecError(["the document must be a mapping with a 'sources' key"], path)
    for key in data:
        if key not in ("sources", "reference"):
            errors.append(f"top level: unknown key {key!r} (expected 'sources' and 'reference')")
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        errors.append("top level, key 'sources': must be a non-empty mapping of source name -> specification")
        raw_sources = {}
    raw_ref = data.get("reference") or {}
    if not isinstance(raw_ref, dict):
        errors.append("top level, key 'reference': must be a mapping of name -> specification")
        raw_ref = {}

    sources: dict[str, SourceSpec] = {}
    for name, body in raw_sources.items():
        spec = _parse_one(name, body, "source", errors)
        if spec is not None:
            sources[spec.name] = spec
    reference: dict[str, SourceSpec] = {}
    for name, body in raw_ref.items():
        if name in raw_sources:
            errors.append(f"reference {name!r}: the name is also a source name (both would be table raw.{name})")
        spec = _parse_one(name, body, "reference", errors)
        if spec is not None:
            reference[spec.name] = spec

    # one file name, one source
    owner: dict[str, str] = {}
    for spec in [*sources.values(), *reference.values()]:
        for fname in spec.filenames:
            k = (spec.kind, fname.casefold())
            if k in owner and owner[k] != spec.name:
                errors.append(f"{spec.kind} {spec.name!r}, key 'file': {fname!r} is also the file of {owner[k]!r}")
            owner.setdefault(k, spec.name)
    if errors:
        raise SpecError(errors, path)
    return Specs(sources=sources, reference=reference, path=path)


def _str_list(value: Any, where: str, errors: list[str], allow_empty: bool = True) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        errors.append(f"{where}: must be a list of names")
        return None
    out = tuple(str(v).strip() for v in value)
    if any(not v for v in out):
        errors.append(f"{where}: contains an empty name")
        return None
    if not allow_empty and not out:
        errors.append(f"{where}: must not be empty")
        return None
    dup = sorted({v for v in out if out.count(v) > 1})
    if dup:
        errors.append(f"{where}: lists {', '.join(dup)} more than once")
    return out


def _parse_one(name: Any, body: Any, kind: str, errors: list[str]) -> SourceSpec | None:
    label = f"{kind} {name!r}"
    n_errors = len(errors)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        errors.append(f"{label}: the name must be lower_snake_case (it becomes table raw.<name>)")
        return None
    if not isinstance(body, dict):
        errors.append(f"{label}: the specification must be a mapping of keys")
        return None
    allowed = _SOURCE_KEYS if kind == "source" else _REFERENCE_KEYS
    for key in body:
        if key not in allowed:
            errors.append(f"{label}: unknown key {key!r} (known keys: {', '.join(sorted(allowed))})")

    def text(key: str, required: bool) -> str:
        v = body.get(key)
        if v is None:
            if required:
                errors.append(f"{label}, key {key!r}: missing")
            return ""
        if not isinstance(v, str) or not v.strip():
            errors.append(f"{label}, key {key!r}: must be a non-empty string")
            return ""
        return v.strip()

    department = text("department", kind == "source")
    description = text("description", kind == "source")

    # format / encoding
    fmt_raw = body.get("format", "csv" if kind == "reference" else None)
    fmt = str(fmt_raw).strip().lower() if fmt_raw is not None else ""
    if fmt_raw is None:
        errors.append(f"{label}, key 'format': missing (one of: {', '.join(FORMATS)})")
    elif fmt not in FORMATS:
        errors.append(f"{label}, key 'format': unknown format {fmt_raw!r} (one of: {', '.join(FORMATS)})")
    encoding = None
    enc_raw = body.get("encoding")
    if fmt == "csv":
        if enc_raw is None:
            if kind == "reference":
                encoding = "utf-8-sig"  # reference files are UTF-8; tolerate a BOM
            else:
                errors.append(
                    f"{label}, key 'encoding': missing; a csv source must declare its encoding "
                    f"(one of: {', '.join(SUPPORTED_ENCODINGS)})"
                )
        else:
            e = enc_raw.strip().lower() if isinstance(enc_raw, str) else ""
            e = e if e in ENCODINGS else e.replace("_", "-")
            if e not in ENCODINGS:
                errors.append(
                    f"{label}, key 'encoding': unsupported encoding {enc_raw!r} "
                    f"(supported: {', '.join(SUPPORTED_ENCODINGS)})"
                )
            else:
                encoding = ENCODINGS[e]
    elif fmt == "xlsx" and enc_raw is not None:
        errors.append(
            f"{label}, key 'encoding': only csv files have an encoding (an xlsx is always Unicode); remove it"
        )

    # file and aliases
    fname = text("file", True)
    aliases = _str_list(body.get("aliases"), f"{label}, key 'aliases'", errors) or ()
    for key, f in [("file", fname), *(("aliases", a) for a in aliases)]:
        if not f:
            continue
        if "/" in f or "\\" in f or f in (".", ".."):
            errors.append(f"{label}, key {key!r}: {f!r} must be a file name inside the delivery folder, not a path")
        elif fmt in _EXTENSIONS and not f.lower().endswith(_EXTENSIONS[fmt]):
            errors.append(
                f"{label}, key {key!r}: {f!r} does not look like a {fmt} file "
                f"(expected {' or '.join(_EXTENSIONS[fmt])})"
            )

    # columns
    columns: dict[str, tuple[str, ...]] = {}
    raw_cols = body.get("columns")
    if not isinstance(raw_cols, dict) or not raw_cols:
        errors.append(f"{label}, key 'columns': must be a non-empty mapping of canonical_field: header")
        raw_cols = {}
    seen_header: dict[str, str] = {}
    for fld, headers in raw_cols.items():
        where = f"{label}, key 'columns.{fld}'"
        if not isinstance(fld, str) or not _NAME_RE.match(fld):
            errors.append(f"{where}: the canonical field name must be lower_snake_case")
            continue
        if fld in RESERVED_FIELDS:
            errors.append(f"{where}: {fld!r} is reserved for lineage (reserved: {', '.join(RESERVED_FIELDS)})")
            continue
        if isinstance(headers, (str, int)) and not isinstance(headers, bool):
            headers = [headers]
        if (
            not isinstance(headers, list)
            or not headers
            or not all(isinstance(h, (str, int)) and not isinstance(h, bool) for h in headers)
        ):
            errors.append(f"{where}: must be a header or a non-empty list of accepted headers")
            continue
        hs = tuple(str(h).strip() for h in headers)
        if any(not header_key(h) for h in hs):
            errors.append(f"{where}: a header must not be empty")
            continue
        for h in hs:
            k = header_key(h)
            if k in seen_header:
                other = seen_header[k]
                if other == fld:
                    errors.append(f"{where}: header {h!r} is listed twice")
                else:
                    errors.append(f"{where}: column mapped twice: header {h!r} is also mapped to {other!r}")
            else:
                seen_header[k] = fld
        columns[fld] = hs

    def field_list(key: str) -> tuple[str, ...]:
        vals = _str_list(body.get(key), f"{label}, key {key!r}", errors)
        if vals is None:
            return ()
        for v in vals:
            if raw_cols and v not in raw_cols:
                errors.append(
                    f"{label}, key {key!r}: {v!r} is not one of the columns ({', '.join(map(str, raw_cols))})"
                )
        return vals

    required_any = field_list("required_any")
    key_fields = field_list("key_fields")
    optional = field_list("optional_columns")
    bad_opt = [f for f in required_any if f in optional]
    if required_any and len(bad_opt) == len(required_any):
        errors.append(f"{label}, key 'optional_columns': at least one required_any field must be a required column")

    # fields whose values come from the vocabulary of the same name (normalize/vocabularies.py)
    vocabularies: dict[str, tuple[str, ...]] = {}
    raw_voc = body.get("vocabularies")
    if isinstance(raw_voc, dict):  # the earlier form, field: [values]: the values now live in the seed
        errors.append(
            f"{label}, key 'vocabularies': list the fields, e.g. [{', '.join(map(str, raw_voc))}]; their values "
            "are the vocabularies of the same name in dbt_project/seeds/vocabularies.csv"
        )
        raw_voc = None
    for fld in _str_list(raw_voc, f"{label}, key 'vocabularies'", errors) or ():
        where = f"{label}, key 'vocabularies.{fld}'"
        if raw_cols and fld not in raw_cols:
            errors.append(f"{where}: {fld!r} is not one of the columns")
        elif fld not in all_vocabularies():
            errors.append(f"{where}: no vocabulary {fld!r} (vocabularies: {', '.join(all_vocabularies())})")
        else:
            vocabularies[fld] = vocabulary(fld)

    delimiter = body.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        errors.append(f"{label}, key 'delimiter': must be one character (not a quote or a newline)")
        delimiter = ","
    elif fmt == "xlsx" and "delimiter" in body:
        errors.append(f"{label}, key 'delimiter': only csv files have a delimiter")

    sheet = body.get("sheet")
    if sheet is not None:
        if fmt != "xlsx":
            errors.append(f"{label}, key 'sheet': only xlsx files have sheets")
        elif isinstance(sheet, bool) or not isinstance(sheet, (str, int)) or (isinstance(sheet, int) and sheet < 0):
            errors.append(f"{label}, key 'sheet': a sheet name or a 0-based sheet index")

    if len(errors) > n_errors:
        return None
    return SourceSpec(
        name=name,
        file=fname,
        format=fmt,
        columns=columns,
        encoding=encoding,
        department=department,
        description=description,
        aliases=aliases,
        required_any=required_any,
        key_fields=key_fields,
        vocabularies=vocabularies,
        optional_columns=optional,
        delimiter=delimiter,
        sheet=sheet,
        kind=kind,
    )
