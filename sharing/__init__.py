"""Sharing by permission: roles and grants (roles.yml), masking, per-role publishing, the query gateway.

roles.py     load and validate roles.yml; expand the street-office template from the divisions
masking.py   masking conventions as DuckDB SQL expressions (ID 6+4, mobile 3+4, surname kept …)
publish.py   per role: a DuckDB file and Parquet files with exactly what the role may see
gateway.py   `civichub query --role R "SQL"`: read-only SELECTs over the role's views, audited
audit.py     the append-only, hash-chained audit log of every query
"""
