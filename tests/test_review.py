"""The review queue: uncertain pairs listed with masked evidence, decisions kept and applied.

Fast tests run matching/review.py against a small hand-made database; the slow one runs the whole
job on a generated district, decides two queued pairs (one through the spreadsheet round trip, one
on the command line), rebuilds the delivery and checks the decisions hold there and in the next one.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from matching import review
from matching.config import load_matching_config
from pipelines.cli import main as cli

QUEUE_SQL = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "matching" / "int_person_review_queue.sql"
ID18 = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def test_queue_thresholds_are_those_of_matching_yml():
    # the queue takes the thresholds clustering uses, as vars made from matching.yml: no number of its own
    sql = QUEUE_SQL.read_text(encoding="utf-8")
    assert re.findall(r"var\(\s*'(person_accept|person_review_floor)'\s*\)", sql) == [
        "person_accept",
        "person_review_floor",
    ]
    cfg = load_matching_config()
    assert cfg.dbt_vars()["person_accept"] == cfg.person.accept
    assert cfg.dbt_vars()["person_review_floor"] == cfg.person.review_floor


# ---------------------------------------------------------------------------------------------------
# a small hand-made database: three records of this delivery, two queued pairs

FP = {k: f"{k * 32}" for k in "abcde"}  # fingerprints: 'aaaa…', 'bbbb…', …


@pytest.fixture()
def small_db(tmp_path) -> Path:
    db = tmp_path / "hub.duckdb"
    records = pd.DataFrame(
        {
            "record_key": ["r1", "r2", "r3", "r4", "r5"],
            "fingerprint": [FP["a"], FP["b"], FP["c"], FP["d"], FP["e"]],
            "id_number": ["11010519491231002X", None, "440524188001010015", "440524188001010014", None],
            "has_valid_id": [True, False, False, True, False],
        }
    )
    queue = pd.DataFrame(
        {
            "delivery": ["2026-10", "2026-10"],
            "record_a": ["r1", "r3"],
            "record_b": ["r2", "r5"],
            "fingerprint_a": [FP["a"], FP["c"]],
            "fingerprint_b": [FP["b"], FP["e"]],
            "probability": [0.8, 0.6],
            "match_weight": [2.0, 0.6],
            "blocking_rules": ["pinyin_birth,rare_name", "pinyin_address"],
            "source_a": ["police_population", "police_population"],
            "source_file_a": ["2026-10/police_population.csv"] * 2,
            "source_row_a": [1, 3],
            "name_a": ["李丽", "王伟"],
            "id_number_masked_a": ["110105********002X", "440524********0015"],
            "id_number_status_a": ["valid", "bad_check"],
            "birth_date_a": pd.to_datetime(["1949-12-31", "1880-01-01"]),
            "sex_a": ["女", "男"],
            "address_key_a": ["保德路25弄7号", "永和路34弄3号"],
            "room_a": ["201", None],
            "phone_masked_a": ["138****1234", None],
            "source_b": ["hr_graduates", "civil_affairs_elderly_alone"],
            "source_file_b": ["2026-10/hr_graduates.csv", "2026-10/civil_affairs_elderly_alone.xlsx"],
            "source_row_b": [2, 5],
            "name_b": ["李莉", "王玮"],
            "id_number_masked_b": [None, None],
            "id_number_status_b": ["blank", "blank"],
            "birth_date_b": pd.to_datetime([None, "1880-01-01"]),
            "sex_b": [None, "男"],
            "address_key_b": [None, "永和路34弄3号"],
            "room_b": [None, "401"],
            "phone_masked_b": ["138****1234", "021-****5678"],
            "id_level": ["null", "null"],
            "id_weight": [0.0, 0.0],
            "name_level": ["pinyin", "pinyin"],
            "name_weight": [9.1, 9.1],
            "birth_level": ["null", "exact"],
            "birth_weight": [0.0, 13.8],
            "sex_level": ["null", "same"],
            "sex_weight": [0.0, 1.0],
            "address_level": ["null", "building"],
            "address_weight": [0.0, -0.8],
            "phone_level": ["same", "diff"],
            "phone_weight": [14.7, -1.1],
        }
    )
    with duckdb.connect(str(db)) as con:
        con.execute("create schema matching")
        con.register("records_df", records)
        con.register("queue_df", queue)
        con.execute("create table matching.int_person_records as select * from records_df")
        con.execute("create table matching.int_person_review_queue as select * from queue_df")
    return db


def test_list_queue_masks_nothing_itself_but_omits_decided_pairs(small_db):
    with duckdb.connect(str(small_db)) as con:
        assert list(review.list_queue(con)["fingerprint_a"]) == [FP["a"], FP["c"]]
        assert len(review.list_queue(con, limit=1)) == 1
        review.record_decision(con, FP["b"], FP["a"], "reject", "张三")  # either order names the pair
        assert list(review.list_queue(con)["fingerprint_a"]) == [FP["c"]]


def test_list_queue_without_a_built_queue_says_what_to_do(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        with pytest.raises(review.ReviewError, match="civichub run"):
            review.list_queue(con)


def test_record_decision_validates_and_the_latest_decision_wins(small_db):
    with duckdb.connect(str(small_db)) as con:
        with pytest.raises(review.ReviewError, match="确认 or 否决"):
            review.record_decision(con, FP["a"], FP["b"], "maybe", "张三")
        with pytest.raises(review.ReviewError, match="decided_by"):
            review.record_decision(con, FP["a"], FP["b"], "confirm", "  ")
        with pytest.raises(review.ReviewError, match="unknown fingerprint " + "f" * 32):
            review.record_decision(con, FP["a"], "f" * 32, "confirm", "张三")
        with pytest.raises(review.ReviewError, match="same"):
            review.record_decision(con, FP["a"], FP["a"].upper(), "confirm", "张三")
        # two different valid ID numbers are two persons: no confirmation, a rejection is fine
        with pytest.raises(review.ReviewError, match="different valid ID numbers"):
            review.record_decision(con, FP["a"], FP["d"], "confirm", "张三")
        review.record_decision(con, FP["a"], FP["d"], "reject", "张三")
        # a record known only from the records (not the queue) can be decided on
        review.record_decision(con, FP["c"], FP["d"], "confirm", "张三")

        first = review.record_decision(con, FP["a"], FP["b"], "confirm", "张三", note="同一住址")
        again = review.record_decision(con, FP["b"], FP["a"], "确认", "张三", note="同一住址")
        changed = review.record_decision(con, FP["a"], FP["b"], "否决", "李四")
        assert first.decision == again.decision == "confirm" and changed.decision == "reject"
        rows = con.execute(
            "select decision, decided_by, note from review.person_decisions where fingerprint_a = ? and fingerprint_b = ?",
            [FP["a"], FP["b"]],
        ).fetchall()
        assert rows == [("reject", "李四", None)]
        assert con.execute("select count(*) from review.person_decisions").fetchone()[0] == 3
        # every decision as made stays in the log
        assert con.execute("select count(*) from review.person_decision_log").fetchone()[0] == 5
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'review' and table_name = 'person_decisions'"
            ).fetchall()
        )
        assert types == {
            "fingerprint_a": "VARCHAR",
            "fingerprint_b": "VARCHAR",
            "decision": "VARCHAR",
            "decided_by": "VARCHAR",
            "decided_at": "TIMESTAMP",
            "note": "VARCHAR",
        }


def _fill_xlsx(path: Path, decisions: dict[int, str], edits=None) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path)
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    col = header.index("决定") + 1
    for row, value in decisions.items():
        ws.cell(row=row, column=col, value=value)
    for (row, name), value in (edits or {}).items():
        ws.cell(row=row, column=header.index(name) + 1, value=value)
    book.save(path)


def test_export_and_import_round_trip_reports_rejected_rows(small_db, tmp_path):
    out = tmp_path / "queue.xlsx"
    assert review.export_queue(small_db, out) == 2
    sheet = pd.read_excel(out, sheet_name=0, dtype=str, engine="openpyxl")
    for header in (
        "决定",
        "备注",
        "记录A指纹",
        "记录B指纹",
        "记录A姓名",
        "记录B身份证号(脱敏)",
        "匹配概率",
        "姓名比对",
    ):
        assert header in sheet.columns
    assert sheet["决定"].isna().all()
    assert sheet.loc[0, "记录A身份证号(脱敏)"] == "110105********002X"
    assert sheet.loc[0, "姓名比对"].startswith("同音")
    assert sheet.loc[1, "记录B居住地址"] == "永和路34弄3号401室"

    # a filled copy: one confirmed, one bad value; then extra rows a reviewer might add
    _fill_xlsx(
        out,
        {2: "确认", 3: "也许"},
        edits={
            (4, "记录A指纹"): FP["a"],
            (4, "记录B指纹"): "0" * 32,
            (4, "决定"): "否决",
            (5, "记录A指纹"): FP["c"],
            (5, "记录B指纹"): FP["d"],
        },
    )
    report = review.import_decisions(small_db, out, decided_by="王五")
    assert [(d.fingerprint_a, d.fingerprint_b, d.decision) for d in report.applied] == [(FP["a"], FP["b"], "confirm")]
    assert report.undecided == 1  # row 5: no decision yet
    reasons = dict(report.rejected)
    assert set(reasons) == {3, 4}
    assert "也许" in reasons[3] and "unknown fingerprint" in reasons[4]
    with duckdb.connect(str(small_db)) as con:
        assert con.execute("select decided_by from review.person_decisions").fetchall() == [("王五",)]
        assert list(review.list_queue(con)["fingerprint_a"]) == [FP["c"]]
    # importing the same file again changes nothing (idempotent)
    review.import_decisions(small_db, out, decided_by="王五")
    with duckdb.connect(str(small_db)) as con:
        assert con.execute("select count(*) from review.person_decisions").fetchone()[0] == 1


def test_import_reads_a_csv_saved_by_excel_in_gbk_and_names_missing_columns(small_db, tmp_path):
    out = tmp_path / "queue.csv"
    assert review.export_queue(small_db, out) == 2
    sheet = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    sheet.loc[1, "决定"] = "否决"
    gbk = tmp_path / "filled.csv"
    sheet.to_csv(gbk, index=False, encoding="gb18030")
    report = review.import_decisions(small_db, gbk, decided_by="赵六")
    assert [(d.fingerprint_a, d.decision) for d in report.applied] == [(FP["c"], "reject")]
    assert report.undecided == 1 and not report.rejected

    broken = tmp_path / "broken.csv"
    sheet.drop(columns=["记录B指纹"]).to_csv(broken, index=False, encoding="utf-8-sig")
    with pytest.raises(review.ReviewError, match="记录B指纹"):
        review.import_decisions(small_db, broken, decided_by="赵六")
    with pytest.raises(review.ReviewError, match=".xlsx or .csv"):
        review.export_queue(small_db, tmp_path / "queue.txt")


def test_cli_review_commands(small_db, tmp_path, capsys):
    assert cli(["review", "list", "--db", str(small_db)]) == 0
    out = capsys.readouterr().out
    assert FP["a"] in out and "110105********002X" in out and "138****1234" in out
    assert (
        cli(
            [
                "review",
                "decide",
                "--db",
                str(small_db),
                "--a",
                FP["c"],
                "--b",
                FP["e"],
                "--decision",
                "reject",
                "--by",
                "张三",
            ]
        )
        == 0
    )
    assert (
        cli(
            [
                "review",
                "decide",
                "--db",
                str(small_db),
                "--a",
                FP["a"],
                "--b",
                "9" * 32,
                "--decision",
                "confirm",
                "--by",
                "张三",
            ]
        )
        == 2
    )
    assert "unknown fingerprint" in capsys.readouterr().err
    xlsx = tmp_path / "q.xlsx"
    assert cli(["review", "export", "--db", str(small_db), "--out", str(xlsx)]) == 0
    _fill_xlsx(xlsx, {2: "确认"})
    assert cli(["review", "import", "--db", str(small_db), "--file", str(xlsx), "--by", "李四"]) == 0
    assert "1 decision(s) kept" in capsys.readouterr().out
    assert cli(["review", "list", "--db", str(small_db)]) == 0
    assert "queue is empty" in capsys.readouterr().out
    assert cli(["review", "list", "--db", str(tmp_path / "missing.duckdb")]) == 2


# ---------------------------------------------------------------------------------------------------
# end to end


def _read_police(path: Path) -> tuple[list[str], list[list[str]], str]:
    import csv

    text = path.read_bytes().decode("gb18030")
    newline = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(text.splitlines()))
    return rows[0], rows[1:], newline


def _append_police(path: Path, rows: list[list[str]]) -> None:
    import csv
    import io

    _header, _rows, newline = _read_police(path)
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    data = path.read_bytes()
    if not data.endswith(newline.encode()):
        data += newline.encode()
    path.write_bytes(data + buf.getvalue().encode("gb18030"))


def _bad_check_id(birth: str, rng: random.Random) -> str:
    """An ID-shaped number for this birth date whose check character is wrong (a typo)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    body = "310106" + birth.replace("-", "") + f"{rng.randrange(1000):03d}"
    right = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
    return body + ("1" if right == "0" else "0")


