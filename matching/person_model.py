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
