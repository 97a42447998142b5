"""`python -m citizen_reports.background INBOX DB OUT`: `take_in_inbox` in a child process.

`civichub run` starts it beside the deliveries (`pipelines.run.ReportsIntake`): the intake reads the
inbox and writes the app database only, so it can run on the other core while the hub's steps run.
What it did goes to OUT (a pickle: the file outcomes, the configuration or address-library error
that stopped it, its wall seconds); anything else ends the process with a traceback on stderr.
Only this package is imported, not the hub's pipeline (Dagster, dbt, GX).

The child lowers its own priority (`NICENESS`): the run's wall time is the deliveries' (the intake
of a 1M district's month, ~5 min of CPU on one core, finishes well within their ~15 min), so the
deliveries' steps (DuckDB on both cores) go first and the intake takes the CPU they leave idle.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path

NICENESS = 10  # added to the run's own: the deliveries first, the intake in their idle time


def main(argv: list[str]) -> int:
    inbox, db, out = argv
    t = time.perf_counter()
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):  # no nice() on this platform: the same priority as the run
        pass
    from citizen_reports.cli import take_in_inbox
    from citizen_reports.config import ReportsConfigError
    from citizen_reports.routing import AddressLibraryError

    try:
        outcomes, error = take_in_inbox(Path(inbox), Path(db)), None
    except (ReportsConfigError, AddressLibraryError) as e:
        outcomes, error = [], str(e)
    with open(out, "wb") as f:
        pickle.dump(
            {"reports": outcomes, "error": error, "seconds": time.perf_counter() - t},
            f,
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
