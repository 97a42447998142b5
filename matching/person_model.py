"""The comparison fields and levels of person matching (see dbt macro person_comparison_levels)."""

FIELDS = ["id_level", "name_level", "birth_level", "sex_level", "address_level", "phone_level"]

LEVELS = {
    "id_level": ["exact", "one_edit", "same_birth", "diff", "null"],
    "name_level": ["exact", "pinyin", "one_char", "diff", "null"],
    "birth_level": ["exact", "close", "diff", "null"],
    "sex_level": ["same", "diff", "null"],
    "address_level": ["dwelling", "building", "road", "diff", "null"],
    "phone_level": ["same", "diff", "null"],
}


def pattern_counts_sql(relation: str) -> str:
    """The comparison patterns of `relation` and how many pairs show each: the EM estimation's only
    input, aggregated by the engine (DuckDB or Spark) so that no pair leaves it."""
    cols = ", ".join(FIELDS)
    return f"select {cols}, cast(count(*) as double) as n from {relation} group by {cols}"


def match_weights_frame(candidates, randoms, labelled):
    """The int_person_match_weights table (field, level, m, u, weight, prior, em_iterations) from the
    pattern counts of the candidate, random and labelled pairs: the same on every engine."""
    from matching.fellegi_sunter import estimate

    fitted = estimate(candidates, randoms, labelled, FIELDS, LEVELS)
    frame = fitted.weights_frame()
    frame["prior"] = fitted.prior
    frame["em_iterations"] = fitted.iterations
    return frame
