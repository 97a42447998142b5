"""No normaliser raises, whatever a registry cell holds."""

import random

from normalize.addresses import parse_address
from normalize.dates import parse_date, parse_year_month
from normalize.id_number import id_birth_date, id_check_ok, id_sex, id_status, normalize_id
from normalize.names import name_pinyin, name_pinyin_key, normalize_name, split_surname
from normalize.phones import normalize_phone, phone_kind
from normalize.uscc import normalize_uscc, uscc_check_ok, uscc_status

FUNCTIONS = [
    normalize_id,
    id_status,
    id_check_ok,
    id_birth_date,
    id_sex,
    normalize_uscc,
    uscc_check_ok,
    uscc_status,
    normalize_name,
    name_pinyin,
    name_pinyin_key,
    split_surname,
    normalize_phone,
    phone_kind,
    parse_date,
    parse_year_month,
    parse_address,
]


def _samples(n, seed=11):
    rng = random.Random(seed)
    pool = "0123456789xX０１２３４５６７８９年月日-/.:T +()（）·•・．李丽陈䶮𠮷 \u3000\u200b\t'"
    for _ in range(n):
        if rng.random() < 0.5:
            yield "".join(rng.choice(pool) for _ in range(rng.randint(0, 25)))
        else:
            s = "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(0, 20)))
            yield s.encode("utf-8", "ignore").decode("utf-8")


def test_no_function_raises_on_random_text():
    for s in _samples(1500):
        for fn in FUNCTIONS:
            fn(s)


def test_no_function_raises_on_odd_types():
    for v in (None, 0, -1, 3.5, float("nan"), 10**30, True, b"\xff", ["x"]):
        for fn in FUNCTIONS:
            fn(v)
