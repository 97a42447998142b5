"""The data catalog as configuration: load and validate catalog/data_elements.yml and catalog/entries/*.yml.

An entry (政务信息资源目录 item) describes one dataset: resource code and name, provider department,
abstract, sharing class (无条件共享 / 有条件共享 / 不予共享) with its conditions or legal basis, sharing
method, open attribute, update cycle, and how its rows are placed in a street (for street offices).
Field grades come from the data elements (数据元) by column name, overridable per entry. Field types
and lineage are not written here: they are read from DuckDB, the dbt manifest and Dagster
(catalog/discover.py).

Everything is checked on load; a `CatalogError` lists every problem, each naming the file, the
dataset and the key.

    cat = load_catalog()
    cat.entries["master.person"].sharing_class          # '有条件共享'
    cat.grade_of("master.person", "id_number")          # FieldGrade(grade='L4', mask='id_number', ...)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connectors.spec import load_specs
from sharing.masking import MASKS

CATALOG_DIR = Path(__file__).resolve().parent
ELEMENTS_PATH = CATALOG_DIR / "data_elements.yml"
ENTRIES_DIR = CATALOG_DIR / "entries"

GRADES = ("L1", "L2", "L3", "L4")
UNCONDITIONAL, CONDITIONAL, NOT_SHARED = "无条件共享", "有条件共享", "不予共享"
SHARING_CLASSES = (UNCONDITIONAL, CONDITIONAL, NOT_SHARED)
OPEN_ATTRIBUTES = ("无条件开放", "有条件开放", "不予开放")
KINDS = ("table", "report")
DISTRICT = "district"  # street_scope: data not tied to a street

_DATASET_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
_ENTRY_KEYS = {
    "kind",
    "code",
    "name",
    "provider",
    "abstract",
    "sharing_class",
    "conditions",
    "legal_basis",
    "sharing_method",
    "open_attribute",
    "update_cycle",
    "street_scope",
    "fields",
    "declared_fields",
    "location",
    "derived_from",
    "asset_key",
}
_REQUIRED = (
    "code",
    "name",
    "provider",
    "abstract",
    "sharing_class",
    "sharing_method",
    "open_attribute",
    "update_cycle",
)
_FILE_KEYS = {"defaults", "datasets"}
_ELEMENT_KEYS = {"grade", "mask", "label"}
# A statement street_scope may not contain: it is SQL evaluated while publishing.
_SCOPE_FORBIDDEN = re.compile(
    r";|--|/\*|\b(attach|detach|copy|export|install|load|pragma|set|call|"
    r"insert|update|delete|drop|create|alter)\b",
    re.IGNORECASE,
)


class CatalogError(ValueError):
    """The catalog configuration is invalid. `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"catalog: {len(self.errors)} problem(s):\n{lines}")


@dataclass(frozen=True)
class FieldGrade:
    grade: str
    mask: str | None
    label: str
    via: str  # where the grade came from: the element name, or 'entry' for an override

    @property
    def sensitive(self) -> bool:
        return self.grade in ("L3", "L4")


@dataclass
class Entry:
    dataset: str
    kind: str
    code: str
    name: str
    provider: str
    abstract: str
    sharing_class: str
    sharing_method: str
    open_attribute: str
    update_cycle: str
    conditions: str | None = None
    legal_basis: str | None = None
    street_scope: str | None = None
    fields: dict[str, FieldGrade] = field(default_factory=dict)
    declared_fields: list[str] = field(default_factory=list)
    location: str | None = None
    derived_from: list[str] = field(default_factory=list)
    asset_key: str | None = None
    source_file: str = ""

    @property
    def schema(self) -> str:
        return self.dataset.split(".", 1)[0]

    @property
    def table(self) -> str:
        return self.dataset.split(".", 1)[1]

    @property
    def shareable(self) -> bool:
        return self.sharing_class != NOT_SHARED


@dataclass
class Catalog:
    elements: dict[str, FieldGrade]
    same_as_base_suffixes: tuple[str, ...]
    qualifier_prefixes: tuple[str, ...]
    entries: dict[str, Entry]

    def element_for(self, column: str, _depth: int = 0) -> FieldGrade | None:
        """The data element a column name resolves to (see data_elements.yml for the rules)."""
        if column in self.elements:
            return self.elements[column]
        if _depth > 4:
            return None
        for suffix in self.same_as_base_suffixes:
            if column.endswith(suffix) and len(column) > len(suffix):
                found = self.element_for(column[: -len(suffix)], _depth + 1)
                if found:
                    return found
        for prefix in self.qualifier_prefixes:
            if column.startswith(prefix) and len(column) > len(prefix):
                found = self.element_for(column[len(prefix) :], _depth + 1)
                if found:
                    return found
        return None

    def grade_of(self, dataset: str, column: str) -> FieldGrade | None:
        entry = self.entries.get(dataset)
        if entry and column in entry.fields:
            return entry.fields[column]
        return self.element_for(column)

    def by_asset_key(self) -> dict[str, Entry]:
        return {e.asset_key: e for e in self.entries.values() if e.asset_key}


def _text(v: Any) -> str | None:
    if v is None:
        return None
    s = " ".join(str(v).split())
    return s or None


def _grade(raw: Any, where: str, errors: list[str], via: str) -> FieldGrade | None:
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a mapping with grade (and mask, label), got {raw!r}")
        return None
    unknown = set(raw) - _ELEMENT_KEYS
    if unknown:
        errors.append(f"{where}: unknown key(s) {sorted(unknown)} (allowed: {sorted(_ELEMENT_KEYS)})")
    grade, mask = raw.get("grade"), raw.get("mask")
    ok = True
    if grade not in GRADES:
        errors.append(f"{where}: grade {grade!r} is not one of {', '.join(GRADES)}")
        ok = False
    if mask is not None and mask not in MASKS:
        errors.append(f"{where}: mask {mask!r} is not one of {', '.join(MASKS)}")
        ok = False
    if grade in ("L3", "L4") and mask is None:
        errors.append(
            f"{where}: a {grade} field must say how it is masked for roles not granted it "
            f"(mask: one of {', '.join(MASKS)})"
        )
        ok = False
    if grade in ("L1", "L2") and mask is not None:
        errors.append(f"{where}: a {grade} field is shown as is; remove mask {mask!r} or raise the grade")
        ok = False
    return FieldGrade(grade, mask, _text(raw.get("label")) or "", via) if ok else None


def _read_yaml(path: Path, errors: list[str]) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f) or {}
    except yaml.YAMLError as e:
        errors.append(f"{path.name}: not valid YAML: {e}")
    except OSError as e:
        errors.append(f"{path}: cannot be read: {e}")
    return {}


def load_elements(path: Path = ELEMENTS_PATH, errors: list[str] | None = None):
    own = errors is None
    errors = [] if errors is None else errors
    doc = _read_yaml(path, errors)
    elements: dict[str, FieldGrade] = {}
    rules = doc.get("rules") or {}
    suffixes = tuple(rules.get("same_as_base_suffixes") or ())
    prefixes = tuple(rules.get("qualifier_prefixes") or ())
    raw = doc.get("elements")
    if not isinstance(raw, dict) or not raw:
        errors.append(f"{path.name}: 'elements' must be a non-empty mapping of column name -> grade")
        raw = {}
    for name, spec in raw.items():
        g = _grade(spec, f"{path.name}: element {name}", errors, str(name))
        if g:
            elements[str(name)] = g
    if own and errors:
        raise CatalogError(errors)
    return elements, suffixes, prefixes


def load_catalog(entries_dir: Path = ENTRIES_DIR, elements_path: Path = ELEMENTS_PATH, source_specs=None) -> Catalog:
    """Load and validate the catalog. Raw entries default provider/abstract from the source specs."""
    errors: list[str] = []
    elements, suffixes, prefixes = load_elements(elements_path, errors)
    if source_specs is None:
        source_specs = load_specs()
    spec_by_name = {**getattr(source_specs, "reference", {}), **source_specs.sources}

    entries: dict[str, Entry] = {}
    codes: dict[str, str] = {}
    files = sorted(Path(entries_dir).glob("*.yml")) + sorted(Path(entries_dir).glob("*.yaml"))
    if not files:
        errors.append(f"{entries_dir}: no catalog entry files (*.yml)")
    for path in files:
        doc = _read_yaml(path, errors)
        if not isinstance(doc, dict):
            errors.append(f"{path.name}: expected a mapping with 'datasets'")
            continue
        unknown = set(doc) - _FILE_KEYS
        if unknown:
            errors.append(f"{path.name}: unknown top-level key(s) {sorted(unknown)} (allowed: defaults, datasets)")
        defaults = doc.get("defaults") or {}
        for dataset, raw in (doc.get("datasets") or {}).items():
            where = f"{path.name}: {dataset}"
            if not _DATASET_RE.match(str(dataset)):
                errors.append(f"{where}: a dataset is named schema.table in lower case")
                continue
            if dataset in entries:
                errors.append(f"{where}: described twice (also in {entries[dataset].source_file})")
                continue
            if not isinstance(raw, dict):
                errors.append(f"{where}: expected a mapping")
                continue
            unknown = (set(raw) | set(defaults)) - _ENTRY_KEYS
            if unknown:
                errors.append(f"{where}: unknown key(s) {sorted(unknown)}")
            merged = {**defaults, **raw}
            schema, table = dataset.split(".", 1)
            spec = spec_by_name.get(table) if schema == "raw" else None
            if spec is not None:
                merged.setdefault("provider", getattr(spec, "department", None))
                merged.setdefault("abstract", getattr(spec, "description", None))
            entry = _entry(dataset, merged, where, errors, path.name)
            if entry is None:
                continue
            if entry.code in codes:
                errors.append(f"{where}: resource code {entry.code} already used by {codes[entry.code]}")
            codes[entry.code] = dataset
            entries[dataset] = entry
    for e in entries.values():
        for upstream in e.derived_from:
            if upstream not in entries:
                errors.append(f"{e.source_file}: {e.dataset}: derived_from {upstream} has no catalog entry")
    if errors:
        raise CatalogError(errors)
    return Catalog(elements, suffixes, prefixes, entries)


def _entry(dataset: str, m: dict, where: str, errors: list[str], file_name: str) -> Entry | None:
    before = len(errors)
    for key in _REQUIRED:
        if not _text(m.get(key)):
            errors.append(f"{where}: '{key}' is required")
    kind = m.get("kind", "table")
    if kind not in KINDS:
        errors.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    cls = m.get("sharing_class")
    if cls is not None and cls not in SHARING_CLASSES:
        errors.append(f"{where}: sharing_class {cls!r} is not one of {', '.join(SHARING_CLASSES)}")
    if cls == NOT_SHARED and not _text(m.get("legal_basis")):
        errors.append(f"{where}: 不予共享 requires a legal_basis")
    if cls == CONDITIONAL and not _text(m.get("conditions")):
        errors.append(f"{where}: 有条件共享 requires the sharing conditions")
    if m.get("open_attribute") is not None and m.get("open_attribute") not in OPEN_ATTRIBUTES:
        errors.append(f"{where}: open_attribute {m.get('open_attribute')!r} is not one of {', '.join(OPEN_ATTRIBUTES)}")
    code = _text(m.get("code"))
    if code and not _CODE_RE.match(code):
        errors.append(f"{where}: resource code {code!r} must look like CH-MD-001 (capitals, digits, dashes)")
    scope = m.get("street_scope")
    if scope is not None:
        scope = str(scope).strip()
        if cls == NOT_SHARED:
            errors.append(f"{where}: street_scope makes no sense for a dataset that is 不予共享")
        elif scope != DISTRICT and _SCOPE_FORBIDDEN.search(scope):
            errors.append(
                f"{where}: street_scope must be one SQL expression over the row t (no statements or comments)"
            )
    fields: dict[str, FieldGrade] = {}
    for name, spec in (m.get("fields") or {}).items():
        g = _grade(spec, f"{where}: field {name}", errors, "entry")
        if g:
            fields[str(name)] = g
    declared = m.get("declared_fields") or []
    if not isinstance(declared, list):
        errors.append(f"{where}: declared_fields must be a list of column names")
        declared = []
    derived = m.get("derived_from") or []
    if not isinstance(derived, list):
        errors.append(f"{where}: derived_from must be a list of datasets")
        derived = []
    if kind == "report" and not _text(m.get("location")):
        errors.append(f"{where}: a report says where its files are (location)")
    if len(errors) > before:
        return None
    return Entry(
        dataset=dataset,
        kind=kind,
        code=code,
        name=_text(m["name"]),
        provider=_text(m["provider"]),
        abstract=_text(m["abstract"]),
        sharing_class=cls,
        sharing_method=_text(m["sharing_method"]),
        open_attribute=m["open_attribute"],
        update_cycle=_text(m["update_cycle"]),
        conditions=_text(m.get("conditions")),
        legal_basis=_text(m.get("legal_basis")),
        street_scope=scope,
        fields=fields,
        declared_fields=[str(c) for c in declared],
        location=_text(m.get("location")),
        derived_from=[str(d) for d in derived],
        asset_key=_text(m.get("asset_key")),
        source_file=file_name,
    )
