"""The shop QR codes as segno draws them, the two slow parts done on arrays: the same bytes, ~3x less CPU.

segno (pinned in pyproject.toml) chooses a QR code's data mask as ISO/IEC 18004 says: each of the 8
masks is applied to the matrix and the one with the lowest penalty score (N1 runs, N2 blocks, N3
finder-like patterns, N4 dark share) is kept. It does so module by module in Python, ~2.3 ms of a
code's ~2.9 ms (a 1M district draws ~12,000 shop codes in its first delivery). `find_best_mask` is
the same computation on arrays — the same rules, including segno's own way of stepping over
overlapping N3 patterns — and `make` is `segno.make` with it. `write_png` writes what segno's PNG
writer writes for a black-on-white code (1-bit greyscale, scanlines packed by numpy instead of bit by
bit in Python: ~2 ms of a code's PNG). tests/test_qr_codes.py compares both with segno's own.
"""

from __future__ import annotations

import contextlib
import functools
import struct
import zlib
from operator import lt

import numpy as np
import segno
from segno import encoder as _encoder

_N3 = np.array([1, 0, 1, 1, 1, 0, 1], dtype=np.int16)
_segno_find_and_apply_best_mask = _encoder.find_and_apply_best_mask


@functools.cache
def _masks(size: int) -> np.ndarray:
    """(8, size, size) 0/1: where each mask flips a module (only in the encoding region)."""
    function_matrix = _encoder.make_matrix(size, size)
    _encoder.add_finder_patterns(function_matrix, size, size)
    _encoder.add_alignment_patterns(function_matrix, size, size)
    function_matrix[-8][8] = 0x1
    region = np.array([list(row) for row in function_matrix], dtype=np.int16) > 0x1
    i, j = np.indices((size, size))
    patterns = [fn(i, j) for fn in _vector_mask_functions()]
    return np.stack([(p & region).astype(np.int16) for p in patterns])


