"""The frames GX validates: a delivery's rows read through Arrow are the frame DuckDB's .df() gives;
the master person frame's ID number check and masked number are what the per-row Python functions
give (computed on the whole column at once for clean numbers)."""

import random

import duckdb
import pandas as pd

from normalize.id_number import check_char, id_check_ok
from quality.frames import read_frame
from quality.gx_master import person_frame
from sharing.masking import mask_id_number


def test_person_frame_check_and_mask_match_the_python_functions():
    rng = random.Random(3)
    ids = [
        "11010519491231002X",
        "11010519491231002x",
        "370802940221002",
        "123",
        "",
        "１１０１０５１９４９１２３１００２Ｘ",
    ]
    ids += ["11010519491231002Y", "3101061990010100", "310106199001010011234", None, None]
    for _ in range(2000):
        f17 = (
            f"310106{rng.randint(1900, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        )
        ids.append(f17 + (check_char(f17) if rng.random() < 0.9 else rng.choice("0123456789X")))
    rng.shuffle(ids)
    con = duckdb.connect()
    con.execute("create schema master")
    con.execute(
        """create table master.person (person_id varchar, id_number varchar, id_number_valid boolean, sex varchar,
           birth_date date, household_id varchar, status varchar, in_latest_delivery boolean)"""
    )
    con.executemany(
        "insert into master.person values (?, ?, true, '男', '1990-01-01', 'H1', '正常', true)",
        [[f"P{i}", v] for i, v in enumerate(ids)],
    )
    df = person_frame(con)
    # what a call per row gives, put in the frame the same way (a list: pandas infers the dtype)
    raw = con.execute("select id_number from master.person where in_latest_delivery").df()["id_number"]
    expected = df.copy()
    expected["id_number_check_ok"] = [None if not isinstance(v, str) else id_check_ok(v) for v in raw]
    expected["id_number_masked"] = [mask_id_number(v) if isinstance(v, str) else None for v in raw]
    pd.testing.assert_frame_equal(df, expected)
    assert df["id_number_check_ok"].dtype == object  # None among the booleans
    # only clean numbers: the column holds booleans, as a list of bools would
    con.execute("delete from master.person where id_number is null or length(id_number) <> 18")
    assert person_frame(con)["id_number_check_ok"].dtype == bool


def test_read_frame_is_the_frame_of_df():
    con = duckdb.connect()
    con.execute(
        """create table raw as select
             case when i % 7 = 0 then null else '户' || (i % 13)::varchar end as a,
             null::varchar as all_null,
             case when i < 3000 then null else 'late' end as mostly_null,
             case when i % 2 = 0 then ' 11010519491231002x ' else '' end as b,
             i::varchar as c, i as n, (i % 3)::varchar as d
             , case when i % 5 = 0 then null else i % 11 end::integer as maybe_int,
             i % 4 = 0 as flag, case when i % 6 = 0 then null else i % 2 = 0 end as maybe_flag,
             date '2020-01-01' + (i % 400)::integer as day, case when i % 9 = 0 then null else date '1950-05-05' end as maybe_day,
             (i / 7)::decimal(12, 2) as amount, timestamp '2026-10-01 08:00:00' + to_seconds(i) as stamp,
             i::hugeint as huge, [i, i + 1] as pair
           from range(5000) t(i)"""
    )
    queries = [
        ("select a, all_null, mostly_null, b, c, d from raw where d = ?", ["1"]),
        ("select a, all_null from raw where d = ?", ["9"]),  # no rows
        (
            "select a, n, maybe_int, flag, maybe_flag, day, maybe_day, amount, stamp, all_null, c from raw where d = ?",
            ["2"],
        ),
        ("select n, maybe_int, day from raw where d = $d", {"d": "1"}),  # no text column; named parameters
        ("select a, huge from raw where d = ?", ["2"]),  # HUGEINT comes back from Arrow as DECIMAL: .df() itself
        ("select a, pair, b from raw where d = ?", ["0"]),
        (
            "select * from (select a, b, all_null from raw where d = ?) using sample reservoir(700 rows) repeatable (42)",
            ["0"],
        ),
    ]
    for sql, params in queries:
        pd.testing.assert_frame_equal(read_frame(con, sql, params), con.execute(sql, params).df())


def test_person_frame_of_a_column_pandas_holds_in_chunks(monkeypatch):
    """A million-row frame read through Arrow holds its text columns in chunks: the check and the
    mask still see the whole column (it failed on the 1M district before)."""
    import pyarrow as pa

    import quality.gx_master as gx_master

    ids = ["11010519491231002X", None, "370802940221002", "11010519491231002x"]
    frame = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4"],
            "id_number": pa.chunked_array([ids[:2], ids[2:]], pa.string()).to_pandas(),
            "id_number_valid": [True] * 4,
            "sex": ["男"] * 4,
            "birth_date": pd.to_datetime(["1990-01-01"] * 4),
            "household_id": ["H1"] * 4,
            "status": ["正常"] * 4,
        }
    )
    assert isinstance(pa.array(frame["id_number"], from_pandas=True), pa.ChunkedArray)
    monkeypatch.setattr(gx_master, "read_frame", lambda con, sql: frame.copy())
    df = gx_master.person_frame(None)
    assert list(df["id_number_check_ok"]) == [None if v is None else id_check_ok(v) for v in ids]
    assert [None if pd.isna(v) else v for v in df["id_number_masked"]] == [
        None if v is None else mask_id_number(v) for v in ids
    ]
