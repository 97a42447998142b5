"""Sharing by permission: roles config, masking, per-role published files, the query gateway, audit.

The published files are those the job wrote for the session's `hub_run` district; every check here
is made against the hub database independently of the publishing code (no row outside the role's
street, no L3/L4 value in clear where the role is not granted it, nothing 不予共享).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from catalog.spec import NOT_SHARED, load_catalog
from sharing import audit
from sharing.masking import mask_values_sql as mask_values
from sharing.roles import RolesError, load_roles, streets_from

CORPUS = yaml.safe_load((Path(__file__).with_name("gateway_refusals.yml")).read_text(encoding="utf-8"))
_ID = re.compile(r"\d{17}[\dXx]")
_MOBILE = re.compile(r"1[3-9]\d{9}")


# --------------------------------------------------------------------------------- pure functions
def test_masks_follow_the_conventions():
    assert mask_values("id_number", ["310104199001011234", None]) == ["310104********1234", None]
    assert mask_values("phone", ["13812341234"]) == ["138****1234"]
    assert mask_values("name", ["张三", "张三丰", "欧阳娜娜", "李"]) == ["张*", "张**", "欧阳**", "李*"]
    assert mask_values("address", ["上海市静安区柳营路669弄14号1102室"]) == ["上海市静安区柳营路****"]
    assert mask_values("birth_year", ["1988-10-29"]) == ["1988-**-**"]
    assert mask_values("text", ["号码310104199001011234，电话13812341234"]) == [
        "号码310104********1234，电话138****1234"
    ]


def _roles_file(tmp_path, text: str) -> Path:
    p = tmp_path / "roles.yml"
    p.write_text(text, encoding="utf-8")
    return p


def test_roles_config_refuses_unshareable_grants_and_names_the_role(tmp_path):
    cat = load_catalog()
    path = _roles_file(
        tmp_path,
        """
roles:
  leaky:
    name: 某局
    department: 某
    purpose: 测试
    scope: district
    grants:
      raw.police_population: {}
      master.nonexistent: {}
      master.person: {unmasked: id_number}
  Bad-Id: {name: x, department: x, purpose: x, scope: district}
street_offices:
  id: street_{street_code}
  name: "{street_name}"
  department: 街道
  purpose: 测试
  scope: street
  grants:
    master.id_sequence: {}
    review.person_decisions: {}
