"""排摸 tasks, the pure parts: the checklist (types, required, conditions, clear errors), reading a list
in every encoding and recognising its headers, and the routing rules on a hand-made master index."""

from __future__ import annotations

import numpy as np
import pytest

from citizen_reports.routing import AddressLibrary
from tasks.checklist import ChecklistError, parse_checklist
from tasks.listfile import ListFileError, check_mapping, guess_mapping, read_list_bytes
from tasks.routing import MasterIndex, Person, route_row
from tasks.service import walk_key

CHECKLIST = """
questions:
  - {id: at_home, text: 本人是否在家, type: yes_no, required: true}
  - {id: health, text: 身体状况, type: single, options: [良好, 一般, 较差], required: true,
     show_if: {question: at_home, equals: 是}}
  - {id: aid, text: 需要的帮助, type: multiple, options: [就医, 就业, 照料], show_if: {question: health, in: [一般, 较差]}}
  - {id: people, text: 同住人数, type: number}
  - {id: back, text: 返沪日期, type: date}
"""


# ------------------------------------------------------------------------------------- checklist
def test_required_questions_are_enforced_and_hidden_ones_are_not_asked():
    c = parse_checklist(CHECKLIST)
    assert c.check({}) == {"at_home": "必答题，请填写"}
    assert [q.id for q in c.visible({"at_home": "否"})] == ["at_home", "people", "back"]
    assert c.check({"at_home": "是"}) == {"health": "必答题，请填写"}
    kept, problems = c.clean({"at_home": "否", "health": "较差", "aid": ["就医"], "people": "3"})
    assert problems == {} and kept == {"at_home": "否", "people": 3}, "answers to hidden questions are dropped"
    kept, problems = c.clean({"at_home": "是", "health": "较差", "aid": ["照料", "就医"], "back": "2026/12/1"})
    assert problems == {} and kept["aid"] == ["就医", "照料"] and kept["back"] == "2026-12-01"


def test_answers_of_the_wrong_type_are_refused_with_the_reason():
    c = parse_checklist(CHECKLIST)
    problems = c.check({"at_home": "也许", "people": "三个", "back": "昨天"})
    assert set(problems) == {"at_home", "people", "back"}
    assert "是/否" in problems["at_home"] and "数字" in problems["people"] and "日期" in problems["back"]
    assert "不是可选项" in c.check({"at_home": "是", "health": "良好", "aid": ["买菜"]}).get("aid", "不是可选项")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("questions: []", "questions"),
        ("questions:\n  - {id: a, text: 甲, type: radio}", "questions.0.type"),
        ("questions:\n  - {id: a, text: 甲, type: single, options: [只有一个]}", "at least two options"),
        ("questions:\n  - {id: 1a, text: 甲, type: text}", "letters, digits"),
        ("questions:\n  - {id: status, text: 甲, type: text}", "column of the export"),
        ("questions:\n  - {id: a, text: 甲, type: text}\n  - {id: a, text: 乙, type: text}", "used twice"),
        ("questions:\n  - {id: b, text: 乙, type: text, show_if: {question: a, equals: 是}}", "not an earlier question"),
        ("questions:\n  - {id: a, text: 甲, type: yes_no}\n  - {id: b, text: 乙, type: text, show_if: {question: a, equals: 对}}",
         "not an option"),
        ("questions:\n  - {id: a, text: 甲, type: text, requried: true}", "unknown key"),
        ("questions: [", "not valid YAML"),
    ],
)  # fmt: skip
def test_a_bad_checklist_is_refused_naming_the_key_and_problem(text, expected):
    with pytest.raises(ChecklistError) as e:
        parse_checklist(text, "checklist.yml")
    assert "checklist.yml" in str(e.value) and expected in str(e.value)


# ------------------------------------------------------------------------------------- lists
ROWS = [["姓名", "公民身份号码", "手机号码", "现住址", "备注"], ["张三", "11010519491231002X", "13812345678", "宝山路7弄1号101室", "重点"],
        ["欧阳·娜娜", "", "", "", ""]]  # fmt: skip