def _plant_ambiguous_twins(inbox: Path, deliveries: list[str], seed: int, count: int = 21) -> int:
    """Add police rows that resemble an existing resident without being clearly them: no valid ID
    number, the same or a homophone name, another birth year, the same road or building, another
    or no phone. The variants spread their evidence over a range of match weights, so that some land
    in the review band whatever this district's estimated weights are. The registries carry few such
    cases at this size; real districts have plenty. Each twin is appended unchanged to every
    delivery (same fingerprint), and only residents whose row is the same in every delivery are
    copied."""
    from normalize.addresses import parse_address
    from synthetic.names import homophone

    header, first_rows, _ = _read_police(inbox / deliveries[0] / "police_population.csv")
    col = {name: i for i, name in enumerate(header)}
    stable = None
    for d in deliveries:
        _h, rows, _ = _read_police(inbox / d / "police_population.csv")
        keys = {tuple(v for i, v in enumerate(r) if i != col["更新日期"]) for r in rows}
        stable = keys if stable is None else stable & keys
    name_counts: dict[str, int] = {}
    for r in first_rows:
        name_counts[r[col["姓名"]]] = name_counts.get(r[col["姓名"]], 0) + 1
    candidates = []
    for r in first_rows:
        addr = parse_address(r[col["居住地址"]])
        if (
            len(r[col["公民身份号码"]]) == 18
            and r[col["人员状态"]] == "正常"
            and name_counts[r[col["姓名"]]] == 1
            and re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[col["出生日期"]] or "")
            and addr.road
            and addr.lane
            and addr.number
            and addr.number.isdigit()
            and addr.room
            and addr.room.isdigit()
            and not addr.building
            and tuple(v for i, v in enumerate(r) if i != col["更新日期"]) in stable
        ):
            candidates.append((r, addr))
    rng = random.Random(seed)
    rng.shuffle(candidates)
    roads = sorted({addr.road for _r, addr in candidates})
    # (name, address, phone, ID number): evidence that partly agrees, partly not, from weak to strong
    variants = [
        ("same", "other_road", "none", "blank"),
        ("homophone", "building", "other", "blank"),
        ("same", "road", "other", "blank"),
        ("same", "building", "other", "typo"),
        ("homophone", "building", "none", "blank"),
        ("same", "building", "none", "typo"),
        ("same", "road", "none", "blank"),
    ]
    twins = []
    for r, addr in candidates:
        if len(twins) >= count:
            break
        name_kind, addr_kind, phone_kind, id_kind = variants[len(twins) % len(variants)]
        name = r[col["姓名"]] if name_kind == "same" else homophone(r[col["姓名"]], rng.randrange(1000), 1)
        if not name:
            continue
        year, month, day = r[col["出生日期"]].split("-")
        birth = f"{int(year) - 3 - len(twins) % 5}-{month}-{min(int(day), 28):02d}"
        if addr_kind == "road":
            where = f"{addr.road}{addr.lane}弄{int(addr.number) + 2}号{addr.room}室"
        elif addr_kind == "building":
            where = f"{addr.road}{addr.lane}弄{addr.number}号{int(addr.room) + 100}室"
        else:
            other = next(road for road in roads[rng.randrange(len(roads)) :] + roads if road != addr.road)
            where = f"{other}{addr.lane}弄{addr.number}号{addr.room}室"
        twin = [""] * len(header)
        twin[col["公民身份号码"]] = _bad_check_id(birth, rng) if id_kind == "typo" else ""
        twin[col["姓名"]], twin[col["性别"]], twin[col["民族"]] = name, r[col["性别"]], r[col["民族"]]
        twin[col["出生日期"]] = birth
        twin[col["户籍地址"]] = twin[col["居住地址"]] = "上海市静安区" + where
        twin[col["人员状态"]], twin[col["文化程度"]] = "正常", r[col["文化程度"]]
        twin[col["联系电话"]] = f"139{rng.randrange(10**8):08d}" if phone_kind == "other" else ""
        twin[col["更新日期"]] = r[col["更新日期"]]
        twins.append(twin)
    for d in deliveries:
        _append_police(inbox / d / "police_population.csv", twins)
    return len(twins)


