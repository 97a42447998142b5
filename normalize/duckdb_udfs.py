"""The normalisers as DuckDB scalar functions (cn_*), for dbt SQL through the dbt-duckdb plugin
(and, from the same list `udf_specs()`, as Spark Arrow UDFs: normalize/spark_udfs.py).

DuckDB's own string functions count UTF-8 bytes and know nothing of ID check digits or Shanghai
addresses, so staging models call these instead. They are vectorised 'arrow' UDFs: DuckDB hands
over 2048 values at a time, each batch is dictionary-encoded so a value repeated in the batch
(an address on twelve monthly meter readings) is normalised once, and the Python functions keep
their own caches across batches; clean 18-character ID numbers are checked with numpy, a batch
at a time. NULL in gives NULL out, except the *_status / *_kind functions, which answer 'blank'
(a status is defined for every row). A value that makes a normaliser raise gives NULL rather
than failing a dbt run over millions of rows (the normalisers are fuzz-tested not to raise).

register_udfs() may be called more than once on a connection (dbt-duckdb configures every
connection it opens; tests re-register): an existing function of the same name is removed first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler, Levenshtein
from rapidfuzz.fuzz import ratio

from normalize.addresses import ParsedAddress, address_tuple, road_pinyin
from normalize.dates import parse_date, parse_year_month
from normalize.id_number import (
    _MIN_BIRTH_YEAR,
    ID_STATUSES,
    id_birth_date,
    id_check_ok,
    id_region,
    id_sex,
    id_status,
    normalize_id,
)
from normalize.names import name_pinyin, name_pinyin_key, normalize_name, split_surname
from normalize.phones import normalize_phone, phone_kind
from normalize.uscc import normalize_uscc, uscc_check_ok, uscc_status
from normalize.vocabularies import vocabulary

# Fields of cn_parse_address's STRUCT, in order: the contract's ten, then the extras.
ADDRESS_FIELDS = ParsedAddress._fields
assert ADDRESS_FIELDS[:10] == (
    "district",
    "street",
    "community",
    "road",
    "lane",
    "number",
    "building",
    "room",
    "rest",
    "address_key",
)
_ADDRESS_ARROW_TYPE = pa.struct([(f, pa.string()) for f in ADDRESS_FIELDS])
_ADDRESS_SQL_TYPE = "STRUCT(" + ", ".join(f"{f} VARCHAR" for f in ADDRESS_FIELDS) + ")"
_SURNAME_ARROW_TYPE = pa.struct([("surname", pa.string()), ("given", pa.string())])
_SURNAME_SQL_TYPE = "STRUCT(surname VARCHAR, given VARCHAR)"
_EPOCH = date(1970, 1, 1)
_KEY_INDEX = ADDRESS_FIELDS.index("address_key")


def _as_array(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


_CLEAN_MIN_DISTINCT = 512


def _map_unique(
    fn: Callable[[Any], Any],
    out_type: pa.DataType,
    null_value: Any = None,
    clean: tuple[str | Callable, Callable[[pa.Array], pa.Array]] | None = None,
):
    """Arrow UDF applying fn once per distinct value in the batch; NULL -> null_value. With `clean`
    (pattern, vectorised function): the distinct values matching the pattern are answered all at
    once by the vectorised function, fn is called on the others only."""

    def safe(v: Any) -> Any:
        try:
            return fn(v)
        except Exception:
            return None

    def each(values: pa.Array) -> pa.Array:
        return pa.array([safe(v) for v in values.to_pylist()], type=out_type)

    def udf(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
        a = _as_array(arr)
        if a.type != pa.string():
            a = a.cast(pa.string())
        d = pc.dictionary_encode(a)
        uniq = d.dictionary
        # a batch of a few distinct values (a meter's monthly readings) is cheaper value by value
        if clean is None or len(uniq) < _CLEAN_MIN_DISTINCT:
            out = each(uniq)
        else:
            out = _clean_first(uniq, *clean, each, out_type)
        res = out.take(d.indices)
        if null_value is not None and res.null_count:
            res = pc.if_else(a.is_null(), pa.scalar(null_value, out_type), res)
        return res

    return udf


def _clean_first(
    values: pa.Array, pattern: str | Callable, vectorised: Callable, each: Callable, out_type: pa.DataType
) -> pa.Array:
    """`vectorised` on the values matching `pattern` (a regex, or a function giving a numpy mask), all
    at once; `each` on the others."""
    if callable(pattern):
        hit = pa.array(pattern(values), type=pa.bool_())
    else:
        hit = pc.fill_null(pc.match_substring_regex(values, pattern), False)
    n = hit.true_count
    if n == len(values):
        return vectorised(values)
    if n == 0:
        return each(values)
    rest = pc.invert(hit)
    out = pc.replace_with_mask(pa.nulls(len(values), out_type), hit, vectorised(values.filter(hit)))
    return pc.replace_with_mask(out, rest, each(values.filter(rest)))


# --- identity numbers, vectorised ------------------------------------------------------------
# Most ID cells are already clean 18-character numbers; for those the check digit, birth date and
# sex are computed on the whole batch at once with numpy. Anything else (15 digits, lower-case x,
# full-width, junk) goes through the Python functions.
_ID_CLEAN_RE = r"^[0-9]{17}[0-9X]$"
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK_CODES = np.frombuffer(b"10X98765432", dtype=np.uint8)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_STATUS_INDEX = {s: i for i, s in enumerate(ID_STATUSES)}
_STATUS_DICT = pa.array(ID_STATUSES, type=pa.string())
_SEX_DICT = pa.array(list(vocabulary("sex")), type=pa.string())


def _id_matrix(a: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(mask of clean rows, their characters as a k x 18 uint8 matrix). Clean: 18 bytes, 17 ASCII
    digits and a digit or X (what _ID_CLEAN_RE matches), checked on the bytes: a regex over the batch
    cost more than the rest of a function."""
    n = len(a)
    offsets = np.frombuffer(a.buffers()[1], dtype=np.int32)[a.offset : a.offset + n + 1]
    candidate = np.diff(offsets) == 18
    if a.null_count:
        candidate &= a.is_valid().to_numpy(zero_copy_only=False)
    if not candidate.any() or a.buffers()[2] is None:
        return np.zeros(n, dtype=bool), np.empty((0, 18), dtype=np.uint8)
    data = np.frombuffer(a.buffers()[2], dtype=np.uint8)
    if candidate.all():
        mat = data[offsets[0] : offsets[-1]].reshape(n, 18)
    else:
        mat = data[offsets[:-1][candidate][:, None] + np.arange(18)]
    digit = (mat >= 48) & (mat <= 57)
    ok = digit[:, :17].all(axis=1) & (digit[:, 17] | (mat[:, 17] == 88))
    mask = candidate.copy()
    mask[candidate] = ok
    return mask, (mat if ok.all() else mat[ok])


