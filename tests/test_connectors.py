"""Connectors: source specifications, readers and ingestion into DuckDB.

Every file is built in tmp_path by the test itself (each encoding, xlsx with typed cells, broken
files of every kind), so the suite is fast and needs no generated district.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from connectors import ingest as ingest_mod
from connectors.ingest import (
    FileResult,
    ensure_schema,
    ingest_delivery,
    ingest_file,
    ingest_reference,
    list_deliveries,
    pending_deliveries,
    raw_table_columns,
)
from connectors.readers import FileRejected, open_source_file, render_cell
from connectors.spec import SpecError, header_key, load_specs, parse_specs
from sharing.masking import mask_text

SPECS = load_specs()
SOURCES_YML = Path(__file__).resolve().parents[1] / "connectors" / "sources.yml"
D = "2026-10"

# Any unmasked 18-digit ID number or 11-digit mobile in a message is a leak.
LEAK = re.compile(r"(?<![0-9])(\d{17}[0-9Xx]|1[3-9]\d{9})(?![0-9])")

POLICE_HEADER = [
    "公民身份号码",
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "户号",
    "与户主关系",
    "户籍地址",
    "居住地址",
    "人员状态",
    "文化程度",
    "联系电话",
    "更新日期",
]
GRAD_HEADER = ["姓名", "身份证号", "毕业院校", "学历", "毕业年份", "就业状态", "联系电话"]
ELEC_HEADER = ["用电户号", "户名", "用电地址", "联系电话", "抄表月份", "用电量"]
BIZ_HEADER = [
    "统一社会信用代码",
    "主体名称",
    "主体类型",
    "法定代表人",
    "经营场所",
    "经营范围",
    "成立日期",
    "登记状态",
    "核准日期",
]
ELDERLY_HEADER = [
    "姓名",
    "身份证号",
    "性别",
    "年龄",
    "居住地址",
    "联系电话",
    "紧急联系人",
    "紧急联系人电话",
    "所属居委",
]


def police_row(i: int, name: str = "张三") -> list[str]:
    return [
        f"31010419900101{i:03d}X",
        name,
        "男",
        "汉",
        "1990-01-01",
        f"H{i:04d}",
        "户主",
        "上海市静安区柳营路669弄14号",
        "上海市静安区柳营路669弄14号1102室",
        "正常",
        "大学",
        f"1381234{i:04d}",
        "2026-10-01",
    ]


def grad_row(i: int, name: str = "李丽") -> list[str]:
    return [name, f"31010519990101{i:03d}4", "复旦大学", "本科", "2025", "已就业", f"1391234{i:04d}"]


def elec_row(i: int) -> list[str]:
    return [f"310000{i:06d}", "王芳", "共和新路100弄2号301室", f"1371234{i:04d}", "2026-09", str(100 + i)]


def biz_row(i: int) -> list[str]:
    return [
        f"91310106MA1FL{i:04d}X",
        f"上海某某商店{i}",
        "个体工商户",
        "赵强",
        "南京西路1号",
        "零售",
        "2020-01-01",
        "存续",
        "2020-01-02",
    ]


def csv_text(header: list[str], rows: list[list[str]], eol: str = "\r\n") -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if any(c in v for c in ',"\n') else v

    return eol.join(",".join(cell(v) for v in r) for r in [header, *rows]) + eol


def write_csv(path: Path, header, rows, encoding: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(header, rows).encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture()
def con():
    c = duckdb.connect()
    yield c
    c.close()


def counts(con) -> dict[str, int]:
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('raw', 'ingest') order by 1, 2"
    ).fetchall()
    return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}


def file_log(con) -> list[tuple]:
    return con.execute(
        "select source, source_file, delivery, file_hash, file_size, rows_read, rows_loaded, "
        "rows_quarantined, status, message from ingest.file_log order by source_file, ingested_at"
    ).fetchall()


def assert_no_leak(*texts: str) -> None:
    for t in texts:
        assert not LEAK.search(t or ""), f"unmasked identifier in: {t}"


# ------------------------------------------------------------------------------------ specifications


def _spec_doc() -> dict:
    return yaml.safe_load(SOURCES_YML.read_text(encoding="utf-8"))


def test_sources_yml_loads_into_typed_specs():
    police = SPECS.sources["police_population"]
    assert police.format == "csv" and police.encoding == "gb18030" and police.decode_as == "gb18030"
    assert police.columns["id_number"] == ("公民身份号码",)
    assert police.fields[:2] == ["id_number", "name"]
    assert police.required_any == ("id_number", "name")
    assert SPECS.sources["hr_graduates"].decode_as == "gb18030"  # GBK decodes as its superset
    assert SPECS.sources["civil_affairs_assistance"].encoding is None
    assert set(SPECS.reference) == {"divisions", "standard_addresses"}
    assert SPECS.reference["divisions"].columns["street_code"] == ("街道代码",)
    # every contract header is accepted by its spec
    for spec in SPECS.all():
        lookup = spec.header_lookup()
        assert all(lookup[header_key(spec.header(f))] == f for f in spec.columns)


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (
            lambda d: d["sources"]["police_population"].update(format="xls"),
            "police_population', key 'format': unknown format 'xls'",
        ),
        (lambda d: d["sources"]["police_population"].pop("encoding"), "police_population', key 'encoding': missing"),
        (
            lambda d: d["sources"]["hr_graduates"].update(encoding="big5"),
            "hr_graduates', key 'encoding': unsupported encoding 'big5'",
        ),
        (lambda d: d["sources"]["hr_graduates"]["columns"].update(school="姓名"), "column mapped twice: header '姓名'"),
        (
            lambda d: d["sources"]["hr_graduates"].update(required_any=["id_number", "passport"]),
            "hr_graduates', key 'required_any': 'passport' is not one of the columns",
        ),
        (lambda d: d["sources"]["hr_graduates"].update(key_fields=["nope"]), "key 'key_fields': 'nope'"),
        (
            lambda d: d["sources"]["hr_graduates"]["vocabularies"].append("colour"),
            "hr_graduates', key 'vocabularies': 'colour' is not one of the columns",
        ),
        (lambda d: d["sources"]["hr_graduates"].update(vocabularies=["name"]), "no vocabulary 'name'"),
        (
            lambda d: d["sources"]["hr_graduates"].update(vocabularies={"employment_status": ["已就业"]}),
            "hr_graduates', key 'vocabularies': list the fields, e.g. [employment_status]",
        ),
        (lambda d: d["sources"]["hr_graduates"].update(encodng="gbk"), "hr_graduates': unknown key 'encodng'"),
        (
            lambda d: d["sources"]["civil_affairs_assistance"].update(encoding="utf-8"),
            "only csv files have an encoding",
        ),
        (lambda d: d["sources"]["hr_graduates"].update(file="hr_graduates.xlsx"), "does not look like a csv file"),
        (lambda d: d["sources"]["hr_graduates"]["columns"].update(source_row="行号"), "reserved"),
        (lambda d: d["sources"]["hr_graduates"]["columns"].update(school=[]), "columns.school"),
        (
            lambda d: d["sources"]["market_food_licence"].update(
                file="market_business_registry.csv", format="csv", encoding="utf-8"
            ),
            "is also the file of",
        ),
    ],
)
def test_spec_errors_name_the_source_and_the_key(mutate, needle):
    doc = _spec_doc()
    mutate(doc)
    with pytest.raises(SpecError) as e:
        parse_specs(doc)
    assert needle in str(e.value), str(e.value)


def test_spec_errors_are_all_reported_at_once_and_duplicate_yaml_keys_caught(tmp_path):
    doc = _spec_doc()
    doc["sources"]["police_population"]["format"] = "pdf"
    doc["sources"]["hr_graduates"]["encoding"] = "latin-1"
    with pytest.raises(SpecError) as e:
        parse_specs(doc)
    assert len(e.value.errors) == 2
    text = SOURCES_YML.read_text(encoding="utf-8").replace(
        "      name: 姓名\n", "      name: 姓名\n      name: 名字\n", 1
    )
    p = tmp_path / "sources.yml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match="duplicate key 'name'"):
        load_specs(p)
    with pytest.raises(SpecError, match="file not found"):
        load_specs(tmp_path / "nope.yml")


def test_spec_accepts_alias_headers_and_file_aliases():
    doc = _spec_doc()
    src = doc["sources"]["hr_graduates"]
    src["columns"]["id_number"] = ["身份证号", "公民身份号码", "证件号码"]
    src["aliases"] = ["高校毕业生.csv"]
    src["optional_columns"] = ["school"]
    spec = parse_specs(doc).sources["hr_graduates"]
    assert spec.columns["id_number"][0] == "身份证号"
    assert spec.header_lookup()[header_key(" 证件号码 ")] == "id_number"
    assert spec.filenames == ("hr_graduates.csv", "高校毕业生.csv")
    assert "school" not in spec.required_columns


# ------------------------------------------------------------------------------------- reading files


def test_each_encoding_loads_with_exact_values_and_lineage(tmp_path, con):
    inbox = tmp_path / "inbox"
    month = inbox / D
    police = [police_row(1, "王䶮"), police_row(2, "欧阳·娜娜"), police_row(3, " 陈晨 ")]
    write_csv(month / "police_population.csv", POLICE_HEADER, police, "gb18030")
    write_csv(month / "hr_graduates.csv", GRAD_HEADER, [grad_row(1), grad_row(2, "程晨")], "gbk")
    write_csv(month / "utility_electricity.csv", ELEC_HEADER, [elec_row(i) for i in range(5)], "utf-8-sig")
    write_csv(month / "market_business_registry.csv", BIZ_HEADER, [biz_row(1), biz_row(2)], "utf-8")
    results = ingest_delivery(con, inbox, D, SPECS)
    by = {r.source: r for r in results}
    assert by["police_population"].status == "loaded", by["police_population"].message
    assert [
        by[s].rows_loaded
        for s in ("police_population", "hr_graduates", "utility_electricity", "market_business_registry")
    ] == [3, 2, 5, 2]
    assert by["civil_affairs_assistance"].status == "missing"
    rows = con.execute(
        "select delivery, source, source_file, source_row, id_number, name, phone "
        "from raw.police_population order by source_row"
    ).fetchall()
    assert rows == [
        (D, "police_population", f"{D}/police_population.csv", 1, "31010419900101001X", "王䶮", "13812340001"),
        (D, "police_population", f"{D}/police_population.csv", 2, "31010419900101002X", "欧阳·娜娜", "13812340002"),
        (D, "police_population", f"{D}/police_population.csv", 3, "31010419900101003X", "陈晨", "13812340003"),
    ]
    assert con.execute("select name, graduation_year from raw.hr_graduates order by source_row").fetchall() == [
        ("李丽", "2025"),
        ("程晨", "2025"),
    ]
    assert con.execute("select account_no, kwh from raw.utility_electricity where source_row = 1").fetchone() == (
        "310000000000",
        "100",
    )
    # the BOM is not part of the first header nor of any value
    assert (
        con.execute("select count(*) from raw.utility_electricity where account_no like '%\ufeff%'").fetchone()[0] == 0
    )
    # table layout: lineage, spec fields in order, extra_columns, ingested_at
    cols = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema='raw' and table_name='police_population' order by ordinal_position"
    ).fetchall()
    assert cols == [(c, t) for c, t in raw_table_columns(SPECS.sources["police_population"])]
    assert cols[3] == ("source_row", "INTEGER") and cols[-1] == ("ingested_at", "TIMESTAMP")
    log = {r[0]: r for r in file_log(con)}
    assert log["police_population"][8] == "loaded" and len(log["police_population"][3]) == 64


def test_xlsx_typed_cells_are_rendered_as_text(tmp_path, con):
    inbox = tmp_path / "inbox"
    header = [
        "救助证编号",
        "救助类型",
        "户主姓名",
        "户主身份证号",
        "成员姓名",
        "成员身份证号",
        "与户主关系",
        "家庭人口数",
        "月救助金额",
        "家庭地址",
        "所属街道",
        "所属居委",
        "起始年月",
    ]
    write_xlsx(
        inbox / D / "civil_affairs_assistance.xlsx",
        [
            header,
            [
                "JZ001",
                "低保",
                "王䶮",
                "310104199001011234",
                "王䶮",
                "310104199001011234",
                "本人",
                3,
                1530.5,
                "柳营路669弄14号",
                "共和新路街道",
                "柳营居委",
                dt.date(2024, 3, 1),
            ],
            [
                "JZ001",
                "低保",
                "王䶮",
                "310104199001011234",
                "李丽",
                310104199202021234.0,
                "配偶",
                3.0,
                1530.0,
                None,
                "共和新路街道",
                "柳营居委",
                dt.datetime(2024, 3, 1, 0, 0),
            ],
            [
                "JZ002",
                "特困",
                None,
                None,
                "赵强",
                "31010419500101123X",
                "本人",
                1,
                0,
                "  大统路1号  ",
                None,
                None,
                dt.datetime(2024, 5, 6, 7, 8, 9),
            ],
        ],
    )
    r = ingest_file(con, inbox, D, SPECS.sources["civil_affairs_assistance"])
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 3, 3, 0), r.message
    rows = con.execute(
        "select source_row, member_name, member_id_number, family_size, monthly_amount, family_address, "
        "aid_since, head_name from raw.civil_affairs_assistance order by source_row"
    ).fetchall()
    assert rows[0] == (1, "王䶮", "310104199001011234", "3", "1530.5", "柳营路669弄14号", "2024-03-01", "王䶮")
    # a number cell: integral floats lose '.0' (an 18-digit number has already lost precision in Excel)
    assert rows[1][2].isdigit() and rows[1][3:5] == ("3", "1530") and rows[1][5] is None and rows[1][6] == "2024-03-01"
    assert rows[2][4:7] == ("0", "大统路1号", "2024-05-06 07:08:09") and rows[2][7] is None
    assert render_cell(True) == "TRUE" and render_cell(dt.time(7, 5)) == "07:05:00" and render_cell(None) == ""
    assert render_cell(12.0) == "12" and render_cell(0.1) == "0.1" and render_cell(-3.0) == "-3"


def test_headers_reordered_extra_alias_and_dirty_are_mapped(tmp_path, con):
    doc = _spec_doc()
    doc["sources"]["hr_graduates"]["columns"]["id_number"] = ["身份证号", "证件号码"]
    doc["sources"]["hr_graduates"]["columns"]["phone"] = ["联系电话", "手机号码"]
    doc["sources"]["hr_graduates"]["aliases"] = ["毕业生.csv"]
    specs = parse_specs(doc)
    inbox = tmp_path / "inbox"
    header = ["备注", " 手机号码", "学历", "\ufeff证件号码 ", "姓名", "毕业年份", "就业状态", "毕业院校", "", "来源"]
    rows = [
        ["补录", "13900001111", "硕士", "310105199901010014", "王䶮", "2024", "未就业", "同济大学", "", "街道"],
        ["", "13900002222", "本科", "310105199901010022", "李丽", "2025", "已就业", "复旦大学", "", ""],
    ]
    write_csv(inbox / D / "毕业生.csv", header, rows, "gb18030")  # GBK-declared, GB18030 content (䶮)
    r = ingest_file(con, inbox, D, specs.sources["hr_graduates"])
    assert r.status == "loaded" and r.source_file == f"{D}/毕业生.csv", r.message
    got = con.execute(
        "select source_row, name, id_number, school, degree, graduation_year, employment_status, phone, "
        "extra_columns from raw.hr_graduates order by source_row"
    ).fetchall()
    assert got[0][:8] == (1, "王䶮", "310105199901010014", "同济大学", "硕士", "2024", "未就业", "13900001111")
    assert json.loads(got[0][8]) == {"备注": "补录", "column_I": None, "来源": "街道"}
    assert got[1][8] is None  # no extra value in that row
    assert "extra columns kept in extra_columns: 备注, column_I, 来源" in r.message


def test_row_level_problems_are_quarantined_with_reasons_and_exact_rows(tmp_path, con):
    inbox = tmp_path / "inbox"
    rows = [
        police_row(1),
        police_row(2)[:5],
        police_row(3) + ["多余"],
        [""] * 13,
        ["", "", "男"] + [""] * 10,
        police_row(6),
        police_row(7),
    ]
    text = csv_text(POLICE_HEADER, rows)
    # row 8: a line that does not decode; row 9: an embedded NUL; then an empty line (row 10); row 11 quoted newline
    raw = (
        text.encode("gb18030")
        + ",".join(police_row(8)).encode("gb18030").replace("张三".encode("gb18030"), b"\x81\x20")
        + b"\r\n"
        + ",".join(police_row(9, "张\x00三")).encode("gb18030")
        + b"\r\n"
        + b"\r\n"
        + csv_text(POLICE_HEADER, [police_row(11, "多\n行")]).split("\r\n", 1)[1].encode("gb18030")
    )
    (inbox / D).mkdir(parents=True)
    (inbox / D / "police_population.csv").write_bytes(raw)
    r = ingest_file(con, inbox, D, SPECS.sources["police_population"], batch_rows=3)
    assert r.status == "loaded", r.message
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (11, 4, 7)
    assert r.rows_read == r.rows_loaded + r.rows_quarantined
    loaded = con.execute("select source_row, id_number, name from raw.police_population order by 1").fetchall()
    assert loaded == [
        (1, "31010419900101001X", "张三"),
        (6, "31010419900101006X", "张三"),
        (7, "31010419900101007X", "张三"),
        (11, "31010419900101011X", "多\n行"),
    ]
    q = dict(con.execute("select source_row, reason from ingest.quarantine order by 1").fetchall())
    assert q == {
        2: "wrong field count: expected 13, found 5",
        3: "wrong field count: expected 13, found 14",
        4: "blank row",
        5: "required fields all blank: 公民身份号码, 姓名",
        8: "undecodable bytes: not valid GB18030",
        9: "embedded NUL character in 姓名",
        10: "blank row",
    }
    rec = json.loads(con.execute("select raw_record from ingest.quarantine where source_row = 3").fetchone()[0])
    assert rec["公民身份号码"] == "31010419900101003X" and rec["_extra_fields"] == ["多余"]
    rec = json.loads(con.execute("select raw_record from ingest.quarantine where source_row = 2").fetchone()[0])
    assert list(rec) == POLICE_HEADER[:5]
    log = file_log(con)[0]
    assert log[5:9] == (11, 4, 7, "loaded")
    assert "quarantined" in log[9]
    assert_no_leak(log[9], r.message, *[x[0] for x in con.execute("select reason from ingest.quarantine").fetchall()])


def test_numbering_is_exact_across_batches_and_blocks(tmp_path, con, monkeypatch):
    # many rows, small batches and small transcoding blocks: bad rows placed across every boundary
    import connectors.readers.csv_reader as readers

    monkeypatch.setattr(readers, "_BLOCK", 4096)
    monkeypatch.setattr(readers, "_ARROW_BLOCK", 1000)
    n = 3000
    bad = {1, 2, 57, 499, 500, 501, 1024, 2047, 2999, 3000}
    rows = [elec_row(i) if i not in bad else ["坏", "行"] for i in range(1, n + 1)]
    inbox = tmp_path / "inbox"
    write_csv(inbox / D / "utility_electricity.csv", ELEC_HEADER, rows, "utf-8-sig")
    r = ingest_file(con, inbox, D, SPECS.sources["utility_electricity"], batch_rows=97)
    assert (r.rows_read, r.rows_quarantined) == (n, len(bad))
    got = con.execute("select source_row, account_no from raw.utility_electricity order by 1").fetchall()
    assert got == [(i, f"310000{i:06d}") for i in range(1, n + 1) if i not in bad]
    assert sorted(x[0] for x in con.execute("select source_row from ingest.quarantine").fetchall()) == sorted(bad)


def test_xlsx_blank_rows_keep_their_place_and_title_rows_are_skipped(tmp_path, con):
    inbox = tmp_path / "inbox"
    e1 = ["张三", "310104193001011234", "男", 90, "柳营路1号", "13812341234", "李四", "13900001111", "柳营居委"]
    e2 = ["李丽", "310104193502021244", "女", 85, "柳营路2号", None, None, None, "柳营居委"]
    write_xlsx(
        inbox / D / "civil_affairs_elderly_alone.xlsx",
        [["2026年10月独居老人名册"], ELDERLY_HEADER, e1, [], [None, None, "女"], e2],
    )
    r = ingest_file(con, inbox, D, SPECS.sources["civil_affairs_elderly_alone"])
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 4, 2, 2), r.message
    assert con.execute("select source_row, name, age from raw.civil_affairs_elderly_alone order by 1").fetchall() == [
        (1, "张三", "90"),
        (4, "李丽", "85"),
    ]
    assert con.execute("select source_row, reason from ingest.quarantine order by 1").fetchall() == [
        (2, "blank row"),
        (3, "required fields all blank: 身份证号, 姓名"),
    ]
    assert "header found in sheet row 2" in r.message


# ---------------------------------------------------------------------------------------- rejections


def _broken_delivery(inbox: Path) -> dict[str, str]:
    """A delivery with one file of every broken kind (and two good ones). Returns file -> expected words."""
    m = inbox / D
    m.mkdir(parents=True)
    # mojibake trap: the GB18030 police file saved as UTF-8 (decodes as GB18030 without error into garbage)
    (m / "police_population.csv").write_text(
        csv_text(POLICE_HEADER, [police_row(i) for i in range(5)]), encoding="utf-8"
    )
    # missing column 身份证号
    write_csv(
        m / "hr_graduates.csv",
        [h for h in GRAD_HEADER if h != "身份证号"],
        [[v for j, v in enumerate(grad_row(i)) if j != 1] for i in range(3)],
        "gbk",
    )
    # empty file
    (m / "market_business_registry.csv").write_bytes(b"")
    # header only
    (m / "utility_electricity.csv").write_bytes(csv_text(ELEC_HEADER, []).encode("utf-8-sig"))
    # truncated workbook
    good = write_xlsx(
        m / "tmp.xlsx",
        [ELDERLY_HEADER]
        + [["张三", f"31010419300101{i:03d}4", "男", 90, "地址", "13812341234", "", "", "居委"] for i in range(300)],
    )
    data = good.read_bytes()
    good.unlink()
    (m / "civil_affairs_elderly_alone.xlsx").write_bytes(data[: len(data) // 2])
    # not a workbook at all
    (m / "market_food_licence.xlsx").write_text("许可证编号,经营者名称\n", encoding="utf-8")
    # two good files
    write_xlsx(
        m / "street_shop_visits.xlsx",
        [
            [
                "走访日期",
                "店招名称",
                "经营地址",
                "联系人",
                "联系电话",
                "业态",
                "检查结果",
                "所属街道",
                "所属居委",
                "走访人",
            ],
            [
                dt.date(2026, 10, 3),
                "老王面馆",
                "柳营路12号",
                "王",
                "13800001234",
                "餐饮",
                "合格",
                "共和新路街道",
                "柳营居委",
                "小李",
            ],
        ],
    )
    write_xlsx(
        m / "civil_affairs_assistance.xlsx",
        [
            [
                "救助证编号",
                "救助类型",
                "户主姓名",
                "户主身份证号",
                "成员姓名",
                "成员身份证号",
                "与户主关系",
                "家庭人口数",
                "月救助金额",
                "家庭地址",
                "所属街道",
                "所属居委",
                "起始年月",
            ],
            [
                "JZ1",
                "低保",
                "王五",
                "310104199001011234",
                "王五",
                "310104199001011234",
                "本人",
                1,
                1000,
                "地址",
                "街道",
                "居委",
                "2024-01",
            ],
        ],
    )
    return {
        "police_population.csv": "looks like UTF-8, the spec says GB18030",
        "hr_graduates.csv": "missing required columns: 身份证号 (id_number)",
        "market_business_registry.csv": "empty file",
        "utility_electricity.csv": "no data rows: the file has a header row only",
        "civil_affairs_elderly_alone.xlsx": "corrupt xlsx",
        "market_food_licence.xlsx": "not a zip archive",
    }


def test_broken_files_are_rejected_with_clear_messages_and_the_rest_loads(tmp_path, con):
    inbox = tmp_path / "inbox"
    expected = _broken_delivery(inbox)
    results = ingest_delivery(con, inbox, D, SPECS)
    by_file = {r.source_file.split("/", 1)[1]: r for r in results}
    for fname, words in expected.items():
        r = by_file[fname]
        assert r.status == "rejected", (fname, r.status, r.message)
        assert f"{D}/{fname}" in r.message and words in r.message, r.message
        assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (0, 0, 0)
    assert by_file["street_shop_visits.xlsx"].status == "loaded"
    assert by_file["civil_affairs_assistance.xlsx"].status == "loaded"
    assert counts(con)["raw.street_shop_visits"] == 1 and counts(con)["raw.civil_affairs_assistance"] == 1
    # a rejected file writes only its log row
    assert counts(con)["raw.police_population"] == 0 and counts(con)["ingest.quarantine"] == 0
    log = {r[1].split("/", 1)[1]: r for r in file_log(con)}
    assert {f for f, r in log.items() if r[8] == "rejected"} == set(expected)
    for f, r in log.items():
        assert r[9] == by_file[f].message or r[8] == "loaded"
    assert_no_leak(*(r.message for r in results), *(r[9] for r in log.values()))


def test_wrong_encoding_the_other_way_round_and_undecodable_files(tmp_path, con):
    inbox = tmp_path / "inbox"
    m = inbox / D
    # a UTF-8 source delivered in GBK
    write_csv(m / "market_business_registry.csv", BIZ_HEADER, [biz_row(i) for i in range(3)], "gbk")
    # a UTF-8-BOM file: header fine, but the rows are GBK (a concatenation gone wrong)
    body = csv_text(ELEC_HEADER, [elec_row(i) for i in range(40)]).split("\r\n", 1)[1]
    (m / "utility_electricity.csv").write_bytes(
        ("\ufeff" + ",".join(ELEC_HEADER) + "\r\n").encode("utf-8") + body.encode("gbk")
    )
    # a GB18030 file with a UTF-8 BOM in front
    (m / "police_population.csv").write_bytes(_utf8_bom_police())
    res = {r.source: r for r in ingest_delivery(con, inbox, D, SPECS)}
    assert res["market_business_registry"].status == "rejected"
    assert "looks like GB18030 (or GBK), the spec says UTF-8" in res["market_business_registry"].message
    assert res["utility_electricity"].status == "rejected"
    msg = res["utility_electricity"].message
    assert (
        "undecodable: 40 of 40 data rows are not valid UTF-8 (with BOM)" in msg
        and "the rows look like GB18030 (or GBK)" in msg
    )
    assert res["police_population"].status == "rejected"
    assert "looks like UTF-8 with BOM, the spec says GB18030" in res["police_population"].message
    assert counts(con)["raw.utility_electricity"] == 0  # rolled back


def _utf8_bom_police() -> bytes:
    return csv_text(POLICE_HEADER, [police_row(1)]).encode("utf-8-sig")


def test_messages_never_show_an_unmasked_identifier(tmp_path, con):
    # a police file without its header row: the "header" is a data row full of IDs and phones
    inbox = tmp_path / "inbox"
    (inbox / D).mkdir(parents=True)
    (inbox / D / "police_population.csv").write_bytes(
        "\r\n".join(",".join(police_row(i)) for i in range(3)).encode("gb18030")
    )
    r = ingest_file(con, inbox, D, SPECS.sources["police_population"])
    assert r.status == "rejected" and "missing required columns" in r.message
    assert "310104********000X" in r.message and "138****0000" in r.message and "header row missing" in r.message
    assert_no_leak(r.message, file_log(con)[0][9])
    assert (
        mask_text("身份证 11010519491231002X 手机 13912345678 旧号 370802940221002")
        == "身份证 110105********002X 手机 139****5678 旧号 370802*****1002"
    )


def test_reader_api_rejects_up_front(tmp_path):
    p = tmp_path / "hr_graduates.csv"
    p.write_bytes(b"\r\n\r\n")
    with pytest.raises(FileRejected, match="empty file: no header row"):
        open_source_file(p, SPECS.sources["hr_graduates"])
    p.write_bytes(b"\r\n" + csv_text(GRAD_HEADER, [grad_row(1)]).encode("gbk"))
    with pytest.raises(FileRejected, match="the first line is empty"):
        open_source_file(p, SPECS.sources["hr_graduates"])
    write_csv(p, GRAD_HEADER + ["姓名"], [grad_row(1) + ["x"]], "gbk")
    with pytest.raises(FileRejected, match=r"columns 1 \(姓名\) and 8 \(姓名#2\) both map to 姓名"):
        open_source_file(p, SPECS.sources["hr_graduates"])


# ------------------------------------------------------------------------- idempotence and re-delivery


def _good_delivery(inbox: Path, month: str = D, n: int = 4) -> None:
    m = inbox / month
    write_csv(m / "police_population.csv", POLICE_HEADER, [police_row(i) for i in range(n)], "gb18030")
    write_csv(m / "hr_graduates.csv", GRAD_HEADER, [grad_row(i) for i in range(n)], "gbk")
    write_xlsx(
        m / "civil_affairs_elderly_alone.xlsx",
        [ELDERLY_HEADER]
        + [["张三", f"31010419300101{i:03d}4", "男", 90, "地址", "", "", "", "居委"] for i in range(n)],
    )


def test_second_ingest_changes_nothing(tmp_path, con):
    inbox = tmp_path / "inbox"
    _good_delivery(inbox)
    _good_delivery(inbox, "2026-11", 2)
    (inbox / "2026-13").mkdir()
    (inbox / "notes").mkdir()
    assert list_deliveries(inbox) == ["2026-10", "2026-11"]
    assert pending_deliveries(con, inbox, SPECS) == ["2026-10", "2026-11"]
    first = ingest_delivery(con, inbox, D, SPECS)
    assert pending_deliveries(con, inbox, SPECS) == ["2026-11"]
    ingest_delivery(con, inbox, "2026-11", SPECS)
    assert pending_deliveries(con, inbox, SPECS) == []
    before, log_before = counts(con), file_log(con)
    assert before["raw.police_population"] == 6
    again = ingest_delivery(con, inbox, D, SPECS)
    assert [r.status for r in again if r.status != "missing"] == ["skipped"] * 3
    assert {r.source: r.rows_loaded for r in again if r.status == "skipped"} == {
        r.source: r.rows_loaded for r in first if r.status == "loaded"
    }
    assert counts(con) == before and file_log(con) == log_before


def test_a_redelivered_changed_file_replaces_that_months_rows(tmp_path, con):
    inbox = tmp_path / "inbox"
    _good_delivery(inbox)
    _good_delivery(inbox, "2026-11", 2)
    for d in ("2026-10", "2026-11"):
        ingest_delivery(con, inbox, d, SPECS)
    write_csv(
        inbox / D / "police_population.csv", POLICE_HEADER, [police_row(i) for i in range(7)] + [["x"]], "gb18030"
    )
    assert pending_deliveries(con, inbox, SPECS) == [D]
    r = ingest_file(con, inbox, D, SPECS.sources["police_population"])
    assert (r.status, r.rows_loaded, r.rows_quarantined) == ("loaded", 7, 1)
    assert "replaces the 4 rows of the earlier version" in r.message
    assert dict(con.execute("select delivery, count(*) from raw.police_population group by 1").fetchall()) == {
        D: 7,
        "2026-11": 2,
    }
    hashes = con.execute(
        "select file_hash from ingest.file_log where source_file = ? order by ingested_at",
        [f"{D}/police_population.csv"],
    ).fetchall()
    assert len(hashes) == 2 and hashes[0] != hashes[1]
    assert ingest_file(con, inbox, D, SPECS.sources["police_population"]).status == "skipped"
    assert pending_deliveries(con, inbox, SPECS) == []


def test_a_crash_mid_file_leaves_nothing_half_loaded(tmp_path, con, monkeypatch):
    import connectors.readers.csv_reader as readers

    monkeypatch.setattr(readers, "_ARROW_BLOCK", 300)
    inbox = tmp_path / "inbox"
    write_csv(
        inbox / D / "utility_electricity.csv", ELEC_HEADER, [elec_row(i) for i in range(50)] + [["bad"]], "utf-8-sig"
    )
    ensure_schema(con, SPECS)
    real = ingest_mod._insert_batch
    calls = {"n": 0}

    def crash(*a, **k):
        calls["n"] += 1
        if calls["n"] >= 3:
            raise OSError("disk full")
        return real(*a, **k)

    monkeypatch.setattr(ingest_mod, "_insert_batch", crash)
    with pytest.raises(OSError):
        ingest_file(con, inbox, D, SPECS.sources["utility_electricity"], batch_rows=10)
    assert counts(con)["raw.utility_electricity"] == 0 and counts(con)["ingest.file_log"] == 0
    assert counts(con)["ingest.quarantine"] == 0
    # ingest_delivery reports it without logging (so it is retried) and goes on with the other files
    assert calls["n"] == 3
    calls["n"] = 5
    write_csv(inbox / D / "hr_graduates.csv", GRAD_HEADER, [grad_row(1)], "gbk")
    monkeypatch.setattr(
        ingest_mod, "_insert_batch", lambda *a, **k: crash(*a, **k) if "utility" in a[2] else real(*a, **k)
    )
    res = {r.source: r for r in ingest_delivery(con, inbox, D, SPECS)}
    assert res["hr_graduates"].status == "loaded"
    assert res["utility_electricity"].status == "rejected" and "will be retried" in res["utility_electricity"].message
    assert pending_deliveries(con, inbox, SPECS) == [D]
    monkeypatch.setattr(ingest_mod, "_insert_batch", real)
    r = ingest_file(con, inbox, D, SPECS.sources["utility_electricity"], batch_rows=10)
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 51, 50, 1)


def test_ambiguous_delivery_of_two_alias_files_is_rejected(tmp_path, con):
    doc = _spec_doc()
    doc["sources"]["hr_graduates"]["aliases"] = ["毕业生.csv"]
    specs = parse_specs(doc)
    inbox = tmp_path / "inbox"
    write_csv(inbox / D / "hr_graduates.csv", GRAD_HEADER, [grad_row(1)], "gbk")
    write_csv(inbox / D / "毕业生.csv", GRAD_HEADER, [grad_row(2)], "gbk")
    r = ingest_file(con, inbox, D, specs.sources["hr_graduates"])
    assert r.status == "rejected" and "ambiguous delivery" in r.message


# --------------------------------------------------------------------------------------- reference


def test_reference_files_are_replaced_when_they_change(tmp_path, con):
    inbox = tmp_path / "inbox"
    ref = inbox / "reference"
    ref.mkdir(parents=True)
    div = ["街道代码", "街道名称", "居委代码", "居委名称"]
    addr = ["地址编码", "区", "街道代码", "居委代码", "路名", "弄", "号", "标准地址"]
    write_csv(ref / "divisions.csv", div, [["310106012000", "南京西路街道", "310106012001", "一居"]], "utf-8")
    write_csv(
        ref / "standard_addresses.csv",
        addr,
        [["A1", "静安区", "310106012000", "310106012001", "柳营路", "669弄", "14号", "上海市静安区柳营路669弄14号"]],
        "utf-8",
    )
    res = ingest_reference(con, inbox, SPECS)
    assert [(r.source, r.status, r.rows_loaded) for r in res] == [
        ("divisions", "loaded", 1),
        ("standard_addresses", "loaded", 1),
    ]
    assert res[0].source_file == "reference/divisions.csv"
    assert con.execute("select delivery, source_row, street_code, community_name from raw.divisions").fetchall() == [
        ("reference", 1, "310106012000", "一居")
    ]
    assert [r.status for r in ingest_reference(con, inbox, SPECS)] == ["skipped", "skipped"]
    write_csv(
        ref / "divisions.csv",
        div,
        [
            ["310106012000", "南京西路街道", "310106012001", "一居"],
            ["310106012000", "南京西路街道", "310106012002", "二居"],
        ],
        "utf-8",
    )
    res = ingest_reference(con, inbox, SPECS)
    assert [r.status for r in res] == ["loaded", "skipped"]
    assert con.execute("select count(*) from raw.divisions").fetchone()[0] == 2
    assert con.execute("select count(*) from ingest.file_log where delivery = 'reference'").fetchone()[0] == 3


def test_file_result_shape():
    r = FileResult("s", "2026-10/s.csv", "missing")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.message) == (0, 0, 0, "")
    assert ingest_mod.STATUSES == ("loaded", "rejected", "skipped", "missing")


def test_unclosed_quote_and_blank_only_files(tmp_path, con, monkeypatch):
    import connectors.readers.csv_reader as readers

    inbox = tmp_path / "inbox"
    rows = [elec_row(1), elec_row(2)]
    text = (
        csv_text(ELEC_HEADER, rows)
        + '310000000003,"王芳,共和新路,13712340003,2026-09,1\r\n'
        + csv_text(ELEC_HEADER, [elec_row(4), elec_row(5)]).split("\r\n", 1)[1]
    )
    (inbox / D).mkdir(parents=True)
    (inbox / D / "utility_electricity.csv").write_text(text, encoding="utf-8-sig")
    r = ingest_file(con, inbox, D, SPECS.sources["utility_electricity"])
    # the unclosed quote swallows the rest of the file into one record: quarantined, with a hint
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 3, 2, 1)
    reason = con.execute("select reason from ingest.quarantine where source_row = 3").fetchone()[0]
    assert "wrong field count" in reason and "unclosed quote" in reason
    # a record longer than a parse block cannot be placed: the file is rejected, naming the row
    monkeypatch.setattr(readers, "_ARROW_BLOCK", 200)
    (inbox / "2026-11").mkdir()
    (inbox / "2026-11" / "utility_electricity.csv").write_text(text + "x" * 500 + "\r\n", encoding="utf-8-sig")
    r = ingest_file(con, inbox, "2026-11", SPECS.sources["utility_electricity"])
    assert r.status == "rejected" and "CSV parse error after data row" in r.message, r.message
    # header and blank lines only
    (inbox / "2026-12").mkdir()
    (inbox / "2026-12" / "hr_graduates.csv").write_bytes(",".join(GRAD_HEADER).encode("gbk") + b"\r\n\r\n,,,,,,\r\n")
    r = ingest_file(con, inbox, "2026-12", SPECS.sources["hr_graduates"])
    assert r.status == "rejected" and "header row and 2 blank rows only" in r.message
