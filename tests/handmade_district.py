"""A small hand-made district with one case of each failure class real exports have (issue 11), in
the contract's inbox layout, two monthly deliveries (2026-10, 2026-11):

1. incomplete residences — 李娜's 居住地址 names the building only while her husband 张伟 (same 户号)
   lives in room 1604; 王芳's is blank in the second month; 陈静's names the building and a meter in
   her name names room 1606; 赵强's names the building and nothing else tells the room; 刘洋's is
   blank and only his 户籍地址 (where he does not live, 人户分离) names a room;
2. a road name misspelt by one character: 黄敏 at 玫园路 (the library has 梅园路 with that lane and
   number, and no other road does); 郑杰 at 梅圆路 (one character from both 梅园路 and 梅源路, both with
   that lane and number: undecidable); in November 宋雨's 居住地址 says 汾西路 for 闻喜路 (a slip by
   sound: 'fen xi' / 'wen xi', one syllable and two characters away); 唐亮's says 汾水路 in both months
   (two syllables off 闻喜路, which has his lane and number: outside the library), his 户籍地址
   美元路102号 in Nanjing (it reads as 梅园路, which has a 102号: no lane, no misspelling taken);
   韦佳's November 居住地址 says 闻西路 for 闻喜路 (西 where 路 is preceded by a direction, but it
   sounds as 喜: no other road); 贺强's says 延长西路 (延长中路 has his lane and number; 西 and 中 are
   directions that sound different: another road, outside the library);
3. visits whose 联系人 is a shop assistant: 店招 明珠花店 for 上海市静安区明珠花店; 永丰超市 for
   上海市静安区吉祥超市 (the only business at its premises); 老陈面馆 registered nowhere;
4. a meter at premises only the registry knows (鑫源五金店, the account in the legal
   representative's name), and 明珠花店's food licence with a blank credit code (expired, while the
   shop trades and its meter draws power); 阿芳裁缝, registered nowhere, last visited in May (open),
   its meter drawing its usual power;
5. the electricity export lags a month: the 2026-11 file ends with 2026-10; 钱老伯's use collapsed
   in 2026-10, 孙老太's did not; the 蒋 couple's flat went dark in 2026-10 (they left; the police
   still hold the flat); 孙老太's grandson has his own 户 at her flat and lives elsewhere;
   The library lists 梅园路100号 twice (two codes, two committees), as a library export can.
6. every address is written another way in the second month (no 上海市, short forms, Chinese
   numerals, 号楼, spaces);
7. a dead account holder the hub does not place at the meter: 邵德明 (居住地址 blank, 户籍 at the
   meter's flat) next door to a living 邵德明;
8. 人员状态 in another police system's words: 葛志成 (86) 注销 (dead: the meter of 401 is still in his
   name), his wife 卜秀珍 在册 (living), their son 葛宏 (30, his own 户 and meter at 402) 注销 (gone
   abroad), 卜建华 迁移 (moved out; his meter at 403);
9. a dead holder beside a living homophone: the meter of 702 is in the name of 陆岩, who died; his
   daughter 陆艳 (the same pinyin) lives there; she heads an aid family (with 卜秀珍 of 401) whose
   家庭地址 is 401;
10. an old aid recipient who moved and whom no register followed: 严德华 (80, 户主 of aid family
   310106D202400003, alone) left 1001 for 1002 in 2026-10; the police (居住地址 = 户籍地址) and the aid
   file still say 1001; the meter of 1001 (his) reads empty from 2026-10, the one of 1002 (his too,
   empty until then) lived in.
11. an aid couple living apart: 房建民 (户主 of aid family 310106D202400004) at its 家庭地址 (1201),
   his wife 姜桂芳 in 1301 of another building (her 户籍 at 1201, 人户分离).
12. a dead aid recipient: 邬长根 (户主 of aid family 310106D202400005, alone; the police say 死亡),
   his flat 1202 empty in 2026-10, a meter in his name lived in at his son's flat (1302).
13. a family the police caught up with for one member only, after the export's latest reading: the
   田 family left 1401 for 1402 in November; the November police file names 1402 for the wife
   only, 1401 (the husband's meter) still reads lived in, 1402 (the landlord's) empty; the
   husband's parents, of the same 户号, live in their own flat 2101.
   The 韩 family likewise from 1501 to 1502, where the police updated the 12-year-old son only.
14. doors outside the library on roads that are not misspellings: 柏文海 at 梅源路8弄3号 (梅源路 is a
   library road, one character from 梅园路, which has 8弄3号), 殷志超 at 文德路38弄7号 (one syllable from
   闻喜路, which has 38弄7号, but 德 de and 喜 xi do not rhyme);
15. a blank police 居住地址 with the elderly-alone list naming the building only: 蔡康文 (72) in
   October; a meter in his name names room 203 of that building.
16. an old woman on the elderly-alone list at her own flat (14号1601), whose police 居住地址 is a
   flat a family lives in (16号101): 章桂珍; nobody lives with her.
17. a mall (梅园路110号, two registered shops with their units): a visit in November under a sign
   nobody was seen under (老罗生煎馆), without the unit, the one record of it; an unregistered
   watch repairer (阿王修表店, 梅园路112号) the streets visit every two to four months, last found
   open in July, with no meter; two shops seen at the mall without the unit: 小吴奶茶 every two
   months since December 2025 (unregistered), 阿刘修表店 in November 2025 and in October 2026 only,
   eleven months apart (further than the streets' rhythm of visits: nothing is claimed).
18. a family the police still place in a flat that has read empty for two months: the 董 family
   left 1601 in September (nothing tells where to); in November the hub, which placed them in 1601
   in October, keeps them in the building with the room unknown, apart from 1601's meter.
19. an old woman on the elderly-alone list at her home (14号1701, the meter in a former tenant's
   name), whose police 居住地址 is the flat she let out (14号1702, its meter in her name, lived in all
   year): 任桂兰; her home's use collapses in 2026-10.
20. a young couple whose flat (26号2001) has read empty since May, the police still holding it: 晏子豪,
   柯雨婷; an old man alone (26号2002), not on the elderly-alone list, whose flat went dark in 2026-10:
   龚伯年.
21. a family whose records the police all changed after the export's latest reading, still naming the
   flat: the 龙 family left 1701 in October (nothing tells where to); each of their October records
   has an October 更新日期 while 1701 read lived in up to 2026-09: the hub keeps them in the building
   with the room unknown in both months, apart from 1701's meter (which reads empty in 2026-10);
   their aid file (310106D202400007) names 1701 too: the street is asked where they live;
   the 龚 family's newborn, the one record changed in 1801, stays there with her father. The 邹
   couple left 1901 in August: their records changed in August, the flat dark since August: kept
   in the building likewise; the 温 family, whose records changed in September, came to 1902 after
   it had gone dark in May: they stay.
22. an old woman on the elderly-alone list at her own flat (14号1801, her meter), whose 户口 (户号)
   she shares with her son's family (户籍 elsewhere), he a 户主 too: the police 居住地址 is his flat
   (14号1802), where he lives with his wife: 骆秀梅.
23. an old woman on the elderly-alone list who moved in September from her flat (14号1901, her meter,
   her 户籍; the police still name it) to 14号1902, which the November list names (the October one
   gives her building only; the landlord's meter, nobody on file): 1901 has read empty since, 1902
   lived in from September and reads zero in 2026-10: 窦玉兰.
24. a blank police 居住地址 (October) of an aid recipient living alone at 12号2201, the one meter in his
   name (a name no one else in the district carries) lived in; his aid file's 家庭地址 and his 户籍
   are 12号2202, where 童志明 (another 户号) lives: 邱文彬.
25. a road typed by sound as a library road's homophone, at a door the library does not list: 石磊's
   October 居住地址 says 严长中路1弄9号 for 延长中路1弄9号 (yan zhang zhong, as 延长中路 reads: a library road,
   its 1弄9号 outside the library), one character from 严庄中路, which has 1弄9号: he is at 延长中路.
26. an old woman on the elderly-alone list at her own flat (14号2301, her meter), in her son's 户号
   (he the one 户主) and his family's aid file, whose 户籍 and 家庭地址 are his flat (12号2401, where he
   lives with his wife; its account still in her name); her police 居住地址 is blank: 柏淑芬.
27. an old woman on the elderly-alone list who moved in August from her flat (14号2501, her meter,
   her 户籍; the police still name it) to 14号2502, which both months' lists name (the landlord's
   meter, nobody on file): 2501 has read empty since, 2502 lived in from August and reads zero in
   2026-10 (an emergency there, not her going back): 卓秀云.
28. an old woman on the elderly-alone list living alone at 14号2601 (the police say the same), a flat
   whose 户籍 and meter are a man's of another 户号 who lets it to her: his police 居住地址 is blank and
   nothing tells where he lives: 柴玉珍, 包国栋.

Filler families with complete addresses give each kind of evidence enough cases for its weight to
be estimated from the delivery itself. Ids are valid GB 11643 / GB 32100 numbers.
"""

