"""A 排摸 checklist: the questions a worker answers at the door, validated by pydantic.

    checklist = load_checklist(Path("checklist.yml"))      # ChecklistError names the file, key and problem
    checklist.visible(answers)                              # the questions shown, given the answers so far
    problems = checklist.check(answers)                     # {question id: 问题} — empty when the row may be saved

YAML:

    title: 重点地区来沪人员排摸
    questions:
      - id: at_home            # letters, digits, _ (the export's column name)
        text: 本人是否在家
        type: yes_no           # single | multiple | text | number | date | yes_no
        required: true
      - id: back_date
        text: 返沪日期
        type: date
        required: true
        show_if: {question: at_home, equals: 是}      # or `in: [..]` for several answers

A hidden question (its condition unmet) is never required and its answer is dropped on save, so the
report never holds an answer to a question the worker did not see (seed 000: 确保不漏项).
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, field_validator, model_validator

from normalize.dates import parse_date
from pipelines.yaml_models import StrictModel, read_yaml, validate

QUESTION_TYPES = ("single", "multiple", "text", "number", "date", "yes_no")
TYPE_LABELS = {
    "single": "单选",
    "multiple": "多选",
    "text": "文字",
    "number": "数字",
    "date": "日期",
    "yes_no": "是/否",
}
YES_NO = ("是", "否")
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
RESERVED_IDS = {"source_row", "street_code", "community_code", "match_status", "person_id", "household_id",
                "status", "reason"}  # fmt: skip


class ChecklistError(ValueError):
    pass


class Condition(StrictModel):
    question: str
    equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")

    @model_validator(mode="after")
    def _one(self):
        if (self.equals is None) == (self.in_ is None):
            raise ValueError("give exactly one of `equals` or `in`")
        return self

    @property
    def values(self) -> list[str]:
        return [self.equals] if self.equals is not None else list(self.in_ or [])

    def met(self, answer: object) -> bool:
        if answer is None or answer == "" or answer == []:
            return False
        given = answer if isinstance(answer, list) else [answer]
        return any(str(a) in self.values for a in given)


class Question(StrictModel):
    id: str
    text: str = Field(min_length=1, max_length=200)
    type: Literal["single", "multiple", "text", "number", "date", "yes_no"]
    required: bool = False
    options: list[str] = []
    show_if: Condition | None = None
    help: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("letters, digits and _ only, starting with a letter (it names the export's column)")
        if v in RESERVED_IDS:
            raise ValueError(f"`{v}` is a column of the export already; choose another id")
        return v

    @model_validator(mode="after")
    def _options(self):
        if self.type in ("single", "multiple"):
            if len(self.options) < 2:
                raise ValueError(f"a {self.type} question needs at least two options")
            if len(set(self.options)) != len(self.options):
                raise ValueError("options repeat")
        elif self.options and self.type != "yes_no":
            raise ValueError(f"a {self.type} question takes no options")
        return self

    @property
    def choices(self) -> list[str]:
        return list(YES_NO) if self.type == "yes_no" else list(self.options)

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.type]


class Checklist(StrictModel):
    title: str | None = None
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self):
        seen: dict[str, Question] = {}
        for i, q in enumerate(self.questions):
            if q.id in seen:
                raise ValueError(f"questions.{i}: id `{q.id}` is used twice")
            if q.show_if is not None:
                ref = seen.get(q.show_if.question)
                if ref is None:
                    raise ValueError(
                        f"questions.{i} ({q.id}): show_if names `{q.show_if.question}`, "
                        "which is not an earlier question"
                    )
                if ref.choices:
                    unknown = [v for v in q.show_if.values if v not in ref.choices]
                    if unknown:
                        raise ValueError(
                            f"questions.{i} ({q.id}): show_if value {unknown} is not an option of `{ref.id}` "
                            f"({'/'.join(ref.choices)})"
                        )
            seen[q.id] = q
        return self

    @property
    def ids(self) -> list[str]:
        return [q.id for q in self.questions]

    def visible(self, answers: dict) -> list[Question]:
        """The questions shown given the answers: a question whose condition's question is hidden is hidden too."""
        shown: dict[str, bool] = {}
        out = []
        for q in self.questions:
            ok = q.show_if is None or (
                shown.get(q.show_if.question, False) and q.show_if.met(answers.get(q.show_if.question))
            )
            shown[q.id] = ok
            if ok:
                out.append(q)
        return out

    def clean(self, answers: dict) -> tuple[dict, dict[str, str]]:
        """(answers kept, problems): each visible answer checked against its type; hidden answers dropped;
        a visible required question without an answer is a problem (确保不漏项)."""
        kept: dict = {}
        problems: dict[str, str] = {}
        for q in self.visible(answers):
            raw = answers.get(q.id)
            value, problem = _coerce(q, raw)
            if problem:
                problems[q.id] = problem
            elif value is None or value == [] or value == "":
                if q.required:
                    problems[q.id] = "必答题，请填写"
            else:
                kept[q.id] = value
        return kept, problems

    def check(self, answers: dict) -> dict[str, str]:
        return self.clean(answers)[1]


def _coerce(q: Question, raw: object) -> tuple[object, str | None]:
    if raw is None:
        return None, None
    if q.type == "multiple":
        values = [str(v).strip() for v in (raw if isinstance(raw, list) else [raw]) if str(v).strip()]
        bad = [v for v in values if v not in q.options]
        if bad:
            return None, f"不是可选项：{'、'.join(bad)}"
        return [o for o in q.options if o in values], None
    s = str(raw).strip()
    if not s:
        return None, None
    if q.type in ("single", "yes_no"):
        return (s, None) if s in q.choices else (None, f"请从 {'/'.join(q.choices)} 中选择")
    if q.type == "number":
        try:
            n = float(s)
        except ValueError:
            return None, "请填写数字"
        return (int(n) if n.is_integer() else n), None
    if q.type == "date":
        d = parse_date(s)
        if d is None:
            return None, "请填写日期（如 2026-12-03）"
        if d > _dt.date.today() + _dt.timedelta(days=3650):
            return None, "日期不合理"
        return d.isoformat(), None
    if len(s) > 2000:
        return None, "文字过长（最多 2000 字）"
    return s, None


def parse_checklist(text: str, where: str = "checklist") -> Checklist:
    """A checklist from YAML text (the page's editor or a file); ChecklistError lists every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ChecklistError(f"{where}: not valid YAML: {e}") from None
    if isinstance(raw, list):  # a bare list of questions
        raw = {"questions": raw}
    if not isinstance(raw, dict):
        raise ChecklistError(f"{where}: expected a mapping with `questions:` (a list of questions)")
    return validate(Checklist, raw, where, ChecklistError)


def load_checklist(path: Path) -> Checklist:
    raw = read_yaml(Path(path), ChecklistError)
    if isinstance(raw, list):
        raw = {"questions": raw}
    return validate(Checklist, raw, str(path), ChecklistError)
