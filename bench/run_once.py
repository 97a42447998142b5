"""One hub run for the benchmark: `python -m bench.run_once --inbox DIR --db FILE --json OUT`.

Runs `civichub run` in this (fresh) process without the progress display and writes the wall
time and each delivery's stage seconds as JSON, for `bench/__main__.py` to take medians of.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run_once")
    ap.add_argument("--inbox", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    t0, cpu0 = time.perf_counter(), time.process_time()
    from pipelines.run import run_hub

    import_cpu = time.process_time() - cpu0

    summary = run_hub(Path(args.inbox), Path(args.db), progress=False)
    out = {
        "seconds": time.perf_counter() - t0,
        "import_cpu_seconds": import_cpu,
        "ok": summary.ok,
        "deliveries": [
            {
                "delivery": d.delivery,
                "success": d.success,
                "seconds": d.seconds,
                "stage_seconds": d.stage_seconds,
                "stage_cpu_seconds": d.stage_cpu_seconds,
                "step_cpu_seconds": d.step_cpu_seconds,
                "failed_steps": d.failed_steps,
            }
            for d in summary.deliveries
        ],
        "rows_read": sum(f[4] or 0 for f in summary.files),
        "citizen_reports": {"seconds": summary.reports_seconds[0], "cpu_seconds": summary.reports_seconds[1]},
    }
    Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
