"""The shop QR codes' mask chosen on arrays is segno's own choice: the same mask, the same modules."""

import random

import segno
from segno import encoder

from matching import qr_codes
from matching.shop_master import page_url, write_qr


def test_the_mask_and_matrix_are_segnos_for_random_matrices():
    # random modules have many finder-like patterns, overlapping ones too (segno's stepping over them)
    rng = random.Random(12)
    for _ in range(150):
        size = rng.choice([21, 25, 29, 33, 45, 57])
        matrix = encoder.make_matrix(size, size)
        encoder.add_finder_patterns(matrix, size, size)
        encoder.add_alignment_patterns(matrix, size, size)
        for row in matrix:
            for j, value in enumerate(row):
                if value == 0x2:
                    row[j] = rng.random() < rng.choice([0.3, 0.5, 0.7])
        expected = qr_codes._segno_find_and_apply_best_mask(tuple(bytearray(r) for r in matrix), size, size)
        assert qr_codes.find_best_mask(tuple(bytearray(r) for r in matrix), size, size) == expected


def test_codes_are_segnos_for_shop_pages_and_other_contents():
    rng = random.Random(7)
    contents = [page_url("https://civichub.example.gov.cn/shops", f"M{n:09d}") for n in range(0, 200_000, 997)]
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789/:.-_?=&%ABC汉字店码"
    contents += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 250))) for _ in range(120)]
    for content in contents:
        ours, theirs = qr_codes.make(content), segno.make(content, error="m")
        assert (ours.mask, ours.matrix, ours.version) == (theirs.mask, theirs.matrix, theirs.version), content
    # the library's own function is back in place afterwards
    assert encoder.find_and_apply_best_mask is qr_codes._segno_find_and_apply_best_mask


def test_written_files_are_the_bytes_segno_writes(tmp_path):
    url = page_url("https://civichub.example.gov.cn/shops", "M000004711")
    assert write_qr("M000004711", url, tmp_path)
    reference = segno.make(url, error="m")
    reference.save(str(tmp_path / "ref.png"), scale=6, border=4)
    reference.save(str(tmp_path / "ref.svg"), scale=6, border=4, title="M000004711")
    assert (tmp_path / "M000004711.png").read_bytes() == (tmp_path / "ref.png").read_bytes()
    assert (tmp_path / "M000004711.svg").read_bytes() == (tmp_path / "ref.svg").read_bytes()


def test_png_is_the_file_segno_writes(tmp_path):
    rng = random.Random(3)
    for n in range(40):
        content = page_url("https://civichub.example.gov.cn/shops", f"M{rng.randrange(10**9):09d}")
        if n % 4 == 3:  # other versions (sizes) too
            content += "?" + "x" * rng.randint(1, 200)
        qr = segno.make(content, error="m")
        for scale, border in ((6, 4), (1, 0), (3, 1), (7, 2)):
            qr_codes.write_png(qr, tmp_path / "ours.png", scale=scale, border=border)
            qr.save(str(tmp_path / "segno.png"), scale=scale, border=border)
            assert (tmp_path / "ours.png").read_bytes() == (tmp_path / "segno.png").read_bytes(), (content, scale)
