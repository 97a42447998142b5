"""THE masking rules of the hub: one place, as Python functions and as the equal DuckDB SQL.

No national display standard exists; common practice is followed (shared/domain.md):

- ID number: first 6 + last 4 (`310104********1234`, hides the birth date). A value shorter than an
  ID number (15 characters) is masked whole: showing 6 + 4 of it would show nearly all of it.
- phone: a mobile keeps its first 3 and last 4 (`138****1234`); any other number its area code
  (`021-`) and last 4 (`021-****5678`); fewer than 8 characters: masked whole.
- name: keeps the surname, compound surnames included (`张*`, `张**`, `欧阳*`, `欧阳**`), with at
  least one `*` even for a one-character name.
- address: kept up to the first road (路/街/巷); the rest (弄, 号, 室 …) becomes `****`.
- birth_year: `1988-**-**`.
- text: ID numbers, mobiles, landlines and other long digit runs inside free text masked as above
  (messages, reasons, logs, audit records).
- hide: not shown at all.

Everyone masks through this module: publishing (`mask_sql`, a set operation inside DuckDB), the
connectors' messages and the audit log (`mask_text`), `civichub find` and the committee workbooks
(`mask_value`), Great Expectations Data Docs, and dbt: `dbt_project/macros/masking.sql` is generated
from `mask_expression` (`python -m sharing.masking`), and a test fails when it is out of date. Tests
also check that the Python functions and the SQL give the same answer on every case.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from normalize.names import COMPOUND_SURNAMES
from pipelines.sql import quote_identifier, quote_literal

MASKS = ("id_number", "phone", "name", "address", "birth_year", "text", "hide")
MASK_LABELS = {
    None: "明文",
    "id_number": "脱敏：前6后4",
    "phone": "脱敏：138****1234",
    "name": "脱敏：保留姓",
    "address": "脱敏：只留到路名",
    "birth_year": "脱敏：仅年份",
    "text": "脱敏：文中证件号、电话",
    "hide": "不提供",
}

ID_NUMBER_MIN_LENGTH = 15  # an old 15-digit number; shorter values are masked whole
PHONE_MIN_LENGTH = 8  # a bare local number; shorter values are masked whole
MOBILE = r"1[3-9][0-9]{9}"
LANDLINE = r"(0[0-9]{2,3}-)([0-9]{5,})"
ADDRESS_UP_TO_ROAD = r"^.*?[路街巷]"
ADDRESS_FALLBACK_CHARS = 6
HIDDEN_TAIL = "****"

# Identifiers inside free text, applied in order (each twice: a boundary character consumed by one
# match would hide an identifier right after it). Written for both Python's `re` and DuckDB's RE2,
# which has no look-around: the boundaries are captured and put back.
_NOT_ALNUM = "[^0-9A-Za-z]"
_NOT_DIGIT = "[^0-9]"
TEXT_RULES: tuple[tuple[str, str], ...] = (
    # 18-digit ID number (the check may be X)
    (rf"(^|{_NOT_ALNUM})([0-9]{{6}})[0-9]{{8}}([0-9]{{3}}[0-9Xx])($|{_NOT_ALNUM})", r"\1\2********\3\4"),
    # old 15-digit ID number
    (rf"(^|{_NOT_ALNUM})([0-9]{{6}})[0-9]{{5}}([0-9]{{4}})($|{_NOT_ALNUM})", r"\1\2*****\3\4"),
    # mobile, with +86 and separators
    (rf"(^|{_NOT_DIGIT})((?:\+?86[- ]?)?1[3-9][0-9])[- ]?[0-9]{{4}}[- ]?([0-9]{{4}})($|{_NOT_DIGIT})", r"\1\2****\3\4"),
    # landline with its area code
    (rf"(^|{_NOT_DIGIT})(0[1-9][0-9]{{1,2}}[- ]?)[0-9]{{4}}([0-9]{{4}})($|{_NOT_DIGIT})", r"\1\2****\3\4"),
    # any other long run of digits (account numbers, ID numbers with typos): the ends only
    (rf"(^|{_NOT_DIGIT})([0-9]{{4}})[0-9]{{6,}}([0-9]{{4}})($|{_NOT_DIGIT})", r"\1\2******\3\4"),
)
_FULLWIDTH_FROM, _FULLWIDTH_TO = "０１２３４５６７８９ｘＸ", "0123456789xX"
_FULLWIDTH = str.maketrans(_FULLWIDTH_FROM, _FULLWIDTH_TO)
_TEXT_RULES_RE = tuple((re.compile(p), r) for p, r in TEXT_RULES)
# What every rule's match contains: a run of 8 digits (ID numbers, a landline's number, long runs),
# or a mobile's 3 + 4 + 4 digits with their optional separators. Text without it (most names,
# addresses and messages) is left as it is by all the rules: one search instead of ten.
_ANY_RULE_RE = re.compile(r"[0-9]{8}|[0-9]{3}[- ]?[0-9]{4}[- ]?[0-9]{4}")
_MOBILE_RE = re.compile(MOBILE)
_LANDLINE_RE = re.compile(LANDLINE)
_ADDRESS_RE = re.compile(ADDRESS_UP_TO_ROAD)


# --- Python --------------------------------------------------------------------------------------


def mask_id_number(value: object) -> str | None:
    if value is None:
        return None
    v = str(value)
    if len(v) >= ID_NUMBER_MIN_LENGTH:
        return v[:6] + "*" * (len(v) - 10) + v[-4:]
    return "*" * len(v)


def mask_id_numbers(values) -> pa.StringArray:
    """mask_id_number of every value at once (null where None): an Arrow array or chunked array (cast to
    string), a numpy array or any sequence (each value through str(), as mask_id_number does). The
    lengths are counted in characters as Python counts them; 1M numbers in ~0.2 s."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        a = values if values.type == pa.string() else values.cast(pa.string())
    elif isinstance(values, np.ndarray) and values.dtype.kind == "U":
        # through Python strings: Arrow's own conversion of a numpy string array ends each value at
        # its first NUL ('\x000' became '', masked as '' instead of '**'); as fast (1M in ~0.2 s)
        a = pa.array(values.tolist(), pa.string())
    else:
        a = pa.array([None if v is None else str(v) for v in values], pa.string())
    n = pc.utf8_length(a)
    kept = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(a, 0, 6),
        pc.binary_repeat("*", pc.max_element_wise(pc.subtract(n, 10), 0)),
        pc.utf8_slice_codeunits(a, -4),
        "",
    )
    return pc.if_else(pc.greater_equal(n, ID_NUMBER_MIN_LENGTH), kept, pc.binary_repeat("*", n))


