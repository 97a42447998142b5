"""Throughput of the cn_* DuckDB functions: `python -m normalize.bench [--rows N] [--distinct D]`.

Registry columns repeat (a household's address on every member and every monthly meter
reading), so the data is D distinct values drawn N times, in random order (the worst order for
the per-batch de-duplication). Prints rows per second for each function inside a DuckDB query.
"""

from __future__ import annotations

import argparse
import random
import time

import duckdb
import pyarrow as pa

from normalize.duckdb_udfs import register_udfs
from normalize.id_number import check_char

_ROADS = [
    "柳营路",
    "共和新路",
    "七莘路",
    "四川北路",
    "南京西路",
    "沪南公路",
    "世纪大道",
    "延安西路",
    "曹杨路",
    "中山北一路",
    "长寿路",
    "江场路",
    "永和路",
    "广中路",
    "大宁路",
    "灵石路",
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬建国志文斌浩宇子涵梓轩一诺欣怡佳琪晨"


def _address(rng: random.Random) -> str:
    road, lane, no = rng.choice(_ROADS), rng.randint(1, 1500), rng.randint(1, 60)
    room = rng.choice([101, 102, 201, 202, 301, 302, 401, 402, 501, 502, 601, 602, 1102, 1203])
    return rng.choice(
        [
            f"上海市静安区{road}{lane}弄{no}号{room}室",
            f"静安区{road}{lane}弄{no}号{room}室",
            f"{road}{lane}-{no}-{room}",
            f"{road}{lane}弄{no}号{room}",
            f"上海{road}{lane}衖{no}号{room}室",
            f"{road}{lane}弄{no}号楼{room}室（近地铁站）",
        ]
    )


def _id(rng: random.Random) -> str:
    region = rng.choice(["310106", "310108", "310103", "310115", "110105", "440524"])
    first17 = (
        f"{region}{rng.randint(1930, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    c = check_char(first17)
    return first17 + (c.lower() if rng.random() < 0.05 else c)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--distinct", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    d = args.distinct
    pools = {
        "addr": [_address(rng) for _ in range(d)],
        "id": [_id(rng) for _ in range(d)],
        "phone": [f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}" for _ in range(d)],
        "name": [
            rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2))) for _ in range(d)
        ],
        "d": [f"{rng.randint(1930, 2020)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日" for _ in range(d)],
    }
    table = pa.table({k: [v[rng.randrange(d)] for _ in range(args.rows)] for k, v in pools.items()})
    with duckdb.connect() as con:
        con.register("src", table)
        con.execute("create table t as select * from src")
        con.unregister("src")
        register_udfs(con)
        for fn, col in [
            ("cn_normalize_id", "id"),
            ("cn_id_status", "id"),
            ("cn_id_birth_date", "id"),
            ("cn_normalize_phone", "phone"),
            ("cn_normalize_name", "name"),
            ("cn_name_pinyin_key", "name"),
            ("cn_parse_date", "d"),
            ("cn_parse_address", "addr"),
            ("cn_parse_address", "addr"),
        ]:
            t = time.perf_counter()
            con.execute(f"select count({fn}({col})) from t").fetchall()
            dt = time.perf_counter() - t
            print(f"{fn:22s} {args.rows:>9,} rows {dt:6.2f} s {args.rows / dt:>12,.0f} rows/s")


if __name__ == "__main__":
    main()
