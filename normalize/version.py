"""A fingerprint of the normalisers' code (normalize/*.py and *.yml, the pinyin and traditional-to-
simplified libraries, Python's Unicode tables), passed to dbt as the var `normalizers`.

The staging models of the largest registries (police population, electricity) keep it on every row
(`normalized_by`) and take a value they staged in the last delivery with the same fingerprint from
there instead of normalising it again (a month's addresses and names are almost all last month's:
99.8 % of 697k police addresses at 1M persons). When any normaliser changes, the fingerprint does,
and every value is normalised afresh.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from importlib import metadata
from pathlib import Path

_LIBRARIES = ("pypinyin", "opencc-python-reimplemented", "rapidfuzz")


@functools.lru_cache(maxsize=4)
def normalizers_version(folder: Path | None = None) -> str:
    """12 hex digits of a SHA-1 over the normalisers' sources (`folder`, default normalize/) and the
    versions they depend on."""
    h = hashlib.sha1(unicodedata.unidata_version.encode())
    here = folder or Path(__file__).parent
    for path in sorted([*here.glob("*.py"), *here.glob("*.yml")]):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        h.update(f"{name}={version}\0".encode())
    return h.hexdigest()[:12]
