"""Writing SQL text safely: the one place identifiers and string literals are quoted.

Prefer query parameters (`?`, `$name`) for values; these are for what parameters cannot carry
(table and column names, literals inside generated SQL such as the masking expressions).
"""

from __future__ import annotations


def quote_identifier(name: object) -> str:
    """A SQL identifier in double quotes, inner double quotes doubled."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(value: object) -> str:
    """A SQL string literal in single quotes, inner single quotes doubled: O'Brien → 'O''Brien'."""
    return "'" + str(value).replace("'", "''") + "'"
