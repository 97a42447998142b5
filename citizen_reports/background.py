"""`python -m citizen_reports.background INBOX DB OUT`: `take_in_inbox` in a child process.

`civichub run` starts it beside the deliveries (`pipelines.run.ReportsIntake`): the intake reads the
inbox and writes the app database only, so it can run on the other core while the hub's steps run.
What it did goes to OUT (a pickle: the file outcomes, the configuration or address-library error
that stopped it, its wall seconds); anything else ends the process with a traceback on stderr.
Only this package is imported, not the hub's pipeline (Dagster, dbt, GX).

The child runs at the lowest priority (nice 19): it takes the core time the deliveries leave idle
and never slows them. At the run's own priority a 1M district's intake (193 s of CPU since the
weights are estimated every other day) ended within the first delivery but stretched it from ~345 s
to 477 s of wall, and the whole run took 792 s (i12 f53252f). Lowered, it runs on into the second
delivery, beside its dbt step: DuckDB's 2 GiB default (pipelines/settings.py) and the workbook
workers ended between deliveries keep that under the 6 GB target.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path

NICE = 19


def main(argv: list[str]) -> int:
    inbox, db, out = argv
    try:
        os.nice(NICE)
    except OSError:  # not allowed here: the run's own priority
        pass
    t = time.perf_counter()
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