def mask_phone(value: object) -> str | None:
    if value is None:
        return None
    v = str(value)
    if _MOBILE_RE.fullmatch(v):
        return v[:3] + "****" + v[-4:]
    landline = _LANDLINE_RE.fullmatch(v)
    if landline:
        area, number = landline.groups()
        return area + "*" * (len(number) - 4) + number[-4:]
    if len(v) >= PHONE_MIN_LENGTH:
        return "*" * (len(v) - 4) + v[-4:]
    return "*" * len(v)


def mask_name(value: object) -> str | None:
    if value is None:
        return None
    v = str(value)
    if not v:
        return v
    if len(v) >= 3 and v[:2] in COMPOUND_SURNAMES:
        return v[:2] + "*" * (len(v) - 2)
    return v[0] + "*" * max(len(v) - 1, 1)


def mask_address(value: object) -> str | None:
    if value is None:
        return None
    v = str(value)
    road = _ADDRESS_RE.match(v)
    return (road.group(0) if road else v[:ADDRESS_FALLBACK_CHARS]) + HIDDEN_TAIL


def mask_birth_year(value: object) -> str | None:
    if value is None:
        return None
    return str(value)[:4] + "-**-**"


def mask_text(value: object) -> str:
    """Identifiers inside free text masked; '' for None (messages are always text)."""
    if value is None:
        return ""
    s = str(value).translate(_FULLWIDTH)
    if not _ANY_RULE_RE.search(s):
        return s
    for _ in range(2):
        for pattern, replacement in _TEXT_RULES_RE:
            s = pattern.sub(replacement, s)
    return s


# an aid certificate number (the district's 6 digits, then letters and digits): it tells who receives
# aid; the district prefix and the last three characters are kept
_CERTIFICATE_RE = re.compile(r"(?<![0-9A-Z])([0-9]{6})([0-9A-Z]{6,14})([0-9A-Z]{3})(?![0-9A-Z])")


def mask_text_and_certificates(value: object) -> str:
    """mask_text, and aid certificate numbers inside the text too (diagnostics that print a
    finding's observed value, which may be a certificate number)."""
    return _CERTIFICATE_RE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), mask_text(value))


PYTHON_MASKS = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "name": mask_name,
    "address": mask_address,
    "birth_year": mask_birth_year,
    "text": mask_text,
}


def mask_value(mask: str, value: object) -> object:
    """`value` as shown under `mask` (None for `hide`)."""
    if mask == "hide":
        return None
    if mask not in PYTHON_MASKS:
        raise ValueError(f"unknown mask {mask!r}; masks: {', '.join(MASKS)}")
    return PYTHON_MASKS[mask](value)


# --- SQL (DuckDB; Spark for the dbt macros) --------------------------------------------------------------------------------


def _compound_surnames_sql() -> str:
    return ", ".join(quote_literal(s) for s in sorted(COMPOUND_SURNAMES))