""",
    )
    with pytest.raises(RolesError) as e:
        load_roles(cat, path)
    text = str(e.value)
    assert "role leaky: grant raw.police_population: raw.police_population is 不予共享" in text
    assert "role leaky: grant master.nonexistent: no catalog entry" in text
    assert "role leaky: grant master.person: unmasked: Input should be a valid list" in text
    assert "role Bad-Id: a role id is lower-case" in text
    assert "street_offices: grant master.id_sequence: master.id_sequence is 不予共享" in text


def test_demo_roles_cover_the_departments_and_expand_one_role_per_street():
    cat = load_catalog()
    cfg = load_roles(cat)
    assert {r.department for r in cfg.roles.values()} >= {"民政", "公安", "市场监管", "城管", "人社"}
    roles = cfg.expand([("310106012000", "南京西路街道"), ("310106101000", "彭浦镇")])
    assert roles["street_310106012000"].scope == "street"
    assert roles["street_310106012000"].street_code == "310106012000"
    for role in roles.values():
        assert all(cat.entries[d].sharing_class != NOT_SHARED for d in role.datasets(cat))


# --------------------------------------------------------------------------------- published files
@pytest.fixture(scope="module")
def published(hub_run):
    _inbox, db, summary = hub_run
    assert summary.ok
    cat = load_catalog()
    with duckdb.connect(str(db), read_only=True) as con:
        roles = load_roles(cat).expand(streets_from(con))
    return db, cat, roles


def _tables(role_db: Path) -> dict[str, list[str]]:
    with duckdb.connect(str(role_db), read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() order by ordinal_position"
        ).fetchall()
    out: dict[str, list[str]] = {}
    for s, t, c in rows:
        out.setdefault(f"{s}.{t}", []).append(c)
    return out


@pytest.mark.slow
def test_every_role_has_its_files_and_nothing_unshareable(published):
    db, cat, roles = published
    root = db.parent / "out" / "published"
    assert len(roles) == 8 + 14  # 7 departments, the public shop pages; the demo district (jingan) has 14 streets
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == sorted(roles)
    in_hub = _tables_in_hub(db)
    for rid in roles:
        folder = root / rid
        tables = _tables(folder / f"{rid}.duckdb")
        parquet = {p.stem for p in folder.glob("*.parquet")}
        assert set(tables) - {"about.fields"} == parquet, rid
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["role"] == rid
        for name in parquet:
            entry = cat.entries[name]
            assert entry.sharing_class != NOT_SHARED, (rid, name)
            assert not name.startswith(("raw.", "matching.", "review.")) and name != "ingest.quarantine"
        # what the role receives is what roles.yml and the catalog say, no more
        expected = {d for d in roles[rid].datasets(cat) if d in in_hub}
        assert parquet == expected, rid


def _tables_in_hub(db: Path) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
            ).fetchall()
        }


@pytest.mark.slow
def test_street_offices_see_no_row_outside_their_street(published):
    db, _cat, roles = published
    root = db.parent / "out" / "published"
    streets = [r for r in roles.values() if r.scope == "street"]
    with duckdb.connect(str(db), read_only=True) as hub:
        persons_total = hub.execute("select count(*) from master.person").fetchall()[0][0]
        persons_placed = 0
        for role in streets:
            code = role.street_code
            households = {
                r[0]
                for r in hub.execute(
                    "select household_id from master.household where street_code = ?", [code]
                ).fetchall()
            }
            persons = {
                r[0]
                for r in hub.execute(
                    "select p.person_id from master.person p join master.household h using (household_id) "
                    "where h.street_code = ?",
                    [code],
                ).fetchall()
            }
            shops = {
                r[0] for r in hub.execute("select shop_code from master.shop where street_code = ?", [code]).fetchall()
            }
            with duckdb.connect(str(root / role.id / f"{role.id}.duckdb"), read_only=True) as pub:

                def col(sql):
                    return [r[0] for r in pub.execute(sql).fetchall()]

                assert set(col("select household_id from master.household")) == households, role.id
                assert set(col("select person_id from master.person")) == persons, role.id
                assert set(col("select household_id from master.household_member")) <= households, role.id
                assert set(col("select shop_code from master.shop")) == shops, role.id
                assert set(col("select shop_code from master.shop_inspection")) <= shops, role.id
                assert set(col("select street_code from staging.stg_standard_addresses")) <= {code}, role.id
                persons_placed += len(persons)
        assert persons_placed > 0.9 * persons_total  # nearly everyone lives in some street of the district
    # a department sees the whole district
    with duckdb.connect(str(root / "minzheng" / "minzheng.duckdb"), read_only=True) as pub:
        assert pub.execute("select count(*) from master.person").fetchall()[0][0] == persons_total


@pytest.mark.slow
def test_no_role_sees_a_sensitive_field_in_clear_unless_granted(published):
    db, cat, roles = published
    root = db.parent / "out" / "published"
    checked_masked = checked_clear = 0
    with duckdb.connect(str(db), read_only=True) as hub:
        originals: dict[tuple[str, str], set[str]] = {}

        def original(dataset: str, column: str) -> set[str]:
            if (dataset, column) not in originals:
                s, t = dataset.split(".")
                originals[(dataset, column)] = {
                    str(r[0])
                    for r in hub.execute(
                        f'select distinct "{column}" from "{s}"."{t}" where "{column}" is not null'
                    ).fetchall()
                    if str(r[0]).strip()
                }
            return originals[(dataset, column)]

        for rid, role in sorted(roles.items()):
            role_db = root / rid / f"{rid}.duckdb"
            with duckdb.connect(str(role_db), read_only=True) as pub:
                for dataset, columns in _tables(role_db).items():
                    if dataset == "about.fields":
                        continue
                    for column in columns:
                        g = cat.grade_of(dataset, column)
                        assert g is not None, (rid, dataset, column)
                        s, t = dataset.split(".")
                        values = {
                            str(r[0])
                            for r in pub.execute(
                                f'select distinct "{column}" from "{s}"."{t}" where "{column}" is not null'
                            ).fetchall()
                            if str(r[0]).strip()
                        }
                        if not g.sensitive:
                            continue
                        if column in role.unmasked(dataset):
                            assert values <= original(dataset, column), (rid, dataset, column)
                            checked_clear += 1
                            continue
                        assert g.mask != "hide", f"{rid}: {dataset}.{column} should not be published"
                        if g.mask == "text":
                            assert not any(_ID.search(v) or _MOBILE.search(v) for v in values), (rid, dataset, column)
                        else:
                            leaked = values & original(dataset, column)
                            assert not leaked, f"{rid}: {dataset}.{column} shows {len(leaked)} value(s) in clear"
                            assert all("*" in v for v in values), (rid, dataset, column)
                        checked_masked += 1
                # hidden sensitive fields are absent altogether, e.g. aid status for 人社 and 公安
                person_cols = _tables(role_db).get("master.person", [])
                if person_cols and "aid_certificate_no" not in role.unmasked("master.person"):
                    assert "aid_certificate_no" not in person_cols and "on_elderly_alone_list" not in person_cols, rid
    assert checked_masked > 50 and checked_clear > 20
    # spot check: a granted role sees the value itself, another the masked form
    with duckdb.connect(str(root / "gongan" / "gongan.duckdb"), read_only=True) as pub:
        clear = pub.execute("select id_number from master.person where id_number is not null limit 1").fetchall()[0][0]
    with duckdb.connect(str(root / "renshe" / "renshe.duckdb"), read_only=True) as pub:
        masked = pub.execute(
            "select id_number from master.person where id_number like ? limit 1", [clear[:6] + "%" + clear[-4:]]
        ).fetchall()[0][0]
    assert _ID.fullmatch(clear) and masked == clear[:6] + "*" * 8 + clear[-4:]


# --------------------------------------------------------------------------------- gateway + audit
def _other_view(cat, roles, rid: str, db: Path) -> str:
    mine = set(roles[rid].datasets(cat))
    hub = _tables_in_hub(db)
    return sorted(
        d for d, e in cat.entries.items() if e.shareable and e.kind == "table" and d in hub and d not in mine
    )[0]


@pytest.mark.slow
def test_gateway_refuses_the_corpus_allows_selects_and_audits_every_attempt(published, tmp_path):
    from sharing.gateway import run_query

    db, cat, roles = published
    log = tmp_path / "audit.jsonl"
    attempts = 0
    street = sorted(r for r in roles if r.startswith("street_"))[0]
    for rid in (street, "renshe", "chengguan"):
        other = _other_view(cat, roles, rid, db)
        for case in CORPUS:
            sql = case["sql"].replace("{other}", other)
            r = run_query(rid, sql, db_path=db, audit_path=log)
            attempts += 1
            assert not r.allowed and r.outcome == "refused", (rid, sql, r.reason)
            assert case["reason"] in r.reason, (rid, sql, r.reason)
            assert r.rows == []

    # allowed: plain SELECTs, CTEs, joins, unions over the role's views, with the row limit
    ok = [
        ("select count(*) as n from master.person", None),
        (
            "with h as (select household_id from master.household) select count(*) from master.person join h using (household_id)",
            None,
        ),
        ("select person_id from master.person union all select household_id from master.household", None),
        ("select * from about.fields where dataset = 'master.person'", None),
        ("from master.person select name limit 3", 3),
    ]
    for sql, n in ok:
        r = run_query(street, sql, db_path=db, audit_path=log)
        attempts += 1
        assert r.allowed, (sql, r.reason)
        if n is not None:
            assert len(r.rows) == n
    r = run_query("minzheng", "select * from master.person", db_path=db, audit_path=log, limit=7)
    attempts += 1
    assert r.allowed and len(r.rows) == 7 and r.truncated
    r = run_query("renshe", "select aid_certificate_no from master.person", db_path=db, audit_path=log)
    attempts += 1
    assert not r.allowed and r.outcome == "failed" and "aid_certificate_no" in r.reason
    r = run_query("no_such_role", "select 1", db_path=db, audit_path=log)
    attempts += 1
    assert not r.allowed and "unknown role" in r.reason

    # the audit log holds exactly one record per attempt, chained, with masked statements
    records = audit.read(log)
    assert len(records) == attempts
    assert [r["seq"] for r in records] == list(range(1, attempts + 1))
    assert all(r["role"] and r["time"] and r["outcome"] in ("allowed", "refused", "failed") for r in records)
    assert all((r["outcome"] == "allowed") == (r["reason"] is None) for r in records)
    assert records[-3]["rows_returned"] == 7
    assert audit.verify(log).ok and audit.verify(log).records == attempts


def test_audit_log_masks_identifiers_and_detects_tampering(tmp_path):
    log = tmp_path / "audit.jsonl"
    for i in range(5):
        audit.append(
            log,
            role="minzheng",
            statement=f"select * from master.person where id_number = '31010419900101123{i}'",
            outcome="allowed",
            rows_returned=i,
            reason=None,
        )
    text = log.read_text(encoding="utf-8")
    assert "310104199001011230" not in text and "310104********1230" in text
    assert audit.verify(log).ok and audit.head(log)[0] == 5
    lines = text.splitlines()

    altered = tmp_path / "altered.jsonl"
    rec = json.loads(lines[2])
    rec["rows_returned"] = 999
    altered.write_text(
        "\n".join(lines[:2] + [json.dumps(rec, ensure_ascii=False)] + lines[3:]) + "\n", encoding="utf-8"
    )
    v = audit.verify(altered)
    assert not v.ok and v.line == 3 and "altered" in v.problem

    removed = tmp_path / "removed.jsonl"
    removed.write_text("\n".join(lines[:1] + lines[2:]) + "\n", encoding="utf-8")
    v = audit.verify(removed)
    assert not v.ok and v.line == 2


@pytest.mark.slow
def test_cli_query_prints_rows_and_refuses_with_reason(published, capsys, tmp_path):
    from pipelines.cli import main

    db, _cat, _roles = published
    copy_dir = tmp_path / "hub"
    shutil.copytree(db.parent / "out" / "published", copy_dir / "out" / "published")
    (copy_dir / "hub.duckdb").write_bytes(b"")  # the gateway reads only the published files
    target = copy_dir / "hub.duckdb"
    assert (
        main(
            [
                "query",
                "--db",
                str(target),
                "--role",
                "renshe",
                "--limit",
                "2",
                "select name, id_number from master.person",
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    assert "********" in out.out and "2 row(s)" in out.err and "row limit 2 reached" in out.err
    assert main(["query", "--db", str(target), "--role", "renshe", "select * from read_csv('/etc/passwd')"]) == 2
    assert "refused (renshe): " in (err := capsys.readouterr().err) and "read_csv() is not allowed" in err
    assert main(["audit", "--db", str(target), "--tail", "0"]) == 0
    assert "2 record(s), hash chain intact" in capsys.readouterr().out


def test_a_role_file_swapped_in_is_read_again_for_its_views(tmp_path):
    # allowed_views keeps each version of a role's file; a publication swaps a new file in at the same
    # path, and its views (one more, one fewer) are what the next query is checked against
    from sharing.gateway import allowed_views

    def role_file(path: Path, tables: list[str]) -> None:
        with duckdb.connect(str(path)) as con:
            for name in tables:
                schema, table = name.split(".")
                con.execute(f"create schema if not exists {schema}")
                con.execute(f"create table {schema}.{table} as select 1 as n")

    live = tmp_path / "street_x.duckdb"
    role_file(live, ["master.person", "quality.finding"])
    assert allowed_views(live) == {"master.person", "quality.finding"}
    new = tmp_path / "next.duckdb"
    role_file(new, ["master.person", "master.household"])
    new.replace(live)
    assert allowed_views(live) == {"master.person", "master.household"}
