"""The civil-affairs rosters: aid families (低保/低收入/特困) and the elderly-alone list, with the lag and
stale entries of real rosters. A mixin of World."""

from __future__ import annotations

import numpy as np

from .population import ST_DEAD, ST_OK, ST_OUT
from .timeline import ymd

AID_TYPES = ["低保", "低收入", "特困"]
AID_STANDARD = 1550  # 元/人/月 (assumed 2026 Shanghai 低保 standard)


class RostersMixin:
    def _init_rosters(self):
        rng, rates, people = self.rng, self.rates, self.people
        t_day = self.month_start[0]
        occ = self.occupancy()
        live = self.living()
        ages = self.age_at(t_day)
        # aid families
        self.aid: dict[int, dict] = {}
        self.aid_seq = 0
        occupied = np.nonzero(occ > 0)[0]
        n_aid = max(3, int(len(occupied) * rates["aid_households"]))
        by_dw = self.residents_at_start
        # prefer households with a graduating-cohort member, some 人户分离 ones
        w = np.ones(len(occupied))
        grad_dw = set(people["dwelling"][(people["is_graduate"] == 1) & live].tolist())
        for k, d in enumerate(occupied.tolist()):
            mem = by_dw.get(d, [])
            if d in grad_dw:
                w[k] = 2.0
            if mem and people["registration_kind"][mem[0]] == 1:
                w[k] *= 2.0
        chosen = rng.choice(occupied, size=min(n_aid, len(occupied)), replace=False, p=w / w.sum())
        for d in sorted(chosen.tolist()):
            self._aid_enrol(int(d), by_dw.get(int(d), []), 0)
        # guarantee a family whose declared size is off (and stays off)
        fams = sorted(self.aid.values(), key=lambda f: f["cert"])
        off = [f for f in fams if f["declared"] != len(f["members"])]
        f = off[0] if off else (fams[len(fams) // 2] if fams else None)
        if f is not None:
            f["size_off"] = True
            f["keep"] = True
            if not off:
                f["declared"] = len(f["members"]) + 1
                self._aid_amount(next(d for d, g in self.aid.items() if g is f))
        # guarantee a family whose 家庭地址 is the registered (not the actual) dwelling
        have = [
            f
            for d, f in sorted(self.aid.items())
            if f["listed_dwelling"] != d and f["listed_dwelling"] == people["registered_dwelling"][f["head"]]
        ]
        if have:
            have[0]["keep"] = True
        else:
            rf = [d for d, f in sorted(self.aid.items()) if people["registration_kind"][f["head"]] == 1]
            if not rf:
                cands = [
                    d
                    for d in occupied.tolist()
                    if d not in self.aid and by_dw.get(d) and people["registration_kind"][by_dw[d][0]] == 1
                ]
                if cands:
                    d = cands[len(cands) // 2]
                    self._aid_enrol(d, by_dw[d], 0)
                    rf = [d]
            if rf:
                f = self.aid[rf[0]]
                f["listed_dwelling"] = int(people["registered_dwelling"][f["head"]])
                f["keep"] = True
        # guarantee aid graduates, unemployed
        aided_grads = [i for d in self.aid for i in self.aid[d]["members"] if people["is_graduate"][i]]
        if not aided_grads:
            cands = sorted(d for d in grad_dw if d not in self.aid)
            if cands:
                d = cands[len(cands) // 2]
                self._aid_enrol(d, by_dw.get(d, []), 0)
                aided_grads = [i for i in self.aid[d]["members"] if people["is_graduate"][i]]
        for i in aided_grads[: max(2, len(aided_grads) // 2)]:
            people["employment"][i] = 1
        self.sticky_unemployed = np.array(aided_grads[:1], dtype=np.int64)
        for _d, f in self.aid.items():
            if aided_grads and aided_grads[0] in f["members"]:
                f["keep"] = True
        # elderly alone
        self.elderly: dict[int, dict] = {}
        alone = np.nonzero(live & (ages >= 60) & (occ[people["dwelling"]] == 1))[0]
        for i in alone.tolist():
            if rng.random() < rates["elderly_coverage"]:
                self._elderly_add(i, 0)
        not_alone = np.nonzero(live & (ages >= 60) & (occ[people["dwelling"]] >= 2))[0]
        k = max(2, int(len(self.elderly) * rates["elderly_not_alone"]))
        if len(not_alone):
            for i in rng.choice(not_alone, size=min(k, len(not_alone)), replace=False).tolist():
                self._elderly_add(int(i), 0)

    def _aid_enrol(self, d: int, members: list[int], t: int):
        py_rng, rng, people = self.py_rng, self.rng, self.people
        if not members:
            return
        age0 = (self.month_start[t] - people["birth_day"][members[0]]) / 365.25
        if len(members) == 1 and age0 >= 60 and py_rng.random() < 0.4:
            typ = 2
        else:
            typ = 0 if py_rng.random() < 0.78 else 1
        self.aid_seq += 1
        year = ymd(self.month_start[t]).year - (py_rng.randint(0, 6) if t == 0 else 0)
        cert = f"{self.district.code}{'DBX'[typ]}{year}{self.aid_seq:05d}"
        size = len(members)
        declared = size
        if rng.random() < self.rates["aid_size_mismatch"]:
            declared = size + (1 if py_rng.random() < 0.6 or size == 1 else -1)
        regk = people["registration_kind"][members[0]]
        addr_dw = d
        if regk == 1 and rng.random() < self.rates["aid_registered_address"]:
            addr_dw = int(people["registered_dwelling"][members[0]])
        since_t = t
        since = (
            ymd(self.month_start[t]).year - (py_rng.randint(0, 6) if t == 0 else 0),
            py_rng.randint(1, 12) if t == 0 else self.month_ym[t][1],
        )
        self.aid[d] = dict(
            cert=cert,
            type=typ,
            members=list(members),
            declared=declared,
            listed_dwelling=addr_dw,
            since=since,
            since_month=since_t,
            stuck=set(),
            head=members[0],
            income=int(py_rng.randint(0, 8) * 100 * max(0, size - 1)),
        )
        self._aid_amount(d)

    def _aid_amount(self, d: int):
        f = self.aid[d]
        n = f["declared"]
        if f["type"] == 2:
            amt = int(AID_STANDARD * 1.5) * n
        elif f["type"] == 0:
            amt = max(150, AID_STANDARD * n - f["income"])
        else:
            amt = 310 * n
        f["amount"] = amt

    def _elderly_add(self, i: int, t: int):
        py_rng, people = self.py_rng, self.people
        contact = self._name(
            people["name"][i][0] if "·" not in people["name"][i] else "王",
            py_rng.random() < 0.5,
            ymd(people["birth_day"][i]).year + py_rng.randint(22, 35),
        )
        self.elderly[i] = dict(
            listed_dwelling=int(people["dwelling"][i]),
            contact=contact,
            contact_phone=self.mobile(),
            phone=("021-" + str(py_rng.randint(50000000, 69999999)))
            if py_rng.random() < 0.5
            else (people["phone"][i] or ""),
            stuck=False,
            added_month=t,
        )

    def _update_aid(self, t: int):
        rng, rates, people = self.rng, self.rates, self.people
        for d in list(self.aid.keys()):
            f = self.aid[d]
            keep = []
            for i in f["members"]:
                st = people["status"][i]
                if st == ST_OK or i in f["stuck"]:
                    keep.append(i)
                elif st == ST_DEAD and rng.random() < rates["aid_dead_lag"]:
                    keep.append(i)
                elif st == ST_OUT and rng.random() < 0.3:
                    keep.append(i)
            if len(keep) != len(f["members"]):
                f["members"] = keep
                if rng.random() < 0.6 and not f.get("size_off"):  # declared size updated with the roster (or not)
                    f["declared"] = len(keep)
                    self._aid_amount(d)
            if (
                rng.random() >= self.config.rate("civil_affairs_assistance", "address_stale")
                and f["listed_dwelling"] != d
                and f["listed_dwelling"] != people["registered_dwelling"][f["head"]]
            ):
                f["listed_dwelling"] = d  # the family's move reaches the aid file (or not yet: stale)
            if not keep or not any(people["status"][i] == ST_OK for i in keep) and not f["stuck"]:
                del self.aid[d]
                continue
            if rng.random() < rates["aid_leave"] and not f["stuck"] and not f.get("keep"):
                del self.aid[d]
        # new families
        occ = self.occupancy()
        cand = np.nonzero(occ > 0)[0]
        n_new = rng.binomial(max(1, len(self.aid)), rates["aid_join"])
        if n_new and len(cand):
            live = np.nonzero(self.living())[0]
            for d in rng.choice(cand, size=min(n_new, len(cand)), replace=False).tolist():
                if d in self.aid:
                    continue
                mem = live[people["dwelling"][live] == d].tolist()
                self._aid_enrol(int(d), mem, t)

    def _update_elderly(self, t: int):
        rng, rates, people = self.rng, self.rates, self.people
        for i in list(self.elderly.keys()):
            e = self.elderly[i]
            st = people["status"][i]
            if st == ST_DEAD and not e["stuck"] and rng.random() >= rates["elderly_dead_lag"]:
                del self.elderly[i]
            elif st == ST_OUT and rng.random() < 0.8:
                del self.elderly[i]
            elif (
                st == ST_OK
                and e["listed_dwelling"] != people["dwelling"][i]
                and rng.random() >= self.config.rate("civil_affairs_elderly_alone", "address_stale")
            ):
                e["listed_dwelling"] = int(people["dwelling"][i])
        occ = self.occupancy()
        live = self.living()
        ages = self.age_at(self.month_start[t])
        alone = np.nonzero(live & (ages >= 60) & (occ[people["dwelling"]] == 1))[0]
        new = [i for i in alone.tolist() if i not in self.elderly]
        for i in new:
            if rng.random() < 0.3 * rates["elderly_coverage"]:
                self._elderly_add(i, t)