def mask_expression(mask: str, expr: str, dialect: str = "duckdb") -> str | None:
    """A DuckDB (or Spark, `dialect="spark"`) expression giving the masked value of the SQL
    expression `expr` (NULL stays NULL); None for `hide` (the column is not shown)."""
    v = f"CAST({expr} AS STRING)"
    spark = dialect == "spark"

    def full_match(x: str, pattern: str) -> str:
        return f"({x} RLIKE '^(?:{pattern})$')" if spark else f"regexp_full_match({x}, '{pattern}')"

    def contains(x: str, pattern: str) -> str:
        return f"({x} RLIKE '{pattern}')" if spark else f"regexp_matches({x}, '{pattern}')"

    def extract(x: str, pattern: str, group: int = 0) -> str:
        return f"regexp_extract({x}, '{pattern}', {group})" if spark or group else f"regexp_extract({x}, '{pattern}')"

    def replace_all(x: str, pattern: str, replacement: str) -> str:
        flags = "" if spark else ", 'g'"
        return f"regexp_replace({x}, {quote_literal(pattern)}, {quote_literal(replacement)}{flags})"

    if mask == "hide":
        return None
    if mask == "id_number":
        return (
            f"CASE WHEN {expr} IS NULL THEN NULL WHEN length({v}) >= {ID_NUMBER_MIN_LENGTH} "
            f"THEN left({v}, 6) || repeat('*', length({v}) - 10) || right({v}, 4) "
            f"ELSE repeat('*', length({v})) END"
        )
    if mask == "phone":
        return (
            f"CASE WHEN {expr} IS NULL THEN NULL "
            f"WHEN {full_match(v, MOBILE)} THEN left({v}, 3) || '****' || right({v}, 4) "
            f"WHEN {full_match(v, LANDLINE)} "
            f"THEN {extract(v, LANDLINE, 1)} "
            f"|| repeat('*', length({extract(v, LANDLINE, 2)}) - 4) || right({v}, 4) "
            f"WHEN length({v}) >= {PHONE_MIN_LENGTH} THEN repeat('*', length({v}) - 4) || right({v}, 4) "
            f"ELSE repeat('*', length({v})) END"
        )
    if mask == "name":
        return (
            f"CASE WHEN {expr} IS NULL THEN NULL WHEN length({v}) = 0 THEN {v} "
            f"WHEN length({v}) >= 3 AND left({v}, 2) IN ({_compound_surnames_sql()}) "
            f"THEN left({v}, 2) || repeat('*', length({v}) - 2) "
            f"ELSE left({v}, 1) || repeat('*', greatest(length({v}) - 1, 1)) END"
        )
    if mask == "address":
        return (
            f"CASE WHEN {expr} IS NULL THEN NULL WHEN {contains(v, ADDRESS_UP_TO_ROAD)} "
            f"THEN {extract(v, ADDRESS_UP_TO_ROAD)} || '{HIDDEN_TAIL}' "
            f"ELSE left({v}, {ADDRESS_FALLBACK_CHARS}) || '{HIDDEN_TAIL}' END"
        )
    if mask == "birth_year":
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE left({v}, 4) || '-**-**' END"
    if mask == "text":
        out = f"translate({v}, {quote_literal(_FULLWIDTH_FROM)}, {quote_literal(_FULLWIDTH_TO)})"
        for _ in range(2):
            for pattern, replacement in TEXT_RULES:
                out = replace_all(out, pattern, replacement)
        return out
    raise ValueError(f"unknown mask {mask!r}; masks: {', '.join(MASKS)}")


def mask_sql(mask: str, column: str, alias: str = "t") -> str | None:
    """The masked value of column `alias.column` (see `mask_expression`)."""
    return mask_expression(mask, f"{alias}.{quote_identifier(column)}")


def mask_values_sql(mask: str, values: list) -> list:
    """Mask Python values with the SQL (to test it against the Python functions)."""
    expr = mask_sql(mask, "v")
    if expr is None:
        return [None for _ in values]
    with duckdb.connect() as con:
        con.execute("create table t (i integer, v varchar)")
        con.executemany(
            "insert into t values (?, ?)", [(i, None if x is None else str(x)) for i, x in enumerate(values)]
        )
        return [r[0] for r in con.execute(f"select {expr} from t order by i").fetchall()]


# --- dbt -----------------------------------------------------------------------------------------

DBT_MACROS_PATH = Path(__file__).resolve().parents[1] / "dbt_project" / "macros" / "masking.sql"


def dbt_macros() -> str:
    """The text of dbt_project/macros/masking.sql: one macro per mask, `{{ mask_phone('a.phone') }}`."""
    parts = [
        "{# Generated by `python -m sharing.masking` from sharing/masking.py, the hub's one set of masking",
        "   rules: do not edit here (tests/test_masking.py fails when this file is out of date). #}",
    ]
    for mask in MASKS:
        if mask == "hide":
            continue
        body = mask_expression(mask, "{{ expr }}")
        spark_body = mask_expression(mask, "{{ expr }}", dialect="spark")
        assert body is not None and spark_body is not None
        for sql in (body, spark_body):
            if any(t in sql.replace("{{ expr }}", "") for t in ("{{", "{%", "{#")):
                raise ValueError(f"the SQL of mask {mask} holds Jinja delimiters")
        parts += [
            "",
            f"{{% macro mask_{mask}(expr) -%}}",
            "{% if target.type == 'spark' -%}",
            spark_body,
            "{%- else -%}",
            body,
            "{%- endif %}",
            "{%- endmacro %}",
        ]
    return "\n".join(parts) + "\n"


def write_dbt_macros(path: Path = DBT_MACROS_PATH) -> Path:
    path.write_text(dbt_macros(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_dbt_macros(Path(sys.argv[1]) if len(sys.argv) > 1 else DBT_MACROS_PATH)}")
