"""Person clusters of this delivery: one cluster per person, with why each record is in it."""

from matching.clustering import cluster
from matching.config import load_matching_config
from quality.frames import read_frame


def model(dbt, session):
    dbt.config(materialized="table")
    cfg = load_matching_config().person
    # the frame .df() gives, through Arrow (quality/frames.py: 1M records ~0.7 s less)
    records = read_frame(
        session,
        dbt.ref("int_person_records")
        .project("record_key, case when has_valid_id then id_number end as hard_key")
        .sql_query(),
    )
    pairs = dbt.ref("int_person_pair_scores").project("record_a, record_b, probability").df()
    decisions = None
    if session.sql(
        "select count(*) from information_schema.tables where table_schema = 'review' and table_name = 'person_decisions'"
    ).fetchall()[0][0]:
        # decisions are kept by record fingerprint, so they hold in later deliveries too
        records_rel = dbt.ref("int_person_records")
        decisions = session.sql(
            f"""
            select a.record_key as record_a, b.record_key as record_b, d.decision
            from review.person_decisions d
            join ({records_rel.sql_query()}) a on a.fingerprint = d.fingerprint_a
            join ({records_rel.sql_query()}) b on b.fingerprint = d.fingerprint_b
            """
        ).df()
    result = cluster(records, pairs, accept=cfg.accept, review_floor=cfg.review_floor, decisions=decisions)
    return result.assignments
