"""Taking reports in: the one code path of the daily files (`civichub reports import`, `civichub run`)
and of a single report posted by a client (Open311).

    validate → already taken? → place (street, committee) → duplicates → incidents, events, reviews → commit

Nothing is lost: a refused row is stored with its reason, the same 编号 again is a no-op, and a report
that cannot be placed goes to the district's queue with the reason instead of being dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select

from citizen_reports.config import ReportsConfig
from citizen_reports.dedupe import Item, detect, model_from_json, model_to_json, observed_window
from citizen_reports.evidence import address_evidence
from citizen_reports.geo import cell_of, cells_near
from citizen_reports.intake import (
    CST,
    ID_ASSIGNED,
    TIME_ESTIMATED,
    IncomingReport,
    Rejected,
    ReportFileError,
    read_report_file,
)
from citizen_reports.models import (
    OPEN_STATES,
    RECEIVED,
    DedupeModel,
    Incident,
    IncidentEvent,
    RejectedRow,
    Report,
    ReportFileLog,
    ReviewItem,
    utc,
)
from citizen_reports.repository import SqlRepository, notes_json
from citizen_reports.routing import AddressLibrary, Placement
from citizen_reports.states import merge_into, resolve_merged, split_off

# A batch smaller than this is scored with the stored weights (a single post must be fast, and a
# handful of reports says too little to estimate from).
ESTIMATE_FROM = 20
ESTIMATE_HISTORY = dt.timedelta(days=7)
# A larger batch is scored with weights estimated afresh while the stored estimates are few (the
# first week of files: the history they learn from is still filling), then once the reports taken
# in since the last estimate (this batch included) are ESTIMATE_EVERY batches' worth: every other
# day's file. An estimate looks at a week and more of reports, of which a day's file changes a
# tenth, and it is the intake's largest cost (a 100k district's day: ~120,000 candidate pairs
# against the day's own ~9,000; its month 23.6 -> 16.9 s of CPU). The batch is compared with the same reports either way. Measured on 20k
# districts, seeds 501-504, both noise profiles (bench.reports_duplicates): mean F1 .9345 -> .9344,
# P .9704 -> .9713, no cell moved more than .0033; every fourth file: F1 .9329, one cell -.006.
WARM_ESTIMATES = 7
ESTIMATE_EVERY = 2
STORE_CHUNK = 500


def estimate_due(estimates: int, reports_since: int, batch: int) -> bool:
    """Whether a batch of `batch` reports (ESTIMATE_FROM or more) estimates the duplicate weights
    afresh, `estimates` having been stored and `reports_since` reports taken in since the latest."""
    return estimates < WARM_ESTIMATES or reports_since + batch >= ESTIMATE_EVERY * batch


@dataclass
class TakeInResult:
    taken: list[str] = field(default_factory=list)  # 编号 of new reports
    already: list[str] = field(default_factory=list)  # same 编号 again, same content: no-op
    rejected: list[Rejected] = field(default_factory=list)
    # taken, but their 上报时间 was not usable (a phone's clock ahead): (source_row, note) for the summary
    time_estimated: list[tuple[int | None, str]] = field(default_factory=list)
    # taken, a file's row without 编号 under the number the platform gave it: (source_row, note)
    id_assigned: list[tuple[int | None, str]] = field(default_factory=list)
    incidents_opened: int = 0
    incidents_merged: int = 0  # open incidents found to be one problem and merged
    incidents_split: int = 0  # groups of reports found to be another problem than their incident's
    merged: int = 0
    review: int = 0
    queued: int = 0
    incident_of: dict[str, str] = field(default_factory=dict)  # 编号 -> incident id
    seconds: dict[str, float] = field(default_factory=dict)
    model_estimated: bool = False
    candidate_pairs: int = 0


def incident_id(day: dt.date, number: int) -> str:
    """SJ-20261103-0042: the day of the first report (Beijing time) and its number that day."""
    return f"SJ-{day:%Y%m%d}-{number:04d}"


def _hours(t: dt.datetime) -> float:
    return t.timestamp() / 3600.0


# the last history made into items, with the library it was made with: (weakref to it, {(row, open): Item})
_ITEMS: list = [None, {}]


def _stored_items(rows: list[tuple], lib: AddressLibrary) -> list[Item]:
    """Stored reports with whether their incident is open (repository.reports_since) as duplicate
    detection sees them: the positions projected in one array operation (a week of a large
    district's reports is tens of thousands of rows per file)."""
    if not rows:
        return []
    # the files of one import share most of their history: an item already made for the same row
    # (every column, open or not) with the same library is reused; the cache keeps the last history
    seen = _ITEMS[1] if _ITEMS[0] is not None and _ITEMS[0]() is lib else {}
    keys = [(tuple(r), o) for r, o in rows]
    todo = [(k, r, o) for k, (r, o) in zip(keys, rows) if k not in seen]
    made: dict = {}
    if todo:
        lon = np.array([np.nan if r.pos_lon is None or r.pos_lat is None else r.pos_lon for _, r, _ in todo], "float64")
        lat = np.array([np.nan if r.pos_lon is None or r.pos_lat is None else r.pos_lat for _, r, _ in todo], "float64")
        xs, ys = (v.tolist() for v in lib.projection.xy(lon, lat))
        made = {k: _stored_item(r, lib, o, (x, y)) for (k, r, o), x, y in zip(todo, xs, ys)}
    items = [seen[k] if k in seen else made[k] for k in keys]
    _ITEMS[:] = [weakref.ref(lib), dict(zip(keys, items))]
    return items


def _stored_item(r, lib: AddressLibrary, is_open: bool = True, xy: tuple[float, float] | None = None) -> Item:
    """A stored report (a row of repository.HISTORY_COLUMNS) as duplicate detection sees it; `xy`:
    its position already projected (NaN when it has none)."""
    x = y = None
    if xy is not None:
        if xy[0] == xy[0]:
            x, y = xy
    elif r.pos_lon is not None and r.pos_lat is not None:
        x, y = (float(v) for v in lib.projection.xy(r.pos_lon, r.pos_lat))
    road, door = address_evidence(r.address_text)
    place_road = road or lib.road_of.get(r.address_id or "")
    return Item(
        r.report_no,
        _hours(r.reported_at.replace(tzinfo=dt.UTC)),
        r.major,
        r.minor,
        x,
        y,
        r.description,
        int(r.photo_hash, 16) if r.photo_hash else None,
        road,
        door,
        r.reporter,
        incident=r.incident_id if is_open else None,
        open=is_open,
        place_road=place_road,
        street=r.street_code,
    )


def _position_refused(r: IncomingReport, p: Placement) -> bool:
    """Coordinates were given, could not be used and nothing placed the report instead (0,0 or an
    unreadable pair counts as none given: its address text's road still serves)."""
    if r.position_problem == "not_a_position":
        return False
    return p.x is None and (r.position_problem is not None or r.lon is not None)


def take_in(
    incoming: list[IncomingReport],
    repo: SqlRepository,
    cfg: ReportsConfig,
    lib: AddressLibrary,
    *,
    now: dt.datetime | None = None,
    rejected: list[Rejected] | None = None,
    file_log: ReportFileLog | None = None,
    estimate: bool | None = None,
    commit: bool = True,
) -> TakeInResult:
    t0 = time.perf_counter()
    now = now or dt.datetime.now(CST)
    res = TakeInResult(rejected=list(rejected or []))
    existing = repo.reports_by_no(r.report_no for r in incoming)
    fresh: list[IncomingReport] = []
    for r in incoming:
        old = existing.get(r.report_no)
        if old is None:
            fresh.append(r)
        elif _same_as_stored(r, old):
            res.already.append(r.report_no)
            res.incident_of[r.report_no] = old.incident_id
        else:
            res.rejected.append(
                Rejected(
                    r.source_row,
                    r.report_no,
                    "conflicting_id",
                    f"编号已存在（{old.source_file or old.source}），内容不同",
                    _raw(r),
                )
            )
    placements = [lib.place(r, cfg) for r in fresh]
    t1 = time.perf_counter()

    # the open incidents that could be the same problem: stored reports of open incidents still in
    # their window, near the batch (a bounding box for a small batch: a single post reads little)
    batch_items = []
    for r, p in zip(fresh, placements):
        road, door = address_evidence(r.address_text)
        batch_items.append(
            Item(
                r.report_no,
                _hours(r.reported_at),
                r.major,
                r.minor,
                p.x,
                p.y,
                r.description,
                r.photo_hash,
                road,
                door,
                r.reporter,
                batch=True,
                # a report whose coordinates were refused (swapped, outside the district) and could not
                # be placed otherwise goes to the district's queue as it is; one that gave none is
                # compared along its road
                place_road=None if _position_refused(r, p) else road or lib.road_of.get(p.address_id or ""),
                time_known=not r.time_estimated,
                street=p.street_code,
            )
        )
    history: list[Item] = []
    stored = repo.latest_model()
    stored_model = model_from_json(stored) if stored is not None else None
    explicit = estimate is not None
    estimate = len(fresh) >= ESTIMATE_FROM if estimate is None else estimate
    if fresh:
        start = utc(min(r.reported_at for r in fresh))
        if estimate:  # the open incidents, and a week more of reports to learn what "another problem" looks like
            since = start - dt.timedelta(hours=cfg.max_window_hours) - ESTIMATE_HISTORY
            history = _stored_items(repo.reports_since(since), lib)
        else:  # a few reports (a post): only what could be the same problem, as far as it can reach
            kinds = {(r.major, r.minor) for r in fresh}
            rules = cfg.duplicates
            related = cfg.related(kinds) if not rules.other_categories else cfg.every_category()
            reach = max(max(cfg.rule(*k).radius_m for k in related) * rules.reach, rules.far_m)
            # as far back as the windows reach, as the latest estimate read them (observed_windows)
            observed = (getattr(stored_model, "windows", None) or {}) if rules.window_estimated else {}
            since = start - dt.timedelta(
                hours=max(max(cfg.rule(*k).window_hours, observed_window(observed, k[0])) for k in related)
            )
            cells = sorted({c for p in placements if p.x is not None for c in cells_near(*_lonlat(lib, p), reach)})
            history = [
                _stored_item(s, lib)
                for s in repo.open_reports(since, cells, majors=sorted({k[0] for k in related}))
                if rules.other_categories or any(cfg.relation((s.major, s.minor), k) for k in kinds)
            ]
            # a report without a position: the open incidents' reports anywhere whose photo is its
            # photo forwarded (dedupe._photo_pairs); the rest of the district says nothing of it
            lost = [r.photo_hash for r, p in zip(fresh, placements) if p.x is None and r.photo_hash is not None]
            if lost and rules.photo_anywhere_bits:
                # as far as the latest estimate read the photos' same-scene range (photo_anywhere_estimated)
                bits = rules.photo_anywhere_bits
                if rules.photo_anywhere_estimated and stored_model is not None:
                    bits = max(bits, getattr(stored_model, "scene_range", None) or bits)
                seen = {h.report_no for h in history}
                history += [
                    _stored_item(s, lib)
                    for s in repo.open_reports(since)
                    if s.photo_hash
                    and s.report_no not in seen
                    and any((int(s.photo_hash, 16) ^ h).bit_count() <= bits for h in lost)
                ]
    learn = estimate and (explicit or stored is None or estimate_due(*repo.estimates_and_reports_since(), len(fresh)))
    outcome = detect(history + batch_items, cfg, stored_model, learn)
    res.model_estimated, res.candidate_pairs = outcome.estimated, outcome.candidate_pairs
    res.seconds.update({f"dedupe_{k}": round(v, 3) for k, v in outcome.seconds.items()})
    t2 = time.perf_counter()

    # apply the decisions in order of time; the reads first, then the writes (the write transaction
    # starts with the numbers' allocation and ends at the commit)
    by_no = {r.report_no: (r, p) for r, p in zip(fresh, placements)}
    joined_ids = {d.incident for d in outcome.decisions if d.incident and not d.incident.startswith("new:")}
    incidents = repo.incidents(joined_ids)
    also = {d.review["incident"] for d in outcome.decisions if d.review} | {
        k for d in outcome.decisions for other, target, _ in d.merges for k in (other, target)
    }
    incidents.update(repo.incidents({k for k in also if not k.startswith("new:")} - set(incidents)))
    new_per_day: dict[str, list[IncomingReport]] = {}
    for d in outcome.decisions:
        if d.incident is None:
            r = by_no[d.report_no][0]
            new_per_day.setdefault(r.reported_at.astimezone(CST).strftime("%Y%m%d"), []).append(r)
    ids: dict[str, str] = {}
    for day, rs in sorted(new_per_day.items()):
        first = repo.allocate_incident_numbers(day, len(rs))
        for k, r in enumerate(rs):
            ids[r.report_no] = incident_id(dt.date(int(day[:4]), int(day[4:6]), int(day[6:])), first + k)
    # a file is stored in short transactions of STORE_CHUNK reports, so that the app's posts get the
    # write lock in between; the file's log goes with the last one: a run stopped half-way takes the
    # file again, and the reports already stored are the same 编号 again (a no-op)
    chunked = file_log is not None
    if chunked and new_per_day:
        repo.commit()
    received_at = utc(now)

    def resolve(key: str) -> str:  # "new:<编号>": the incident that report opened earlier in this batch
        return ids[key[4:]] if key.startswith("new:") else key

    objects: list = []
    batch_reports: dict[str, list[Report]] = {}  # incident id -> this batch's reports in it
    for d in outcome.decisions:
        r, p = by_no[d.report_no]
        rule = cfg.rule(r.major, r.minor if r.minor_known else None)
        pos_lon = pos_lat = None
        if p.x is not None:
            lon, lat = lib.projection.lonlat(p.x, p.y)
            pos_lon, pos_lat = float(lon), float(lat)
        # a position that needed help (swapped back, placed by the address text) says so on the report
        # too: a report that joins an open incident does not open one to carry the queue's reason
        notes = list(r.notes) + [n for n in (p.note, p.queue_reason) if n and n not in r.notes]
        report = Report(
            report_no=r.report_no,
            reported_at=utc(r.reported_at),
            received_at=received_at,
            major=r.major,
            minor=r.minor,
            minor_known=r.minor_known,
            description=r.description,
            lon=r.lon if r.position_problem is None else None,
            lat=r.lat if r.position_problem is None else None,
            address_text=r.address_text,
            photo_hash=f"{r.photo_hash:016x}" if r.photo_hash is not None else None,
            reporter=r.reporter,
            source=r.source,
            source_file=r.source_file,
            source_row=r.source_row,
            pos_lon=pos_lon,
            pos_lat=pos_lat,
            placement=p.method,
            cell=cell_of(pos_lon, pos_lat),
            street_code=p.street_code,
            community_code=p.community_code,
            address_id=p.address_id,
            notes=notes_json(notes),
            match_probability=d.probability,
            match_explanation=json.dumps(d.explanation, ensure_ascii=False) if d.explanation else None,
        )
        if d.incident is not None:
            inc = incidents[resolve(d.incident)]
            report.incident_id = inc.id
            report.duplicate_of = inc.first_report_no
            inc.report_count += 1
            inc.last_report_at = max(inc.last_report_at, report.reported_at)
            inc.updated_at = received_at
            objects.append(
                IncidentEvent(
                    incident_id=inc.id,
                    at=received_at,
                    actor="system",
                    action="joined",
                    report_no=r.report_no,
                    internal_note=d.explanation["summary"] if d.explanation else None,
                )
            )
            res.merged += 1
        else:
            inc = _open_incident(
                ids[r.report_no], r, rule, cfg, received_at, p.street_code, p.community_code, p.queue_reason, p.note
            )
            inc.lon, inc.lat = pos_lon, pos_lat
            incidents[inc.id] = inc
            objects.append(inc)
            report.incident_id = inc.id
            objects.append(
                IncidentEvent(
                    incident_id=inc.id,
                    at=received_at,
                    actor="system",
                    action="created",
                    to_status=RECEIVED,
                    report_no=r.report_no,
                    internal_note=inc.queue_reason or inc.routing_note,
                )
            )
            res.incidents_opened += 1
            res.queued += inc.queue_reason is not None
            if d.review is not None:
                cand_id = resolve(d.review["incident"])
                cand = incidents.get(cand_id) or repo.incidents([cand_id]).get(cand_id)
                objects.append(
                    ReviewItem(
                        report_no=r.report_no,
                        incident_id=inc.id,
                        candidate_incident_id=cand_id,
                        candidate_report_no=d.review["report_no"],
                        department=cand.department if cand else inc.department,
                        probability=d.review["probability"],
                        explanation=json.dumps(d.review["explanation"], ensure_ascii=False),
                        created_at=received_at,
                    )
                )
                res.review += 1
        objects.append(report)
        batch_reports.setdefault(report.incident_id, []).append(report)
        res.taken.append(r.report_no)
        if r.id_assigned:
            res.id_assigned.append((r.source_row, next((n for n in r.notes if n.startswith(ID_ASSIGNED)), "")))
        if r.time_estimated:
            res.time_estimated.append((r.source_row, next((n for n in r.notes if n.startswith(TIME_ESTIMATED)), "")))
        res.incident_of[r.report_no] = report.incident_id
        for other_key, target_key, why in d.merges:
            objects += _merge(
                repo,
                incidents,
                batch_reports,
                resolve(other_key),
                resolve(target_key),
                r.report_no,
                why,
                received_at,
                res,
            )
        if chunked and len(res.taken) % STORE_CHUNK == 0:
            repo.add_all(objects)
            repo.commit()
            objects = []
    if outcome.splits:
        repo.add_all(objects)
        objects = []
        repo.session.flush()
        for sp in outcome.splits:
            objects += _split(repo, incidents, resolve(sp.incident), sp, cfg, received_at, res)
    if file_log is not None and file_log.id is None:
        repo.add(file_log)
        repo.session.flush()
    for rej in res.rejected:
        objects.append(
            RejectedRow(
                file_id=file_log.id if file_log is not None else None,
                source=incoming[0].source if incoming else "file",
                source_file=file_log.name if file_log is not None else None,
                source_row=rej.source_row,
                report_no=rej.report_no,
                code=rej.code,
                reason=rej.reason,
                raw=json.dumps(rej.raw, ensure_ascii=False),
                at=received_at,
            )
        )
    if outcome.estimated:
        objects.append(
            DedupeModel(estimated_at=received_at, pairs=outcome.candidate_pairs, model=model_to_json(outcome.model))
        )
    repo.add_all(objects)
    if file_log is not None:
        file_log.rows_taken = len(res.taken)
        file_log.rows_already = len(res.already) + file_log.rows_already
        file_log.rows_rejected = len(res.rejected)
        file_log.reports_queued = res.queued
        file_log.reports_merged = res.merged
        file_log.reports_review = res.review
    if commit:
        repo.commit()
    t3 = time.perf_counter()
    res.seconds.update({"read_place": round(t1 - t0, 3), "dedupe": round(t2 - t1, 3), "store": round(t3 - t2, 3)})
    return res


def _merge(repo, incidents, batch_reports, other_id, target_id, report_no, why, at, res) -> list:
    """Incident `other` is the same problem as the older `target` (a report is a sure duplicate of
    both): its reports join the target and it is closed as a duplicate. One a department has already
    taken up is not merged by the machine: the pair goes to review instead."""
    if other_id == target_id:
        return []
    other = incidents.get(other_id) or repo.incidents([other_id]).get(other_id)
    target = incidents.get(target_id) or repo.incidents([target_id]).get(target_id)
    if other is None or target is None:
        return []
    summary = why["summary"] if why else None
    if other.status != RECEIVED or target.status not in OPEN_STATES:
        res.review += 1
        return [
            ReviewItem(
                report_no=report_no,
                incident_id=other.id,
                candidate_incident_id=target.id,
                candidate_report_no=target.first_report_no,
                department=target.department,
                probability=why["probability"] if why else 0.0,
                explanation=json.dumps(why, ensure_ascii=False),
                created_at=at,
            )
        ]
    repo.add(target)  # a target opened in this batch must exist before stored reports point at it
    repo.session.flush()
    events = merge_into(
        repo.session,
        other,
        target,
        "system",
        at,
        f"与{target.id}为同一问题（{report_no}同时是两者的重复上报）：{summary}",
        report_no,
    )
    for rep in batch_reports.pop(other.id, []):  # this batch's reports, not stored yet
        rep.incident_id, rep.duplicate_of = target.id, target.first_report_no
        batch_reports.setdefault(target.id, []).append(rep)
    for no, iid in list(res.incident_of.items()):
        if iid == other.id:
            res.incident_of[no] = target.id
    res.incidents_merged += 1
    return events


def _split(repo, incidents, inc_id: str, sp, cfg: ReportsConfig, at: dt.datetime, res) -> list:
    """Reports found to be another problem than the rest of their incident (dedupe.split_incidents)
    open an incident of their own, numbered on the day of the first of them."""
    inc = resolve_merged(repo.session, inc_id)  # merged into another in this batch: that one
    if inc is None or inc.status not in OPEN_STATES:
        return []
    reports = sorted(
        repo.session.scalars(select(Report).where(Report.report_no.in_(sp.report_nos), Report.incident_id == inc.id)),
        key=lambda r: (r.reported_at, r.report_no),
    )
    if len(reports) < len(sp.report_nos):  # moved meanwhile (a merge of this batch): left as it is
        return []
    first = reports[0]
    day = first.reported_at.replace(tzinfo=dt.UTC).astimezone(CST).date()
    iid = incident_id(day, repo.allocate_incident_numbers(day.strftime("%Y%m%d"), 1))
    rule = cfg.rule(first.major, first.minor if first.minor_known else None)
    queued = first.street_code is None
    new = _open_incident(
        iid,
        first,
        rule,
        cfg,
        at,
        first.street_code,
        first.community_code,
        (inc.queue_reason or "位置不明") if queued else None,
    )
    new.lon, new.lat = first.pos_lon, first.pos_lat
    repo.add(new)
    repo.session.flush()
    note = (
        f"与该事件其余 {sp.stay} 条上报为同一问题的平均概率 {sp.mean:.2f}（低于 {cfg.duplicates.split_below:.2f}），"
        f"彼此为同一问题的平均概率 {sp.within:.2f}"
    )
    events = split_off(repo.session, inc, reports, new, "system", at, note)
    incidents[new.id] = new
    for r in reports:
        res.incident_of[r.report_no] = new.id
    res.incidents_split += 1
    return events


def _open_incident(
    iid: str,
    first,
    rule,
    cfg: ReportsConfig,
    at: dt.datetime,
    street_code: str | None,
    community_code: str | None,
    queue_reason: str | None,
    routing_note: str | None = None,
) -> Incident:
    """The incident `first` (an incoming or a stored report) opens; a queue reason sends it to the
    district's queue instead of the category's department."""
    return Incident(
        id=iid,
        major=first.major,
        minor=first.minor,
        department=cfg.district_queue.id if queue_reason is not None else rule.department,
        street_code=street_code,
        community_code=community_code,
        lon=None,
        lat=None,
        status=RECEIVED,
        first_report_no=first.report_no,
        report_count=1,
        opened_at=utc(first.reported_at),
        last_report_at=utc(first.reported_at),
        due_at=utc(first.reported_at + dt.timedelta(hours=rule.due_hours)),
        updated_at=at,
        queue_reason=queue_reason,
        routing_note=routing_note,
    )


def _same_as_stored(r: IncomingReport, s: Report) -> bool:
    photo = f"{r.photo_hash:016x}" if r.photo_hash is not None else None
    return (
        utc(r.reported_at) == s.reported_at
        and r.major == s.major
        and r.minor == s.minor
        and r.description == s.description
        and photo == s.photo_hash
        and r.address_text == s.address_text
    )


def _raw(r: IncomingReport) -> dict:
    return {
        "编号": r.report_no,
        "上报时间": r.reported_at.isoformat(),
        "大类": r.major,
        "小类": r.minor,
        "描述": r.description,
        "经度": r.raw_lon or "",
        "纬度": r.raw_lat or "",
        "地址": r.address_text,
        "照片指纹": f"{r.photo_hash:016x}" if r.photo_hash is not None else "",
        "上报人": r.reporter,
    }


def _lonlat(lib: AddressLibrary, p: Placement) -> tuple[float, float]:
    lon, lat = lib.projection.lonlat(p.x, p.y)
    return float(lon), float(lat)


# ---- files ------------------------------------------------------------------------------------


@dataclass
class FileOutcome:
    name: str
    status: str  # loaded | already | rejected
    message: str | None
    rows: int = 0
    result: TakeInResult | None = None
    seconds: float = 0.0


def import_file(
    path: Path, repo: SqlRepository, cfg: ReportsConfig, lib: AddressLibrary, *, name: str | None = None, now=None
) -> FileOutcome:
    """Take in one daily file. The same file again is a no-op; a file that cannot be read is logged
    as rejected with the reason."""
    t0 = time.perf_counter()
    name = name or Path(path).name
    now = now or dt.datetime.now(CST)
    try:
        parsed = read_report_file(Path(path), cfg, now=now, name=name)
    except ReportFileError as e:
        repo.add(
            ReportFileLog(name=name, sha256="", status="rejected", message=str(e), imported_at=utc(now), rows_read=0)
        )
        repo.commit()
        return FileOutcome(name, "rejected", str(e))
    if repo.file_taken(name, parsed.sha256):
        return FileOutcome(name, "already", "已导入（内容相同）", parsed.rows)
    log = ReportFileLog(
        name=name,
        sha256=parsed.sha256,
        status="loaded",
        message="; ".join(parsed.notes) or None,
        rows_read=parsed.rows,
        rows_already=parsed.repeated_in_file,
        imported_at=utc(now),
    )
    # the log is stored with the reports, in one short write at the end of take_in: nothing is written
    # while the reports are read, placed and compared (a write here would hold SQLite's write lock
    # through the whole comparison and stall the app's posts)
    result = take_in(parsed.reports, repo, cfg, lib, now=now, rejected=parsed.rejected, file_log=log, commit=False)
    log.seconds = round(time.perf_counter() - t0, 2)
    repo.commit()
    return FileOutcome(name, "loaded", log.message, parsed.rows, result, log.seconds)
