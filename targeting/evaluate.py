"""How well each scenario finds its cases on a synthetic district, against `_truth/`.

The hub's master ids are mapped to the generator's ids through the cross-references (the truth id
most of an entity's source rows carry). Truth per scenario, for one delivery D:

- aid_family_graduates: planted `graduate_from_aid_family_unemployed` (graduate of D's year, living
  in a dwelling on assistance in D, 未就业).
- elderly_power_alert: planted `elderly_power_drop` (listed person, latest < drop_ratio × median of >= drop_min_history
  earlier readings) for the drop; and, by the same criteria as the scenario computed on the truth
  (the elderly list of D and persons.csv is_elderly_alone; each truth dwelling's readings in D's
  export, "latest" being the latest reading month in that export), every reason: power_drop,
  zero_use, latest_reading_missing.
- aid_renhu_fenli: planted `aid_renhu_fenli` (家庭地址 is the registered, not the actual dwelling)
  for reason aid_address_is_registered; for the scenario as a whole, the living persons of D's
  assistance file whose persons.csv renhu_fenli is set.
- aid_screening (no planted kind): persons.csv / households.csv by the scenario's own criteria,
  per reason; ages at the last day of D.

Precision = listed entities that are truth cases / listed entities; recall = truth cases listed /
truth cases. Nothing here is shown per person: only counts.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from normalize.dates import month_end, register_age_at
from normalize.domain_rules import load_domain_rules
from pipelines.sql import quote_literal

PERSON_SOURCES = ("police_population", "civil_affairs_assistance", "civil_affairs_elderly_alone", "hr_graduates")


class TargetingEvaluateError(RuntimeError):
    pass


def _score(con, predicted_sql: str, truth_sql: str) -> dict:
    """Precision / recall of two sets of keys given by queries returning one column `k`."""
    tp, n_pred, n_truth = con.execute(
        f"""
        with p as (select distinct k from ({predicted_sql}) where k is not null),
             t as (select distinct k from ({truth_sql}) where k is not null)
        select (select count(*) from p join t using (k)), (select count(*) from p), (select count(*) from t)
        """
    ).fetchall()[0]
    return {
        "truth": n_truth,
        "listed": n_pred,
        "found": tp,
        "recall": (tp / n_truth) if n_truth else None,
        "precision": (tp / n_pred) if n_pred else None,
    }


def _read(con, path: Path, name: str) -> None:
    if not path.is_file():
        raise TargetingEvaluateError(f"answer key file missing: {path}")
    con.execute(
        f"create or replace temp table {name} as select * from read_csv({quote_literal(path)}, all_varchar = true, header = true)"
    )


def evaluate(inbox: Path, db: Path, delivery: str | None = None) -> dict:
    inbox, db = Path(inbox), Path(db)
    tdir = inbox / "_truth"
    if not tdir.is_dir():
        raise TargetingEvaluateError(f"no answer key: {tdir} does not exist (only synthetic districts have _truth/)")
    con = duckdb.connect()
    register_age_at(con)
    try:
        con.execute(f"attach {quote_literal(db)} as hub (read_only)")
    except duckdb.Error as e:
        raise TargetingEvaluateError(f"cannot open {db} read-only: {e}") from None
    try:
        if delivery is None:
            delivery = con.execute("select max(delivery) from hub.scenario.match").fetchall()[0][0]
        if not delivery:
            raise TargetingEvaluateError(f"{db} has no scenario matches: run the hub first")
        months = sorted(p.name for p in tdir.iterdir() if p.is_dir())
        if delivery not in months:
            raise TargetingEvaluateError(f"no answer key for delivery {delivery} in {tdir}")
        previous = max((m for m in months if m < delivery), default=None)
        return _evaluate(con, tdir, delivery, previous)
    finally:
        con.close()


def _evaluate(con, tdir: Path, d: str, previous: str | None) -> dict:
    td = tdir / d
    for table in ("persons", "households", "planted") + PERSON_SOURCES + ("utility_electricity",):
        _read(con, td / f"{table}.csv", f"t_{table}")
    if previous:
        _read(con, tdir / previous / "persons.csv", "t_persons_prev")
    else:
        con.execute("create temp table t_persons_prev as select * from t_persons where false")
    con.execute(
        "create temp table params as select "
        f"{quote_literal(d)} as delivery, {quote_literal(month_end(d).isoformat())}::date as as_of"
    )
    union = " union all ".join(
        f"select '{s}' as source, source_row::integer as source_row, nullif(person_id, '') as person_id, "
        f"nullif(household_id, '') as household_id from t_{s}"
        for s in PERSON_SOURCES
    )
    con.execute(f"create temp table t_rows as {union}")
    # master id -> truth id: the truth id most of the entity's source rows carry
    con.execute(
        """
        create temp table person_map as
        select x.person_id, mode(t.person_id) as truth_id
        from hub.master.person_xref x join t_rows t on t.source = x.source and t.source_row = x.source_row
        where x.delivery = (select delivery from params) and t.person_id is not null
        group by x.person_id
        """
    )
    con.execute(
        """
        create temp table household_map as
        with rows as (
            select source, source_row, household_id from t_rows
            union all
            select 'utility_electricity', source_row::integer, nullif(household_id, '') from t_utility_electricity
        )
        select x.household_id, mode(t.household_id) as truth_id
        from hub.master.household_xref x join rows t on t.source = x.source and t.source_row = x.source_row
        where x.delivery = (select delivery from params) and t.household_id is not null
        group by x.household_id
        """
    )
    con.execute(
        """
        create temp table pred as
        select m.scenario, m.reason_code, m.entity_type, m.reason_fields,
               case when m.entity_type = 'person' then pm.truth_id else hm.truth_id end as k
        from hub.scenario.match m
        left join person_map pm on m.entity_type = 'person' and pm.person_id = m.entity_id
        left join household_map hm on m.entity_type = 'household' and hm.household_id = m.entity_id
        where m.delivery = (select delivery from params)
        """
    )
    con.execute(
        """
        create temp table t_age as
        select p.*, age_at(nullif(birth_date, '')::date, as_of) as age
        from t_persons p, params
        """
    )
    results: dict[str, dict] = {"delivery": d}

    def planted(kind: str) -> str:
        return f"select person_id as k from t_planted where kind = '{kind}'"

    # --- graduates -------------------------------------------------------------------------------
    results["aid_family_graduates"] = {
        "vs planted graduate_from_aid_family_unemployed": _score(
            con,
            "select k from pred where scenario = 'aid_family_graduates'",
            planted("graduate_from_aid_family_unemployed"),
        )
    }

    # --- elderly and electricity ----------------------------------------------------------------
    con.execute(
        """
        create temp table t_readings as
        with rows as (
            select distinct t.household_id, u.account_no, u.reading_month, u.kwh
            from hub.staging.stg_utility_electricity u
            join t_utility_electricity t on t.source_row::integer = u.source_row
            where u.delivery = (select delivery from params) and nullif(t.household_id, '') is not null
              and u.reading_month is not null and u.kwh is not null
        )
        select household_id, reading_month, sum(kwh) as kwh
        from (select household_id, account_no, reading_month, max(kwh) as kwh from rows group by all)
        group by all
        """
    )
    rules = load_domain_rules().electricity
    con.execute(
        """
        create temp table t_elderly_truth as
        with population as (
            select person_id, household_id from t_persons
            where person_id in (select nullif(person_id, '') from t_civil_affairs_elderly_alone) or is_elderly_alone = '1'
        ),
        latest_month as (
            -- the latest 抄表月份 in the delivery's export (it lags the delivery)
            select max(reading_month) as m from hub.staging.stg_utility_electricity
            where delivery = (select delivery from params) and kwh is not null
        ),
        e as (
            select household_id,
                   max(kwh) filter (where reading_month = (select m from latest_month)) as latest,
                   max(kwh) filter (where reading_month = strftime(
                       strptime((select m from latest_month) || '-01', '%Y-%m-%d') - interval 1 month, '%Y-%m'))
                       as month_before,
                   count(*) filter (where reading_month < (select m from latest_month)) as n_prev,
                   median(kwh) filter (where reading_month < (select m from latest_month)) as baseline
            from t_readings group by household_id
        )
        select p.person_id as k,
               case when e.latest is null and e.month_before is null then 'latest_reading_missing'
                    when e.latest is null then null
                    when e.latest = 0 then 'zero_use'
                    when e.n_prev >= $power_drop_min_history and e.latest < $power_drop_ratio * e.baseline then 'power_drop' end as reason_code
        from population p join e using (household_id)
        """,
        # the same criteria as the scenario: the domain rules (normalize/domain_rules.yml)
        {"power_drop_min_history": rules.drop_min_history, "power_drop_ratio": rules.drop_ratio},
    )
    elderly = {}
    for reason in ("power_drop", "zero_use", "latest_reading_missing"):
        elderly[f"{reason} (same criteria on truth)"] = _score(
            con,
            f"select k from pred where scenario = 'elderly_power_alert' and reason_code = '{reason}'",
            f"select k from t_elderly_truth where reason_code = '{reason}'",
        )
    elderly["all reasons (same criteria on truth)"] = _score(
        con,
        "select k from pred where scenario = 'elderly_power_alert'",
        "select k from t_elderly_truth where reason_code is not null",
    )
    elderly["drop of listed persons vs planted elderly_power_drop"] = _score(
        con,
        """select k from pred where scenario = 'elderly_power_alert' and reason_code in ('power_drop', 'zero_use')
           and json_extract_string(reason_fields, '$.listed') = '独居老人名单在册'
           and try_cast(json_extract_string(reason_fields, '$.previous_readings') as integer) >= """
        + str(rules.drop_min_history),
        planted("elderly_power_drop"),
    )
    results["elderly_power_alert"] = elderly

    # --- aid families, 人户分离 ------------------------------------------------------------------
    results["aid_renhu_fenli"] = {
        "aid_address_is_registered vs planted aid_renhu_fenli": _score(
            con,
            "select k from pred where scenario = 'aid_renhu_fenli' and reason_code = 'aid_address_is_registered'",
            planted("aid_renhu_fenli"),
        ),
        "aid_address_is_registered vs planted aid_renhu_fenli, living persons": _score(
            con,
            "select k from pred where scenario = 'aid_renhu_fenli' and reason_code = 'aid_address_is_registered'",
            f"select k from ({planted('aid_renhu_fenli')}) where k in (select person_id from t_persons where status = '正常')",
        ),
        "all reasons vs persons.csv (listed aid members, living, renhu_fenli)": _score(
            con,
            "select k from pred where scenario = 'aid_renhu_fenli'",
            """select person_id as k from t_persons where status = '正常' and renhu_fenli = '1'
               and person_id in (select nullif(person_id, '') from t_civil_affairs_assistance)""",
        ),
    }

    # --- screening: truth by the same criteria ---------------------------------------------------
    con.execute(
        """
        create temp table t_screen as
        with hh as (
            select household_id,
                   count(*) filter (where status = '正常') as living,
                   count(*) filter (where status = '正常' and age between $working_age_from and $working_age_to) as working,
                   count(*) filter (where status = '正常' and age < $working_age_from) as under_18,
                   count(*) filter (where status = '正常' and age >= $very_old_min_age) as over_80,
                   max(age) filter (where status = '正常') as oldest,
                   count(*) filter (where status = '正常' and is_graduate = '1' and employment_status = '未就业') as unemployed_grads,
                   coalesce(bool_or(coalesce(aid_certificate_no, '') <> ''), false) as aided
            from t_age where coalesce(household_id, '') <> '' group by household_id
        ),
        prev as (
            select distinct c.household_id from t_persons c join t_persons_prev p using (person_id)
            where c.status = '正常' and coalesce(p.aid_certificate_no, '') <> ''
        ),
        candidates as (select * from hh where living > 0 and not aided)
        select household_id as k, 'very_old_alone' as reason_code from candidates where living = 1 and oldest >= $very_old_min_age
        union all
        select household_id, 'no_working_age_member' from candidates
        where living >= 2 and working = 0 and (under_18 > 0 or over_80 > 0)
        union all
        select household_id, 'unemployed_graduates' from candidates where unemployed_grads >= 2
        union all
        select household_id, 'left_assistance' from candidates where household_id in (select household_id from prev)
        """,
        {
            k: v
            for k, v in load_domain_rules().dbt_vars().items()
            if k in ("working_age_from", "working_age_to", "very_old_min_age")
        },
    )
    screening = {}
    for reason in ("very_old_alone", "no_working_age_member", "unemployed_graduates", "left_assistance"):
        screening[reason] = _score(
            con,
            f"select k from pred where scenario = 'aid_screening' and reason_code = '{reason}'",
            f"select k from t_screen where reason_code = '{reason}'",
        )
    screening["all reasons"] = _score(
        con, "select k from pred where scenario = 'aid_screening'", "select k from t_screen"
    )
    results["aid_screening"] = screening
    return results


def format_report(results: dict) -> str:
    lines = [f"Scenario evaluation against _truth/, delivery {results['delivery']}"]
    for scenario, rows in results.items():
        if scenario == "delivery":
            continue
        lines.append(f"\n{scenario}")
        for label, s in rows.items():
            r = "—" if s["recall"] is None else f"{s['recall']:.3f}"
            p = "—" if s["precision"] is None else f"{s['precision']:.3f}"
            lines.append(
                f"  {label:<70} recall {r:>6}  precision {p:>6}  "
                f"(truth {s['truth']}, listed {s['listed']}, found {s['found']})"
            )
    return "\n".join(lines)
