"""`python -m citizen_reports.background INBOX DB OUT`: `take_in_inbox` in a child process.

`civichub run` starts it beside the deliveries (`pipelines.run.ReportsIntake`): the intake reads the
inbox and writes the app database only, so it can run on the other core while the hub's steps run.
What it did goes to OUT (a pickle: the file outcomes, the configuration or address-library error
that stopped it, its wall seconds); anything else ends the process with a traceback on stderr.
Only this package is imported, not the hub's pipeline (Dagster, dbt, GX).

The child runs at the run's own priority, so that it ends within a 1M district's first delivery
(~400 s; 193 s of CPU since the weights are estimated every other day) and its memory (1.9-2.0 GB
on the month's last files) is gone before the second delivery's dbt step. Lowered (nice +10 at
bfd2deb, nice 19 at i12 d79863e), it lasted into the second delivery and set the run's peak there:
6,947 and 5,798 MiB (bench/PROFILE.md, session 10).
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    inbox, db, out = argv
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