def _vector_mask_functions():
    # ISO/IEC 18004:2015(E) 7.8.2, Table 10, as segno.encoder.get_data_mask_functions(False)
    return (
        lambda i, j: (i + j) & 1 == 0,
        lambda i, j: i & 1 == 0,
        lambda i, j: j % 3 == 0,
        lambda i, j: (i + j) % 3 == 0,
        lambda i, j: (i // 2 + j // 3) & 1 == 0,
        lambda i, j: ((i * j) & 1) + ((i * j) % 3) == 0,
        lambda i, j: (((i * j) & 1) + ((i * j) % 3)) & 1 == 0,
        lambda i, j: (((i + j) & 1) + ((i * j) % 3)) & 1 == 0,
    )


def _n1(lines: np.ndarray) -> np.ndarray:
    """Per mask: sum of (run length - 2) over runs of 5 or more equal modules in rows and columns."""
    k, n, w = lines.shape
    flat = np.concatenate([lines, np.full((k, n, 1), -1, dtype=lines.dtype)], axis=2).reshape(-1)
    starts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    lengths = np.diff(np.append(starts, flat.size))
    long = lengths >= 5
    return np.bincount(starts[long] // (n * (w + 1)), weights=lengths[long] - 2, minlength=k).astype(np.int64)


def _n3(lines: np.ndarray) -> np.ndarray:
    """Per mask: 40 per 1:1:3:1:1 pattern with 4 light modules before or after it, found as segno
    finds them (after a counted pattern the search goes on 7 modules on, else 4)."""
    k, n, w = lines.shape
    windows = np.lib.stride_tricks.sliding_window_view(lines, 7, axis=2)
    mask, line, idx = np.nonzero((windows == _N3).all(axis=3))
    scores = np.zeros(k, dtype=np.int64)
    if not idx.size:
        return scores
    dark = np.concatenate([np.zeros((k, n, 1), dtype=np.int32), np.cumsum(lines != 0, axis=2, dtype=np.int32)], axis=2)
    prefix = dark[mask, line]
    at = np.arange(idx.size)
    left = prefix[at, idx] - prefix[at, np.maximum(idx - 4, 0)]
    right = prefix[at, np.minimum(idx + 11, w)] - prefix[at, np.minimum(idx + 7, w)]
    counted = (idx == 0) | (idx == w - 7) | (left == 0) | (right == 0)
    # patterns of one line closer than 7 modules overlap: which of them segno sees depends on the
    # one before (rare: those lines are stepped through as segno does)
    same_line = (mask[1:] == mask[:-1]) & (line[1:] == line[:-1])
    close = same_line & (idx[1:] - idx[:-1] < 7)
    stepped = np.zeros(idx.size, dtype=bool)
    if close.any():
        lines_to_step = set(zip(mask[1:][close].tolist(), line[1:][close].tolist()))
        stepped = np.array([(m, x) in lines_to_step for m, x in zip(mask.tolist(), line.tolist())])
        after, current = -1, None
        for h in np.flatnonzero(stepped).tolist():
            if (mask[h], line[h]) != current:
                after, current = -1, (mask[h], line[h])
            if idx[h] < after:
                continue
            if counted[h]:
                scores[mask[h]] += 40
                after = idx[h] + 7
            else:
                after = idx[h] + 4
    np.add.at(scores, mask[counted & ~stepped], 40)
    return scores


def find_best_mask(matrix, width: int, height: int) -> tuple[int, tuple[bytearray, ...]]:
    """What `segno.encoder.find_and_apply_best_mask(matrix, width, height)` answers for a QR code
    (not Micro QR): the mask with the lowest penalty (the first of equals) and the masked matrix."""
    base = np.array([list(row) for row in matrix], dtype=np.int16)
    masked = base[None, :, :] ^ _masks(width)
    lines = np.concatenate([masked, masked.transpose(0, 2, 1)], axis=1)
    n2 = 3 * (
        (masked[:, 1:, 1:] == masked[:, 1:, :-1])
        & (masked[:, 1:, :-1] == masked[:, :-1, 1:])
        & (masked[:, :-1, 1:] == masked[:, :-1, :-1])
    ).sum(axis=(1, 2))
    scores = _n1(lines) + n2 + _n3(lines)
    best, best_score = None, None
    for mask, dark in enumerate(masked.sum(axis=(1, 2)).tolist()):
        percent = float(dark) / (width**2)
        score = int(scores[mask]) + 10 * int(abs(percent * 100 - 50) / 5)
        if best_score is None or lt(score, best_score):
            best, best_score = mask, score
    return best, tuple(bytearray(row.astype(np.uint8).tobytes()) for row in masked[best])


def _find_and_apply_best_mask(matrix, width, height, proposed_mask=None):
    if proposed_mask is not None or width != height or width < 21:  # a given mask, Micro QR: segno's own
        return _segno_find_and_apply_best_mask(matrix, width, height, proposed_mask)
    return find_best_mask(matrix, width, height)


@contextlib.contextmanager
def _numpy_masks():
    # segno calls encoder.find_and_apply_best_mask by its module-level name while it encodes
    _encoder.find_and_apply_best_mask = _find_and_apply_best_mask
    try:
        yield
    finally:
        _encoder.find_and_apply_best_mask = _segno_find_and_apply_best_mask


def make(content: str, error: str = "m") -> segno.QRCode:
    """`segno.make(content, error=error)`, its mask chosen on arrays (the same code)."""
    with _numpy_masks():
        return segno.make(content, error=error)


def _chunk(name: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + name + data + struct.pack(">I", zlib.crc32(name + data))


def write_png(qr: segno.QRCode, path, scale: int, border: int) -> None:
    """`qr.save(path, scale=scale, border=border)` for a .png (segno's defaults otherwise: dark
    modules black, the rest white, zlib level 9), byte for byte."""
    if qr.is_micro or scale < 1 or border < 0:
        qr.save(str(path), scale=scale, border=border)
        return
    modules = np.array([list(row) for row in qr.matrix], dtype=np.uint8) & 1
    # a row of the image: the quiet zone and light modules white (1), dark modules black (0)
    size = modules.shape[1]
    rows = np.ones((size, size + 2 * border), dtype=np.uint8)
    rows[:, border : border + size] = 1 - modules
    pixels = np.repeat(rows, scale, axis=1)
    width = pixels.shape[1]
    packed = np.packbits(pixels, axis=1)  # 8 pixels a byte, the first the highest bit, the last padded with 0
    line = np.concatenate([np.zeros((size, 1), dtype=np.uint8), packed], axis=1)
    # each module row is followed by (scale - 1) lines "the same as above" (filter 2, all zero)
    same_as_above = (b"\x02" + bytes(packed.shape[1])) * (scale - 1)
    quiet = (b"\x00" + np.packbits(np.ones(width, dtype=np.uint8)).tobytes()) * (border * scale)
    idat = quiet + same_as_above.join(r.tobytes() for r in line) + same_as_above + quiet
    height = size + 2 * border
    with open(path, "wb") as f:
        f.write(b"\211PNG\r\n\032\n")
        f.write(_chunk(b"IHDR", struct.pack(">2I5B", width, height * scale, 1, 0, 0, 0, 0)))
        f.write(_chunk(b"IDAT", zlib.compress(idat, 9)))
        f.write(_chunk(b"IEND", b""))
