"""Load and validate citizen_reports/categories.yml (pydantic): categories, owners, duplicate rules.

Every problem is reported at once, each naming the file and the key (`categories.市政设施.radius_m:
…`); unknown keys are refused, so a typo does not silently fall back to a default.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from pipelines.yaml_models import StrictModel
from sharing.roles import ROLES_PATH

DEFAULT_PATH = Path(__file__).with_name("categories.yml")
# The six 大类 of 百姓拍 (seed 004; contracts.md "Citizen reports").
MAJOR_CATEGORIES = ("市政设施", "环境卫生", "综合执法", "渣土管理", "园林绿化", "工地管理")


class ReportsConfigError(ValueError):
    """The configuration is not usable; the message names the file and the key."""


class SubcategoryRule(StrictModel):
    department: str | None = None
    radius_m: float | None = Field(default=None, gt=0, le=5000)
    window_hours: float | None = Field(default=None, gt=0, le=24 * 90)
    due_hours: float | None = Field(default=None, gt=0, le=24 * 90)


class CategoryRule(StrictModel):
    department: str
    radius_m: float = Field(gt=0, le=5000)
    window_hours: float = Field(gt=0, le=24 * 90)
    due_hours: float = Field(gt=0, le=24 * 90)
    subcategories: dict[str, SubcategoryRule] = Field(min_length=1)


class DistrictQueue(StrictModel):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)


class Routing(StrictModel):
    max_distance_m: float = Field(gt=0)
    outside_district_m: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self):
        if self.outside_district_m < self.max_distance_m:
            raise ValueError("outside_district_m must be at least max_distance_m")
        return self


class Duplicates(StrictModel):
    accept: float = Field(gt=0, lt=1)
    merge: float = Field(gt=0, lt=1)
    review: float = Field(gt=0, lt=1)
    prior_strength: float = Field(ge=0)
    reach: float = Field(ge=1, le=5)
    other_categories: bool
    same_photo_bits: int = Field(ge=0, le=16)
    different_photo_bits: int = Field(default=64, ge=17, le=64)
    linkage: Literal["best", "average"] = "best"
    # with `average`: the mean of the best this many pairs within reach (0: of all of them)
    average_of: int = Field(default=0, ge=0)
    # the time between a report and an incident's earlier report: from that report ("pair") or from
    # the incident's latest report before it ("latest"; the window runs from there too)
    gap_from: Literal["pair", "latest"] = "pair"
    frequent_reporter: int = Field(default=10, ge=2)
    # metres: a report of the same or a sibling 小类 this far (beyond `reach` radii) is still compared
    # (a phone whose fix drifted); 0: not at all
    far_m: float = Field(default=0, ge=0, le=2000)
    # Hamming bits: a report without a usable position is also compared with the reports anywhere in
    # the district whose photo fingerprint is at most this far from its own (a forwarded photo); 0:
    # not at all
    photo_anywhere_bits: int = Field(default=0, ge=0, le=16)
    # Hamming bits: with `average`, a pair whose photos are at most this far apart (the same scene)
    # speaks for itself: the incident is judged by the better of the mean and that pair; 0: not at all
    scene_bits: int = Field(default=0, ge=0, le=16)
    # the pairs of scene_bits that speak for themselves so, when they are further apart than this
    # (0: all of them): only those whose category the scene left out, or that are at most
    # `scene_sure_hours` after the incident's latest report. A pair of one 小类 at the
    # very spot, its photos that far apart and a day later, may be the problem back at the same
    # spot (the same scene, another pothole): the incident's other reports have their say. Only
    # photos this close say where and when (scene_place_bits)
    scene_sure_bits: int = Field(default=0, ge=0, le=16)
    scene_sure_hours: float = Field(default=0.0, ge=0)
    # true: photo_anywhere_bits is the least; the range is read from the fingerprints in hand at
    # every estimate (dedupe.scene_range: up to where the pairs seen are mostly of one scene, not
    # chance), and stored with the weights for a single post
    photo_anywhere_estimated: bool = False
    # true: a report whose photo is `different_photo_bits` or more from the photos of most of the
    # incident's reports it was compared with (not only all of them) is not joined automatically
    different_photo_majority: bool = False
    # true: the pairs that are not one problem are of two kinds, estimated apart: another problem at
    # the same spot (placed, categorised and addressed as the same problem would be: a pothole
    # back after the repair, a second one beside it) and an unrelated one (dedupe.estimate)
    same_spot_class: bool = False
    # `accept` for a model estimated with `same_spot_class` (its posterior is against both kinds of
    # other problem: a pair at the very spot is less sure than two classes make it); the cold start
    # (two classes) keeps `accept`
    same_spot_accept: float = Field(default=0.95, gt=0, lt=1)
    # with same_spot_class: how far apart another problem of the kind lies ("tied": as the same
    # problem's reports, pooled with m; "measured": as the related pairs within reach outside the
    # window, held; "learned", started there and learned with the rest, measured and removed: field
    # 602 R .8264)
    same_spot_distance: Literal["tied", "measured"] = "tied"
    # true: beyond reach and up to far_m, a report is also compared with the reports of any other
    # category whose photo is within scene_bits of its own (one scene, filed elsewhere, drifted fix)
    far_scene: bool = False
    # after a batch: the reports of an incident it added to that are one problem among themselves
    # but whose pairs with the incident's other reports have a mean posterior below this leave it and
    # open an incident of their own (dedupe.split_incidents); 0: never
    split_below: float = Field(default=0.0, ge=0, lt=1)
    # at least this many reports leave together (one report alone is judged when it comes)
    split_min_reports: int = Field(default=2, ge=1)
    # where the photos say nothing of scenes (fingerprints that are not perceptual, few pairs with
    # photos on both sides, or weights that give a far photo no weight: dedupe.photos_tell_scenes),
    # these comparisons' u (how the levels fall for two different problems) stays as the reports in
    # hand measure it (dedupe.measure_u) instead of being re-estimated by EM with m
    held_u_without_photos: list[Literal["distance", "category"]] = Field(default_factory=list)
    # and these comparisons' m (how the levels fall for one problem) stays the cold start's
    # (dedupe.PRIOR_M), where EM would otherwise take "one 小类, alike words" for one problem
    held_m_without_photos: list[Literal["distance"]] = Field(default_factory=list)
    # true: a 大类's window is at least as long as the delivery shows its open problems' reports
    # coming (dedupe.observed_windows: the pairs whose photos show one scene), at most the longest
    # configured window
    window_estimated: bool = False

    @property
    def scene_place_bits(self) -> int:
        """Photos at most this far apart are one scene surely enough to say where and when too: a
        drifted fix beside them is left out, far_scene compares them, the observed windows read them
        (scene_sure_bits when set). Further, up to scene_bits, a photo says what the problem is (its
        category is left out) but not where: another export's photos of one problem lie 3-14 bits
        from its scene, and drifted pairs and windows read at 14 cost its slow months (plain-days)
        up to two points of F1."""
        return min(self.scene_sure_bits or self.scene_bits, self.scene_bits)

    @model_validator(mode="after")
    def _order(self):
        if self.review > self.accept:
            raise ValueError("review must not exceed accept")
        if self.merge < max(self.accept, self.same_spot_accept):
            raise ValueError("merge must not be below accept")
        if self.review > self.same_spot_accept:
            raise ValueError("review must not exceed same_spot_accept")
        if self.different_photo_bits <= self.same_photo_bits:
            raise ValueError("different_photo_bits must exceed same_photo_bits")
        if self.scene_bits and self.scene_sure_bits > self.scene_bits:
            raise ValueError("scene_sure_bits must not exceed scene_bits (0 turns both off)")
        return self


class _File(StrictModel):
    district: str
    district_queue: DistrictQueue
    routing: Routing
    duplicates: Duplicates
    categories: dict[str, CategoryRule]
    siblings: list[list[str]] = []


@dataclass(frozen=True)
class Rule:
    """What applies to one (大类, 小类): the 小类's overrides over its 大类."""

    major: str
    minor: str | None  # None: a 小类 the configuration does not list (compared within the 大类 only)
    department: str
    radius_m: float
    window_hours: float
    due_hours: float


