"""Shanghai address parsing: the domain examples, the variants registries use, and robustness."""

import random

import pytest

from normalize.addresses import ParsedAddress, address_key, cn_numeral_to_int, parse_address, road_pinyin

KEY = "柳营路669弄14号"


def parts(raw):
    p = parse_address(raw)
    return (p.road, p.lane, p.number, p.room)


def test_domain_example():
    p = parse_address("上海市静安区共和新路街道柳营路669弄14号1102室")
    assert p.district == "静安区"
    assert p.street == "共和新路街道"
    assert (p.road, p.lane, p.number, p.room) == ("柳营路", "669", "14", "1102")
    assert p.address_key == KEY
    assert p.rest is None


@pytest.mark.parametrize(
    "raw",
    [
        "上海市静安区共和新路街道柳营路669弄14号1102室",
        "上海静安区柳营路669弄14号1102室",
        "静安区柳营路669弄14号1102室",
        "柳营路669弄14号1102室",
        "柳营路669弄14号1102",  # 室 omitted
        "柳营路669衖14号1102室",  # 衖 = 弄
        "柳营路６６９弄１４号１１０２室",  # full-width digits
        "柳营路 669 弄 14 号 1102 室",
        "柳营路六六九弄十四号一千一百零二室",
        "柳营路669弄十四号一一〇二室",
        "柳营路669-14-1102",  # lane-number-room
        "柳营路669弄14-1102",
        "柳营路669弄14号-1102",
        "柳营路669-14号1102室",
        "上海市闸北区柳营路669弄14号1102室",
        "柳营路669弄14#1102",
    ],
)
def test_variants_of_one_dwelling(raw):
    assert parts(raw) == ("柳营路", "669", "14", "1102"), parse_address(raw)
    assert address_key(raw) == KEY


def test_short_forms():
    assert parts("柳营路669-14") == ("柳营路", "669", "14", None)
    assert parts("柳营路669号-1102") == ("柳营路", None, "669", "1102")
    assert parse_address("柳营路669号-1102").address_key == "柳营路669号"
    # a small ascending pair before 号 is a range of house numbers, not lane-number
    assert parts("柳营路12-14号") == ("柳营路", None, "12-14", None)


def test_abolished_districts_map_to_current():
    assert parse_address("上海市闸北区柳营路669弄14号").district == "静安区"
    assert parse_address("卢湾区淮海中路100号").district == "黄浦区"
    assert parse_address("南汇区惠南镇人民东路1号").district == "浦东新区"
    assert parse_address("上海县莘庄镇莘松路1号").district == "闵行区"
    assert parse_address("崇明县城桥镇人民路1号").district == "崇明区"
    assert parse_address("浦东新区世纪大道100号").district == "浦东新区"


def test_numerals_in_road_names_untouched():
    p = parse_address("闵行区七宝镇七莘路一千二百三十四弄五号楼二〇一室")
    assert (p.street, p.road, p.lane, p.building, p.room) == ("七宝镇", "七莘路", "1234", "5", "201")
    assert parse_address("四川北路十四号").road == "四川北路"
    assert parse_address("四川北路十四号").number == "14"
    assert parse_address("中山北一路1230号").road == "中山北一路"
    # district-looking road names are roads
    assert parse_address("长宁路100号").road == "长宁路"
    assert parse_address("宝山路200号").district is None
    assert parse_address("镇宁路1号").street is None


@pytest.mark.parametrize("unit", ["号楼", "幢", "栋", "座", "号座"])
def test_building_units_unify(unit):
    p = parse_address(f"柳营路669弄5{unit}1102室")
    assert (p.lane, p.building, p.room) == ("669", "5", "1102")
    # 100弄5号楼 is the same door as 100弄5号
    assert p.address_key == "柳营路669弄5号"


def test_lane_suffixes_and_number_suffixes():
    p = parse_address("浦东新区沪南公路123弄5支弄14号")
    assert (p.road, p.lane, p.sub_lane, p.number) == ("沪南公路", "123", "5", "14")
    assert p.address_key == "沪南公路123弄5支弄14号"
    assert parse_address("柳营路669弄14号甲").number == "14甲"
    assert parse_address("柳营路669弄14甲号").number == "14甲"
    assert parse_address("柳营路669弄14号之一").number == "14之1"
    assert parse_address("柳营路669弄14之一号").number == "14之1"


def test_suburb_village_group():
    p = parse_address("宝山区顾村镇沈杨村5组12号")
    assert (p.district, p.street, p.community, p.village_group, p.number) == ("宝山区", "顾村镇", "沈杨村", "5", "12")
    assert p.address_key == "沈杨村5组12号"
    assert parse_address("金山区枫泾镇新义村十八组二十号").address_key == "新义村18组20号"
    assert parse_address("江苏省苏州市张家港市杨舍镇新华村23号").address_key == "新华村23号"


def test_committee_and_street():
    p = parse_address("共和新路街道柳营居委柳营路669弄14号1102室")
    assert (p.street, p.community, p.road) == ("共和新路街道", "柳营居委", "柳营路")
    p = parse_address("静安区南京西路街道南京西路1000号")
    assert (p.street, p.road, p.number) == ("南京西路街道", "南京西路", "1000")
    assert parse_address("静安区彭浦新村街道临汾路1000弄2号").street == "彭浦新村街道"


