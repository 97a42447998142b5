"""Fellegi–Sunter parameters for person matching, estimated from this delivery's data."""

from matching.fellegi_sunter import estimate
from matching.person_model import FIELDS, LEVELS


def _patterns(rel):
    cols = ", ".join(FIELDS)
    return rel.aggregate(f"{cols}, count(*)::double as n", cols).df()


def model(dbt, session):
    dbt.config(materialized="table")
    candidates = _patterns(dbt.ref("int_person_pair_comparisons"))
    randoms = _patterns(dbt.ref("int_person_random_pairs"))
    labelled = _patterns(dbt.ref("int_person_labelled_pairs"))
    fitted = estimate(candidates, randoms, labelled, FIELDS, LEVELS)
    frame = fitted.weights_frame()
    frame["prior"] = fitted.prior
    frame["em_iterations"] = fitted.iterations
    return frame
