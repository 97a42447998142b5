"""Throughput of the connectors: `python -m connectors.benchmark [--rows 1000000] [--db FILE]`.

Writes a utility_electricity.csv (UTF-8 with BOM) and a police_population.csv (GB18030) of --rows
data rows each (a few malformed rows sprinkled in), ingests them into a DuckDB file with
ingest_file, and prints rows per second end to end (hash, decode, parse, quarantine, insert,
commit). The generated files are deleted afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from connectors.ingest import ingest_file
from connectors.spec import load_specs

ROADS = ["柳营路", "共和新路", "南京西路", "七莘路", "延安中路", "中山北路", "江场三路", "大统路"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "丽", "强", "䶮", "秀英", "建国", "晨", "欣怡", "子涵"]


def _address(rnd: random.Random) -> str:
    return f"上海市静安区{rnd.choice(ROADS)}{rnd.randint(1, 999)}弄{rnd.randint(1, 60)}号{rnd.randint(101, 2505)}室"


def write_electricity(path: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write("用电户号,户名,用电地址,联系电话,抄表月份,用电量\r\n")
        buf = []
        for i in range(rows):
            if i % 250_000 == 1000:
                buf.append(f"31{i:010d},坏行\r\n")  # wrong field count
                continue
            buf.append(
                f"31{i // 12:010d},{rnd.choice(SURNAMES)}{rnd.choice(GIVEN)},{_address(rnd)},"
                f"13{rnd.randint(100000000, 999999999)},2026-{i % 12 + 1:02d},{rnd.randint(0, 900)}\r\n"
            )
            if len(buf) >= 50_000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


def write_police(path: Path, rows: int, seed: int = 2) -> None:
    rnd = random.Random(seed)
    header = (
        "公民身份号码,姓名,性别,民族,出生日期,户号,与户主关系,户籍地址,居住地址,人员状态,文化程度,联系电话,更新日期"
    )
    with open(path, "w", encoding="gb18030", newline="") as f:
        f.write(header + "\r\n")
        buf = []
        for i in range(rows):
            if i % 250_000 == 500:
                buf.append(",,男,,,,,,,,,,\r\n")  # nothing that identifies a person
                continue
            addr = _address(rnd)
            buf.append(
                f"310104{1940 + i % 80}0101{i % 1000:03d}X,{rnd.choice(SURNAMES)}{rnd.choice(GIVEN)},"
                f'{rnd.choice("男女")},汉,{1940 + i % 80}-01-01,H{i // 3:08d},户主,"{addr}",{addr},正常,'
                f"大学,13{rnd.randint(100000000, 999999999)},2026-10-01\r\n"
            )
            if len(buf) >= 50_000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m connectors.benchmark")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--db", default=None, help="DuckDB file (default: a temp file)")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="civichub-connectors-bench-"))
    inbox = work / "inbox"
    (inbox / "2026-10").mkdir(parents=True, exist_ok=True)
    specs = load_specs()
    t = time.perf_counter()
    write_electricity(inbox / "2026-10" / "utility_electricity.csv", args.rows)
    write_police(inbox / "2026-10" / "police_population.csv", args.rows)
    print(f"generated 2 x {args.rows:,} rows in {time.perf_counter() - t:.1f}s under {work}")
    db = Path(args.db) if args.db else work / "bench.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    try:
        for name in ("utility_electricity", "police_population"):
            path = inbox / "2026-10" / specs.sources[name].file
            mb = path.stat().st_size / 1e6
            t = time.perf_counter()
            r = ingest_file(con, inbox, "2026-10", specs.sources[name])
            s = time.perf_counter() - t
            print(
                f"{name:<22} {specs.sources[name].encoding:<10} {mb:7.1f} MB  {r.rows_read:>10,} rows "
                f"({r.rows_quarantined} quarantined)  {s:6.2f}s  {r.rows_read / s:>10,.0f} rows/s  "
                f"{mb / s:6.1f} MB/s  [{r.status}]"
            )
    finally:
        con.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