def _csv(encoding: str) -> bytes:
    text = "\r\n".join(",".join(r) for r in ROWS) + "\r\n"
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_a_csv_list_reads_in_every_encoding_real_lists_come_in(encoding):
    listing = read_list_bytes(_csv(encoding), f"名单_{encoding}.csv")
    assert listing.headers == ROWS[0]
    assert [r["姓名"] for r in listing.rows] == ["张三", "欧阳·娜娜"]
    assert listing.rows[0]["现住址"] == "宝山路7弄1号101室"


def test_an_xlsx_list_reads_its_first_sheet(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in ROWS:
        ws.append(r)
    ws.append([None] * 5)  # trailing blank line
    wb.create_sheet("其他").append(["不读"])
    path = tmp_path / "名单.xlsx"
    wb.save(path)
    listing = read_list_bytes(path.read_bytes(), path.name)
    assert listing.headers == ROWS[0] and len(listing.rows) == 2 and listing.rows[0]["公民身份号码"] == ROWS[1][1]


def test_headers_are_recognised_by_their_synonyms_and_the_mapping_is_checked():
    assert guess_mapping([" 证件号码 ", "电话", "家庭住址", "姓名"]) == {
        "name": "姓名", "id_number": " 证件号码 ", "phone": "电话", "address": "家庭住址"}  # fmt: skip
    assert guess_mapping(["序号", "身份证号"]) == {
        "name": None,
        "id_number": "身份证号",
        "phone": None,
        "address": None,
    }
    with pytest.raises(ListFileError, match="不在表头"):
        check_mapping({"name": "名字"}, ["姓名"], "x.csv")
    with pytest.raises(ListFileError, match="找不到姓名或身份证号"):
        check_mapping({"address": "地址"}, ["地址"], "x.csv")


@pytest.mark.parametrize(
    "data, name, expected",
    [(b"", "a.csv", "空的"), ("姓名\n".encode(), "a.csv", "只有表头"), (b"\x81\x30\xff\xff\xfe", "a.csv", "编码"),
     (b"PK\x03\x04broken", "a.xlsx", "不是有效的 .xlsx"), (b"x", "a.xls", "另存为 .xlsx")],
)  # fmt: skip
def test_a_bad_list_says_what_is_wrong_naming_the_file(data, name, expected):
    with pytest.raises(ListFileError) as e:
        read_list_bytes(data, name)
    assert name in str(e.value) and expected in str(e.value)


def test_the_walk_keeps_a_lane_together_in_door_and_room_order():
    addresses = [
        "宝山路7弄10号101室",
        "宝山路7弄2号301室",
        "宝山路7弄2号102室",
        "柳营路669弄14号1102室",
        "宝山路7弄2号1101室",
    ]
    ordered = sorted(addresses, key=walk_key)
    assert ordered[:4] == ["宝山路7弄2号102室", "宝山路7弄2号301室", "宝山路7弄2号1101室", "宝山路7弄10号101室"]


# ------------------------------------------------------------------------------------- routing
C1, C2, C3 = "310106017001", "310106017002", "310106018001"


def _index() -> MasterIndex:
    persons = [
        Person("P1", "张三", "H1", "正常", C1[:9] + "000", C1, "上海市静安区宝山路7弄1号101室", "101"),
        Person("P2", "李丽", "H2", "正常", C2[:9] + "000", C2, "上海市静安区宝山路9弄2号201室", "201"),
        Person("P3", "王芳", "H3", "正常", C3[:9] + "000", C3, "上海市静安区柳营路669弄14号1102室", "1102"),
        Person("P4", "王芳", "H4", "正常", C1[:9] + "000", C1, "上海市静安区宝山路7弄3号101室", "101"),
        Person("P5", "赵六", "H5", "死亡", C2[:9] + "000", C2, "上海市静安区宝山路9弄2号202室", "202"),
    ]
    ids = {"P1": "11010519491231002X", "P2": "440524188001010014", "P5": "370802199402210029"}
    phones = {"P2": "13912345678", "P3": "13700000001", "P4": "13700000002"}
    lib_addresses = [
        ("A1", C1, "上海市静安区宝山路7弄1号"),
        ("A2", C2, "上海市静安区宝山路9弄2号"),
        ("A3", C3, "上海市静安区柳营路669弄14号"),
    ]
    lib = AddressLibrary(
        [a[0] for a in lib_addresses], [a[1][:9] + "000" for a in lib_addresses], [a[1] for a in lib_addresses],
        [a[2] for a in lib_addresses], np.full(3, np.nan), np.full(3, np.nan), {}, {C1: "宝山一居", C2: "宝山二居"}, "t",
    )  # fmt: skip
    m = MasterIndex({}, {}, {}, {}, {}, {}, lib, {C1: "宝山一居", C2: "宝山二居", C3: "柳营居"}, {})
    from collections import defaultdict

    for attr in ("by_id", "by_name", "ids_of", "by_name_phone", "by_name_address"):
        setattr(m, attr, defaultdict(set))
    from normalize.addresses import parse_address
    from tasks.routing import _keys

    for p in persons:
        m.persons[p.person_id] = p
        keys = _keys(p.name)
        if p.person_id in ids:
            m.by_id[ids[p.person_id]].add(p.person_id)
            m.ids_of[p.person_id].add(ids[p.person_id])
        for k in keys:
            m.by_name[k].add(p.person_id)
            if p.person_id in phones:
                m.by_name_phone[(k, phones[p.person_id])].add(p.person_id)
            m.by_name_address[(k, parse_address(p.address).address_key)].add(p.person_id)
    return m


def test_an_id_number_routes_the_row_to_where_the_person_lives_whatever_the_list_says():
    d = route_row(_index(), name="张三", id_number="11010519491231002x", address="柳营路669弄14号")
    assert (d.match_status, d.rule, d.community_code, d.person_id) == ("matched", "id_number", C1, "P1")
    assert "身份证号一致" in d.reason and "宝山一居" in d.reason


def test_an_id_number_one_typo_away_routes_when_the_name_agrees():
    d = route_row(_index(), name="张三", id_number="11010519491231020X")  # two neighbours swapped
    assert (d.match_status, d.rule, d.community_code) == ("matched", "id_typo", C1)
    d = route_row(_index(), name="李四", id_number="11010519491231020X")
    assert d.match_status == "unmatched" and d.community_code is None


def test_name_and_phone_then_name_and_address_and_homophones():
    m = _index()
    d = route_row(m, name="李莉", phone="139-1234-5678")  # 李丽 typed as a homophone
    assert (d.match_status, d.rule, d.community_code) == ("matched", "name_phone", C2)
    d = route_row(m, name="王芳", address="柳营路669-14-1102")
    assert (d.match_status, d.rule, d.community_code, d.person_id) == ("matched", "name_address", C3, "P3")


def test_several_persons_on_the_same_evidence_go_to_the_queue_with_the_candidates():
    d = route_row(_index(), name="王芳")
    assert d.match_status == "unmatched"  # a name alone is no evidence
    m = _index()
    m.by_name_phone[("n:王芳", "13700000009")] |= {"P3", "P4"}
    d = route_row(m, name="王芳", phone="13700000009")
    assert d.match_status == "ambiguous" and d.community_code is None
    assert {c["person_id"] for c in d.candidates} == {"P3", "P4"} and "2 人" in d.reason


def test_the_dead_and_the_unknown_wait_in_the_queue_saying_why():
    m = _index()
    d = route_row(m, name="赵六", id_number="370802199402210029")
    assert d.match_status == "matched" and d.community_code is None and "已死亡" in d.reason
    d = route_row(m, name="孙七", address="宝山路9弄2号")
    assert d.match_status == "unmatched" and d.community_code is None
    assert d.suggested_community == C2 and "宝山二居" in d.reason, (
        "the address suggests a committee; the district confirms"
    )
    d = route_row(m, name="孙七", address="不存在路1号")
    assert d.suggested_community is None and "无法定位" in d.reason