def test_other_road_types_and_places():
    assert parse_address("浦东新区世纪大道100号A座1205室")[3:8] == ("世纪大道", None, "100", "A", "1205")
    assert parse_address("松江区九亭镇九亭大街1号").road == "九亭大街"
    assert parse_address("闵行区沪闵公路100号").road == "沪闵公路"
    # a compound name standing where the road would be
    p = parse_address("长宁区天山路街道天山五村12号301室")
    assert (p.road, p.number, p.room) == ("天山五村", "12", "301")


def test_other_cities():
    p = parse_address("北京市朝阳区建国路88号")
    assert (p.city, p.district, p.road, p.number) == ("北京市", "朝阳区", "建国路", "88")
    p = parse_address("江苏省苏州市工业园区星湖街328号")
    assert (p.city, p.road, p.number) == ("苏州市", "星湖街", "328")


def test_unknown_text_goes_to_rest():
    p = parse_address("柳营路669弄14号1102室（近共和新路）张三收")
    assert p.address_key == KEY and p.room == "1102"
    assert "近共和新路" in p.rest and "张三收" in p.rest
    p = parse_address("柳营路100号3楼301")
    assert (p.number, p.room, p.rest) == ("100", "301", "3楼")


def test_blank_and_junk():
    assert parse_address(None) == ParsedAddress()
    assert parse_address("") == ParsedAddress()
    assert parse_address("   ") == ParsedAddress()
    p = parse_address("不详")
    assert p.road is None and p.address_key is None and p.rest == "不详"
    assert parse_address("上海市静安区").address_key is None


def test_chinese_numerals():
    assert cn_numeral_to_int("十四") == 14
    assert cn_numeral_to_int("一千一百零二") == 1102
    assert cn_numeral_to_int("二〇一") == 201
    assert cn_numeral_to_int("三十") == 30
    assert cn_numeral_to_int("一百零五") == 105
    assert cn_numeral_to_int("") is None


def test_fuzz_never_crashes():
    rng = random.Random(20261123)
    alphabet = list(
        "上海市静安区共和新路街道柳营路居委会村组镇弄衖支号楼幢栋座室层甲乙之"
        "零〇一二三四五六七八九十百千0123456789０１２３-－#（）()[]【】 ,，/\\.\u3000\u200babcXYZ"
    )
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        p = parse_address(s)
        assert isinstance(p, ParsedAddress)
    for _ in range(1000):
        s = "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(0, 30)))
        s = s.encode("utf-8", "ignore").decode("utf-8")  # drop lone surrogates
        assert isinstance(parse_address(s), ParsedAddress)
    for odd in (0, 12.5, b"abc", object()):
        assert isinstance(parse_address(odd), ParsedAddress)


def test_fast_tail_matches_token_reader():
    from normalize.addresses import _parse

    rng = random.Random(7)
    heads = ["", "上海市", "上海", "上海市静安区", "静安区共和新路街道", "闸北区柳营居委"]
    roads = ["柳营路", "七莘路", "世纪大道", "沪南公路"]
    tails = [
        "{l}弄{n}号{r}室",
        "{l}弄{n}号{r}",
        "{l}弄{n}号",
        "{n}号{r}室",
        "{n}号",
        "{l}弄",
        "{l}-{n}-{r}",
        "{l}弄{n}-{r}",
        "{l}弄{n}号-{r}",
        "{n}号-{r}",
        "{l}弄{r}室",
        "{r}室",
        "",
        "0{l}弄0{n}号",
        "{l}弄{n}号{r}室(近{n}号)",
        "{l}衖{n}號{r}",
    ]
    for _ in range(2000):
        raw = (rng.choice(heads) + rng.choice(roads) + rng.choice(tails)).format(
            l=rng.randint(1, 2000), n=rng.randint(1, 99), r=rng.randint(101, 2501)
        )
        assert _parse(raw, fast=True) == _parse(raw, fast=False), raw


def test_a_road_suffix_typed_inside_a_road_name_keeps_the_whole_road():
    # 乌鲁木齐北路 with 鲁 typed as its homophone 路: one road (one character off the library's), not 乌路
    p = parse_address("上海市静安区乌路木齐北路12弄12号404室")
    assert (p.road, p.lane, p.number, p.room, p.rest) == ("乌路木齐北路", "12", "12", "404", None)
    assert parse_address("乌鲁木齐北路12弄12号").road == "乌鲁木齐北路"
    # a road followed by a note that is not a road with numbers stays as it was
    assert parse_address("柳营路669弄14号1102室").road == "柳营路"


def test_a_road_name_reads_one_syllable_a_character():
    # a slip by sound keeps the other syllables: 汾西路 for 闻喜路 is two characters, one syllable away
    assert road_pinyin("闻喜路") == "wen xi lu"
    assert road_pinyin("汾西路") == "fen xi lu"
    assert road_pinyin("玫园路") == road_pinyin("梅园路") == "mei yuan lu"
    # as many syllables as characters, whatever the characters are
    for road in ("S20公路", "中山北一路", "延安 西路"):
        assert len(road_pinyin(road).split(" ")) == len(road)
    assert road_pinyin("") is None and road_pinyin(None) is None
