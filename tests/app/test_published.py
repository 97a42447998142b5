"""A new publication reaches the app atomically: readers never see a missing or half-written file, and
pick up the new version on their next request."""

from __future__ import annotations

import shutil
import threading
import time

import duckdb
import pytest
from conftest import clone_hub

from app.published import PublishedStore
from catalog.spec import load_catalog
from sharing.gateway import READ_CONFIG, role_db_path
from sharing.publish import current_version, default_out_root, publish_role
from sharing.roles import load_roles, streets_from

pytestmark = pytest.mark.slow


def test_readers_see_one_whole_publication_while_it_is_replaced(app_hub_template, tmp_path):
    db = clone_hub(app_hub_template, tmp_path / "hub")
    out_root = default_out_root(db)
    store = PublishedStore(out_root)
    with duckdb.connect(str(db), read_only=True) as con:
        expected = con.execute("select count(*) from master.shop").fetchone()[0]
    errors, versions, reads = [], set(), [0]
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                with store.cursor("public") as cur:
                    n = cur.execute("select count(*) from master.shop").fetchone()[0]
                    assert n == expected, n
                versions.add(store.version("public"))
                # and a reader that opens the file by its path each time (as the query gateway does)
                with duckdb.connect(str(role_db_path(db, "public")), read_only=True, config=READ_CONFIG) as c:
                    assert c.execute("select count(*) from master.shop").fetchone()[0] == expected
                reads[0] += 1
            except Exception as e:  # noqa: BLE001 - collected and reported below
                errors.append(repr(e))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    catalog = load_catalog()
    with duckdb.connect(str(db)) as con:
        role = load_roles(catalog).expand(streets_from(con))["public"]
        for _ in range(4):  # the same data: forced, or an unchanged role would be kept as it is
            publish_role(con, catalog, role, out_root, force=True)
            time.sleep(0.2)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    store.close()
    assert errors == []
    assert reads[0] > 20 and len(versions) >= 2  # readers moved to new versions as they appeared
    kept = sorted(p.name for p in out_root.iterdir() if p.name.startswith(".public."))
    assert len(kept) == 2  # the current version and the one before (for readers that just resolved it)
    assert current_version(out_root, "public").name in kept
    assert (out_root / "public").is_symlink()


def test_a_folder_published_before_versioning_is_replaced_in_place(app_hub_template, tmp_path):
    db = clone_hub(app_hub_template, tmp_path / "hub")
    out_root = default_out_root(db)
    link = out_root / "public"
    plain = out_root / "public_plain"
    shutil.copytree(link.resolve(), plain)
    link.unlink()
    plain.rename(link)  # a plain folder, as the hub published before
    catalog = load_catalog()
    with duckdb.connect(str(db)) as con:
        role = load_roles(catalog).expand(streets_from(con))["public"]
        publish_role(con, catalog, role, out_root)
    assert link.is_symlink() and (link / "public.duckdb").exists()
