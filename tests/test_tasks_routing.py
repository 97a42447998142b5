"""排摸 routing measured against the answer key: a list drawn from the session's district with the noise
real lists have (ID typos, missing IDs, old addresses, name variants, the dead and the moved out,
people who never lived here) — the hub's own master data and address library, the hub's own code."""

from __future__ import annotations

from collections import Counter

from synthetic.task_lists import screening_list
from tasks.routing import MasterIndex, route_row


def test_a_noisy_list_routes_its_residents_to_their_committee_and_queues_the_rest_saying_why(hub_run):
    master = MasterIndex.from_hub(hub_run.db)
    rows, key = screening_list(hub_run.inbox, n=1500, seed=7)
    decisions = [
        route_row(master, name=r["姓名"], id_number=r["公民身份号码"], phone=r["手机号码"], address=r["现住址"])
        for r in rows
    ]
    residents = [(d, k) for d, k in zip(decisions, key) if k]
    others = [d for d, k in zip(decisions, key) if not k]
    right = sum(1 for d, k in residents if d.community_code == k)
    share = right / len(residents)
    queued = [d for d in others if d.community_code is None]
    print(f"residents routed right {right}/{len(residents)} = {share:.4f}; others queued {len(queued)}/{len(others)}")
    print(Counter(d.rule for d, k in residents if d.community_code != k))
    assert len(residents) > 1200 and len(others) > 100, "the list has residents and others in it"
    assert share >= 0.98
    assert len(queued) / len(others) >= 0.97
    assert all(d.reason for d in decisions), "every routing decision says why"
    assert all(d.reason for d in decisions if d.community_code is None)
    # rows that fell to the queue say what the district must do with them
    assert {d.match_status for d in decisions if d.community_code is None} <= {"matched", "ambiguous", "unmatched"}