def _clean_ids(values: pa.Array) -> np.ndarray:
    return _id_matrix(values)[0]


def _id_eval(mat: np.ndarray, check: bool = True, birth: bool = True) -> tuple:
    """(check digit right, birth date real and plausible, days since 1970-01-01): None for what was
    not asked."""
    d = mat.astype(np.int64) - 48
    check_ok = _ID_CHECK_CODES[(d[:, :17] @ _ID_WEIGHTS) % 11] == mat[:, 17] if check else None
    if not birth:
        return check_ok, None, None
    y, m, dd, exists = _calendar_dates(d, 6, 10, 12)
    today = date.today()
    date_ok = (
        exists
        & (y >= _MIN_BIRTH_YEAR)
        & (y * 10000 + m * 100 + dd <= today.year * 10000 + today.month * 100 + today.day)
    )
    return check_ok, date_ok, _epoch_days(y, m, dd, date_ok)


def _calendar_dates(d: np.ndarray, year_at: int, month_at: int, day_at: int) -> tuple:
    """(year, month, day, whether that date exists) of each row of the digit matrix `d`: a 4-digit year
    and 2-digit month and day starting at those columns (an ID number's birth date, a YYYY-MM-DD date)."""
    y = d[:, year_at] * 1000 + d[:, year_at + 1] * 100 + d[:, year_at + 2] * 10 + d[:, year_at + 3]
    m = d[:, month_at] * 10 + d[:, month_at + 1]
    dd = d[:, day_at] * 10 + d[:, day_at + 1]
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_ok = (m >= 1) & (m <= 12)
    dim = _DAYS_IN_MONTH[np.where(month_ok, m, 0)] + ((m == 2) & leap)
    return y, m, dd, month_ok & (dd >= 1) & (dd <= dim)


