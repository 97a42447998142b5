"""Publishing rebuilds only the roles whose data or grants changed (the rest keep their files)."""

from __future__ import annotations

import shutil

import duckdb
import pytest

pytestmark = pytest.mark.slow


def test_unchanged_roles_are_kept_and_a_changed_row_rebuilds_the_roles_that_receive_it(hub_run, tmp_path):
    from catalog.spec import load_catalog
    from sharing.publish import publish_all
    from sharing.roles import load_roles, streets_from

    _inbox, session_db, _ = hub_run
    db = tmp_path / "hub.duckdb"
    shutil.copy(session_db, db)
    out = tmp_path / "published"
    catalog = load_catalog()
    con = duckdb.connect(str(db))
    try:
        roles = load_roles(catalog).expand(streets_from(con))
        first = publish_all(con, catalog, roles, out)
        assert not first.kept
        again = publish_all(con, catalog, roles, out)
        assert again.kept == sorted(roles), "nothing changed: every role keeps its files"
        assert {r: [d.rows for d in o.datasets] for r, o in again.roles.items()} == {
            r: [d.rows for d in o.datasets] for r, o in first.roles.items()
        }
        # one shop changes: the roles receiving master.shop are rebuilt, the others kept
        code = con.execute("select shop_code from master.shop order by shop_code limit 1").fetchall()[0][0]
        con.execute("update master.shop set name = name || '（更名）' where shop_code = ?", [code])
        third = publish_all(con, catalog, roles, out)
    finally:
        con.close()
    receiving = {rid for rid, o in first.roles.items() if any(d.dataset == "master.shop" for d in o.datasets)}
    rebuilt = set(roles) - set(third.kept)
    assert receiving and rebuilt and rebuilt <= receiving, "only roles that receive master.shop are rebuilt"
    assert set(third.kept) >= set(roles) - receiving
    renamed = 0
    for rid in rebuilt:
        pub = duckdb.connect(str(out / rid / f"{rid}.duckdb"), read_only=True)
        try:
            renamed += pub.execute("select count(*) from master.shop where name like '%（更名）'").fetchall()[0][0]
        finally:
            pub.close()
    assert renamed >= 1, "the rebuilt files carry the change"