@dataclass(frozen=True)
class ReportsConfig:
    path: Path
    district: str
    district_queue: DistrictQueue
    routing: Routing
    duplicates: Duplicates
    categories: dict[str, CategoryRule]
    sibling_groups: dict[tuple[str, str], frozenset[int]]  # (大类, 小类) -> the sibling groups it is in

    @property
    def max_radius_m(self) -> float:
        return max(self.rule(a, b).radius_m for a, c in self.categories.items() for b in c.subcategories)

    @property
    def max_window_hours(self) -> float:
        return max(self.rule(a, b).window_hours for a, c in self.categories.items() for b in c.subcategories)

    def rule(self, major: str, minor: str | None) -> Rule:
        cat = self.categories[major]
        sub = cat.subcategories.get(minor or "")
        if sub is None:
            return Rule(major, None, cat.department, cat.radius_m, cat.window_hours, cat.due_hours)
        return Rule(
            major,
            minor,
            sub.department or cat.department,
            sub.radius_m or cat.radius_m,
            sub.window_hours or cat.window_hours,
            sub.due_hours or cat.due_hours,
        )

    def departments(self) -> list[str]:
        out = {c.department for c in self.categories.values()}
        out |= {s.department for c in self.categories.values() for s in c.subcategories.values() if s.department}
        return sorted(out)

    def every_category(self) -> set[tuple[str, str]]:
        return {(major, minor) for major, cat in self.categories.items() for minor in cat.subcategories}

    def related(self, kinds) -> set[tuple[str, str]]:
        """The configured (大类, 小类) that could be the same problem as any of `kinds` (with `kinds`)."""
        out = set(kinds)
        for major, cat in self.categories.items():
            for minor in cat.subcategories:
                if any(self.relation((major, minor), k) for k in kinds):
                    out.add((major, minor))
        return out

    def major_of_minor(self, minor: str) -> str | None:
        """The one 大类 whose catalogue lists this 小类 (None: no 大类 lists it, or more than one does)."""
        majors = [major for major, cat in self.categories.items() if minor and minor in cat.subcategories]
        return majors[0] if len(majors) == 1 else None

    def siblings(self, a: tuple[str, str], b: tuple[str, str]) -> bool:
        return bool(self.sibling_groups.get(a, frozenset()) & self.sibling_groups.get(b, frozenset()))

    def relation(self, a: tuple[str, str], b: tuple[str, str]) -> str | None:
        """How two reports' categories relate: same 小类, sibling, same 大类, or not comparable (None).

        A 小类 the configuration does not list is compared by its text within its 大类."""
        if a == b:
            return "same"
        if self.siblings(a, b):
            return "sibling"
        if a[0] == b[0]:
            return "major"
        return None


