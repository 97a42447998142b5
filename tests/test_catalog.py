"""The data catalog: configuration validated on load, coverage of what the hub holds, HTML, lineage."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from catalog.discover import Discovered, coverage_gaps, default_manifest_path, discover
from catalog.spec import ENTRIES_DIR, CatalogError, load_catalog


def test_catalog_loads_every_entry_with_the_required_metadata():
    cat = load_catalog()
    assert len(cat.entries) >= 50
    for e in cat.entries.values():
        assert e.code and e.name and e.provider and e.abstract and e.sharing_method and e.update_cycle
        if e.sharing_class == "不予共享":
            assert e.legal_basis
        if e.sharing_class == "有条件共享":
            assert e.conditions
    # raw entries take their provider department from the source specification
    assert cat.entries["raw.police_population"].provider == "公安"
    assert cat.entries["raw.civil_affairs_assistance"].provider == "民政"
    assert all(e.sharing_class == "不予共享" for d, e in cat.entries.items() if d.startswith(("raw.", "matching.")))
    assert "quality.finding" in cat.entries and "reports.street_worklists" in cat.entries
    # secrets, audit records and work tables are never shared; aid lists only on conditions
    for d in ("quality.worklist_key", "quality.correction_audit", "targeting.tgt_person_facts"):
        assert cat.entries[d].sharing_class == "不予共享" and cat.entries[d].legal_basis
    assert cat.entries["scenario.match"].sharing_class == "有条件共享"
    assert cat.grade_of("scenario.match", "reason").grade == "L4"
    assert cat.grade_of("quality.override", "new_value").mask == "hide"


def test_field_grades_resolve_by_data_element_and_override():
    cat = load_catalog()
    assert cat.grade_of("master.person", "id_number").grade == "L4"
    assert cat.grade_of("master.person", "id_number").mask == "id_number"
    assert cat.grade_of("master.person", "aid_certificate_no").mask == "hide"
    # derived names: head_ qualifier, _raw / _b suffixes
    assert cat.grade_of("staging.stg_civil_affairs_assistance", "head_id_number_raw").grade == "L4"
    assert cat.grade_of("matching.int_person_review_queue", "name_b").mask == "name"
    assert cat.grade_of("staging.stg_police_population", "residence_address_key").mask == "address"
    # a shop's name is not a person's name
    assert cat.grade_of("master.shop", "name").grade == "L1"
    assert cat.grade_of("master.person", "name").grade == "L3"
    # a new element is not graded by accident
    assert cat.grade_of("master.person", "disability_status") is None
    assert cat.grade_of("master.person", "aid_status") is None


def _write(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "entries"
    d.mkdir()
    (d / "x.yml").write_text(text, encoding="utf-8")
    return d


def test_invalid_entries_are_reported_all_at_once_with_file_and_dataset(tmp_path):
    entries = _write(
        tmp_path,
        """
datasets:
  master.a:
    code: CH-X-001
    name: A
    provider: P
    abstract: a
    sharing_class: 不予共享
    sharing_method: none
    open_attribute: 不予开放
    update_cycle: 每月
  master.b:
    code: CH-X-001
    name: B
    provider: P
    abstract: b
    sharing_class: 有条件共享
    sharing_method: 库表
    open_attribute: 不予开放
    update_cycle: 每月
    fields: {x: {grade: L5}, y: {grade: L3}}
  master.c: {code: bad code, name: C, provider: P, abstract: c, sharing_class: 随便共享,
             sharing_method: m, open_attribute: 不予开放, update_cycle: 每月, colour: red}
