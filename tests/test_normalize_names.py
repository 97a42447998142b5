"""Personal names: separators, the full GB18030 repertoire, traditional characters, pinyin."""

import pytest

from normalize.names import name_pinyin, name_pinyin_key, normalize_name, split_surname


def test_whitespace_and_fullwidth_spaces():
    assert normalize_name(" 张 三 ") == "张三"
    assert normalize_name("张\u3000三") == "张三"
    assert normalize_name("张\u200b三\t") == "张三"
    assert normalize_name("") is None and normalize_name("  ") is None and normalize_name(None) is None


@pytest.mark.parametrize("sep", ["·", "•", "・", ".", "．", "･", "··", " · "])
def test_minority_separators_unify(sep):
    assert normalize_name(f"买买提{sep}艾力") == "买买提·艾力"


def test_name_without_separator_kept():
    assert normalize_name("买买提艾力") == "买买提艾力"


def test_rare_characters_survive():
    # U+4DAE is outside [\u4e00-\u9fa5]; so is U+20BB7 (𠮷).
    assert normalize_name("刘䶮") == "刘䶮"
    assert normalize_name("𠮷祥") == "𠮷祥"
    assert name_pinyin("刘䶮") == "liu yan"


def test_traditional_to_simplified():
    assert normalize_name("陳大文") == "陈大文"
    assert normalize_name("鍾曉明") == "钟晓明"
    # characters t2s would turn into a different name character are kept
    assert normalize_name("张乾") == "张乾"


def test_annotations_and_latin_names():
    assert normalize_name("张三（户主）") == "张三"
    assert normalize_name("john  smith") == "JOHN SMITH"


@pytest.mark.parametrize(
    "name,pinyin",
    [
        ("单田芳", "shan tian fang"),
        ("曾国藩", "zeng guo fan"),
        ("解缙", "xie jin"),
        ("仇英", "qiu ying"),
        ("区伟", "ou wei"),
        ("查良镛", "zha liang yong"),
        ("朴正", "piao zheng"),
        ("盖聂", "ge nie"),
        ("覃佳", "qin jia"),
        ("尉迟恭", "yu chi gong"),
        ("万俟卨", "mo qi xie"),
        ("欧阳修", "ou yang xiu"),
        ("吕布", "lv bu"),
    ],
)
def test_surname_readings(name, pinyin):
    assert name_pinyin(name) == pinyin


def test_split_surname():
    assert split_surname("欧阳娜娜") == ("欧阳", "娜娜")
    assert split_surname("诸葛亮") == ("诸葛", "亮")
    assert split_surname("司马") == ("司", "马")  # two characters: surname 司
    assert split_surname("张三") == ("张", "三")
    assert split_surname("买买提·艾力") == ("", "买买提·艾力")
    assert split_surname(None) == ("", "")


def test_homophones_share_the_key():
    assert name_pinyin_key("李丽") == name_pinyin_key("李莉") == "lili"
    assert name_pinyin_key("陈晨") == "chenchen"
    assert name_pinyin_key("买买提·艾力") == "maimaitiaili"
    assert name_pinyin_key("") is None
    # a character pypinyin does not know stays in the key instead of vanishing
    assert name_pinyin_key("王𠮷") != name_pinyin_key("王")
