"""`civichub evaluate`: how well the hub resolved persons, households and shops, against `_truth/`.

For every delivery in the answer key (or one, with `delivery=`) and every entity type:

- the *records* are the answer-key rows whose id for that entity is non-empty (persons: the four
  person registries; households: those plus utility rows with a household_id; shops: registry,
  licence and visit rows with a shop_id plus utility rows with a shop_id);
- a record with no xref row is a singleton predicted cluster of its own ("unresolved");
- a row whose answer-key id is empty but which the hub put in a predicted cluster together with
  other records is added as a truth entity of its own, so each pair it forms is a false positive
  ("extra" records);
- pairwise precision/recall/F1 come from counts (TP = Σ C(n,2) over (predicted, true) groups,
  predicted pairs = Σ C(n,2) over predicted clusters, true pairs = Σ C(n,2) over true clusters),
  computed in DuckDB from per-record group sizes, so it scales to millions of records;
- B-cubed precision/recall/F1 are averages over records of |P∩T|/|P| and |P∩T|/|T|;
- per source: pairwise recall/precision of the pairs that involve that source's records,
  Σ(n_PT − 1)/Σ(n_T − 1) and Σ(n_PT − 1)/Σ(n_P − 1) over the source's records;
- stability: for truth entities present in two consecutive deliveries, whether their majority
  predicted id is the same (where the second month's largest share is a tie, the first month's id
  keeps the majority if it is one of the tied: an entity that grew by records of another hub id as
  many as its own has not changed id; a tie in the first month goes to the smallest id); a change
  is "explained" when `master.id_history` holds
  old_id = first month's id, new_id = second month's id; an unexplained change is further marked
  when the entity was split over both ids in both months and only its majority moved (no hub id
  was renamed; the split itself is counted by pairwise recall).

The hub database is attached read-only only long enough to copy the xref rows of the deliveries
being evaluated (and id_history) into an in-memory DuckDB; everything else runs there.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from normalize.duckdb_udfs import register_udfs
from pipelines.settings import duckdb_config, duckdb_settings
from pipelines.sql import quote_literal

PERSON_SOURCES = ("police_population", "civil_affairs_assistance", "civil_affairs_elderly_alone", "hr_graduates")
SHOP_SOURCES = ("market_business_registry", "market_food_licence", "street_shop_visits")
UTILITY = "utility_electricity"
TRUTH_SOURCES = PERSON_SOURCES + (UTILITY,) + SHOP_SOURCES

# entity -> (xref table, candidate id columns in the xref, truth id column, sources scored)
ENTITIES: dict[str, dict[str, Any]] = {
    "person": {"table": "person_xref", "id_cols": ("person_id",), "truth_col": "person_id", "sources": PERSON_SOURCES},
    "household": {
        "table": "household_xref",
        "id_cols": ("household_id",),
        "truth_col": "household_id",
        "sources": PERSON_SOURCES + (UTILITY,),
    },
    "shop": {
        "table": "shop_xref",
        "id_cols": ("shop_code", "shop_id"),
        "truth_col": "shop_id",
        "sources": SHOP_SOURCES + (UTILITY,),
    },
}

NOT_BUILT = "not built"


class EvaluateError(RuntimeError):
    """The evaluation cannot run at all (no answer key, unknown delivery, database locked)."""


# ---- helpers ------------------------------------------------------------------------------------


def _in_list(values) -> str:
    return "(" + ", ".join(quote_literal(v) for v in values) + ")" if values else "(NULL)"


def _ratio(num, den):
    return None if not den else float(num) / float(den)


def _f1(p, r):
    if p is None or r is None:
        return None
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _truth_deliveries(inbox: Path) -> list[str]:
    tdir = inbox / "_truth"
    if not tdir.is_dir():
        raise EvaluateError(f"no answer key: {tdir} does not exist (only synthetic districts have _truth/)")
    months = sorted(p.name for p in tdir.iterdir() if p.is_dir() and len(p.name) == 7 and p.name[4] == "-")
    if not months:
        raise EvaluateError(f"no deliveries under {tdir}")
    return months


# ---- loading ------------------------------------------------------------------------------------


def _load_truth(con, inbox: Path, deliveries: list[str]) -> None:
    files = []
    for d in deliveries:
        for s in TRUTH_SOURCES:
            f = inbox / "_truth" / d / f"{s}.csv"
            if f.is_file():
                files.append((str(f), d, s))
    con.execute("CREATE TEMP TABLE truth_files (filename VARCHAR, delivery VARCHAR, source VARCHAR)")
    if files:
        con.executemany("INSERT INTO truth_files VALUES (?, ?, ?)", files)
        paths = "[" + ", ".join(quote_literal(f[0]) for f in files) + "]"
        con.execute(f"""
            CREATE TEMP TABLE truth AS
            SELECT f.delivery, f.source,
                   TRY_CAST(t.source_row AS INTEGER) AS source_row,
                   NULLIF(TRIM(t.person_id), '') AS person_id,
                   NULLIF(TRIM(t.household_id), '') AS household_id,
                   NULLIF(TRIM(t.shop_id), '') AS shop_id
            FROM read_csv({paths}, all_varchar = true, header = true, filename = true, union_by_name = true,
                          columns = {{'source_row': 'VARCHAR', 'person_id': 'VARCHAR',
                                     'household_id': 'VARCHAR', 'shop_id': 'VARCHAR'}}) t
            JOIN truth_files f USING (filename)
        """)
    else:
        con.execute("""CREATE TEMP TABLE truth (delivery VARCHAR, source VARCHAR, source_row INTEGER,
                       person_id VARCHAR, household_id VARCHAR, shop_id VARCHAR)""")


def _hub_columns(con, table: str) -> list[str] | None:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_catalog = 'hub' AND table_schema = 'master' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows] or None


def _copy_hub(con, db: Path, deliveries: list[str]) -> dict[str, str]:
    """Copy the xref rows of `deliveries` and id_history into temp tables; returns a status per table."""
    status: dict[str, str] = {}
    try:
        con.execute(f"ATTACH {quote_literal(str(db))} AS hub (READ_ONLY)")
    except duckdb.Error as e:  # locked by a running writer, not a DuckDB file, ...
        raise EvaluateError(f"cannot open {db} read-only: {e}") from e
    try:
        try:  # a master view may call the hub's Python UDFs
            register_udfs(con)
        except Exception:  # noqa: BLE001 - optional
            pass
        for entity, spec in ENTITIES.items():
            cols = _hub_columns(con, spec["table"])
            tmp = f"x_{entity}"
            if cols is None:
                status[entity] = NOT_BUILT
                continue
            id_col = next((c for c in spec["id_cols"] if c in cols), None)
            if id_col is None or "source_row" not in cols or not ({"source", "source_file"} & set(cols)):
                status[entity] = (
                    f"error: master.{spec['table']} lacks the id/source/source_row columns ({', '.join(cols)})"
                )
                continue
            deliv = (
                "COALESCE(CAST(delivery AS VARCHAR), split_part(source_file, '/', 1))"
                if "delivery" in cols
                else "split_part(source_file, '/', 1)"
            )
            src_from_file = "regexp_extract(source_file, '([^/]+?)(\\.[^./]*)?$', 1)"
            src = (
                f"COALESCE(source, {src_from_file})"
                if {"source", "source_file"} <= set(cols)
                else ("source" if "source" in cols else src_from_file)
            )
            score = "match_score" if "match_score" in cols else "NULL"
            try:
                con.execute(f"""
                    CREATE TEMP TABLE {tmp} AS
                    SELECT * FROM (
                        SELECT {deliv} AS delivery, CAST({src} AS VARCHAR) AS source,
                               CAST(source_row AS INTEGER) AS source_row,
                               CAST({id_col} AS VARCHAR) AS pred, TRY_CAST({score} AS DOUBLE) AS score
                        FROM hub.master.{spec["table"]}
                    ) WHERE delivery IN {_in_list(deliveries)} AND pred IS NOT NULL
                """)
                status[entity] = "ok"
            except duckdb.Error as e:
                status[entity] = f"error: {str(e).splitlines()[0]}"
        cols = _hub_columns(con, "id_history")
        if cols and {"old_id", "new_id"} <= set(cols):
            et = "CAST(entity_type AS VARCHAR)" if "entity_type" in cols else "NULL"
            try:
                con.execute(f"""CREATE TEMP TABLE id_hist AS
                                SELECT DISTINCT CAST(old_id AS VARCHAR) AS old_id, CAST(new_id AS VARCHAR) AS new_id,
                                       lower({et}) AS entity_type FROM hub.master.id_history""")
                status["id_history"] = "ok"
            except duckdb.Error as e:
                status["id_history"] = f"error: {str(e).splitlines()[0]}"
        else:
            status["id_history"] = NOT_BUILT
        if status["id_history"] != "ok":
            con.execute("CREATE TEMP TABLE id_hist (old_id VARCHAR, new_id VARCHAR, entity_type VARCHAR)")
    finally:
        con.execute("DETACH hub")
    return status


# ---- per entity -------------------------------------------------------------------------------


def _build_records(con, entity: str) -> dict[str, dict[str, int]]:
    """Temp table r_<entity>: scored records grouped by (delivery, source, predicted id, true id), with
    weight c and the sizes n_PT, n_P, n_T of the groups they belong to.

    Returns per delivery the xref bookkeeping counts (rows, duplicates, rows with no answer-key row).
    """
    spec = ENTITIES[entity]
    x, r, tcol = f"x_{entity}", f"r_{entity}", spec["truth_col"]
    sources = _in_list(spec["sources"])
    # one xref row per source row: the highest score wins, then the smallest id
    con.execute(f"""
        CREATE TEMP TABLE {x}1 AS
        SELECT delivery, source, source_row, pred, n_dup FROM (
            SELECT *, count(*) OVER w AS n_dup,
                   row_number() OVER (w ORDER BY score DESC NULLS LAST, pred) AS rn
            FROM {x} WINDOW w AS (PARTITION BY delivery, source, source_row)
        ) WHERE rn = 1
    """)
    book = {}
    for d, rows, dup, stray in con.execute(f"""
        SELECT x.delivery, sum(x.n_dup), sum(x.n_dup - 1), count(*) FILTER (WHERE t.source_row IS NULL)
        FROM {x}1 x LEFT JOIN truth t USING (delivery, source, source_row)
        GROUP BY x.delivery
    """).fetchall():
        book[d] = {"xref_rows": int(rows), "xref_duplicate_rows": int(dup), "xref_rows_without_truth": int(stray)}
    # scored records: rows with a truth id, plus rows without one that the hub clustered with others
    con.execute(f"""
        CREATE TEMP TABLE rec_{entity} AS
        WITH base AS (
            SELECT t.delivery, t.source, t.source_row, t.{tcol} AS tid, x.pred
            FROM truth t LEFT JOIN {x}1 x USING (delivery, source, source_row)
            WHERE t.source IN {sources} AND (t.{tcol} IS NOT NULL OR x.pred IS NOT NULL)
        ), psize AS (
            SELECT delivery, pred, count(*) AS n FROM base WHERE pred IS NOT NULL GROUP BY ALL
        )
        SELECT b.delivery, b.source, b.pred,
               COALESCE(b.tid, '~none:' || b.source || ':' || b.source_row) AS tid,
               COALESCE(b.pred, '~unresolved:' || b.source || ':' || b.source_row) AS pid,
               b.pred IS NULL AS unresolved, b.tid IS NULL AS extra
        FROM base b LEFT JOIN psize p ON p.delivery = b.delivery AND p.pred = b.pred
        WHERE b.tid IS NOT NULL OR p.n >= 2
    """)
    # records grouped by (source, predicted, true) with weight c and the sizes of their three groups
    con.execute(f"""
        CREATE TEMP TABLE {r} AS
        WITH g AS (
            SELECT delivery, source, pid, tid, pred, unresolved, extra, count(*) AS c
            FROM rec_{entity} GROUP BY ALL
        ), pt AS (SELECT delivery, pid, tid, sum(c) AS npt FROM g GROUP BY ALL),
        p AS (SELECT delivery, pid, sum(c) AS np FROM g GROUP BY ALL),
        t AS (SELECT delivery, tid, sum(c) AS nt FROM g GROUP BY ALL)
        SELECT g.*, pt.npt, p.np, t.nt
        FROM g JOIN pt USING (delivery, pid, tid) JOIN p USING (delivery, pid) JOIN t USING (delivery, tid)
    """)
    con.execute(f"DROP TABLE rec_{entity}")
    return book


def _metrics(con, entity: str, deliveries: list[str], book: dict) -> dict[str, dict]:
    r = f"r_{entity}"
    out: dict[str, dict] = {}
    rows = con.execute(f"""
        SELECT delivery, sum(c) AS records,
               count(DISTINCT tid) AS truth_entities,
               count(DISTINCT pred) AS pred_entities,
               coalesce(sum(c) FILTER (WHERE unresolved), 0) AS unresolved,
               coalesce(sum(c) FILTER (WHERE extra), 0) AS extra,
               CAST(sum(c * (npt - 1)) AS HUGEINT) // 2 AS tp,
               CAST(sum(c * (np - 1)) AS HUGEINT) // 2 AS pred_pairs,
               CAST(sum(c * (nt - 1)) AS HUGEINT) // 2 AS true_pairs,
               sum(c * npt / np) / sum(c) AS b3p, sum(c * npt / nt) / sum(c) AS b3r
        FROM {r} WHERE delivery IN {_in_list(deliveries)} GROUP BY delivery
    """).fetchall()
    by_d = {row[0]: row for row in rows}
    src_rows = con.execute(f"""
        SELECT delivery, source, sum(c) AS records,
               coalesce(sum(c) FILTER (WHERE unresolved), 0) AS unresolved,
               coalesce(sum(c) FILTER (WHERE extra), 0) AS extra,
               sum(c * (npt - 1)) AS tp_ends, sum(c * (nt - 1)) AS true_ends, sum(c * (np - 1)) AS pred_ends
        FROM {r} WHERE delivery IN {_in_list(deliveries)} GROUP BY delivery, source ORDER BY delivery, source
    """).fetchall()
    for d in deliveries:
        b = book.get(d, {"xref_rows": 0, "xref_duplicate_rows": 0, "xref_rows_without_truth": 0})
        row = by_d.get(d)
        if row is None:
            m = {
                "records": 0,
                "truth_entities": 0,
                "pred_entities": 0,
                "unresolved": 0,
                "extra_records": 0,
                "pairwise": {"precision": None, "recall": None, "f1": None, "tp": 0, "pred_pairs": 0, "true_pairs": 0},
                "bcubed": {"precision": None, "recall": None, "f1": None},
                "by_source": {},
            }
        else:
            _, n, te, pe, un, ex, tp, pp, tt, b3p, b3r = row
            tp, pp, tt = int(tp), int(pp), int(tt)
            p, rc = _ratio(tp, pp), _ratio(tp, tt)
            m = {
                "records": int(n),
                "truth_entities": int(te),
                "pred_entities": int(pe),
                "unresolved": int(un),
                "extra_records": int(ex),
                "pairwise": {
                    "precision": p,
                    "recall": rc,
                    "f1": _f1(p, rc),
                    "tp": tp,
                    "pred_pairs": pp,
                    "true_pairs": tt,
                },
                "bcubed": {"precision": float(b3p), "recall": float(b3r), "f1": _f1(float(b3p), float(b3r))},
                "by_source": {},
            }
        m.update(b)
        m["status"] = "ok" if b["xref_rows"] else "not built"  # no xref row at all for this delivery
        out[d] = m
    for d, s, n, un, ex, tpe, tte, ppe in src_rows:
        out[d]["by_source"][s] = {
            "records": int(n),
            "unresolved": int(un),
            "extra_records": int(ex),
            "pair_recall": _ratio(tpe, tte),
            "pair_precision": _ratio(tpe, ppe),
        }
    return out


def _stability(con, entity: str, pairs: list[tuple[str, str]]) -> list[dict]:
    if not pairs:
        return []
    r = f"r_{entity}"
    con.execute(f"""
        CREATE TEMP TABLE maj_{entity} AS
        SELECT delivery, tid, pred FROM (
            SELECT delivery, tid, pred, sum(c) AS c FROM {r}
            WHERE NOT unresolved AND NOT extra GROUP BY ALL
        ) QUALIFY row_number() OVER (PARTITION BY delivery, tid ORDER BY c DESC, pred) = 1
    """)
    con.execute(f"""
        CREATE TEMP TABLE ent_{entity} AS
        SELECT DISTINCT e.delivery, e.tid, m.pred FROM {r} e
        LEFT JOIN maj_{entity} m USING (delivery, tid) WHERE NOT e.extra
    """)
    out = []
    for d0, d1 in pairs:
        row = con.execute(
            f"""
            WITH counts AS (
                SELECT tid, pred, sum(c) AS c FROM {r}
                WHERE delivery = ? AND NOT unresolved AND NOT extra GROUP BY ALL
            ), both_m AS (
                -- a tie in the second month keeps the first month's id where it is one of the tied
                SELECT a.tid, a.pred AS id0,
                       CASE WHEN k.c = (SELECT max(t.c) FROM counts t WHERE t.tid = a.tid) THEN a.pred ELSE b.pred END
                           AS id1
                FROM ent_{entity} a JOIN ent_{entity} b ON a.tid = b.tid
                LEFT JOIN counts k ON k.tid = a.tid AND k.pred = a.pred
                WHERE a.delivery = ? AND b.delivery = ?
            ), h AS (
                SELECT DISTINCT old_id, new_id FROM id_hist
                WHERE entity_type IS NULL OR entity_type LIKE ?
            ), held AS (
                SELECT DISTINCT delivery, tid, pred FROM {r} WHERE NOT unresolved AND NOT extra
            )
            SELECT count(*),
                   count(*) FILTER (WHERE id0 IS NOT NULL AND id1 IS NOT NULL),
                   count(*) FILTER (WHERE id0 = id1),
                   count(*) FILTER (WHERE id0 <> id1),
                   count(*) FILTER (WHERE id0 <> id1 AND h.old_id IS NOT NULL),
                   count(*) FILTER (WHERE id0 <> id1 AND h.old_id IS NULL
                                      AND EXISTS (SELECT 1 FROM held x WHERE x.delivery = ? AND x.tid = both_m.tid
                                                  AND x.pred = both_m.id1)
                                      AND EXISTS (SELECT 1 FROM held y WHERE y.delivery = ? AND y.tid = both_m.tid
                                                  AND y.pred = both_m.id0))
            FROM both_m LEFT JOIN h ON h.old_id = both_m.id0 AND h.new_id = both_m.id1
        """,
            [d1, d0, d1, entity + "%", d0, d1],
        ).fetchone()
        present, compared, same, changed, explained, tipped = (int(v) for v in row)
        out.append(
            {
                "from": d0,
                "to": d1,
                "entities_in_both": present,
                "compared": compared,
                "same": same,
                "same_share": _ratio(same, compared),
                "changed": changed,
                "changed_explained": explained,
                "changed_unexplained": changed - explained,
                # of those: the entity was split over the same two hub ids in both months and only its
                # majority moved (both ids kept; pairwise recall already counts the split)
                "changed_split_majority_tipped": tipped,
                "without_predicted_id": present - compared,
            }
        )
    return out


CITY_CROSS_DISTRICT = "city_cross_district.csv"
CITY_NAMESAKES = "city_namesakes.csv"
CITY_MOVERS = "city_movers.csv"


def _city_checks(con, inbox: Path, months: list[str]) -> dict:
    """A city's own questions (synthetic/city.py): is each person registered in one district and
    living in another one hub person in each delivery, do namesakes of two districts stay two, and
    does a person who moved to another district keep the hub id of the month before?"""
    cross = quote_literal(str(inbox / "_truth" / CITY_CROSS_DISTRICT))
    names = quote_literal(str(inbox / "_truth" / CITY_NAMESAKES))
    ids = con.execute(f"""
        WITH ids AS (
            SELECT t.delivery, t.person_id, count(DISTINCT x.pred) AS n_ids, count(x.pred) = count(*) AS resolved
            FROM truth t JOIN x_person1 x USING (delivery, source, source_row)
            WHERE t.person_id IN (SELECT person_id FROM read_csv({cross}, all_varchar = true))
              AND t.delivery IN {_in_list(months)}
            GROUP BY ALL
        )
        SELECT delivery, count(*), count(*) FILTER (WHERE n_ids = 1), count(*) FILTER (WHERE n_ids > 1)
        FROM ids GROUP BY delivery ORDER BY delivery
    """).fetchall()
    apart = con.execute(f"""
        WITH hub AS (
            SELECT DISTINCT t.delivery, t.person_id, x.pred
            FROM truth t JOIN x_person1 x USING (delivery, source, source_row)
            WHERE t.delivery IN {_in_list(months)}
        )
        SELECT a.delivery, count(DISTINCT (n.person_id, n.namesake_id)),
               count(DISTINCT (n.person_id, n.namesake_id)) FILTER (WHERE a.pred = b.pred)
        FROM read_csv({names}, all_varchar = true) n
        JOIN hub a ON a.person_id = n.person_id
        JOIN hub b ON b.person_id = n.namesake_id AND b.delivery = a.delivery
        GROUP BY a.delivery ORDER BY a.delivery
    """).fetchall()
    merged = {d: (int(n), int(m)) for d, n, m in apart}
    out = {
        d: {
            "cross_district_persons": int(n),
            "one_hub_person": int(one),
            "split_over_hub_persons": int(split),
            "namesake_pairs": merged.get(d, (0, 0))[0],
            "namesakes_merged": merged.get(d, (0, 0))[1],
        }
        for d, n, one, split in ids
    }
    movers_file = inbox / "_truth" / CITY_MOVERS
    if movers_file.is_file():
        # a person who moved to another district in delivery d: one hub id over their records of the
        # evaluated deliveries up to d (the month before, in the district they left, included)
        movers = quote_literal(str(movers_file))
        moved = con.execute(f"""
            WITH m AS (SELECT * FROM read_csv({movers}, all_varchar = true)),
            ids AS (
                SELECT d.delivery, m.person_id, count(DISTINCT x.pred) AS n_ids
                FROM m
                JOIN (SELECT DISTINCT delivery FROM truth WHERE delivery IN {_in_list(months)}) d
                    ON d.delivery >= m.first_month
                JOIN truth t ON t.person_id = m.person_id AND t.delivery <= d.delivery AND t.delivery IN {_in_list(months)}
                JOIN x_person1 x ON x.delivery = t.delivery AND x.source = t.source AND x.source_row = t.source_row
                GROUP BY ALL
            )
            SELECT delivery, count(*), count(*) FILTER (WHERE n_ids = 1) FROM ids GROUP BY delivery
        """).fetchall()
        for d, n, one in moved:
            if d in out:
                out[d]["movers"], out[d]["movers_one_hub_person"] = int(n), int(one)
    return out


# ---- API --------------------------------------------------------------------------------------


def evaluate(inbox: Path, db: Path, delivery: str | None = None) -> dict:
    """Score the hub's person/household/shop resolution in `db` against `<inbox>/_truth/`.

    Returns {"inbox", "db", "deliveries", "id_history", "entities": {entity: {"status", "table",
    "deliveries": {YYYY-MM: metrics}, "stability": [...]}}} (and "city": {YYYY-MM: ...} for a city of
    several districts, synthetic/city.py); an entity whose xref table is absent has
    status "not built" and no figures. Raises EvaluateError when there is nothing to evaluate.
    """
    inbox, db = Path(inbox), Path(db)
    all_months = _truth_deliveries(inbox)
    if delivery is not None:
        if delivery not in all_months:
            raise EvaluateError(f"delivery {delivery} is not in {inbox / '_truth'} ({', '.join(all_months)})")
        months = [delivery]
    else:
        months = all_months
    if not db.is_file():
        raise EvaluateError(f"database {db} does not exist (run `civichub run` first)")
    # stability compares each evaluated delivery with the one before it in the answer key
    pairs = [(all_months[all_months.index(m) - 1], m) for m in months if all_months.index(m) > 0]
    needed = sorted(set(months) | {a for a, _ in pairs})

    result: dict[str, Any] = {"inbox": str(inbox), "db": str(db), "deliveries": months, "entities": {}}
    # the hub's memory limit; a spill folder of its own beside the hub's (an in-memory database)
    spill_root = duckdb_settings(db).temp_directory.parent
    spill_root.mkdir(parents=True, exist_ok=True)
    tmpdir = tempfile.mkdtemp(prefix="civichub_eval_", dir=spill_root)
    try:
        with duckdb.connect(":memory:", config={**duckdb_config(db), "temp_directory": tmpdir}) as con:
            status = _copy_hub(con, db, needed)
            result["id_history"] = status["id_history"]
            _load_truth(con, inbox, needed)
            for entity, spec in ENTITIES.items():
                ent: dict[str, Any] = {
                    "status": status[entity],
                    "table": f"master.{spec['table']}",
                    "deliveries": {},
                    "stability": [],
                }
                if status[entity] == "ok":
                    book = _build_records(con, entity)
                    ent["deliveries"] = _metrics(con, entity, months, book)
                    built = {d for d, b in book.items() if b["xref_rows"]}
                    ent["stability"] = _stability(con, entity, [p for p in pairs if p[0] in built and p[1] in built])
                    if entity == "person" and (inbox / "_truth" / CITY_CROSS_DISTRICT).is_file():
                        result["city"] = _city_checks(con, inbox, months)
                result["entities"][entity] = ent
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return result


# ---- report -----------------------------------------------------------------------------------


def _fmt(v, width=7) -> str:
    return f"{'—':>{width}}" if v is None else f"{v:>{width}.4f}"


def print_report(result: dict, file=None) -> None:
    """Print the entity × delivery table, the per-source lines and the stability lines."""

    def say(s=""):
        print(s, file=file)

    say(f"Resolution quality against {result['inbox']}/_truth  (hub {result['db']})")
    say(f"deliveries: {', '.join(result['deliveries'])}")
    say()
    head = (
        f"{'entity':<10} {'delivery':<8} {'pair P':>7} {'pair R':>7} {'pair F1':>7} {'B3 P':>7} {'B3 R':>7}"
        f" {'B3 F1':>7} {'records':>11} {'true ent':>10} {'pred ent':>10} {'unresolved':>10} {'extra FP':>8}"
    )
    say(head)
    say("-" * len(head))
    for entity, ent in result["entities"].items():
        if ent["status"] != "ok":
            say(f"{entity:<10} {'all':<8} {ent['status']} ({ent['table']})")
            continue
        for d, m in ent["deliveries"].items():
            if m["status"] != "ok":
                say(f"{entity:<10} {d:<8} not built (no {ent['table']} rows for this delivery)")
                continue
            pw, b3 = m["pairwise"], m["bcubed"]
            say(
                f"{entity:<10} {d:<8} {_fmt(pw['precision'])} {_fmt(pw['recall'])} {_fmt(pw['f1'])}"
                f" {_fmt(b3['precision'])} {_fmt(b3['recall'])} {_fmt(b3['f1'])} {m['records']:>11,}"
                f" {m['truth_entities']:>10,} {m['pred_entities']:>10,} {m['unresolved']:>10,} {m['extra_records']:>8,}"
            )
    notes = []
    for entity, ent in result["entities"].items():
        for d, m in ent["deliveries"].items():
            if m.get("xref_rows_without_truth"):
                notes.append(
                    f"{entity} {d}: {m['xref_rows_without_truth']:,} xref rows match no answer-key row"
                    " (source name or source_row mismatch?)"
                )
            if m.get("xref_duplicate_rows"):
                notes.append(
                    f"{entity} {d}: {m['xref_duplicate_rows']:,} extra xref rows for an already-resolved"
                    " source row (highest score kept)"
                )
    say()
    say("pred ent = distinct hub ids; unresolved = records with no xref row (scored as singletons);")
    say("extra FP = rows with no id in the answer key that the hub clustered with other records.")
    for n in notes:
        say("note: " + n)

    for entity, ent in result["entities"].items():
        shown = [(d, m) for d, m in ent["deliveries"].items() if m["status"] == "ok" and m["by_source"]]
        if not shown:
            continue
        say()
        say(f"{entity}: pairwise recall/precision of pairs involving each source's records")
        for d, m in shown:
            for s, v in m["by_source"].items():
                say(
                    f"  {d} {s:<30} records {v['records']:>10,}  unresolved {v['unresolved']:>9,}"
                    f"  recall {_fmt(v['pair_recall'])}  precision {_fmt(v['pair_precision'])}"
                )

    for d, c in (result.get("city") or {}).items():
        say(
            f"city {d}: {c['one_hub_person']:,} of {c['cross_district_persons']:,} persons registered in one district "
            f"and living in another are one hub person ({c['split_over_hub_persons']:,} split); "
            f"{c['namesakes_merged']} of {c['namesake_pairs']} namesake pairs of two districts merged"
        )
        if "movers" in c:
            say(
                f"city {d}: {c['movers_one_hub_person']:,} of {c['movers']:,} persons who moved to another district "
                "keep one hub id with the month before"
            )
    say()
    say(
        f"Stability (majority hub id of each true entity present in consecutive deliveries;"
        f" id_history: {result.get('id_history', '?')})"
    )
    any_line = False
    for entity, ent in result["entities"].items():
        if ent["status"] != "ok":
            say(f"  {entity:<10} {ent['status']}")
            any_line = True
            continue
        for s in ent["stability"]:
            any_line = True
            share = "—" if s["same_share"] is None else f"{100 * s['same_share']:.2f}%"
            say(
                f"  {entity:<10} {s['from']}→{s['to']}: {s['same']:,}/{s['compared']:,} same id ({share});"
                f" {s['changed']:,} changed: {s['changed_explained']:,} explained by id_history,"
                f" {s['changed_unexplained']:,} changed without a recorded merge/split"
                f" ({s.get('changed_split_majority_tipped', 0):,} of them a split whose majority tipped, both ids kept);"
                f" {s['without_predicted_id']:,} without a hub id in one month"
            )
    if not any_line:
        say("  (needs two consecutive deliveries)")


def write_json(result: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