def _assert_masked(queue: pd.DataFrame, records: pd.DataFrame) -> None:
    secrets = {s for s in records["id_number"].dropna()} | {s for s in records["phone"].dropna()}
    for column in queue.columns:
        values = [str(v) for v in queue[column].dropna()]
        for v in values:
            assert not any(s in v for s in secrets if len(s) >= 7), f"unmasked identifier in column {column}"
            if not column.startswith("fingerprint"):  # md5 hex may hold a run of digits
                assert not ID18.search(v) and not MOBILE.search(v), f"unmasked identifier in column {column}: {v}"
    for side in ("a", "b"):
        ids = queue[f"id_number_masked_{side}"].dropna()
        assert ids.str.fullmatch(r"\d{6}\*{8}[0-9X]{4}").all(), list(ids)
        phones = queue[f"phone_masked_{side}"].dropna()
        # a mobile keeps its first 3 and last 4, a landline its area code and last 4 (sharing/masking.py)
        assert phones.str.fullmatch(r"1\d{2}\*{4}\d{4}|0\d{2,3}-\*+\d{4}").all(), list(phones)


def _person_ids(con, delivery: str, fingerprint: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select person_id from master.person_xref where delivery = ? and fingerprint = ?", [delivery, fingerprint]
        ).fetchall()
    }


