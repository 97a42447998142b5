"""The same district through Splink and through the hub: person pairwise P/R/F1 and time, side by side.

    python -m bench.splink_compare --persons 100000 [--months 2] [--seed 1] [--workdir DIR] [--reuse]
    python -m bench.splink_compare --inbox DIR --db FILE [--delivery YYYY-MM]

Needs the `bench` extra: `pip install -e '.[bench]'` (splink 5, DuckDB backend).

1. Generate a district (`civichub generate`) and run the hub on it (`civichub run`, timed, in a
   fresh process); with `--reuse` both are skipped when their outputs exist (the hub's time is then
   read back from `<db>.timing.json`, written by the run that built it). `--inbox/--db` take an
   existing run instead.
2. Preprocessing for Splink (timed): the person records of one delivery (the last, or `--delivery`)
   are copied from the hub's staging tables (`staging.stg_police_population`,
   `stg_civil_affairs_assistance`, `stg_civil_affairs_elderly_alone`, `stg_hr_graduates`) into an
   in-memory DuckDB, one row per source row, unique_id = source_file:source_row, with the pinyin
   name split into surname/given name, ID number, date of birth (staged, else from the ID), sex,
   phone, address key and room. Splink gets the hub's normalisation for free (ID check digits,
   15-to-18-digit IDs, t2s names, pinyin with surname readings, address keys): what is compared is
   the model, not the cleaning.
3. Splink 5 (DuckDB backend), set up as a careful user would, see `splink_settings()`; λ from
   deterministic rules, u by random sampling, m by EM on two blocking rules, predict, connected
   components at `--threshold` (timed: training, predict, cluster).
4. Both systems are scored here with the same count-based pairwise measure (TP = Σ C(n,2) over
   (predicted, true) groups, predicted pairs = Σ C(n,2) over predicted clusters, true pairs =
   Σ C(n,2) over true persons) over the answer-key records of the delivery's four person sources;
   a record with no prediction is a singleton. The hub is also scored by `pipelines.evaluate`
   when it imports. If `master.person_xref` does not exist the hub's column says "not built".
5. Printed side by side; `--json FILE` saves everything.

The hub's time is its whole `civichub run` (every delivery: ingest, staging, matching, quality,
publishing), so the comparison is generous to Splink, whose time starts from already-cleaned
staging rows of one delivery.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from pipelines.sql import quote_literal

PERSON_SOURCES = ("police_population", "civil_affairs_assistance", "civil_affairs_elderly_alone", "hr_graduates")
NOT_BUILT = "not built"

# Compound surnames: a careful user splits 欧阳娜 as ou yang | na, not ou | yang na.
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "轩辕",
    "令狐",
    "钟离",
    "闾丘",
    "呼延",
    "端木",
    "澹台",
    "南宫",
    "万俟",
    "太史",
    "申屠",
)


def _f1(p: float | None, r: float | None) -> float | None:
    if p is None or r is None:
        return None
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


# ---- 1. district and hub run ---------------------------------------------------------------------


def _run_timed(cmd: list[str], env: dict, log: Path) -> tuple[int, float, float, str]:
    """Return code, wall seconds, peak RSS MiB (the command and its children) and stdout."""
    wrapper = (
        "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]);"
        "print('__PEAK__', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);"
        "sys.exit(r.returncode)"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    peak = 0.0
    err = []
    for line in proc.stderr.splitlines():
        if line.startswith("__PEAK__"):
            peak = int(line.split()[1]) / 1024
        else:
            err.append(line)
    log.write_text(proc.stdout + "\n--- stderr ---\n" + "\n".join(err), encoding="utf-8")
    return proc.returncode, seconds, peak, proc.stdout


def prepare_district(args) -> tuple[Path, Path, dict]:
    """Inbox, database and the hub run's timing (None figures when unknown)."""
    if args.inbox or args.db:
        if not (args.inbox and args.db):
            raise SystemExit("--inbox and --db go together")
        inbox, db = Path(args.inbox).resolve(), Path(args.db).resolve()
        timing = _read_timing(db)
        return inbox, db, timing

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="civichub-splink-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    tag = f"{args.persons}_m{args.months}_s{args.seed}"
    inbox, db = workdir / f"inbox_{tag}", workdir / f"hub_{tag}.duckdb"
    dagster_home = workdir / f"dagster_{tag}"
    env = dict(os.environ, DAGSTER_HOME=str(dagster_home))
    civichub = str(Path(sys.executable).parent / "civichub")

    if not (args.reuse and (inbox / "_truth").is_dir()):
        shutil.rmtree(inbox, ignore_errors=True)
        for p in (db, Path(f"{db}.wal"), Path(f"{db}.timing.json")):
            p.unlink(missing_ok=True)
        shutil.rmtree(dagster_home, ignore_errors=True)
        print(f"generating {args.persons:,} persons × {args.months} month(s), seed {args.seed} → {inbox}", flush=True)
        rc, sec, _, _ = _run_timed(
            [
                civichub,
                "generate",
                "--out",
                str(inbox),
                "--persons",
                str(args.persons),
                "--months",
                str(args.months),
                "--seed",
                str(args.seed),
            ],
            env,
            workdir / f"generate_{tag}.log",
        )
        if rc != 0:
            raise SystemExit(f"civichub generate failed (see {workdir / f'generate_{tag}.log'})")
        print(f"  generated in {sec:.1f}s", flush=True)

    timing = _read_timing(db)
    if not (args.reuse and db.is_file() and timing.get("run_s") is not None):
        for p in (db, Path(f"{db}.wal")):
            p.unlink(missing_ok=True)
        shutil.rmtree(dagster_home, ignore_errors=True)
        print(f"running the hub: civichub run --inbox {inbox} --db {db}", flush=True)
        log = workdir / f"run_{tag}.log"
        rc, sec, peak, out = _run_timed([civichub, "run", "--inbox", str(inbox), "--db", str(db)], env, log)
        per_delivery = {
            m.group(1): float(m.group(3))
            for m in re.finditer(r"delivery (\d{4}-\d{2}): (done|FAILED) in ([\d.]+)s", out)
        }
        failed = sorted(set(re.findall(r"delivery (\d{4}-\d{2}): FAILED", out)))
        # the resolution stage alone (dbt matching models + master data), like for like with Splink
        resolution = {
            m.group(1): float(m.group(2))
            for m in re.finditer(r"delivery (\d{4}-\d{2}): done in [\d.]+s \(.*?persons_households ([\d.]+)s", out)
        }
        timing = {
            "run_s": sec,
            "run_peak_mib": peak,
            "returncode": rc,
            "per_delivery_s": per_delivery,
            "resolution_s": resolution,
            "failed_deliveries": failed,
            "log": str(log),
        }
        Path(f"{db}.timing.json").write_text(json.dumps(timing, indent=2), encoding="utf-8")
        state = "ok" if rc == 0 else f"exit code {rc}, failed deliveries: {', '.join(failed) or '?'} (see {log})"
        print(f"  hub run: {sec:.1f}s, peak {peak:,.0f} MiB, {state}", flush=True)
    else:
        print(f"reusing {inbox} and {db} (hub run {timing['run_s']:.1f}s)", flush=True)
    return inbox, db, timing


