"""Sharing by permission: roles and grants (roles.yml), masking, per-role publishing, the query gateway.

roles.py     load and validate roles.yml; expand the street-office template from the divisions
masking.py   THE masking rules (ID 6+4, mobile 3+4, surname kept …) in Python and DuckDB SQL, and the
             dbt macros generated from them; every other module masks through it
publish.py   per role: a DuckDB file and Parquet files with exactly what the role may see
gateway.py   `civichub query --role R "SQL"`: read-only SELECTs over the role's views, audited
audit.py     the append-only, hash-chained audit log of every query
"""
