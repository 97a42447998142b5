"""quality/writing.py: files written one by one, a failure kept to its file, unchanged files kept."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from quality.writing import FileTask, fingerprint, run_many, split_with_digests, write_files


def write_text(path: Path, text: str) -> int:
    if text == "boom":
        raise ValueError("cannot write this one")
    path.write_text(text, encoding="utf-8")
    return 1


def test_files_are_written_a_failure_stays_with_its_file_and_unchanged_files_are_kept(tmp_path):
    folder = tmp_path / "2026-11"
    tasks = [
        FileTask(folder / "a" / "1.txt", write_text, ("one",), fingerprint("one")),
        FileTask(folder / "a" / "2.txt", write_text, ("boom",), fingerprint("boom")),
        FileTask(folder / "b" / "3.txt", write_text, ("three",), fingerprint("three")),
    ]
    first = write_files(folder, tasks, parallel=False)
    assert sorted(p.name for p in first.written) == ["1.txt", "3.txt"]
    assert [(p.name, why) for p, why in first.failed] == [("2.txt", "ValueError: cannot write this one")]
    assert not (folder / "a" / "2.txt").exists()

    mtime = (folder / "a" / "1.txt").stat().st_mtime_ns
    changed = [tasks[0], FileTask(folder / "b" / "3.txt", write_text, ("THREE",), fingerprint("THREE"))]
    again = write_files(folder, changed, parallel=False)
    assert [p.name for p in again.kept] == ["1.txt"] and [p.name for p in again.written] == ["3.txt"]
    assert (folder / "a" / "1.txt").stat().st_mtime_ns == mtime, "an unchanged file is not rewritten"
    assert (folder / "b" / "3.txt").read_text(encoding="utf-8") == "THREE"

    write_files(folder, changed[1:], parallel=False)
    assert not (folder / "a" / "1.txt").exists(), "a file no longer produced is removed"


def test_fingerprints_follow_the_content_of_frames():
    a = pd.DataFrame({"x": [1, None], "y": ["甲", pd.NA]}, dtype=object)
    assert fingerprint(a) == fingerprint(a.copy())
    assert fingerprint(a) != fingerprint(a.assign(y=["乙", pd.NA]))
    assert fingerprint(pd.DataFrame({"x": [[1, 2]]})) == fingerprint(pd.DataFrame({"x": [[1, 2]]}))


def test_a_frame_split_per_committee_gives_each_part_the_fingerprint_of_the_part_itself():
    # the digests are made from the whole frame's row hashes: a workbook kept as unchanged by an
    # earlier run (fingerprint of its own frame) must still be recognised as unchanged
    frame = pd.DataFrame(
        {
            "community_code": ["B", "A", "B", None, "A", "C"],
            "name": ["张三", "李四", None, "王五", "赵六", "钱七"],
            "amount": [1.5, float("nan"), 3.0, 4.0, 5.0, 6.0],
            "since": pd.to_datetime(["2026-01-01", None, "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01"]),
        }
    )
    keys = frame.community_code.to_numpy()
    for sort in (False, True):
        parts, digests = split_with_digests(frame, keys, sort=sort)
        expected = {k: g.reset_index(drop=True) for k, g in frame.groupby(keys, sort=sort)}
        assert list(parts) == list(expected) == (["A", "B", "C"] if sort else ["B", "A", "C"])
        for key, part in parts.items():
            pd.testing.assert_frame_equal(part, expected[key])
            assert fingerprint("report", digests[key]) == fingerprint("report", part)
    assert fingerprint(digests["A"]) != fingerprint(digests["B"])
    # a frame pandas cannot hash (lists in a cell) falls back the same way for its parts
    lists = pd.DataFrame({"community_code": ["A", "B", "A"], "members": [["甲"], ["乙", "丙"], []]})
    parts, digests = split_with_digests(lists, lists.community_code.to_numpy())
    assert all(fingerprint(digests[k]) == fingerprint(parts[k]) for k in parts)


def test_run_many_keeps_the_order_of_the_calls():
    assert run_many(pow, [(2, k) for k in range(10)], min_calls=10**9) == [2**k for k in range(10)]


def test_the_worker_processes_write_the_same_files_and_report_the_same_failure(tmp_path):
    folder = tmp_path / "2026-11"
    tasks = [
        FileTask(folder / "a" / f"{k}.txt", write_text, ("boom" if k == 3 else f"text {k}",), fingerprint(k), k)
        for k in range(6)
    ]
    report = write_files(folder, tasks, parallel=True)
    assert sorted(p.name for p in report.written) == ["0.txt", "1.txt", "2.txt", "4.txt", "5.txt"]
    assert [(p.name, why) for p, why in report.failed] == [("3.txt", "ValueError: cannot write this one")]
    assert (folder / "a" / "5.txt").read_text(encoding="utf-8") == "text 5"
    assert report.rows == 5


def test_released_workers_end_and_the_next_calls_start_new_ones():
    from quality import writing

    if writing._workers() < 2:
        pytest.skip("one core: no worker processes")
    calls = [(2, k) for k in range(6)]
    assert run_many(pow, calls, min_calls=1, chunk=2) == [2**k for k in range(6)]
    workers = list(writing._pool._processes.values())
    assert workers and all(p.is_alive() for p in workers)
    writing.release_pool()
    assert writing._pool is None and not any(p.is_alive() for p in workers)
    assert run_many(pow, calls, min_calls=1, chunk=2) == [2**k for k in range(6)]
    writing.release_pool()


def test_workers_below_the_memory_bound_are_kept_and_above_it_ended():
    from quality import writing

    if writing._workers() < 2:
        pytest.skip("one core: no worker processes")
    calls = [(2, k) for k in range(6)]
    assert run_many(pow, calls, min_calls=1, chunk=2) == [2**k for k in range(6)]
    workers = list(writing._pool._processes.values())
    assert writing.pool_memory_mib() > 1
    writing.release_pool(above_mib=1_000_000)
    assert writing._pool is not None and all(p.is_alive() for p in workers)
    writing.release_pool(above_mib=1)
    assert writing._pool is None and not any(p.is_alive() for p in workers)
    assert writing.pool_memory_mib() == 0