""",
    )
    with pytest.raises(CatalogError) as e:
        load_catalog(entries_dir=entries)
    text = str(e.value)
    assert "x.yml: master.a: 不予共享 requires a legal_basis" in text
    assert "x.yml: master.b: 有条件共享 requires the sharing conditions" in text
    assert "x.yml: master.b: fields.x: grade 'L5' is not one of L1, L2, L3, L4" in text
    assert "x.yml: master.b: fields.y: a L3 field must say how it is masked" in text
    assert "x.yml: master.c: sharing_class: sharing_class '随便共享'" in text
    assert "x.yml: master.c: code: resource code 'bad code'" in text
    assert "x.yml: master.c: colour: unknown key" in text


def test_data_elements_errors_name_the_file_and_the_key(tmp_path):
    elements = tmp_path / "data_elements.yml"
    elements.write_text(
        "rules: {same_as_base_suffixes: [_raw], qualifer_prefixes: [head_]}\n"
        "elements:\n  id_number: {grade: L4}\n  name: {grade: L2, mask: name}\n  phone: {grade: L3, mask: phone, colour: red}\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as e:
        load_catalog(elements_path=elements)
    text = str(e.value)
    assert "data_elements.yml: rules.qualifer_prefixes: unknown key" in text
    assert "data_elements.yml: elements.id_number: a L4 field must say how it is masked" in text
    assert "data_elements.yml: elements.name: a L2 field is shown as is" in text
    assert "data_elements.yml: elements.phone.colour: unknown key" in text


def test_a_dataset_without_entry_or_a_field_without_grade_is_a_named_gap():
    cat = load_catalog()
    found = Discovered()
    found.columns = {
        "master.person": [("person_id", "VARCHAR"), ("disability_status", "VARCHAR")],
        "quality.unlisted_notes": [("finding_id", "VARCHAR")],
    }
    for d in found.columns:
        found.add(d, "duckdb")
    found.add("scenario.aid_list", "dagster")
    gaps = {(g.dataset, g.field) for g in coverage_gaps(cat, found)}
    assert gaps == {
        ("master.person", "disability_status"),
        ("quality.unlisted_notes", None),
        ("scenario.aid_list", None),
    }


@pytest.mark.slow
def test_catalog_covers_everything_the_hub_holds_with_types_and_lineage(hub_run):
    from pipelines.definitions import build_definitions

    _inbox, db, summary = hub_run
    cat = load_catalog()
    with duckdb.connect(str(db), read_only=True) as con:
        found = discover(con, default_manifest_path(), build_definitions().resolve_asset_graph(), cat)
    assert coverage_gaps(cat, found) == []
    # every kind of source was consulted
    assert "duckdb" in found.found_in["master.person"] and "dagster" in found.found_in["master.person"]
    assert {"duckdb", "dbt", "dagster"} <= found.found_in["staging.stg_police_population"]
    # types come from DuckDB, lineage from dbt and Dagster
    assert dict(found.columns["master.person"])["birth_date"] == "DATE"
    assert "raw.police_population" in found.upstream["staging.stg_police_population"]
    assert "matching.int_person_clusters" in found.upstream["master.person"]
    assert "reports.data_catalog" in found.upstream["reports.role_publications"]
    # every scenario asset writes scenario.match and is catalogued there (metadata civichub/dataset)
    assert "dagster" in found.found_in["scenario.match"] and "targeting.aid_screening" not in found.found_in
    assert {"master.person", "targeting.tgt_person_facts"} <= found.upstream["scenario.match"]
    assert "quality.finding" in found.upstream["reports.street_worklists"]
    # the job wrote the HTML catalog beside the database, and its check passed
    site = db.parent / "out" / "catalog"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "CH-MD-001" in index and "人员主数据" in index and "目录检查不通过" not in index
    page = (site / "master.person.html").read_text(encoding="utf-8")
    assert "DATE" in page and "L4" in page and "matching.int_person_clusters" in page
    assert len(list(site.glob("*.html"))) == len(cat.entries) + 1
    assert not [c for d in summary.deliveries for c in d.failed_checks if c.startswith("catalog/")]


@pytest.mark.slow
def test_a_catalog_gap_fails_the_check_and_the_cli(hub_run, tmp_path, capsys):
    """An uncatalogued table and an ungraded field fail the Dagster check (blocking publishing)."""
    from dagster import DagsterInstance, materialize

    from pipelines.assets.sharing import CATALOG_KEY
    from pipelines.cli import main
    from pipelines.definitions import build_definitions
    from pipelines.resources import HubResource

    _inbox, db, _ = hub_run
    copy = tmp_path / "hub.duckdb"
    shutil.copy(db, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("create schema if not exists quality")
        con.execute("create table quality.unlisted_notes (finding_id varchar, decided_by varchar)")
        con.execute("alter table master.person add column disability_status varchar")

    assert main(["catalog", "--db", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "quality.unlisted_notes (duckdb): no catalog entry" in out
    assert "master.person.disability_status (duckdb): field without a grade" in out

    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("delivery", ["2026-11"])
    catalog_asset = build_definitions().get_assets_def(CATALOG_KEY)
    result = materialize(
        [catalog_asset],
        partition_key="2026-11",
        instance=instance,
        raise_on_error=False,
        resources={"hub": HubResource(inbox=str(tmp_path), db_path=str(copy))},
    )
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 1 and not checks[0].passed
    assert "quality.unlisted_notes" in checks[0].description
    assert "master.person.disability_status" in checks[0].description
    html = (tmp_path / "out" / "catalog" / "index.html").read_text(encoding="utf-8")
    assert "目录检查不通过" in html and "quality.unlisted_notes" in html


def test_entries_dir_is_the_package_folder():
    assert ENTRIES_DIR.is_dir() and any(ENTRIES_DIR.glob("*.yml"))
