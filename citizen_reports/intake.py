"""Reading a day's reports (`reports/YYYY-MM-DD.csv`, contracts.md) row by row, with reasons.

A row is either taken in (possibly with notes: a malformed photo hash is dropped, an unknown 小类 is
kept as written) or rejected with its reason (no or unreadable time, a time in the future posted
directly, a 大类 outside the six whose 小类 does not say which). Rejected rows are kept with their content,
never silently dropped; the rest of the file goes in.

A file's row without 编号 is taken in under a 编号 the platform gives it (assigned_report_no: "WBH-"
and a hash of the row's content), with the note "缺少编号，平台编为 …": the citizen's report reaches
duplicate detection and the department all the same. The number depends on the content alone, so the
same row delivered again is a no-op. A post (Open311) without one is refused (missing_id); the server
gives every post its 编号, so that does not happen.

A row is placed as far as its evidence goes rather than refused, and the note says so: a 大类
outside the six with a 小类 that one 大类 lists is taken under that 大类 (the citizen's client or
the export wrote the 大类 badly; the 小类 names the problem); a time a little after the file's day
(FILE_DAY_TOLERANCE) is kept with a note. A time beyond that, or after the present, cannot be the
time of a report the day's file carries: the phone's clock is wrong (set by hand, reset with its
battery), but the file says the platform received the report that day. It is taken as the file's
day at noon, with the written time in the note (TIME_ESTIMATED), and duplicate detection counts no
time gap for it; the department sees the note. A report posted directly (Open311) with a time in
the future is refused: the client is told at once. Whether the position is inside the district is for routing to say
(it needs the address library); here a position is only checked to be a position at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from citizen_reports.config import ReportsConfig, canonical_major, canonical_minor
from citizen_reports.evidence import parse_fingerprint
from citizen_reports.geo import in_china

CST = dt.timezone(dt.timedelta(hours=8))
COLUMNS = ("编号", "上报时间", "大类", "小类", "描述", "经度", "纬度", "地址", "照片指纹", "上报人")
REQUIRED = ("编号", "上报时间", "大类")
FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.csv$")
# A phone's clock may run a little ahead of the server's.
CLOCK_TOLERANCE = dt.timedelta(minutes=10)
# How far past the end of its day a report in a daily file may be stamped and still be that day's
# report: the export of day D runs in the night or the next morning, so a report entered after
# midnight can ride along, and a phone whose clock runs a time zone off (a Beijing time written as
# UTC reads 8 hours late) stamps a 23:00 report 07:00 the next day. Half a day covers both. Beyond
# it the date itself is wrong (in the generated months the planted future dates lie 2 to 400 days
# out, and no genuine report is stamped after its file's day at all): the file's day stands in.
FILE_DAY_TOLERANCE = dt.timedelta(hours=12)
# the note on a report whose time was not its own (a phone's clock far ahead): the time is the
# file's day, and duplicate detection does not count the hours between it and another report
TIME_ESTIMATED = "上报时间按文件日期"
MAX_FIELD = 2000  # characters kept of a free-text field
# A file's row without 编号 is the citizen's report all the same: it is taken in under a number the
# platform gives it, with a note (ID_ASSIGNED). The number is made from the row's content, not its
# place in the file, so the same row delivered again (the same file, a corrected file whose rows
# moved, the next day's file) is the same report and a no-op, never a second one.
ID_ASSIGNED = "缺少编号"
ASSIGNED_PREFIX = "WBH-"  # 无编号
ASSIGNED_FROM = ("上报时间", "大类", "小类", "描述", "经度", "纬度", "地址", "照片指纹", "上报人")


def assigned_report_no(fields: dict[str, str]) -> str:
    """The 编号 the platform gives a file's row that has none: "WBH-" and 12 hex digits (48 bits) of a
    hash of the row's fields as written (NFKC, trimmed), the 编号 column aside. Two rows of identical
    content get the same number: within a file the second is a repeat of the first (one report, as
    for a row sent twice with its 编号); in a later file it is already taken."""
    import hashlib

    text = "\x1f".join(unicodedata.normalize("NFKC", fields.get(c) or "").strip() for c in ASSIGNED_FROM)
    return ASSIGNED_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class ReportFileError(ValueError):
    """The whole file cannot be read (encoding, header); the message names the file."""


@dataclass
class IncomingReport:
    report_no: str
    reported_at: dt.datetime  # aware, +08:00
    major: str
    minor: str
    minor_known: bool
    description: str
    lon: float | None
    lat: float | None
    address_text: str
    photo_hash: int | None
    reporter: str
    source: str  # 'file' or 'open311'
    source_file: str | None = None
    source_row: int | None = None
    notes: list[str] = field(default_factory=list)  # problems that did not stop the report
    position_problem: str | None = None  # 'swapped' | 'not_a_position': the position cannot be used
    time_estimated: bool = False  # 上报时间 was in the future: the file's day stands in (TIME_ESTIMATED)
    id_assigned: bool = False  # a file's row without 编号: report_no is the platform's (assigned_report_no)
    raw_lon: str | None = None
    raw_lat: str | None = None

    def same_content(self, other: IncomingReport) -> bool:
        keys = ("reported_at", "major", "minor", "description", "lon", "lat", "address_text", "photo_hash", "reporter")
        return all(getattr(self, k) == getattr(other, k) for k in keys)


@dataclass
class Rejected:
    source_row: int | None
    report_no: str | None
    code: str
    reason: str  # Chinese, shown to staff
    raw: dict[str, str]


def parse_time(raw: str) -> tuple[dt.datetime | None, str | None]:
    """ISO 8601; a time without an offset is read as Beijing time (and a note says so)."""
    s = unicodedata.normalize("NFKC", raw or "").strip()
    if not s:
        return None, None
    s = s.replace("/", "-").replace("Z", "+00:00")
    try:
        t = dt.datetime.fromisoformat(s)
    except ValueError:
        return None, None
    if t.tzinfo is None:
        return t.replace(tzinfo=CST), "上报时间无时区，按北京时间"
    return t.astimezone(CST), None


def _coordinate(raw: str | None) -> float | None:
    s = unicodedata.normalize("NFKC", raw or "").strip()
    if not s:
        return None
    return float(s)  # ValueError for text


def validate(
    fields: dict[str, str],
    cfg: ReportsConfig,
    *,
    source: str,
    now: dt.datetime,
    source_file: str | None = None,
    source_row: int | None = None,
    file_day: dt.date | None = None,
) -> IncomingReport | Rejected:
    """One report from its fields (a CSV row or an Open311 request), or the reason it is refused."""
    get = {k: (v if isinstance(v, str) else ("" if v is None else str(v))) for k, v in fields.items()}

    def reject(code: str, reason: str) -> Rejected:
        return Rejected(source_row, report_no or None, code, reason, dict(get))

    report_no = unicodedata.normalize("NFKC", get.get("编号", "")).strip()
    # a file's row without 编号 is taken in under a number the platform gives it (assigned_report_no,
    # below, once the row is known to be taken); a post (Open311) always has one, the server's
    assign = not report_no and source == "file"
    if not report_no and not assign:
        return reject("missing_id", "缺少编号")
    if len(report_no) > 64:
        return reject("bad_id", "编号超过64个字符")
    reported_at, time_note = parse_time(get.get("上报时间", ""))
    time_estimated = False
    if reported_at is None:
        return reject(
            "bad_time", f"上报时间无法识别：{get.get('上报时间', '')!r}" if get.get("上报时间") else "缺少上报时间"
        )
    notes = [time_note] if time_note else []
    day_end = None if file_day is None else dt.datetime.combine(file_day + dt.timedelta(days=1), dt.time(), CST)
    late = reported_at > now + CLOCK_TOLERANCE or (day_end is not None and reported_at - day_end > FILE_DAY_TOLERANCE)
    if late and (file_day is None or day_end - dt.timedelta(days=1) > now):
        # posted directly (Open311) the client is told at once and can send again; a file from the
        # future is not a day's delivery
        return reject("future_time", f"上报时间 {reported_at:%Y-%m-%d %H:%M} 晚于当前时间")
    if late:
        # the day's file carries it, so it reached the platform that day: the phone's clock is wrong
        # (a date set by hand, a reset battery). Kept, as the file's day, with the time written down
        reported_at, written = min(day_end - dt.timedelta(hours=12), now), reported_at
        notes.append(
            f"{TIME_ESTIMATED}：上报时间 {written:%Y-%m-%d %H:%M} 晚于"
            f"{'当前时间' if written > now + CLOCK_TOLERANCE else f'文件日期 {file_day}'}（手机时钟有误），"
            f"按文件日期接收，时间记为 {reported_at:%Y-%m-%d %H:%M}"
        )
        time_estimated = True
    elif file_day is not None and reported_at.date() > file_day:
        after = reported_at - day_end
        notes.append(
            f"上报时间 {reported_at:%Y-%m-%d %H:%M} 晚于文件日期 {file_day}（{after.total_seconds() / 3600:.1f}小时内，"
            "按补录或手机时钟偏差接收，时间照录）"
        )
    major = canonical_major(get.get("大类"))
    minor = canonical_minor(get.get("小类"))
    if major not in cfg.categories:
        # the 小类 names the problem: when one 大类 lists it, that is the 大类 (and the note says so)
        placed = cfg.major_of_minor(minor)
        if placed is None:
            written = f"大类“{major}”不在六类（{'、'.join(cfg.categories)}）之中" if major else "缺少大类"
            why = f"小类“{minor}”不在目录中，无法判断大类" if minor else "也没有小类"
            return reject("unknown_category", f"{written}，{why}")
        notes.append(
            (f"大类“{major}”不在六类之中" if major else "缺少大类") + f"，按小类“{minor}”归入{placed}（请核实类别）"
        )
        major = placed
    minor_known = minor in cfg.categories[major].subcategories
    if not minor_known:
        notes.append(f"小类“{minor}”不在{major}的目录中，按大类处理" if minor else "缺少小类，按大类处理")
    try:
        photo = parse_fingerprint(get.get("照片指纹"))
    except ValueError:
        photo = None
        notes.append(f"照片指纹格式错误（应为16位十六进制）：{get.get('照片指纹')!r}，未使用")
    raw_lon, raw_lat = get.get("经度", ""), get.get("纬度", "")
    position_problem = None
    try:
        lon, lat = _coordinate(raw_lon), _coordinate(raw_lat)
    except ValueError:
        lon = lat = None
        position_problem = "not_a_position"
        notes.append(f"经纬度无法识别：{raw_lon!r}, {raw_lat!r}")
    if (lon is None) != (lat is None):
        notes.append("经纬度只有一个，未使用")
        lon = lat = None
    elif lon is not None and not in_china(lon, lat):
        if in_china(lat, lon):
            position_problem = "swapped"
            notes.append(f"经纬度颠倒（经度 {raw_lon}，纬度 {raw_lat}）")
        else:
            position_problem = "not_a_position"
            notes.append(f"经纬度不在境内（{raw_lon}, {raw_lat}）")
    if assign:
        report_no = assigned_report_no(get)
        notes.insert(0, f"{ID_ASSIGNED}，平台编为 {report_no}（按内容编号，同一行再次送达不重复接收）")
    return IncomingReport(
        report_no=report_no,
        reported_at=reported_at,
        major=major,
        minor=minor,
        minor_known=minor_known,
        description=(get.get("描述") or "").strip()[:MAX_FIELD],
        lon=lon,
        lat=lat,
        address_text=(get.get("地址") or "").strip()[:MAX_FIELD],
        photo_hash=photo,
        reporter=(get.get("上报人") or "").strip()[:64],
        source=source,
        source_file=source_file,
        source_row=source_row,
        notes=notes,
        position_problem=position_problem,
        time_estimated=time_estimated,
        id_assigned=assign,
        raw_lon=raw_lon or None,
        raw_lat=raw_lat or None,
    )


def _decode(data: bytes, name: str) -> tuple[str, str | None]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), f"{name} 不是 UTF-8，按 GB18030 读取"
    except UnicodeDecodeError as e:
        raise ReportFileError(f"{name}: cannot be decoded as UTF-8 (nor GB18030): {e}") from None


@dataclass
class ReportFile:
    name: str  # as given, e.g. reports/2026-10-03.csv
    day: dt.date | None
    sha256: str
    rows: int
    reports: list[IncomingReport]
    rejected: list[Rejected]
    repeated_in_file: int  # rows repeating an earlier row of the file (same 编号, same content)
    notes: list[str]


def read_report_file(path: Path, cfg: ReportsConfig, now: dt.datetime | None = None, name: str | None = None):
    """Parse and validate every row of one daily file (nothing is stored here)."""
    import hashlib

    path = Path(path)
    name = name or path.name
    now = now or dt.datetime.now(CST)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ReportFileError(f"{name}: cannot be read: {e}") from None
    text, note = _decode(data, name)
    m = FILE_NAME.match(path.name)
    day = None
    if m:
        try:
            day = dt.date.fromisoformat(m.group(1))
        except ValueError:
            day = None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ReportFileError(f"{name}: the file is empty (no header row)") from None
    header = [unicodedata.normalize("NFKC", h).strip() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ReportFileError(
            f"{name}: header lacks {', '.join(missing)} (expected columns: {', '.join(COLUMNS)}; found: {', '.join(header)})"
        )
    notes = [note] if note else []
    absent = [c for c in COLUMNS if c not in header]
    if absent:
        notes.append(f"{name}: 缺少列 {', '.join(absent)}，按空值处理")
    reports: list[IncomingReport] = []
    rejected: list[Rejected] = []
    seen: dict[str, IncomingReport] = {}
    repeated = 0
    n = 0
    for n, row in enumerate(reader, start=1):
        if not any(c.strip() for c in row):
            rejected.append(Rejected(n, None, "empty_row", "空行", {}))
            continue
        fields = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header)}
        if len(row) > len(header):
            fields["_extra"] = ",".join(row[len(header) :])
        r = validate(fields, cfg, source="file", now=now, source_file=name, source_row=n, file_day=day)
        if isinstance(r, Rejected):
            rejected.append(r)
            continue
        first = seen.get(r.report_no)
        # a row without 编号 has its number from its content: two byte-identical such rows are one
        # report here, the second a repeat, as a row sent twice with its 编号 is
        if first is not None:
            if first.same_content(r):
                repeated += 1
            else:
                rejected.append(
                    Rejected(n, r.report_no, "conflicting_id", f"编号与第{first.source_row}行相同但内容不同", fields)
                )
            continue
        seen[r.report_no] = r
        reports.append(r)
    return ReportFile(name, day, hashlib.sha256(data).hexdigest(), n, reports, rejected, repeated, notes)