def _epoch_days(y: np.ndarray, m: np.ndarray, dd: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of the dates where `ok` (0 elsewhere)."""
    ys = np.where(ok, y, 1970) - 1970
    days = (
        ys.astype("datetime64[Y]").astype("datetime64[M]") + (np.where(ok, m, 1) - 1).astype("timedelta64[M]")
    ).astype("datetime64[D]")
    return (days + (np.where(ok, dd, 1) - 1).astype("timedelta64[D]")).astype(np.int64)


def _others(a: pa.Array, clean: np.ndarray) -> tuple[np.ndarray, list]:
    """Row numbers and values of the non-null rows that are not clean 18-character numbers."""
    rest = ~clean & ~a.is_null().to_numpy(zero_copy_only=False)
    idx = np.nonzero(rest)[0]
    return idx, (a.take(pa.array(idx)).to_pylist() if len(idx) else [])


def _string_input(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    a = _as_array(arr)
    return a if a.type == pa.string() else a.cast(pa.string())


def _id_status_udf(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    a = _string_input(arr)
    clean, mat = _id_matrix(a)
    codes = np.full(len(a), _STATUS_INDEX["blank"], dtype=np.int8)
    if len(mat):
        check_ok, date_ok, _ = _id_eval(mat)
        codes[clean] = np.where(
            ~date_ok, _STATUS_INDEX["bad_date"], np.where(check_ok, _STATUS_INDEX["valid"], _STATUS_INDEX["bad_check"])
        )
    idx, vals = _others(a, clean)
    if len(idx):
        codes[idx] = [_STATUS_INDEX[id_status(v)] for v in vals]
    return pa.DictionaryArray.from_arrays(pa.array(codes), _STATUS_DICT).cast(pa.string())


def _id_birth_udf(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    a = _string_input(arr)
    clean, mat = _id_matrix(a)
    days = np.zeros(len(a), dtype=np.int32)
    valid = np.zeros(len(a), dtype=bool)
    if len(mat):
        _, date_ok, d = _id_eval(mat, check=False)
        days[clean] = d
        valid[clean] = date_ok
    idx, vals = _others(a, clean)
    for i, v in zip(idx, vals):
        b = id_birth_date(v)
        if b is not None:
            days[i], valid[i] = (b - _EPOCH).days, True
    return pa.array(days, mask=~valid).cast(pa.date32())


def _id_sex_udf(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    a = _string_input(arr)
    clean, mat = _id_matrix(a)
    codes = np.full(len(a), -1, dtype=np.int8)
    if len(mat):
        codes[clean] = np.where(mat[:, 16] % 2 == 1, 0, 1)  # the 17th digit odd: male
    idx, vals = _others(a, clean)
    for i, v in zip(idx, vals):
        sx = id_sex(v)
        if sx is not None:
            codes[i] = 0 if sx == "男" else 1
    indices = pa.array(codes, mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, _SEX_DICT).cast(pa.string())


def id_numbers_check_ok(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """id_check_ok of every value at once (null where null): the cn_id_check_ok function, and the
    master person frame's check (quality/gx_master.py); a clean 18-character number's check is
    computed on its bytes, the rest through id_check_ok."""
    a = _string_input(arr)
    clean, mat = _id_matrix(a)
    ok = np.zeros(len(a), dtype=bool)
    if len(mat):
        ok[clean] = _id_eval(mat, birth=False)[0]
    idx, vals = _others(a, clean)
    for i, v in zip(idx, vals):
        ok[i] = id_check_ok(v)
    return pa.array(ok, mask=a.is_null().to_numpy(zero_copy_only=False))


# --- clean values, vectorised -----------------------------------------------------------------
# Most cells of the large registries are already in the form the normaliser returns (an 18-character
# ID, an 11-digit mobile, a YYYY-MM-DD date, a YYYY-MM month): for those distinct values of a batch
# the answer is computed all at once (the value itself, or the date from its digits), and only the
# other values go through the Python function (`_map_unique(..., clean=...)`). The same answers as
# the Python functions for every value (tests/test_normalize_udfs.py).
_PHONE_CLEAN_RE = r"^1[3-9][0-9]{9}$"
_DATE_CLEAN_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_YM_CLEAN_RE = r"^(1[89][0-9][0-9]|2[01][0-9][0-9]|2200)-(0[1-9]|1[0-2])$"  # parse_year_month's years and months
_MINYEAR, _MAXYEAR = 1, 9999  # datetime.date's range: date(0, 1, 1) is no date (parse_date gives None)


def _fixed_width(sub: pa.Array, width: int) -> np.ndarray:
    """The characters of strings all `width` ASCII bytes long, as a len x width uint8 matrix."""
    k = len(sub)
    offsets = np.frombuffer(sub.buffers()[1], dtype=np.int32)[sub.offset : sub.offset + k + 1]
    data = np.frombuffer(sub.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(k, width)


def _iso_dates(sub: pa.Array) -> pa.Array:
    """YYYY-MM-DD strings as dates, null where the date does not exist (as `date(y, m, d)` raises)."""
    y, m, dd, exists = _calendar_dates(_fixed_width(sub, 10).astype(np.int64) - 48, 0, 5, 8)
    ok = exists & (y >= _MINYEAR) & (y <= _MAXYEAR)
    return pa.array(_epoch_days(y, m, dd, ok).astype(np.int32), mask=~ok).cast(pa.date32())


def _as_is(a: pa.Array) -> pa.Array:
    return a


def _address_udf(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    a = _as_array(arr)
    if a.type != pa.string():
        a = a.cast(pa.string())
    d = pc.dictionary_encode(a)
    parsed = [address_tuple(v) for v in d.dictionary.to_pylist()]
    columns = list(zip(*parsed)) if parsed else [()] * len(ADDRESS_FIELDS)
    uniq = pa.StructArray.from_arrays(
        [pa.array(col, type=pa.string()) for col in columns], fields=list(_ADDRESS_ARROW_TYPE)
    )
    return uniq.take(d.indices)


def _surname_udf(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    a = _as_array(arr)
    d = pc.dictionary_encode(a.cast(pa.string()))
    pairs = [split_surname(v) for v in d.dictionary.to_pylist()]
    sur = pa.array([p[0] or None for p in pairs], type=pa.string())
    given = pa.array([p[1] or None for p in pairs], type=pa.string())
    uniq = pa.StructArray.from_arrays([sur, given], fields=list(_SURNAME_ARROW_TYPE))
    return uniq.take(d.indices)


def _pair_scorer(scorer_name: str, out_type: pa.DataType):
    """Character-aware string comparison of two columns (rapidfuzz), NULL if either side is."""

    def udf(left: pa.Array | pa.ChunkedArray, right: pa.Array | pa.ChunkedArray) -> pa.Array:

        scorer = {"levenshtein": Levenshtein.distance, "ratio": ratio, "jaro_winkler": JaroWinkler.similarity}[
            scorer_name
        ]
        lv = _as_array(left).cast(pa.string())
        rv = _as_array(right).cast(pa.string())
        mask = pc.or_(lv.is_null(), rv.is_null())
        ls = pc.fill_null(lv, "").to_pylist()
        rs = pc.fill_null(rv, "").to_pylist()
        dtype = "int64" if pa.types.is_integer(out_type) else "float64"
        scores = process.cpdist(ls, rs, scorer=scorer, dtype=dtype, workers=1)
        out = pa.array(scores, type=out_type)
        if mask.true_count:
            out = pc.if_else(mask, pa.scalar(None, out_type), out)
        return out

    return udf


def udf_specs() -> list[tuple[str, Callable, list[str], str]]:
    """THE list of cn_* functions: (name, Arrow function, parameter SQL types, return SQL type).
    DuckDB registers it here, Spark in normalize/spark_udfs.py: the same functions on both engines."""
    V = "VARCHAR"
    return [
        (
            "cn_normalize_id",
            _map_unique(normalize_id, pa.string(), clean=(_clean_ids, _as_is)),
            [V],
            V,
        ),
        ("cn_id_status", _id_status_udf, [V], V),
        ("cn_id_check_ok", id_numbers_check_ok, [V], "BOOLEAN"),
        ("cn_id_birth_date", _id_birth_udf, [V], "DATE"),
        ("cn_id_sex", _id_sex_udf, [V], V),
        ("cn_id_region", _map_unique(id_region, pa.string()), [V], V),
        ("cn_normalize_uscc", _map_unique(normalize_uscc, pa.string()), [V], V),
        ("cn_uscc_check_ok", _map_unique(uscc_check_ok, pa.bool_()), [V], "BOOLEAN"),
        ("cn_uscc_status", _map_unique(uscc_status, pa.string(), "blank"), [V], V),
        ("cn_normalize_name", _map_unique(normalize_name, pa.string()), [V], V),
        ("cn_name_pinyin", _map_unique(name_pinyin, pa.string()), [V], V),
        ("cn_name_pinyin_key", _map_unique(name_pinyin_key, pa.string()), [V], V),
        ("cn_split_surname", _surname_udf, [V], _SURNAME_SQL_TYPE),
        (
            "cn_normalize_phone",
            _map_unique(normalize_phone, pa.string(), clean=(_PHONE_CLEAN_RE, _as_is)),
            [V],
            V,
        ),
        ("cn_phone_kind", _map_unique(phone_kind, pa.string(), "blank"), [V], V),
        (
            "cn_parse_date",
            _map_unique(parse_date, pa.date32(), clean=(_DATE_CLEAN_RE, _iso_dates)),
            [V],
            "DATE",
        ),
        (
            "cn_parse_year_month",
            _map_unique(parse_year_month, pa.string(), clean=(_YM_CLEAN_RE, _as_is)),
            [V],
            V,
        ),
        ("cn_parse_address", _address_udf, [V], _ADDRESS_SQL_TYPE),
        ("cn_address_key", _map_unique(lambda v: address_tuple(v)[_KEY_INDEX], pa.string()), [V], V),
        ("cn_road_pinyin", _map_unique(road_pinyin, pa.string()), [V], V),
        ("cn_levenshtein", _pair_scorer("levenshtein", pa.int64()), [V, V], "BIGINT"),
        ("cn_ratio", _pair_scorer("ratio", pa.float64()), [V, V], "DOUBLE"),
        ("cn_jaro_winkler", _pair_scorer("jaro_winkler", pa.float64()), [V, V], "DOUBLE"),
    ]


UDF_NAMES = tuple(name for name, *_ in udf_specs())


def register_udfs(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Register every cn_* function on `con` (replacing earlier registrations of the same name)."""
    for name, fn, params, ret in udf_specs():
        try:
            con.remove_function(name)
        except (duckdb.InvalidInputException, duckdb.CatalogException):
            pass  # not registered on this connection yet
        con.create_function(
            name,
            fn,
            [con.dtype(p) for p in params],
            con.dtype(ret),
            type="arrow",
            null_handling="special",  # the UDF sees NULLs (status functions answer 'blank')
            side_effects=False,
        )
    return con
