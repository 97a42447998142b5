"""What a month's own evidence allows: the best pairwise precision and recall of citizen-report duplicates
that any rule on a few comparisons could reach, read from the answer key.

    python -m bench.reports_bound INBOX [INBOX ...] [--no-photos]

Every pair of placed reports of one 大类 at most 150 m and 72 h apart falls in a cell of (distance,
time gap, same 小类 or not, photo fingerprints' Hamming distance); the cells are taken best first by
the share of their pairs that are one problem in `_truth/reports/` (an oracle: it knows the answer),
and precision and recall are counted as cells are added. Recall is of all pairs of placed reports
that are one problem. A hub deciding pair by pair on these comparisons cannot do better; it can by
joining reports into incidents (a report far from one of the problem's reports but near another),
so this is a yardstick, not a ceiling: where the hub sits near it, the month's evidence is the
limit, not the model. Printed per inbox: recall at precision .99/.98/.97/.95/.90 and the best F1.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from citizen_reports.geo import LocalProjection

MAX_METRES = 150.0
MAX_HOURS = 72.0
DISTANCE_EDGES = [5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150]
GAP_EDGES = [0.5, 1, 2, 4, 6, 9, 12, 18, 24, 36, 48, 72]
PHOTO_EDGES = [4, 8, 12, 16, 20, 24, 28, 40]
NO_PHOTO = 99  # a pair with a photo missing on a side: a cell of its own
PRECISIONS = (0.99, 0.98, 0.97, 0.95, 0.90)


@dataclass
class Bound:
    true_pairs: int  # pairs of placed reports that are one problem
    recall_at: dict[float, float]  # precision -> the best recall reached at or above it
    best_f1: float


def read_month(inbox: Path) -> pd.DataFrame:
    """The month's reports with their problem (answer key) and position in metres; rows without a
    usable position or time are left out (they have no distance to compare)."""
    parts = []
    for f in sorted((inbox / "reports").glob("*.csv")):
        day = pd.read_csv(f, dtype=str, keep_default_na=False)
        key = pd.read_csv(inbox / "_truth" / "reports" / f.name, dtype=str, keep_default_na=False)
        day = day.iloc[key["source_row"].astype(int).to_numpy() - 1].copy()
        day["problem"] = key["incident_id"].to_numpy()
        parts.append(day)
    df = pd.concat(parts, ignore_index=True)
    lon, lat = pd.to_numeric(df["经度"], errors="coerce"), pd.to_numeric(df["纬度"], errors="coerce")
    at = pd.to_datetime(df["上报时间"], errors="coerce", format="mixed", utc=True)
    keep = lon.notna() & lat.notna() & at.notna()
    df, lon, lat, at = df[keep], lon[keep], lat[keep], at[keep]
    x, y = LocalProjection(lon.median(), lat.median()).xy(lon, lat) if len(lon) else ([], [])
    return pd.DataFrame(
        {
            "x": x,
            "y": y,
            "hours": ((at - at.min()).dt.total_seconds() / 3600).to_numpy(),
            "major": df["大类"].to_numpy(),
            "minor": df["小类"].to_numpy(),
            "photo": df["照片指纹"].to_numpy(),
            "problem": df["problem"].to_numpy(),
        }
    )


def _photo_bits(a: str, b: str) -> int:
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count() if len(a) == 16 and len(b) == 16 else NO_PHOTO
    except ValueError:
        return NO_PHOTO


def evidence_bound(month: pd.DataFrame, photos: bool = True) -> Bound:
    """The oracle's best precision/recall on `month` (read_month's columns) by cells of evidence."""
    month = month.sort_values("hours", kind="stable").reset_index(drop=True)
    x, y, h = month["x"].to_numpy(), month["y"].to_numpy(), month["hours"].to_numpy()
    major, minor, problem = month["major"].to_numpy(), month["minor"].to_numpy(), month["problem"].to_numpy()
    photo = month["photo"].to_numpy()
    aa, bb = [], []
    for i in range(len(month)):
        hi = np.searchsorted(h, h[i] + MAX_HOURS, side="right")
        j = np.arange(i + 1, hi)
        j = j[(major[j] == major[i]) & (np.hypot(x[j] - x[i], y[j] - y[i]) <= MAX_METRES)]
        aa.append(np.full(len(j), i))
        bb.append(j)
    a = np.concatenate(aa) if aa else np.zeros(0, dtype=int)
    b = np.concatenate(bb) if bb else np.zeros(0, dtype=int)
    bits = np.array([_photo_bits(photo[i], photo[j]) for i, j in zip(a, b)]) if photos else np.full(len(a), NO_PHOTO)
    cells = pd.DataFrame(
        {
            "d": np.digitize(np.hypot(x[a] - x[b], y[a] - y[b]), DISTANCE_EDGES),
            "g": np.digitize(h[b] - h[a], GAP_EDGES),
            "same": minor[a] == minor[b],
            "photo": np.digitize(bits, PHOTO_EDGES),
            "one": problem[a] == problem[b],
        }
    )
    by = cells.groupby(["d", "g", "same", "photo"])["one"].agg(["sum", "count"])
    by = by.assign(share=by["sum"] / by["count"]).sort_values("share", ascending=False, kind="stable")
    sizes = pd.Series(problem).value_counts().to_numpy()
    true_pairs = int((sizes * (sizes - 1) // 2).sum())
    tp, found = by["sum"].cumsum().to_numpy(), by["count"].cumsum().to_numpy()
    precision = tp / np.maximum(found, 1)
    recall = tp / max(true_pairs, 1)
    f1 = np.where(tp > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    recall_at = {p: float(recall[precision >= p].max()) if (precision >= p).any() else 0.0 for p in PRECISIONS}
    return Bound(true_pairs, recall_at, float(f1.max()) if len(f1) else 0.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reports_bound", description=__doc__.splitlines()[0])
    ap.add_argument("inboxes", nargs="+", type=Path, help="inboxes with reports/ and _truth/reports/")
    ap.add_argument("--no-photos", action="store_true", help="leave the photo fingerprints out of the cells")
    a = ap.parse_args(argv)
    print("inbox  true pairs  " + "  ".join(f"R@P{p:.2f}" for p in PRECISIONS) + "  best F1")
    for inbox in a.inboxes:
        bound = evidence_bound(read_month(inbox), photos=not a.no_photos)
        cols = "  ".join(f"{bound.recall_at[p]:8.4f}" for p in PRECISIONS)
        print(f"{inbox}  {bound.true_pairs:,}  {cols}  {bound.best_f1:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