from __future__ import annotations

from pathlib import Path

from connectors.spec import load_specs
from synthetic.codes import id_check_char, uscc_check_char
from synthetic.generate import SHEET, SOURCES, _write_csv, _write_xlsx

STREET = ("310106021000", "临汾路街道")
COMMITTEES = [("310106021001", "阳曲一村居委会"), ("310106021002", "梅园居委会")]
DELIVERIES = ("2026-10", "2026-11")

# the contract headers of each registry the generator writes, in the contract's order (connectors/sources.yml)
HEADERS = {
    name: [spec.header(field) for field in spec.columns]
    for name, spec in load_specs().sources.items()
    if name in SOURCES
}

# address code, road, lane, number, committee
LIBRARY = [
    ("31010600000001", "阳曲路", "15", "12", 0),
    ("31010600000002", "阳曲路", "15", "14", 0),
    ("31010600000003", "阳曲路", "15", "16", 0),
    ("31010600000004", "阳曲路", "15", "18", 0),
    ("31010600000005", "阳曲路", "15", "20", 0),
    ("31010600000006", "阳曲路", "15", "22", 0),
    ("31010600000007", "阳曲路", "15", "24", 0),
    ("31010600000008", "阳曲路", "15", "26", 0),
    ("31010600000009", "梅园路", "8", "3", 1),
    ("31010600000010", "梅园路", "8", "5", 1),
    ("31010600000011", "梅源路", "8", "5", 1),
    ("31010600000012", "梅园路", "", "100", 1),
    ("31010600000013", "梅园路", "", "102", 1),
    ("31010600000014", "梅园路", "", "104", 1),
    ("31010600000015", "梅园路", "", "106", 1),
    ("31010600000016", "梅园路", "", "108", 1),
    ("31010600000017", "闻喜路", "38", "6", 1),
    ("31010600000018", "闻喜路", "38", "7", 1),
    ("31010600000019", "延长中路", "1", "1", 1),
    # the library lists 梅园路100号 (明珠花店's premises) a second time, under the other committee
    ("31010600000020", "梅园路", "", "100", 0),
    ("31010600000021", "梅园路", "", "110", 1),  # a mall
    ("31010600000022", "梅园路", "", "112", 1),
    ("31010600000023", "严庄中路", "1", "9", 1),
]
ADDRESS_ID: dict[tuple[str, str, str], str] = {}
for _code, _road, _lane, _no, _ in LIBRARY:
    ADDRESS_ID.setdefault((_road, _lane, _no), _code)  # a duplicate resolves to the smallest code


def id_number(region: str, birth: str, seq: int, male: bool) -> str:
    body = f"{region}{birth.replace('-', '')}{seq % 100:02d}{(2 * (seq % 5) + (1 if male else 0))}"
    return body + id_check_char(body)


def uscc(org: str, individual: bool) -> str:
    body = ("92" if individual else "91") + "310106" + org
    return body + uscc_check_char(body)


def address(road: str, lane: str, no: str, room: str | None, month: int) -> str:
    """The first month writes the full standard form; the second re-renders every address."""
    if month == 0:
        door = f"{road}{lane}弄{no}号" if lane else f"{road}{no}号"
        return "上海市静安区" + door + (f"{room}室" if room else "")
    if lane:
        forms = [
            f"{road}{lane}-{no}" + (f"-{room}" if room else ""),
            f"静安区{road}{lane}弄{no}号楼" + (f"{room}" if room else ""),
            f"{road} {lane}弄 {no}号" + (f" {room}室" if room else ""),
        ]
        return forms[(int(no) + len(room or "")) % 3]
    return f"静安区{road}{no}号" + (room or "")


class Person:
    def __init__(
        self, name, male, birth, hukou, relation, home, registered=None, phone="", status="正常", updated="2026-01-15"
    ):
        self.name, self.male, self.birth, self.hukou, self.relation = name, male, birth, hukou, relation
        self.status = status
        self.updated = updated  # the police record's 更新日期
        self.home = home  # (road, lane, no, room)
        self.registered = registered or home  # (road, lane, no, room), or the text of an address elsewhere
        self.phone = phone
        self.id = ""

    def registered_address(self) -> str:
        if isinstance(self.registered, str):
            return self.registered
        return address(*self.registered, 0)