def canonical_major(raw: str | None) -> str | None:
    """大类 as written in exports: full-width, spaces, a trailing 类 ('市政设施类')."""
    if raw is None:
        return None
    s = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
    if s.endswith("类") and s[:-1] in MAJOR_CATEGORIES:
        s = s[:-1]
    return s


def canonical_minor(raw: str | None) -> str:
    return unicodedata.normalize("NFKC", str(raw or "")).strip().replace(" ", "")


def _format(path: Path, e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        key = ".".join(str(p) for p in err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"  {path}: {key or '(top)'}: {msg}")
    return f"{path}: {len(lines)} problem(s):\n" + "\n".join(lines)


def _check(doc: _File, path: Path, known_departments: set[str] | None) -> dict[tuple[str, str], frozenset[int]]:
    errors: list[str] = []
    missing = [m for m in MAJOR_CATEGORIES if m not in doc.categories]
    extra = [m for m in doc.categories if m not in MAJOR_CATEGORIES]
    if missing:
        errors.append(f"categories: the six 大类 of 百姓拍 are required; missing {', '.join(missing)}")
    if extra:
        errors.append(f"categories: {', '.join(extra)} is not one of {', '.join(MAJOR_CATEGORIES)}")
    if known_departments is not None:
        for major, cat in doc.categories.items():
            owners = [("department", cat.department)] + [
                (f"subcategories.{m}.department", s.department) for m, s in cat.subcategories.items() if s.department
            ]
            for key, dep in owners:
                if dep not in known_departments:
                    errors.append(
                        f"categories.{major}.{key}: {dep!r} is not a role of sharing/roles.yml "
                        f"(known: {', '.join(sorted(known_departments))})"
                    )
    by_minor: dict[str, list[str]] = {}
    for major, cat in doc.categories.items():
        for minor in cat.subcategories:
            by_minor.setdefault(minor, []).append(major)
    group: dict[tuple[str, str], set[int]] = {}
    for gi, members in enumerate(doc.siblings):
        for j, name in enumerate(members):
            where = f"siblings.{gi}.{j}"
            if "/" in name:
                major, minor = name.split("/", 1)
                if minor not in doc.categories.get(major, CategoryRule.model_construct(subcategories={})).subcategories:
                    errors.append(f"{where}: {name} is not a 小类 of the configuration")
                    continue
            else:
                majors = by_minor.get(name, [])
                if len(majors) != 1:
                    errors.append(
                        f"{where}: {name} is "
                        + ("not a 小类 of the configuration" if not majors else f"a 小类 of {', '.join(majors)}")
                        + " (write 大类/小类)"
                    )
                    continue
                major, minor = majors[0], name
            group.setdefault((major, minor), set()).add(gi)
    if errors:
        raise ReportsConfigError(f"{path}: {len(errors)} problem(s):\n" + "\n".join(f"  {path}: {e}" for e in errors))
    return {k: frozenset(v) for k, v in group.items()}


def _role_ids() -> set[str]:
    """The roles of sharing/roles.yml (departments; street offices own places, not categories)."""
    doc = yaml.safe_load(ROLES_PATH.read_text(encoding="utf-8")) or {}
    return set((doc.get("roles") or {}).keys())


def department_names(cfg: ReportsConfig) -> dict[str, str]:
    """Role id → the body's name (sharing/roles.yml), and the district's queue."""
    doc = yaml.safe_load(ROLES_PATH.read_text(encoding="utf-8")) or {}
    names = {rid: str((r or {}).get("name") or rid) for rid, r in (doc.get("roles") or {}).items()}
    names[cfg.district_queue.id] = cfg.district_queue.name
    return names


def load_reports_config(path: Path | str | None = None, known_departments: set[str] | None = None) -> ReportsConfig:
    """Read and validate the file; `known_departments` defaults to the roles of sharing/roles.yml."""
    path = Path(path or DEFAULT_PATH)
    return _load(path.resolve(), frozenset(known_departments) if known_departments is not None else None)


@lru_cache(maxsize=8)
def _load(path: Path, known: frozenset[str] | None) -> ReportsConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ReportsConfigError(f"{path}: cannot be read: {e}") from None
    try:
        doc = _File.model_validate(raw)
    except ValidationError as e:
        raise ReportsConfigError(_format(path, e)) from None
    known_departments = set(known) if known is not None else _role_ids()
    known_departments.add(doc.district_queue.id)
    group = _check(doc, path, known_departments)
    return ReportsConfig(path, doc.district, doc.district_queue, doc.routing, doc.duplicates, doc.categories, group)
