"""Connectors: read the delivered registry files per connectors/sources.yml and load them into DuckDB.

spec.py (source specifications), readers.py (streaming CSV/XLSX readers), ingest.py (raw.<source>,
ingest.quarantine, ingest.file_log; messages masked by sharing/masking.py), benchmark.py (`python -m connectors.benchmark`). See connectors/README.md.
"""