def _read_timing(db: Path) -> dict:
    f = Path(f"{db}.timing.json")
    if f.is_file():
        try:
            return json.loads(f.read_text(encoding="utf-8"))
        except ValueError:
            pass
    return {"run_s": None}


def _attach_hub(con: duckdb.DuckDBPyConnection, db: Path, wait_s: float = 300.0) -> None:
    """ATTACH the hub read-only, waiting while a writer (a lingering dbt process) holds the lock."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            con.execute(f"ATTACH {quote_literal(db)} AS hub (READ_ONLY)")
            return
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() > deadline:
                raise
            time.sleep(2)


def _hub_tables(con) -> set[str]:
    return {
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'hub' "
            "UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = 'hub'"
        ).fetchall()
    }


def _deliveries(con) -> list[str]:
    return [
        r[0]
        for r in con.execute("SELECT DISTINCT delivery FROM hub.staging.stg_police_population ORDER BY 1").fetchall()
    ]


# ---- 2. preprocessing: the Splink input table ------------------------------------------------------


def export_person_records(con, delivery: str) -> int:
    """`person_records`: one row per staged person row of `delivery`, in the shape Splink wants."""
    compound = ", ".join(quote_literal(s) for s in COMPOUND_SURNAMES)
    src = {
        "police_population": dict(
            table="stg_police_population",
            birth="coalesce(birth_date, id_number_birth_date)",
            sex="coalesce(sex, id_number_sex)",
            phone="phone",
            addr="residence_address_key",
            room="residence_room",
        ),
        "civil_affairs_assistance": dict(
            table="stg_civil_affairs_assistance",
            birth="id_number_birth_date",
            sex="id_number_sex",
            phone="NULL",
            addr="family_address_key",
            room="family_room",
        ),
        "civil_affairs_elderly_alone": dict(
            table="stg_civil_affairs_elderly_alone",
            birth="id_number_birth_date",
            sex="coalesce(sex, id_number_sex)",
            phone="phone",
            addr="residence_address_key",
            room="residence_room",
        ),
        "hr_graduates": dict(
            table="stg_hr_graduates",
            birth="id_number_birth_date",
            sex="id_number_sex",
            phone="phone",
            addr="NULL",
            room="NULL",
        ),
    }
    parts = []
    for source, s in src.items():
        parts.append(f"""
            SELECT source_file || ':' || source_row AS unique_id, {quote_literal(source)} AS source, source_file, source_row,
                   nullif(trim(name), '') AS name, nullif(trim(name_pinyin), '') AS name_pinyin,
                   id_number, CAST({s["birth"]} AS DATE) AS birth_date, {s["sex"]} AS sex,
                   CAST({s["phone"]} AS VARCHAR) AS phone,
                   CAST({s["addr"]} AS VARCHAR) AS address_key, CAST({s["room"]} AS VARCHAR) AS room
            FROM hub.staging.{s["table"]} WHERE delivery = {quote_literal(delivery)}""")
    con.execute(f"""
        CREATE OR REPLACE TABLE person_records AS
        WITH u AS ({" UNION ALL ".join(parts)}),
        s AS (
            SELECT *, string_split(name_pinyin, ' ') AS syl,
                   CASE WHEN left(name, 2) IN ({compound}) THEN 2 ELSE 1 END AS n_sur
            FROM u
        )
        SELECT unique_id, source, source_file, source_row, name,
               replace(name_pinyin, ' ', '') AS name_pinyin_key,
               array_to_string(syl[1:n_sur], '') AS surname_pinyin,
               nullif(array_to_string(syl[n_sur + 1:], ''), '') AS given_pinyin,
               id_number, birth_date, sex, phone,
               nullif(address_key, '') AS address_key, nullif(room, '') AS room
        FROM s
    """)
    return con.execute("SELECT count(*) FROM person_records").fetchall()[0][0]


# ---- 3. Splink -----------------------------------------------------------------------------------

EM_BLOCKING_RULES = (("name_pinyin_key", "birth_date"), ("address_key", "room"), ("phone",))


def splink_settings():
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="name: characters, then pinyin",
        comparison_levels=[
            cll.NullLevel("name_pinyin_key"),
            cll.ExactMatchLevel("name").configure(tf_adjustment_column="name"),
            cll.ExactMatchLevel("name_pinyin_key").configure(label_for_charts="same pinyin (homophone, 陳/陈)"),
            cll.JaroWinklerLevel("name_pinyin_key", 0.92),
            cll.JaroWinklerLevel("name_pinyin_key", 0.80),
            cll.ExactMatchLevel("surname_pinyin").configure(label_for_charts="same surname only"),
            cll.ElseLevel(),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_description="address: building key and room",
        comparison_levels=[
            cll.NullLevel("address_key"),
            cll.And(cll.ExactMatchLevel("address_key"), cll.ExactMatchLevel("room")).configure(
                label_for_charts="same building and room"
            ),
            cll.ExactMatchLevel("address_key").configure(label_for_charts="same building"),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            # exact / one typo / two edits (an adjacent swap) / else
            cl.LevenshteinAtThresholds("id_number", [1, 2]),
            name,
            cl.DateOfBirthComparison(
                "birth_date", input_is_string=False, datetime_metrics=["month", "year"], datetime_thresholds=[1, 1]
            ),
            address,
            cl.ExactMatch("phone"),
            cl.ExactMatch("sex"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name_pinyin_key", "birth_date"),
            block_on("phone"),
            block_on("address_key", "surname_pinyin"),
            block_on("birth_date", "given_pinyin"),
        ],
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["source", "source_file", "source_row"],
    )


def run_splink(con, args, model_path: Path | None) -> dict:
    from splink import DuckDBAPI, Linker, block_on

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    db_api = DuckDBAPI(con)
    sdf = db_api.register("person_records")
    # Splink's per-level "not observed" warnings are summarised in the report instead (-v shows its log).
    linker = Linker(sdf, splink_settings(), log_level=logging.INFO if args.verbose else logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number"), block_on("name_pinyin_key", "birth_date", "address_key")], recall=0.9
    )
    t["lambda_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=args.u_max_pairs, seed=args.seed)
    t["u_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # Each comparison is estimated in at least one session; the blocks mix matches and non-matches
    # (namesakes born the same day; family members of one flat; family members sharing a phone).
    for rule in EM_BLOCKING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    t["em_s"] = time.perf_counter() - t0
    t["training_s"] = t["lambda_s"] + t["u_s"] + t["em_s"]

    sweep = sorted(set(args.sweep) | {args.threshold})
    t0 = time.perf_counter()
    predict = linker.inference.predict(threshold_match_probability=min(min(sweep), 0.5))
    t["predict_s"] = time.perf_counter() - t0
    n_pairs = con.execute(f"SELECT count(*) FROM {predict.physical_name}").fetchall()[0][0]

    t0 = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predict, threshold_match_probability=args.threshold
    )
    t["cluster_s"] = time.perf_counter() - t0
    con.execute(f"""CREATE OR REPLACE TABLE splink_pred AS
                    SELECT source, source_row, CAST(cluster_id AS VARCHAR) AS pred FROM {clusters.physical_name}""")

    # Other thresholds, for information (not timed: a user picks one threshold).
    sweep_tables = {}
    for th in sweep:
        if th == args.threshold:
            sweep_tables[th] = "splink_pred"
            continue
        c = linker.clustering.cluster_pairwise_predictions_at_threshold(predict, threshold_match_probability=th)
        name = f"splink_pred_{int(round(th * 10000))}"
        con.execute(f"""CREATE OR REPLACE TABLE {name} AS
                        SELECT source, source_row, CAST(cluster_id AS VARCHAR) AS pred FROM {c.physical_name}""")
        c.drop_table_from_database_and_remove_from_cache()
        sweep_tables[th] = name

    model = linker._settings_obj._probability_two_random_records_match
    levels, untrained = [], []
    for comp in linker._settings_obj.comparisons:
        for lev in comp.comparison_levels:
            if lev.is_null_level:
                continue
            levels.append(
                {
                    "comparison": comp.output_column_name,
                    "level": lev.label_for_charts,
                    "m": lev.m_probability,
                    "u": lev.u_probability,
                    "m_trained": lev._m_is_trained,
                    "u_trained": lev._u_is_trained,
                }
            )
            missing = "/".join(x for x, ok in (("m", lev._m_is_trained), ("u", lev._u_is_trained)) if not ok)
            if missing:
                untrained.append(f"{comp.output_column_name}: {lev.label_for_charts} ({missing})")
    if model_path is not None:
        try:
            linker.misc.save_model_to_json(str(model_path), overwrite=True)
        except Exception as e:  # noqa: BLE001 - informative only
            print(f"  (could not save the Splink model: {e})", file=sys.stderr)
    return {
        "times": t,
        "predicted_pairs": int(n_pairs),
        "probability_two_random_records_match": model,
        "levels": levels,
        "untrained_levels": untrained,
        "sweep_tables": sweep_tables,
    }


# ---- 4. scoring ----------------------------------------------------------------------------------


def load_truth(con, inbox: Path, delivery: str) -> int:
    files = [(str(inbox / "_truth" / delivery / f"{s}.csv"), s) for s in PERSON_SOURCES]
    files = [(f, s) for f, s in files if Path(f).is_file()]
    if not files:
        raise SystemExit(f"no answer key for persons under {inbox / '_truth' / delivery}")
    con.execute("CREATE OR REPLACE TABLE truth (source VARCHAR, source_row INTEGER, person_id VARCHAR)")
    for f, s in files:
        con.execute(f"""
            INSERT INTO truth
            SELECT {quote_literal(s)}, TRY_CAST(source_row AS INTEGER), nullif(trim(person_id), '')
            FROM read_csv({quote_literal(f)}, header = true, all_varchar = true)
        """)
    return con.execute("SELECT count(*) FROM truth WHERE person_id IS NOT NULL").fetchall()[0][0]


def pairwise(con, pred_table: str) -> dict:
    """Pairwise P/R/F1 of `pred_table(source, source_row, pred)` against `truth`.

    Records: answer-key rows with a person_id; one without a prediction is a singleton. A predicted row
    the answer key has no person for is its own true entity (its pairs are false positives).
    """
    row = con.execute(f"""
        WITH p AS (SELECT DISTINCT ON (source, source_row) source, source_row, pred FROM {pred_table}
                   WHERE pred IS NOT NULL ORDER BY source, source_row, pred),
        r AS (
            SELECT coalesce(t.source, p.source) AS source, coalesce(t.source_row, p.source_row) AS source_row,
                   coalesce(t.person_id, 'extra:' || p.source || ':' || p.source_row) AS tid,
                   coalesce(p.pred, 'unresolved:' || t.source || ':' || t.source_row) AS pid
            FROM (SELECT * FROM truth WHERE person_id IS NOT NULL) t
            FULL OUTER JOIN p ON t.source = p.source AND t.source_row = p.source_row
        ),
        pt AS (SELECT count(*) AS n FROM r GROUP BY pid, tid),
        pp AS (SELECT count(*) AS n FROM r GROUP BY pid),
        tt AS (SELECT count(*) AS n FROM r GROUP BY tid)
        SELECT (SELECT count(*) FROM r),
               (SELECT count(*) FROM tt), (SELECT count(*) FROM pp),
               (SELECT CAST(coalesce(sum(n * (n - 1) // 2), 0) AS BIGINT) FROM pt),
               (SELECT CAST(coalesce(sum(n * (n - 1) // 2), 0) AS BIGINT) FROM pp),
               (SELECT CAST(coalesce(sum(n * (n - 1) // 2), 0) AS BIGINT) FROM tt),
               (SELECT count(*) FROM r WHERE pid LIKE 'unresolved:%')
    """).fetchall()[0]
    records, te, pe, tp, pp, tt, unresolved = (int(v) for v in row)
    p = tp / pp if pp else None
    r = tp / tt if tt else None
    return {
        "records": records,
        "truth_persons": te,
        "predicted_persons": pe,
        "unresolved": unresolved,
        "tp": tp,
        "predicted_pairs": pp,
        "true_pairs": tt,
        "precision": p,
        "recall": r,
        "f1": _f1(p, r),
    }


def hub_xref_pred(con, db: Path, delivery: str) -> str:
    """Copy the hub's person_xref rows of `delivery` into `hub_pred`; returns "ok" or NOT_BUILT / error."""
    _attach_hub(con, db)
    try:
        if "master.person_xref" not in _hub_tables(con):
            return NOT_BUILT
        cols = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'hub' "
                "AND table_schema = 'master' AND table_name = 'person_xref'"
            ).fetchall()
        }
        if "person_id" not in cols or "source_row" not in cols or not ({"source", "source_file"} & cols):
            return f"error: master.person_xref lacks person_id/source/source_row ({', '.join(sorted(cols))})"
        from_file = "regexp_extract(source_file, '([^/]+?)(\\.[^./]*)?$', 1)"
        source = (
            "coalesce(CAST(source AS VARCHAR), " + from_file + ")"
            if {"source", "source_file"} <= cols
            else "CAST(source AS VARCHAR)"
            if "source" in cols
            else from_file
        )
        deliv = (
            "coalesce(CAST(delivery AS VARCHAR), split_part(source_file, '/', 1))"
            if {"delivery", "source_file"} <= cols
            else "CAST(delivery AS VARCHAR)"
            if "delivery" in cols
            else "split_part(source_file, '/', 1)"
        )
        order = "match_score DESC NULLS LAST, " if "match_score" in cols else ""
        try:
            con.execute(f"""
                CREATE OR REPLACE TABLE hub_pred AS
                SELECT source, source_row, pred FROM (
                    SELECT {source} AS source, CAST(source_row AS INTEGER) AS source_row,
                           CAST(person_id AS VARCHAR) AS pred,
                           row_number() OVER (PARTITION BY {source}, source_row ORDER BY {order}person_id) AS k
                    FROM hub.master.person_xref WHERE {deliv} = {quote_literal(delivery)} AND person_id IS NOT NULL
                ) WHERE k = 1
            """)
        except duckdb.Error as e:
            return f"error: {str(e).splitlines()[0]}"
        n = con.execute("SELECT count(*) FROM hub_pred").fetchall()[0][0]
        return "ok" if n else f"{NOT_BUILT} for {delivery}"
    finally:
        con.execute("DETACH hub")


def hub_official(inbox: Path, db: Path, delivery: str) -> dict:
    """The hub's own evaluation (pipelines.evaluate), when it imports and runs."""
    try:
        from pipelines.evaluate import evaluate
    except Exception as e:  # noqa: BLE001 - being written concurrently
        return {"status": f"unavailable: {type(e).__name__}: {e}"}
    try:
        res = evaluate(inbox, db, delivery=delivery)
        ent = res["entities"]["person"]
        if ent["status"] != "ok":
            return {"status": ent["status"]}
        m = ent["deliveries"][delivery]
        if m.get("status", "ok") != "ok":
            return {"status": m["status"]}
        pw = m["pairwise"]
        return {
            "status": "ok",
            "precision": pw["precision"],
            "recall": pw["recall"],
            "f1": pw["f1"],
            "records": m.get("records"),
            "bcubed_f1": m.get("bcubed", {}).get("f1"),
        }
    except Exception as e:  # noqa: BLE001
        return {"status": f"error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}


# ---- 5. report -----------------------------------------------------------------------------------


def _fmt(v, spec=".4f", width=9) -> str:
    return f"{'—':>{width}}" if v is None else f"{v:>{width}{spec}}"


def print_report(res: dict) -> None:
    s, h, ho = res["splink"], res["hub"], res["hub"].get("official", {})
    print()
    print(
        f"persons, delivery {res['delivery']}: {res['records_exported']:,} staged person rows exported for Splink; "
        f"{s['score']['records']:,} answer-key records, {s['score']['truth_persons']:,} true persons, "
        f"{s['score']['true_pairs']:,} true pairs"
    )
    print()
    print(f"{'system':<34} {'precision':>9} {'recall':>9} {'F1':>9} {'time s':>9}")
    print(
        f"{'Splink 5 (DuckDB), p >= ' + format(res['threshold'], 'g'):<34} {_fmt(s['score']['precision'])} "
        f"{_fmt(s['score']['recall'])} {_fmt(s['score']['f1'])} {_fmt(s['time_s'], '.1f')}"
    )
    hub_time = h.get("time_s")
    if h["status"] == "ok":
        sc = h["score"]
        print(
            f"{'civichub (this script scoring)':<34} {_fmt(sc['precision'])} {_fmt(sc['recall'])} "
            f"{_fmt(sc['f1'])} {_fmt(hub_time, '.1f')}"
        )
    else:
        print(f"{'civichub':<34} {h['status']:>29} {_fmt(hub_time, '.1f')}")
    if ho.get("status") == "ok":
        print(
            f"{'civichub (pipelines.evaluate)':<34} {_fmt(ho['precision'])} {_fmt(ho['recall'])} "
            f"{_fmt(ho['f1'])} {_fmt(hub_time, '.1f')}"
        )
    else:
        print(f"{'civichub (pipelines.evaluate)':<34} {ho.get('status', '—')}")
    print()
    t = s["times"]
    print(
        f"Splink time: preprocessing {t['preprocess_s']:.1f}s + training {t['training_s']:.1f}s "
        f"(setup+λ {t['lambda_s']:.1f}s, u {t['u_s']:.1f}s, EM {t['em_s']:.1f}s) + predict {t['predict_s']:.1f}s "
        f"+ cluster {t['cluster_s']:.1f}s = {s['time_s']:.1f}s; {s['predicted_pairs']:,} scored pairs kept, "
        f"{s['score']['predicted_persons']:,} clusters"
    )
    if s["untrained_levels"]:
        print(f"Splink levels left at default m/u (never observed in training): {'; '.join(s['untrained_levels'])}")
    if hub_time:
        per = h.get("per_delivery_s") or {}
        per_s = ", ".join(f"{d} {v:.1f}s" for d, v in sorted(per.items()))
        print(
            f"hub time: whole `civichub run` {hub_time:.1f}s ({per_s}; every delivery, ingest to master data"
            f"{'; run FAILED: ' + ', '.join(h['failed_deliveries']) if h.get('failed_deliveries') else ''})"
        )
        res_s = (h.get("resolution_s") or {}).get(res["delivery"])
        if res_s:
            print(
                f"hub resolution stage of delivery {res['delivery']} alone (dbt matching models + master data, "
                f"persons and households): {res_s:.1f}s — like for like: Splink time / hub resolution = "
                f"{s['time_s'] / res_s:.2f}"
            )
        print(
            f"ratio: Splink time / hub time = {s['time_s'] / hub_time:.2f}"
            + (f", F1 {s['score']['f1'] - h['score']['f1']:+.4f} (Splink − hub)" if h["status"] == "ok" else "")
        )
    else:
        print("hub time: unknown (the run was not made by this script; no <db>.timing.json)")
    if len(s["sweep"]) > 1:
        print("\nSplink at other cluster thresholds (same model and predictions; not timed):")
        print(f"  {'threshold':>9} {'precision':>9} {'recall':>9} {'F1':>9} {'clusters':>9}")
        for row in s["sweep"]:
            print(
                f"  {row['threshold']:>9g} {_fmt(row['precision'])} {_fmt(row['recall'])} {_fmt(row['f1'])} "
                f"{row['predicted_persons']:>9,}"
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.splink_compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default=None, help="where to generate and run (default: a new temp dir)")
    ap.add_argument("--reuse", action="store_true", help="keep an existing inbox / hub database in --workdir")
    ap.add_argument("--inbox", default=None, help="use an existing inbox (with --db) instead of generating")
    ap.add_argument("--db", default=None, help="the hub database of that inbox")
    ap.add_argument("--delivery", default=None, help="YYYY-MM to compare (default: the last staged delivery)")
    ap.add_argument("--threshold", type=float, default=0.9, help="Splink cluster threshold (match probability)")
    ap.add_argument(
        "--sweep",
        type=float,
        nargs="*",
        default=[0.5, 0.8, 0.95, 0.99],
        help="also score Splink at these thresholds (untimed); empty to skip",
    )
    ap.add_argument("--u-max-pairs", type=float, default=1e7, help="pairs sampled to estimate u")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads for Splink (default: DuckDB's)")
    ap.add_argument("--memory-limit", default="8GB", help="DuckDB memory limit for Splink")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    ap.add_argument("-v", "--verbose", action="store_true", help="Splink's INFO log")
    args = ap.parse_args(argv)

    try:
        import splink  # noqa: F401
    except ImportError:
        raise SystemExit("splink is not installed: pip install -e '.[bench]'") from None

    inbox, db, timing = prepare_district(args)
    if not db.is_file():
        raise SystemExit(f"{db} does not exist")
    model_path = db.with_name(db.stem + ".splink_model.json")

    tmp = tempfile.mkdtemp(prefix="splink_duckdb_")
    cfg = {"temp_directory": tmp, "memory_limit": args.memory_limit}
    if args.threads:
        cfg["threads"] = args.threads
    con = duckdb.connect(":memory:", config=cfg)
    try:
        # 2. preprocessing (timed from ATTACH to the finished input table)
        t0 = time.perf_counter()
        _attach_hub(con, db)
        tables = _hub_tables(con)
        missing = [f"staging.stg_{s}" for s in PERSON_SOURCES if f"staging.stg_{s}" not in tables]
        if missing:
            raise SystemExit(f"{db} lacks {', '.join(missing)}: the hub run did not stage the person sources")
        staged = _deliveries(con)
        if not staged or (args.delivery and args.delivery not in staged):
            raise SystemExit(f"delivery {args.delivery or '(any)'} is not staged in {db} (staged: {', '.join(staged)})")
        delivery = args.delivery or staged[-1]
        n_records = export_person_records(con, delivery)
        con.execute("DETACH hub")
        preprocess_s = time.perf_counter() - t0
        print(
            f"Splink preprocessing: {n_records:,} person rows of delivery {delivery} in {preprocess_s:.1f}s", flush=True
        )

        # 3. Splink
        print("Splink: training, predicting, clustering …", flush=True)
        sp = run_splink(con, args, model_path)
        sp["times"]["preprocess_s"] = preprocess_s
        total = sum(sp["times"][k] for k in ("preprocess_s", "training_s", "predict_s", "cluster_s"))

        # 4. scoring
        load_truth(con, inbox, delivery)
        score = pairwise(con, "splink_pred")
        sweep = []
        for th, table in sorted(sp["sweep_tables"].items()):
            sweep.append({"threshold": th, **pairwise(con, table)})

        hub_status = hub_xref_pred(con, db, delivery)
        hub: dict[str, Any] = {
            "status": hub_status,
            "time_s": timing.get("run_s"),
            "run_peak_mib": timing.get("run_peak_mib"),
            "per_delivery_s": timing.get("per_delivery_s"),
            "resolution_s": timing.get("resolution_s"),
            "failed_deliveries": timing.get("failed_deliveries"),
            "returncode": timing.get("returncode"),
        }
        if hub_status == "ok":
            hub["score"] = pairwise(con, "hub_pred")
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)
    hub["official"] = hub_official(inbox, db, delivery)

    res = {
        "persons": args.persons if not args.inbox else None,
        "months": args.months,
        "seed": args.seed,
        "inbox": str(inbox),
        "db": str(db),
        "delivery": delivery,
        "records_exported": n_records,
        "threshold": args.threshold,
        "splink": {
            "version": __import__("splink").__version__,
            "time_s": total,
            "times": sp["times"],
            "predicted_pairs": sp["predicted_pairs"],
            "probability_two_random_records_match": sp["probability_two_random_records_match"],
            "u_max_pairs": args.u_max_pairs,
            "untrained_levels": sp["untrained_levels"],
            "levels": sp["levels"],
            "model_json": str(model_path),
            "score": score,
            "sweep": sweep,
        },
        "hub": hub,
    }
    print_report(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