@pytest.mark.slow
def test_decisions_are_applied_on_rebuild_and_hold_in_the_next_delivery(tmp_path):
    from dagster import DagsterInstance

    from pipelines.run import run_hub
    from synthetic.generate import generate

    full = tmp_path / "full"
    generate(out_dir=full, persons=3000, months=2, seed=23, noise=2.0)
    deliveries = sorted(p.name for p in full.iterdir() if re.fullmatch(r"\d{4}-\d{2}", p.name))
    first, second = deliveries[:2]
    assert _plant_ambiguous_twins(full, [first, second], seed=23) >= 10

    inbox, db = tmp_path / "inbox", tmp_path / "hub.duckdb"
    inbox.mkdir()
    shutil.copytree(full / "reference", inbox / "reference")
    shutil.copytree(full / first, inbox / first)
    summary = run_hub(inbox, db)
    assert summary.ok, [d.error for d in summary.deliveries]

    cfg = load_matching_config().person
    with duckdb.connect(str(db), read_only=True) as con:
        queue = review.list_queue(con)
        records = con.execute("select record_key, id_number, phone from matching.int_person_records").df()
        cluster_of = dict(con.execute("select record_key, cluster_key from matching.int_person_clusters").fetchall())
    assert len(queue) >= 2, "no uncertain pairs to review: the planted twins no longer land in the review band"
    assert queue["probability"].between(cfg.review_floor, cfg.accept, inclusive="left").all()
    assert all(cluster_of[a] != cluster_of[b] for a, b in zip(queue["record_a"], queue["record_b"]))
    for column in (
        "source_a",
        "source_file_b",
        "source_row_a",
        "name_b",
        "birth_date_a",
        "sex_b",
        "address_key_a",
        "room_b",
        "blocking_rules",
        "id_level",
        "name_weight",
        "phone_level",
        "probability",
    ):
        assert column in queue.columns
    _assert_masked(queue, records)

    # two pairs that share no record and no person: confirm the first, reject the other
    confirm = queue.iloc[0]
    taken = {cluster_of[confirm["record_a"]], cluster_of[confirm["record_b"]]}
    reject = next(
        r for _, r in queue.iloc[1:].iterrows() if not taken & {cluster_of[r["record_a"]], cluster_of[r["record_b"]]}
    )
    # the confirmation through the spreadsheet a reviewer fills in …
    sheet_path = tmp_path / "review.xlsx"
    assert review.export_queue(db, sheet_path) == len(queue)
    sheet = pd.read_excel(sheet_path, sheet_name=0, dtype=str, engine="openpyxl")
    row = sheet.index[
        (sheet["记录A指纹"] == confirm["fingerprint_a"]) & (sheet["记录B指纹"] == confirm["fingerprint_b"])
    ]
    _fill_xlsx(sheet_path, {int(row[0]) + 2: "确认"})
    report = review.import_decisions(db, sheet_path, decided_by="街道复核员")
    assert len(report.applied) == 1 and not report.rejected
    # … the rejection on the command line
    assert (
        cli(
            [
                "review",
                "decide",
                "--db",
                str(db),
                "--a",
                reject["fingerprint_a"],
                "--b",
                reject["fingerprint_b"],
                "--decision",
                "reject",
                "--by",
                "街道复核员",
            ]
        )
        == 0
    )
    decided = {(confirm["fingerprint_a"], confirm["fingerprint_b"]), (reject["fingerprint_a"], reject["fingerprint_b"])}

    # rebuild the delivery as the job does
    from pipelines.definitions import build_definitions

    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("delivery", [first])
        result = (
            build_definitions()
            .resolve_job_def("civichub_job")
            .execute_in_process(partition_key=first, instance=instance)
        )
    assert result.success

    with duckdb.connect(str(db), read_only=True) as con:
        # the rebuilt queue itself leaves decided pairs out (not only list_queue's filter)
        rebuilt = con.execute("select fingerprint_a, fingerprint_b from matching.int_person_review_queue").fetchall()
        assert not decided & set(rebuilt)
        same = _person_ids(con, first, confirm["fingerprint_a"]) | _person_ids(con, first, confirm["fingerprint_b"])
        assert len(same) == 1, same
        rules = {
            r[0]
            for r in con.execute(
                "select match_rule from master.person_xref where delivery = ? and fingerprint in (?, ?)",
                [first, confirm["fingerprint_a"], confirm["fingerprint_b"]],
            ).fetchall()
        }
        assert "review_confirmed" in rules
        apart_a = _person_ids(con, first, reject["fingerprint_a"])
        apart_b = _person_ids(con, first, reject["fingerprint_b"])
        assert apart_a and apart_b and not apart_a & apart_b
        (person,) = same

    # the next delivery: the same records (same fingerprints) come again; the decisions still hold
    shutil.copytree(full / second, inbox / second)
    summary = run_hub(inbox, db)
    assert [d.delivery for d in summary.deliveries] == [second] and summary.ok
    with duckdb.connect(str(db), read_only=True) as con:
        assert _person_ids(con, second, confirm["fingerprint_a"]) == {person}
        assert _person_ids(con, second, confirm["fingerprint_b"]) == {person}
        apart_a = _person_ids(con, second, reject["fingerprint_a"])
        apart_b = _person_ids(con, second, reject["fingerprint_b"])
        assert apart_a and apart_b and not apart_a & apart_b
        later = review.list_queue(con)
        assert not decided & set(zip(later["fingerprint_a"], later["fingerprint_b"]))
