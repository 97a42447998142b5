"""A file's header row matched to the spec's canonical fields (aliases, case, width and invisible
characters ignored; any column order), with a message naming every missing column."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from connectors.spec import SourceSpec, header_key


def _short(s: str, n: int = 24) -> str:
    s = str(s).replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


@dataclass
class HeaderMap:
    headers: list[str]  # as in the file, stripped; unique (duplicates suffixed #2)
    field_index: dict[str, int]  # canonical field -> file column
    extras: list[tuple[int, str]]  # (file column, header) not mapped to a field
    missing_optional: list[str]

    @property
    def fields_present(self) -> list[str]:
        return list(self.field_index)


def _clean_header(h: object) -> str:
    return str(h if h is not None else "").replace("\ufeff", "").strip()


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def match_header(raw_headers: list[object], spec: SourceSpec) -> tuple[HeaderMap | None, list[str], list[str]]:
    """Map header cells to fields. Returns (map or None, missing required fields, problems)."""
    lookup = spec.header_lookup()
    headers: list[str] = []
    seen: Counter = Counter()
    for i, h in enumerate(raw_headers):
        h = _clean_header(h) or f"column_{_col_letter(i)}"
        seen[h] += 1
        headers.append(h if seen[h] == 1 else f"{h}#{seen[h]}")
    field_index: dict[str, int] = {}
    extras: list[tuple[int, str]] = []
    problems: list[str] = []
    order = {f: k for k, f in enumerate(spec.columns)}
    for i, raw in enumerate(raw_headers):
        fld = lookup.get(header_key(_clean_header(raw))) if _clean_header(raw) else None
        if fld is None:
            extras.append((i, headers[i]))
        elif fld in field_index:
            j = field_index[fld]
            problems.append(
                f"columns {j + 1} ({_short(headers[j])}) and {i + 1} ({_short(headers[i])}) both map to "
                f"{spec.header(fld)} ({fld})"
            )
        else:
            field_index[fld] = i
    field_index = dict(sorted(field_index.items(), key=lambda kv: order[kv[0]]))
    missing = [f for f in spec.required_columns if f not in field_index]
    missing_optional = [f for f in spec.optional_columns if f not in field_index]
    if missing or problems:
        return None, missing, problems
    return HeaderMap(headers, field_index, extras, missing_optional), [], []


def _missing_message(spec: SourceSpec, raw_headers: list[object], missing: list[str], problems: list[str]) -> str:
    parts = []
    if missing and len(missing) == len(spec.required_columns) and len(missing) > 3:
        names = ", ".join(spec.header(f) for f in missing[:4])
        parts.append(
            f"missing required columns: none of the {len(missing)} expected headers ({names}, …) found; "
            "is the header row missing, or is this another registry's file?"
        )
    elif missing:
        names = ", ".join(f"{spec.header(f)} ({f})" for f in missing)
        parts.append(f"missing required columns: {names}")
    parts.extend(problems)
    found = [_short(_clean_header(h), 20) for h in raw_headers if _clean_header(h)]
    shown = ", ".join(found[:15]) + (f", … ({len(found)} columns)" if len(found) > 15 else "")
    parts.append(f"the header row has: {shown or '(nothing)'}")
    return "; ".join(parts)