def build(inbox: Path) -> dict:
    """Write the district into `inbox`; returns the cast: name -> Person, and shop facts."""
    inbox = Path(inbox)
    (inbox / "reference").mkdir(parents=True, exist_ok=True)
    (inbox / "reference" / "divisions.csv").write_text(
        "街道代码,街道名称,居委代码,居委名称\n" + "".join(f"{STREET[0]},{STREET[1]},{c},{n}\n" for c, n in COMMITTEES),
        encoding="utf-8",
    )
    lines = ["地址编码,区,街道代码,居委代码,路名,弄,号,标准地址"]
    for code, road, lane, no, comm in LIBRARY:
        std = f"上海市静安区{road}{lane}弄{no}号" if lane else f"上海市静安区{road}{no}号"
        lines.append(f"{code},静安区,{STREET[0]},{COMMITTEES[comm][0]},{road},{lane},{no},{std}")
    (inbox / "reference" / "standard_addresses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    A1 = ("阳曲路", "15", "12")
    A2 = ("阳曲路", "15", "14")
    people: list[Person] = [
        Person("张伟", True, "1975-03-02", "10000001", "户主", (*A1, "1604")),
        Person("李娜", False, "1977-08-19", "10000001", "配偶", (*A1, "1604")),
        Person("王芳", False, "1969-11-05", "10000002", "户主", (*A1, "1605")),
        Person("陈静", False, "1981-01-23", "10000003", "户主", (*A1, "1606")),
        Person(
            "赵强", True, "1972-06-30", "10000004", "户主", (*A2, "302"), registered="上海市虹口区四平路88弄3号202室"
        ),
        Person("刘洋", True, "1990-04-12", "10000002", "其他", (*A2, "501"), registered=(*A1, "1605")),
        Person("黄敏", False, "1985-09-09", "10000005", "户主", ("梅园路", "8", "3", "201")),
        Person("郑杰", True, "1988-02-14", "10000006", "户主", ("梅园路", "8", "5", "101")),
        Person("孙秀英", False, "1938-05-01", "10000007", "户主", (*A2, "101")),
        Person("钱国强", True, "1940-07-07", "10000008", "户主", (*A2, "102")),
    ]
    # filler: eighteen families of three with complete addresses (a third registered elsewhere)
    surnames = "周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施"
    for k in range(18):
        building = ("阳曲路", "15", str(16 + 2 * (k // 3)))
        room = f"{1 + k % 3}0{1 + k % 2}"
        hukou = f"2000{k:04d}"
        registered = None if k % 3 else ("阳曲路", "15", str(16 + 2 * ((k + 5) % 6)), "601")
        s = surnames[k]
        people += [
            Person(
                f"{s}建{'国军华平明强'[k % 6]}",
                True,
                f"19{60 + k}-0{1 + k % 9}-1{k % 9}",
                hukou,
                "户主",
                (*building, room),
                registered,
                phone=f"1390000{k:04d}",
            ),
            Person(
                f"{s}美{'玲兰英红霞芳'[k % 6]}",
                False,
                f"19{61 + k}-0{1 + k % 9}-2{k % 9}",
                hukou,
                "配偶",
                (*building, room),
                registered,
            ),
            Person(
                f"{s}小{'宇涵轩睿彤萱'[k % 6]}",
                k % 2 == 0,
                f"20{10 + k % 9}-0{1 + k % 9}-0{1 + k % 9}",
                hukou,
                "子" if k % 2 == 0 else "女",
                (*building, room),
                registered,
            ),
        ]
    # a family that moved within the building in October (柳): the police still hold the old flat for
    # all but the wife; the old flat's meter (the husband's) reads empty from October, the new flat's
    # (the landlord's) lived in; the grandmother has no meter of her own
    A26 = ("阳曲路", "15", "26")
    people += [
        Person("柳志刚", True, "1980-04-03", "10000009", "户主", (*A26, "701")),
        Person("葛丽萍", False, "1982-10-11", "10000009", "配偶", (*A26, "701")),
        Person("柳思远", True, "2012-06-01", "10000009", "子", (*A26, "701")),
        Person("鲁桂兰", False, "1952-02-17", "10000009", "母亲", (*A26, "701")),
    ]
    # a family that moved within the building in November (欧阳), after the export's latest reading:
    # the police still hold 801 for both; the utility put the account of 802 (empty until then) in
    # the husband's name (过户) between the two exports
    people += [
        Person("欧阳振华", True, "1978-05-06", "10000010", "户主", (*A26, "801")),
        Person("庞淑敏", False, "1979-09-09", "10000010", "配偶", (*A26, "801")),
    ]
    # a man who moved from 901 to 902 in October: his old meter reads empty in October, the meter
    # of 902 (also in his name, a name three other meters in the district carry) lived in from
    # October; the police still hold 901
    people += [Person("韦国平", True, "1979-12-01", "10000011", "户主", (*A26, "901"))]
    # 孙秀英's grandson keeps his own 户 at her flat and lives elsewhere: the police 居住地址 only
    # repeats his 户籍地址 (人户分离), so he is no co-resident of hers (she is on the alone list)
    people += [Person("孙浩然", True, "1996-03-08", "10000012", "户主", (*A2, "101"))]
    # a couple that left 1101 in October for a flat nobody tells: the police still hold 1101, its
    # meter (the husband's) reads empty from October
    people += [
        Person("蒋立新", True, "1984-02-12", "10000013", "户主", (*A26, "1101")),
        Person("许晓燕", False, "1986-07-21", "10000013", "配偶", (*A26, "1101")),
    ]
    # dead account holders: 邵德明 died (his 居住地址 left blank, his 户籍 and his meter at 601) and a
    # living 邵德明 lives next door in 602 (two more meters in the district carry the name, so a meter
    # in it tells nobody's room)
    people += [
        Person("邵德明", True, "1941-03-15", "10000014", "户主", (*A2, "601"), status="死亡"),
        Person("邵德明", True, "1979-08-02", "10000015", "户主", (*A2, "602")),
    ]
    # 人员状态 written another way (another police system's words)
    people += [
        Person(
            "葛志成",
            True,
            "1940-02-11",
            "10000016",
            "户主",
            (*A2, "401"),
            "上海市虹口区四平路90弄1号101室",
            status="注销",
        ),
        Person(
            "卜秀珍",
            False,
            "1943-06-18",
            "10000016",
            "配偶",
            (*A2, "401"),
            "上海市虹口区四平路90弄1号101室",
            status="在册",
        ),
        Person(
            "葛宏",
            True,
            "1996-09-30",
            "10000017",
            "户主",
            (*A2, "402"),
            "上海市虹口区四平路90弄1号101室",
            status="注销",
        ),
        Person(
            "卜建华",
            True,
            "1983-12-05",
            "10000018",
            "户主",
            (*A2, "403"),
            "上海市虹口区四平路90弄2号101室",
            status="迁移",
        ),
    ]
    # a dead holder whose daughter's name sounds the same
    people += [
        Person(
            "陆岩",
            True,
            "1944-05-06",
            "10000019",
            "户主",
            (*A2, "702"),
            "上海市虹口区四平路90弄3号101室",
            status="死亡",
        ),
        Person("陆艳", False, "1975-03-21", "10000019", "女", (*A2, "702"), "上海市虹口区四平路90弄3号101室"),
    ]
    # an old man who moved from 1001 to 1002 in October; nobody updated his records
    people += [Person("严德华", True, "1946-08-08", "10000020", "户主", (*A2, "1001"))]
    # an aid couple living apart: 房建民 (户主) at the family's 家庭地址 1201, his wife 姜桂芳 (户籍 and
    # 户号 still his) in 1301 of another building
    people += [
        Person("房建民", True, "1944-01-20", "10000021", "户主", (*A2, "1201")),
        Person("姜桂芳", False, "1945-11-02", "10000021", "配偶", (*A26, "1301"), registered=(*A2, "1201")),
    ]
    # a dead aid recipient: 邬长根 (户主 of aid family 310106D202400005, alone) died; the police say so,
    # the aid file does not yet; his flat 1202 reads empty in 2026-10, and the meter of 1302 (his son's
    # flat, the account never put in the son's name) is in his name and lived in
    people += [Person("邬长根", True, "1939-12-24", "10000022", "户主", (*A2, "1202"), status="死亡")]
    # doors of roads the library lists, outside it: 梅源路8弄3号 (梅园路, one character away, has 8弄3号;
    # 梅源路 is a road of its own), 文德路38弄7号 (wen de: one syllable from 闻喜路's wen xi, whose 38弄7号
    # the library has, but 德 and 喜 do not rhyme: no slip by ear)
    people += [
        Person(
            "柏文海",
            True,
            "1983-05-17",
            "10000031",
            "户主",
            ("梅源路", "8", "3", "301"),
            "上海市虹口区四平路94弄1号101室",
        ),
        Person(
            "殷志超",
            True,
            "1987-09-23",
            "10000032",
            "户主",
            ("文德路", "38", "7", "305"),
            "上海市虹口区四平路96弄2号202室",
        ),
    ]
    # an old man on the elderly-alone list whose police 居住地址 is blank in October: the list names his
    # building only, a meter in his name names room 203 of it (his 户籍 is elsewhere)
    people += [
        Person(
            "蔡康文", True, "1954-03-26", "10000030", "户主", (*A2, "203"), registered="上海市虹口区四平路92弄5号301室"
        )
    ]
    # a family that moved from 1401 to 1402 in November, after the export's latest reading: 1401 (the
    # husband's meter) still reads lived in, 1402 (the landlord's) empty; in November the police
    # updated the wife's record only; their 户籍 is elsewhere (人户分离)
    TIAN_HUKOU = "上海市虹口区四平路92弄1号101室"
    people += [
        Person("田志明", True, "1983-04-09", "10000023", "户主", (*A26, "1401"), TIAN_HUKOU),
        Person("吕晓红", False, "1985-10-02", "10000023", "配偶", (*A26, "1401"), TIAN_HUKOU),
        Person("田浩宇", True, "2014-07-15", "10000023", "子", (*A26, "1401"), TIAN_HUKOU),
        # the husband's parents, of the same 户号, live in their own flat (2101, the father's meter):
        # the 户号 holds two households, and the police place its people in three flats in November
        Person("田德顺", True, "1952-08-14", "10000023", "父亲", (*A26, "2101"), TIAN_HUKOU),
        Person("卢秀珍", False, "1954-12-01", "10000023", "母亲", (*A26, "2101"), TIAN_HUKOU),
    ]
    # the same in 1501 -> 1502, where the police updated the 12-year-old son's record only (a child
    # does not move alone)
    people += [
        Person("韩志强", True, "1980-05-17", "10000024", "户主", (*A26, "1501"), TIAN_HUKOU),
        Person("苏梅", False, "1982-09-23", "10000024", "配偶", (*A26, "1501"), TIAN_HUKOU),
        Person("韩乐乐", True, "2014-03-08", "10000024", "子", (*A26, "1501"), TIAN_HUKOU),
    ]
    # a family that left 1601 in September for nobody knows where: the police still name 1601 for
    # all three in both months, and 1601 (the husband's meter) reads empty in 2026-09 and 2026-10;
    # their 户籍 is elsewhere (人户分离)
    DONG_HUKOU = "上海市虹口区四平路92弄3号502室"
    people += [
        Person("董建设", True, "1979-03-11", "10000040", "户主", (*A26, "1601"), DONG_HUKOU),
        Person("季晓梅", False, "1981-12-02", "10000040", "配偶", (*A26, "1601"), DONG_HUKOU),
        Person("董欣然", False, "2010-06-20", "10000040", "女", (*A26, "1601"), DONG_HUKOU),
    ]
    # a family that left 1701 in October, after the export's latest reading (nothing tells where to):
    # the police changed all three records in October (更新日期) but still name 1701, whose meter (the
    # husband's) read lived in up to 2026-09 and empty in 2026-10; in 1801 the police changed the
    # record of the 龚 family's newborn only (a birth, not a move)
    LONG_HUKOU = "上海市虹口区四平路92弄7号601室"
    people += [
        Person("龙海涛", True, "1982-05-06", "10000041", "户主", (*A26, "1701"), LONG_HUKOU, updated="2026-10-09"),
        Person("邱丽君", False, "1984-08-13", "10000041", "配偶", (*A26, "1701"), LONG_HUKOU, updated="2026-10-09"),
        Person("龙子墨", True, "2012-11-30", "10000041", "子", (*A26, "1701"), LONG_HUKOU, updated="2026-10-11"),
        Person("龚建平", True, "1990-02-21", "10000042", "户主", (*A26, "1801")),
        Person("龚雨桐", False, "2026-10-03", "10000042", "女", (*A26, "1801"), updated="2026-10-20"),
    ]
    # a couple that left 1901 in August: the police changed their records in August and still name
    # 1901, dark since 2026-08; the 温 family moved into 1902 in September, after it had been dark
    # since May (the police changed their records then: registered after the flat went dark)
    people += [
        Person("邹国庆", True, "1975-01-19", "10000043", "户主", (*A26, "1901"), LONG_HUKOU, updated="2026-08-21"),
        Person("殷红霞", False, "1976-03-27", "10000043", "配偶", (*A26, "1901"), LONG_HUKOU, updated="2026-08-21"),
        Person("温振宇", True, "1988-07-07", "10000044", "户主", (*A26, "1902"), LONG_HUKOU, updated="2026-09-12"),
        Person("华晓静", False, "1989-12-12", "10000044", "配偶", (*A26, "1902"), LONG_HUKOU, updated="2026-09-12"),
    ]
    # road names misspelt by sound in November: 汾西路 (one syllable off 闻喜路), 汾水路 (two)
    people += [
        Person("宋雨", False, "1987-06-16", "10000025", "户主", ("闻喜路", "38", "6", "605")),
        Person(
            "唐亮",
            True,
            "1986-01-28",
            "10000026",
            "户主",
            ("闻喜路", "38", "7", "203"),
            registered="江苏省南京市玄武区美元路102号",  # 'mei yuan lu' as 梅园路, which has a 102号
        ),
    ]
    # a homophone in the place of a direction (闻西路 for 闻喜路), and a different direction (延长西路,
    # the library has 延长中路 only)
    people += [
        Person("韦佳", False, "1990-02-02", "10000027", "户主", ("闻喜路", "38", "6", "606")),
        Person("贺强", True, "1984-04-04", "10000028", "户主", ("延长中路", "1", "1", "101")),
    ]
    # an old woman living alone whose flat's meter the export writes with the building only, in the
    # name of 马丽华 (a former owner, not in the district); its use collapses in 2026-10
    people += [Person("冯桂英", False, "1941-09-12", "10000029", "户主", (*A2, "1502"))]
    # an old woman living alone at 14号1601 (the elderly list's 居住地址, her 户籍); the police
    # 居住地址 names 16号101, where a family of three lives
    people += [Person("章桂珍", False, "1944-10-09", "10000033", "户主", (*A2, "1601"))]
    # an old woman living alone at 14号1701 (the elderly list's 居住地址), the account of its meter in a
    # former tenant's name (包志华, not in the district); the police 居住地址 is her former flat 1702,
    # let out, its meter still in her name and drawing ordinary power all year; 1701's use collapses in
    # 2026-10
    people += [Person("任桂兰", False, "1946-04-18", "10000034", "户主", (*A2, "1701"))]
    # a young couple whose flat (26号2001) has read empty since May; the police still hold it; their
    # 户籍 is in another district (tenants: a small district's share of families whose family, last
    # month and 户籍 all name their flat stays under the case count that weighs such a combination
    # as a whole, where its moving families, 柳 and 欧阳, would pull it under the threshold)
    YAN_HUKOU = "上海市杨浦区控江路1500弄3号402室"
    people += [
        Person("晏子豪", True, "1988-05-05", "10000035", "户主", (*A26, "2001"), YAN_HUKOU),
        Person("柯雨婷", False, "1990-10-10", "10000035", "配偶", (*A26, "2001"), YAN_HUKOU),
    ]
    # an old man alone at 26号2002 (not on the elderly-alone list), whose use collapses in 2026-10;
    # the police still hold the flat
    people += [Person("龚伯年", True, "1948-12-01", "10000036", "户主", (*A26, "2002"))]
    # an old woman on the elderly-alone list at her own flat (14号1801, her meter), her 户口 shared
    # with her son's family (their 户籍 elsewhere): one 户号 with two 户主s; her police 居住地址 is
    # 14号1802, where her son (户主 too) lives with his wife
    LUO_HUKOU = "上海市虹口区四平路92弄9号301室"
    people += [
        Person("骆秀梅", False, "1942-03-14", "10000045", "户主", (*A2, "1801"), LUO_HUKOU),
        Person("骆建军", True, "1968-07-22", "10000045", "户主", (*A2, "1802"), LUO_HUKOU),
        Person("傅丽", False, "1970-01-30", "10000045", "配偶", (*A2, "1802"), LUO_HUKOU),
    ]
    # an old woman on the elderly-alone list who moved from her flat 14号1901 (her 户籍, her meter; the
    # police still name it) to 14号1902 in September, the list's 居住地址 (the landlord's meter, empty
    # until she came); 1902's use collapses in 2026-10
    people += [Person("窦玉兰", False, "1945-07-21", "10000046", "户主", (*A2, "1902"), registered=(*A2, "1901"))]
    # an aid recipient whose 家庭地址 and 户籍 are a flat another man lives in now (12号2202, 童志明):
    # 邱文彬 lives alone at 12号2201, the meter in his name (a name no one else carries); his police
    # 居住地址 is blank in October (the police name 2201 in November)
    people += [
        Person("邱文彬", True, "1979-04-16", "10000061", "户主", (*A1, "2201"), (*A1, "2202")),
        Person("童志明", True, "1975-11-02", "10000062", "户主", (*A1, "2202")),
    ]
    # an old woman on the elderly-alone list living alone at 14号2301 (the meter in her name), in her
    # son's 户号 (he its one 户主) and his family's aid file: her 户籍 and the aid 家庭地址 are his flat
    # 12号2401, where he lives with his wife (its account still in her name); her police 居住地址 is blank
    people += [
        Person("柏淑芬", False, "1943-06-18", "10000064", "母亲", (*A2, "2301"), (*A1, "2401")),
        Person("柏志勇", True, "1969-02-25", "10000064", "户主", (*A1, "2401")),
        Person("宁晓梅", False, "1971-08-03", "10000064", "配偶", (*A1, "2401")),
    ]
    # a door of a library road outside the library, its road typed by sound in October: 石磊 at
    # 延长中路1弄9号 (the library lists 延长中路 with other doors, and 严庄中路1弄9号), written 严长中路
    people += [
        Person(
            "石磊",
            True,
            "1983-09-27",
            "10000063",
            "户主",
            ("延长中路", "1", "9", "301"),
            "上海市虹口区四平路94弄2号101室",
        )
    ]
    # an old woman on the elderly-alone list who moved from her flat 14号2501 (her 户籍, her meter; the
    # police still name it) to 14号2502 in August, the list's 居住地址 in both months (the landlord's
    # meter, empty until she came); 2502's use collapses in 2026-10
    people += [Person("卓秀云", False, "1944-03-12", "10000065", "户主", (*A2, "2502"), registered=(*A2, "2501"))]
    # an old woman on the elderly-alone list living alone at 14号2601, the flat of a man of another 户号
    # (his 户籍, the meter in his name, a name no one else carries) who lets it to her; his police
    # 居住地址 is blank, and nothing tells where he lives
    people += [
        Person("柴玉珍", False, "1942-05-09", "10000067", "户主", (*A2, "2601"), "上海市虹口区四平路98弄1号101室"),
        Person("包国栋", True, "1970-08-15", "10000066", "户主", ("延长中路", "1", "1", "102"), (*A2, "2601")),
    ]
    for i, p in enumerate(people):
        p.id = id_number("310106", p.birth, 10 + i, p.male)
    cast = {p.name: p for p in people}  # (the living 邵德明, listed after the dead one)

    shops = {
        "明珠花店": dict(
            uscc=uscc("MA0000001", True),
            name="上海市静安区明珠花店",
            rep="周敏",
            addr=("梅园路", "", "100"),
            established="2019-04-01",
            licence_until="2026-06-20",
        ),
        "吉祥超市": dict(
            uscc=uscc("JX0000002", True),
            name="上海市静安区吉祥超市",
            rep="吴刚",
            addr=("梅园路", "", "102"),
            established="2018-02-10",
        ),
        "鑫源五金店": dict(
            uscc=uscc("XY0000003", True),
            name="上海市静安区鑫源五金店",
            rep="冯涛",
            addr=("梅园路", "", "106"),
            established="2017-09-15",
            licence_until="2026-08-01",
        ),
        # two shops of the mall at 梅园路110号, each at its unit
        "百味本帮菜馆": dict(
            uscc=uscc("BW0000004", True),
            name="上海市静安区百味本帮菜馆",
            rep="丁辉",
            addr=("梅园路", "", "110"),
            unit="1层A01铺",
            established="2018-04-25",
        ),
        "海纳洗衣店": dict(
            uscc=uscc("HN0000005", True),
            name="上海市静安区海纳洗衣店",
            rep="梁华",
            addr=("梅园路", "", "110"),
            unit="1层A02铺",
            established="2019-03-01",
        ),
    }

    for month, delivery in enumerate(DELIVERIES):
        folder = inbox / delivery
        folder.mkdir(parents=True, exist_ok=True)
        rows = {name: [] for name in HEADERS}
        for p in people:
            road, lane, no, room = p.home
            residence = address(road, lane, no, room, month)
            if p.name == "李娜" or p.name == "陈静" or p.name == "赵强":
                residence = address(road, lane, no, None, month)  # the building only
            elif p.name == "王芳" and month == 1:
                residence = ""
            elif p.name == "蔡康文" and month == 0:
                residence = ""
            elif p.name == "石磊" and month == 0:
                residence = address("严长中路", lane, no, room, month)  # 延 typed as 严 (yan)
            elif p.name == "邱文彬" and month == 0:
                residence = ""
            elif p.name == "柏淑芬" or p.name == "包国栋":
                residence = ""
            elif p.name == "刘洋" or (p.name == "邵德明" and p.status == "死亡"):
                residence = ""
            elif p.name == "黄敏":
                residence = address("玫园路", lane, no, room, month)  # 梅 written 玫
            elif p.name == "郑杰":
                residence = address("梅圆路", lane, no, room, month)  # one character from two roads
            elif p.name == "宋雨" and month == 1:
                residence = address("汾西路", lane, no, room, month)  # 闻喜 typed by sound
            elif p.name == "韦佳" and month == 1:
                residence = address("闻西路", lane, no, room, month)  # 喜 typed as 西
            elif p.name == "章桂珍":
                residence = address("阳曲路", "15", "16", "101", month)  # a family's flat
            elif p.name == "骆秀梅":
                residence = address(road, lane, no, "1802", month)  # the registered flat, her son's
            elif p.name == "任桂兰":
                residence = address(road, lane, no, "1702", month)  # the flat she let out
            elif p.name == "窦玉兰":
                residence = address(road, lane, no, "1901", month)  # the flat she left in September
            elif p.name == "卓秀云":
                residence = address(road, lane, no, "2501", month)  # the flat she left in August
            elif p.name == "贺强":
                residence = address("延长西路", lane, no, room, month)  # another direction
            elif p.name == "唐亮":
                residence = address("汾水路", lane, no, room, month)  # two syllables off
            elif p.name == "葛丽萍" and month == 1:
                residence = address(road, lane, no, "702", month)  # the only record the police updated
            elif p.name == "吕晓红" and month == 1:
                residence = address(road, lane, no, "1402", month)  # the only record the police updated
            elif p.name == "韩乐乐" and month == 1:
                residence = address(road, lane, no, "1502", month)  # the only record the police updated
            rows["police_population"].append(
                [
                    p.id,
                    p.name,
                    "男" if p.male else "女",
                    "汉族",
                    p.birth,
                    p.hukou,
                    p.relation,
                    p.registered_address(),
                    residence,
                    p.status,
                    "",
                    p.phone,
                    p.updated,
                ]
            )
        head = people[10]  # a filler family on assistance (complete, where they live)
        for p in people[10:13]:
            road, lane, no, room = head.home
            rows["civil_affairs_assistance"].append(
                [
                    "310106D202400001",
                    "低保",
                    head.name,
                    head.id,
                    p.name,
                    p.id,
                    p.relation,
                    "3",
                    "3900",
                    address(road, lane, no, room, month),
                    STREET[1],
                    COMMITTEES[0][1],
                    "2024-03",
                ]
            )
        # an aid family split over two flats, one member in each: 陆艳 (户主, 702) and 卜秀珍 (401), its
        # 家庭地址 401 (人户分离 of the head)
        for p, relation in ((cast["陆艳"], "户主"), (cast["卜秀珍"], "其他")):
            rows["civil_affairs_assistance"].append(
                [
                    "310106D202400002",
                    "低收入",
                    "陆艳",
                    cast["陆艳"].id,
                    p.name,
                    p.id,
                    relation,
                    "2",
                    "1200",
                    address("阳曲路", "15", "14", "401", month),
                    STREET[1],
                    COMMITTEES[0][1],
                    "2025-06",
                ]
            )
        # 严德华's aid family of one, at the 家庭地址 he left (the police say the same)
        rows["civil_affairs_assistance"].append(
            [
                "310106D202400003",
                "低保",
                "严德华",
                cast["严德华"].id,
                "严德华",
                cast["严德华"].id,
                "户主",
                "1",
                "1500",
                address("阳曲路", "15", "14", "1001", month),
                STREET[1],
                COMMITTEES[0][1],
                "2023-01",
            ]
        )
        # 房建民's aid family: the 家庭地址 is his flat, 1201, where his wife does not live
        for p in (cast["房建民"], cast["姜桂芳"]):
            rows["civil_affairs_assistance"].append(
                [
                    "310106D202400004",
                    "低保",
                    "房建民",
                    cast["房建民"].id,
                    p.name,
                    p.id,
                    p.relation,
                    "2",
                    "2400",
                    address("阳曲路", "15", "14", "1201", month),
                    STREET[1],
                    COMMITTEES[0][1],
                    "2022-05",
                ]
            )
        # the 蒋 couple's aid family, at their flat (which goes dark in 2026-10: they have left)
        for member, relation in (("蒋立新", "户主"), ("许晓燕", "配偶")):
            rows["civil_affairs_assistance"].append(
                [
                    "310106D202400006",
                    "低收入",
                    "蒋立新",
                    cast["蒋立新"].id,
                    member,
                    cast[member].id,
                    relation,
                    "2",
                    "900",
                    address("阳曲路", "15", "26", "1101", month),
                    STREET[1],
                    COMMITTEES[0][1],
                    "2023-01",
                ]
            )
        # the 龙 family's aid file, at 1701 like the police (the family left it in October)
        for member, relation in (("龙海涛", "户主"), ("邱丽君", "配偶"), ("龙子墨", "子")):
            rows["civil_affairs_assistance"].append(
                [
                    "310106D202400007",
                    "低收入",
                    "龙海涛",
                    cast["龙海涛"].id,
                    member,
                    cast[member].id,
                    relation,
                    "3",
                    "1100",
                    address("阳曲路", "15", "26", "1701", month),
                    STREET[1],
                    COMMITTEES[0][1],
                    "2024-09",
                ]
            )
        # 邬长根's aid family of one, at his flat
        rows["civil_affairs_assistance"].append(
            [
                "310106D202400005",
                "特困",
                "邬长根",
                cast["邬长根"].id,
                "邬长根",
                cast["邬长根"].id,
                "户主",
                "1",
                "1800",
                address("阳曲路", "15", "14", "1202", month),
                STREET[1],
                COMMITTEES[0][1],
                "2021-03",
            ]
        )
        # 邱文彬's aid family of one, its 家庭地址 the flat 童志明 lives in
        rows["civil_affairs_assistance"].append(
            [
                "310106D202400008",
                "低保",
                "邱文彬",
                cast["邱文彬"].id,
                "邱文彬",
                cast["邱文彬"].id,
                "户主",
                "1",
                "1500",
                address("阳曲路", "15", "12", "2202", month),
                STREET[1],
                COMMITTEES[0][1],
                "2022-05",
            ]
        )
        # the 柏 family's aid file: the son's flat, where his mother does not live
        for member in ("柏志勇", "宁晓梅", "柏淑芬"):
            rows["civil_affairs_assistance"].append(
                [
                    "310106D202400009",
                    "低保",
                    "柏志勇",
                    cast["柏志勇"].id,
                    member,
                    cast[member].id,
                    cast[member].relation,
                    "3",
                    "2100",
                    address("阳曲路", "15", "12", "2401", month),
                    STREET[1],
                    COMMITTEES[0][1],
                    "2023-07",
                ]
            )
        rows["hr_graduates"].append([cast["刘洋"].name, cast["刘洋"].id, "上海大学", "本科", "2012", "已就业", ""])
        for p in (
            cast["孙秀英"], cast["钱国强"], cast["冯桂英"], cast["章桂珍"], cast["任桂兰"], cast["骆秀梅"], cast["窦玉兰"],
            cast["柏淑芬"], cast["卓秀云"], cast["柴玉珍"],
        ):  # fmt: skip
            road, lane, no, room = p.home
            if p.name == "窦玉兰" and month == 0:
                room = None  # the October list names her building only
            rows["civil_affairs_elderly_alone"].append(
                [
                    p.name,
                    p.id,
                    "男" if p.male else "女",
                    "86",
                    address(road, lane, no, room, month),
                    "",
                    "周明",
                    "13800000001",
                    COMMITTEES[0][1],
                ]
            )
        p = cast["蔡康文"]
        rows["civil_affairs_elderly_alone"].append(
            [p.name, p.id, "男", "72", address(*p.home[:3], None, month), "", "周明", "13800000001", COMMITTEES[0][1]]
        )
        # electricity: twelve months ending the month before the delivery (the export lags)
        months = [f"{2025 + (m + 9 + month) // 12}-{(m + 9 + month) % 12 + 1:02d}" for m in range(12)]
        meters = []
        for k, p in enumerate(people):
            if p.relation == "户主" and p.name not in (
                "刘洋", "赵强", "孙秀英", "钱国强", "陈静", "孙浩然", "冯桂英", "章桂珍", "任桂兰", "窦玉兰",
                "柏志勇", "卓秀云", "柴玉珍", "包国栋",
            ):  # fmt: skip
                meters.append((f"31000{k:05d}", p.name, p.home, 150))
        meters += [
            ("3100099001", "陈静", (*A1, "1606"), 120),
            ("3100099002", "孙秀英", (*A2, "101"), 90),
            ("3100099003", "钱国强", (*A2, "102"), 95),
            ("3100099050", "马丽华", (*A2, ""), 100),  # 冯桂英's, written with the building only
            ("3100099060", "包志华", (*A2, "1701"), 150),  # 任桂兰's home, in a former tenant's name
            ("3100099061", "任桂兰", (*A2, "1702"), 150),  # the flat she let out
            ("3100099070", "窦玉兰", (*A2, "1901"), 150),  # the flat she left in September
            ("3100099071", "邢志刚", (*A2, "1902"), 150),  # her home since September, the landlord's
            ("3100099080", "柏淑芬", (*A2, "2301"), 150),  # her flat
            ("3100099081", "柏淑芬", (*A1, "2401"), 150),  # her son's flat, the account still in her name
            ("3100099090", "卓秀云", (*A2, "2501"), 150),  # the flat she left in August
            ("3100099091", "甘立平", (*A2, "2502"), 150),  # her home since August, the landlord's
            ("3100099100", "包国栋", (*A2, "2601"), 150),  # 柴玉珍's home, in her landlord's name
            ("3100099004", "上海市静安区明珠花店", ("梅园路", "", "100", ""), 600),
            ("3100099005", "冯涛", ("梅园路", "", "106", ""), 400),  # the legal representative's name
            ("3100099009", "阿芳裁缝", ("梅园路", "", "108", ""), 300),  # an unregistered shop, visited in May
            ("3100099006", "严立新", (*A26, "702"), 150),  # the landlord of the 柳 family's new flat
            ("3100099007", "郝建设" if month == 0 else "欧阳振华", (*A26, "802"), 5),  # 过户 in November
            ("3100099008", "韦国平", (*A26, "902"), 150),
            ("3100099010", "严德华", (*A2, "1002"), 150),  # his new flat
            ("3100099040", "邬长根", (*A26, "1302"), 150),  # his son's flat, the account in his name
            ("3100099011", "贺文斌", (*A26, "1402"), 5),  # the landlord's: the 田 family moved in after its readings
            ("3100099012", "贺文华", (*A26, "1502"), 5),  # the landlord's: the 韩 family moved in after its readings
            ("3100099013", "田德顺", (*A26, "2101"), 150),  # the 田 husband's parents' flat
            *((f"310009903{k}", "邵德明", (*A26, f"120{k}"), 150) for k in range(1, 3)),  # namesakes
            *((f"310009901{k}", "韦国平", (*A26, f"100{k}"), 150) for k in range(1, 4)),  # namesakes
        ]
        for acc, holder, (road, lane, no, room), kwh in meters:
            written = address(road, lane, no, room or None, month)
            for m_i, m in enumerate(months):
                if acc == "3100099005" and month == 1:
                    # 鑫源五金店's October reading is missing from the November export (a gap): its
                    # rows run from 2025-10 to 2026-09 (as many rows as every other meter's)
                    m = f"{2025 + (m_i + 9) // 12}-{(m_i + 9) % 12 + 1:02d}"
                use = kwh
                if holder == "钱国强" and m_i == 11 and month == 1:
                    use = 4  # collapsed in 2026-10
                if holder == "包志华" and m_i == 11 and month == 1:
                    use = 5  # 任桂兰's use collapsed in 2026-10
                if holder == "晏子豪" and m >= "2026-05":
                    use = 7  # the couple left in May
                if holder == "窦玉兰" and m >= "2026-09":
                    use = 5  # she left 1901 in September
                if holder == "邢志刚" and m <= "2026-08":
                    use = 5  # 1902 empty until she came
                if holder == "邢志刚" and m == "2026-10":
                    use = 0  # her use collapsed in 2026-10
                if holder == "卓秀云" and m >= "2026-08":
                    use = 5  # she left 2501 in August
                if holder == "甘立平" and (m <= "2026-07" or m == "2026-10"):
                    use = 5 if m <= "2026-07" else 0  # 2502 empty until she came; her use collapsed in 2026-10
                if holder == "龚伯年" and m_i == 11 and month == 1:
                    use = 8  # he left in 2026-10
                if holder == "马丽华" and m_i == 11 and month == 1:
                    use = 6  # 冯桂英's use collapsed in 2026-10
                if holder == "柳志刚" and m_i == 11 and month == 1:
                    use = 5  # the 柳 family left in 2026-10
                if holder == "严立新" and not (m_i == 11 and month == 1):
                    use = 5  # empty until the 柳 family moved in
                if acc == "3100099008" and not (m_i == 11 and month == 1):
                    use = 5  # empty until 韦国平 moved in, in 2026-10
                if holder == "韦国平" and room == "901" and m_i == 11 and month == 1:
                    use = 5  # he left in 2026-10
                if holder == "严德华" and (room == "1001") == (m_i == 11 and month == 1):
                    use = 5  # 1001 empty since he left in 2026-10; 1002 empty until then
                if holder == "龙海涛" and m == "2026-10":
                    use = 5  # the 龙 family left 1701 in October
                if holder == "邹国庆" and m >= "2026-08":
                    use = 5  # the 邹 couple left 1901 in August
                if holder == "温振宇" and "2026-05" <= m <= "2026-09":
                    use = 5  # 1902 empty from May until the 温 family moved in, in September
                if holder == "董建设" and m in ("2026-09", "2026-10"):
                    use = 5  # the 董 family left 1601 in September
                if holder == "蒋立新" and m_i == 11 and month == 1:
                    use = 4  # the couple left in 2026-10
                if holder == "邬长根" and room == "1202" and m_i == 11 and month == 1:
                    use = 3  # nobody has lived there since he died
                rows["utility_electricity"].append([acc, holder, written, "", m, str(use)])
        for key in ("明珠花店", "吉祥超市", "鑫源五金店", "百味本帮菜馆", "海纳洗衣店"):
            s = shops[key]
            road, lane, no = s["addr"]
            rows["market_business_registry"].append(
                [
                    s["uscc"],
                    s["name"],
                    "个体工商户",
                    s["rep"],
                    address(road, lane, no, None, month) + s.get("unit", ""),
                    "零售",
                    s["established"],
                    "存续",
                    s["established"],
                ]
            )
        s = shops["明珠花店"]
        rows["market_food_licence"].append(
            [
                "JY13101060000011",
                s["name"] if month == 0 else "明珠花店",
                "",
                s["rep"],
                address(*s["addr"], None, month),
                "食品销售经营者",
                "2021-06-21",
                s["licence_until"],
            ]
        )
        # 鑫源五金店 sells food too; its licence expired in August (no visit since: its meter tells)
        s = shops["鑫源五金店"]
        rows["market_food_licence"].append(
            [
                "JY13101060000012",
                s["name"],
                s["uscc"],
                s["rep"],
                address(*s["addr"], None, month),
                "食品销售经营者",
                "2021-08-02",
                s["licence_until"],
            ]
        )
        visits = [
            ("2026-09-12", "明珠花店", ("梅园路", "", "100"), "小王", "13911112222", "零售", "合格"),
            ("2026-09-15", "永丰超市", ("梅园路", "", "102"), "小李", "13911113333", "零售", "合格"),
            ("2026-09-18", "老陈面馆", ("梅园路", "", "104"), "陈大勇", "13911114444", "餐饮", "合格"),
            ("2026-05-10", "阿芳裁缝", ("梅园路", "", "108"), "王阿芳", "13911116666", "服务", "合格"),
            ("2026-05-12", "百味本帮菜馆", ("梅园路", "", "110", "1层A01铺"), "丁辉", "13911117777", "餐饮", "合格"),
            ("2026-09-02", "百味本帮菜馆", ("梅园路", "", "110", "1层A01铺"), "小丁", "13911117777", "餐饮", "合格"),
            ("2026-06-20", "海纳洗衣店", ("梅园路", "", "110", "1层A02铺"), "梁华", "13911118888", "服务", "合格"),
            ("2026-09-25", "海纳洗衣店", ("梅园路", "", "110", "1层A02铺"), "小梁", "13911118888", "服务", "合格"),
            # 阿王修表店: every two to four months, last in July (open); no meter of its own
            ("2026-01-10", "阿王修表店", ("梅园路", "", "112"), "王建", "13911119999", "服务", "合格"),
            ("2026-03-14", "阿王修表店", ("梅园路", "", "112"), "王建", "13911119999", "服务", "合格"),
            ("2026-07-20", "阿王修表店", ("梅园路", "", "112"), "王建", "13911119999", "服务", "合格"),
        ]
        if month == 1:
            visits += [
                ("2026-10-20", "明珠花店", ("梅园路", "", "100"), "小张", "13911115555", "零售", "合格"),
                ("2026-10-22", "老陈面馆", ("梅园路", "", "104"), "陈大勇", "13911114444", "餐饮", "合格"),
                # a sign nobody at the mall was seen under, the unit left out: the one record of it
                ("2026-11-01", "老罗生煎馆", ("梅园路", "", "110"), "赵紫欣", "13911110000", "餐饮", "合格"),
            ]
        # at the mall, without the unit: 小吴奶茶 every two months, 阿刘修表店 in November 2025 and again
        # in October 2026, eleven months apart, further than the streets' rhythm of visits
        visits += [
            *(
                (f"2026-{m:02d}-08", "小吴奶茶", ("梅园路", "", "110"), "吴敏", "13911110001", "餐饮", "合格")
                for m in (2, 4, 6, 8, 10)
            ),
            ("2025-12-08", "小吴奶茶", ("梅园路", "", "110"), "吴敏", "13911110001", "餐饮", "合格"),
            ("2025-11-05", "阿刘修表店", ("梅园路", "", "110"), "刘强", "13911110002", "服务", "合格"),
            ("2026-10-15", "阿刘修表店", ("梅园路", "", "110"), "刘强", "13911110002", "服务", "合格"),
        ]
        for day, sign, (road, lane, no, *unit), contact, phone, fmt, result in visits:
            rows["street_shop_visits"].append(
                [
                    day,
                    sign,
                    address(road, lane, no, None, month) + "".join(unit),
                    contact,
                    phone,
                    fmt,
                    result,
                    STREET[1],
                    COMMITTEES[1][1],
                    "许文",
                ]
            )
        for name, header in HEADERS.items():
            fname, fmt, enc = SOURCES[name]
            if fmt == "csv":
                _write_csv(folder / fname, header, [",".join(r) for r in rows[name]], enc)
            else:
                _write_xlsx(folder / fname, SHEET.get(name, "Sheet1"), header, rows[name])
    return {"people": cast, "shops": shops, "address_id": ADDRESS_ID}
