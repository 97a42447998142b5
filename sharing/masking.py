"""Masking conventions (shared/domain.md) as DuckDB SQL expressions, applied while publishing.

No national display standard exists; common practice is followed:
- ID number: first 6 + last 4 (`310104********1234`, hides the birth date);
- mobile: first 3 + last 4 (`138****1234`); other numbers keep their last 4 at most;
- name: keeps the surname (`张*`, `张**`, `欧阳**`), at least one `*` even for one-character names;
- address: kept up to the first road (路/街/巷), the rest (弄, 号, 室 …) becomes `****`;
- birth_year: `1988-**-**`;
- text: ID numbers and mobiles inside free text masked as above;
- hide: the column is not published at all.

SQL (not Python UDFs) so that publishing stays a set operation inside DuckDB.
"""

from __future__ import annotations

from connectors.masking import mask_text  # noqa: F401 - the Python twin of mask_sql("text"), for messages
from normalize.names import COMPOUND_SURNAMES


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _compound() -> str:
    return ", ".join("'" + s + "'" for s in sorted(COMPOUND_SURNAMES))


def mask_sql(mask: str, column: str, alias: str = "t") -> str | None:
    """A SQL expression giving the masked value of `alias.column`; None for `hide` (not published)."""
    c = f"{alias}.{_q(column)}"
    v = f"CAST({c} AS VARCHAR)"
    if mask == "hide":
        return None
    if mask == "id_number":
        return (
            f"CASE WHEN {c} IS NULL THEN NULL WHEN length({v}) >= 11 "
            f"THEN left({v}, 6) || repeat('*', length({v}) - 10) || right({v}, 4) "
            f"ELSE repeat('*', length({v})) END"
        )
    if mask == "phone":
        return (
            f"CASE WHEN {c} IS NULL THEN NULL WHEN length({v}) >= 8 "
            f"THEN left({v}, 3) || repeat('*', length({v}) - 7) || right({v}, 4) "
            f"ELSE repeat('*', length({v})) END"
        )
    if mask == "name":
        return (
            f"CASE WHEN {c} IS NULL THEN NULL WHEN length({v}) = 0 THEN {v} "
            f"WHEN length({v}) >= 3 AND left({v}, 2) IN ({_compound()}) "
            f"THEN left({v}, 2) || repeat('*', length({v}) - 2) "
            f"ELSE left({v}, 1) || repeat('*', greatest(length({v}) - 1, 1)) END"
        )
    if mask == "address":
        return (
            f"CASE WHEN {c} IS NULL THEN NULL WHEN regexp_matches({v}, '^.*?[路街巷]') "
            f"THEN regexp_extract({v}, '^.*?[路街巷]') || '****' ELSE left({v}, 6) || '****' END"
        )
    if mask == "birth_year":
        return f"CASE WHEN {c} IS NULL THEN NULL ELSE left({v}, 4) || '-**-**' END"
    if mask == "text":
        return (
            f"regexp_replace(regexp_replace(regexp_replace({v}, "
            f"'([0-9]{{6}})[0-9]{{8}}([0-9]{{3}}[0-9Xx])', '\\1********\\2', 'g'), "
            f"'(1[3-9][0-9])[0-9]{{4}}([0-9]{{4}})', '\\1****\\2', 'g'), "
            f"'([0-9]{{4}})[0-9]{{6,}}([0-9]{{4}})', '\\1******\\2', 'g')"
        )
    raise ValueError(f"unknown mask {mask!r}")


def mask_values(mask: str, values: list) -> list:
    """Mask Python values with the same SQL (for tests and previews)."""
    import duckdb

    expr = mask_sql(mask, "v")
    if expr is None:
        return [None for _ in values]
    with duckdb.connect() as con:
        con.execute("create table t (i integer, v varchar)")
        con.executemany(
            "insert into t values (?, ?)", [(i, None if x is None else str(x)) for i, x in enumerate(values)]
        )
        return [r[0] for r in con.execute(f"select {expr} from t order by i").fetchall()]
