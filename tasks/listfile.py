"""Reading a 排摸 list (.xlsx first sheet, or .csv in UTF-8, UTF-8 with BOM, GBK or GB18030) and
recognising its columns by their headers (contracts.md: 排摸 tasks).

    listing = read_list(path)                 # ListFile: headers, rows (dicts by header), encoding
    mapping = guess_mapping(listing.headers)  # {"name": "姓名", "id_number": "公民身份号码", …}

Headers are compared as the connectors compare them (connectors/spec.py `header_key`: NFKC, no
whitespace or BOM, case-folded). Columns that map to no field are kept and shown to the worker.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from connectors.spec import header_key

FIELDS = ("name", "id_number", "phone", "address")
FIELD_LABELS = {"name": "姓名", "id_number": "身份证号", "phone": "联系电话", "address": "地址"}
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "id_number": ("身份证号", "公民身份号码", "证件号码"),
    "phone": ("联系电话", "手机号码", "电话"),
    "address": ("地址", "居住地址", "家庭住址", "现住址"),
}
MAX_ROWS = 200_000
ENCODINGS = ("utf-8-sig", "gb18030")  # GBK is a subset of GB18030; utf-8-sig reads plain UTF-8 too


class ListFileError(ValueError):
    pass


@dataclass
class ListFile:
    name: str
    headers: list[str]
    rows: list[dict[str, str]]  # one per data row, in the file's order (source_row = index + 1)
    encoding: str | None = None
    blank_rows: list[int] = field(default_factory=list)  # 1-based data rows with no value (kept, shown)


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat(sep=" ")
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8 (BOM)"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030/GBK"
    except UnicodeDecodeError as e:
        raise ListFileError(
            f"{name}: 无法识别文件编码（不是 UTF-8、GBK 或 GB18030；第 {e.start} 字节处出错）。请另存为 UTF-8 CSV 或 .xlsx"
        ) from None


def _table(matrix: list[list[str]], name: str, encoding: str | None) -> ListFile:
    while matrix and not any(matrix[0]):
        matrix.pop(0)  # blank lines above the header
    if not matrix:
        raise ListFileError(f"{name}: 文件是空的（没有表头行）")
    raw_headers = matrix[0]
    while raw_headers and not raw_headers[-1]:
        raw_headers = raw_headers[:-1]
    headers: list[str] = []
    for i, h in enumerate(raw_headers):
        h = h.strip().lstrip("\ufeff") or f"第{i + 1}列"
        while h in headers:
            h += "_2"
        headers.append(h)
    if not headers:
        raise ListFileError(f"{name}: 第一行没有表头")
    body = matrix[1:]
    while body and not any(body[-1]):
        body.pop()  # trailing blank lines
    if not body:
        raise ListFileError(f"{name}: 只有表头，没有数据行")
    if len(body) > MAX_ROWS:
        raise ListFileError(f"{name}: {len(body)} 行，超过一次导入的上限 {MAX_ROWS} 行，请拆分")
    rows, blanks = [], []
    for k, values in enumerate(body, start=1):
        row = {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(headers)}
        extra = [v for v in values[len(headers) :] if v.strip()]
        if extra:
            row["(多余列)"] = " ".join(extra)
        if not any(row.values()):
            blanks.append(k)
        rows.append(row)
    return ListFile(name, headers, rows, encoding, blanks)


def read_list_bytes(data: bytes, name: str) -> ListFile:
    """A list from an upload or a file's bytes; ListFileError says what is wrong, in Chinese, naming the file."""
    lower = name.lower()
    if lower.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return _read_xlsx(data, name)
    if lower.endswith(".xls"):
        raise ListFileError(f"{name}: 旧版 .xls 格式不支持，请在 Excel 中另存为 .xlsx")
    text, encoding = _decode(data, name)
    try:
        matrix = [[c for c in r] for r in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as e:
        raise ListFileError(f"{name}: CSV 格式错误：{e}") from None
    return _table(matrix, name, encoding)


def _read_xlsx(data: bytes, name: str) -> ListFile:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise ListFileError(f"{name}: 不是有效的 .xlsx 工作簿（{type(e).__name__}）") from None
    try:
        ws = wb.worksheets[0]
        matrix = [[_cell(v) for v in r] for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    return _table(matrix, name, None)


def read_list(path: Path) -> ListFile:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ListFileError(f"{path}: 无法读取（{e.strerror}）") from None
    return read_list_bytes(data, path.name)


def guess_mapping(headers: list[str]) -> dict[str, str | None]:
    """Each field → the first header that is one of its synonyms (None when the list lacks it)."""
    keyed = {header_key(h): h for h in reversed(headers)}
    out: dict[str, str | None] = {}
    for f in FIELDS:
        out[f] = next((keyed[header_key(s)] for s in SYNONYMS[f] if header_key(s) in keyed), None)
    return out


def check_mapping(mapping: dict[str, str | None], headers: list[str], name: str) -> dict[str, str | None]:
    """The mapping as the user confirmed it: every header named must exist, one header per field, and a
    list needs a name column and at least one of ID number, phone or address to be routed."""
    clean: dict[str, str | None] = {}
    for f in FIELDS:
        h = (mapping.get(f) or "").strip() or None
        if h is not None and h not in headers:
            raise ListFileError(f"{name}: {FIELD_LABELS[f]}对应的列“{h}”不在表头中")
        clean[f] = h
    used = [h for h in clean.values() if h]
    if len(used) != len(set(used)):
        raise ListFileError(f"{name}: 同一列不能同时对应两项")
    if not clean["name"] and not clean["id_number"]:
        raise ListFileError(
            f"{name}: 找不到姓名或身份证号列（表头可用：{'、'.join(SYNONYMS['name'] + SYNONYMS['id_number'])}）"
        )
    return clean
