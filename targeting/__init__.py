"""Targeted aid and alerts: where the people who need help are found (scenarios.yml), listed per
street and committee, and followed up."""
