"""Electricity accounts of dwellings and shops: who the account is in the name of, when it opened. A
mixin of World."""

from __future__ import annotations

import numpy as np

from .population import ST_OK


class AccountsMixin:
    def _init_accounts(self):
        rng, rates = self.rng, self.rates
        n = self.n_dwellings
        has = rng.random(n) >= rates["account_missing"]
        dws = np.nonzero(has)[0]
        accounts = dict(
            kind=[],
            target=[],
            holder_person=[],
            holder_name=[],
            phone=[],
            opened_month=[],
            use_factor=[],
            vacant_kwh=[],
        )
        people = self.people
        live_idx = np.nonzero(self.living())[0]
        by_dw: dict[int, list[int]] = {}
        for i in live_idx.tolist():
            by_dw.setdefault(int(people["dwelling"][i]), []).append(i)
        self.residents_at_start = by_dw
        adults = live_idx[self.age_at(self.month_start[0])[live_idx] >= 30]
        for d in dws.tolist():
            mem = by_dw.get(d, [])
            u = self.py_rng.random()
            holder, hname = -1, ""
            if mem and u < 1 - rates["account_former_owner"] - rates["account_relative_elsewhere"]:
                holder = mem[0] if self.py_rng.random() < 0.85 else self.py_rng.choice(mem)
            elif (u < 1 - rates["account_former_owner"] if mem else u < 0.2) and len(adults):
                holder = int(adults[int(rng.integers(0, len(adults)))])
            if holder < 0:
                hname = self._name(self._pick_surname(), self.py_rng.random() < 0.5, 1950 + self.py_rng.randint(0, 40))
            accounts["kind"].append(0)
            accounts["target"].append(d)
            accounts["holder_person"].append(holder)
            accounts["holder_name"].append(hname)
            accounts["phone"].append(self.mobile() if self.py_rng.random() < 0.5 else "")
            accounts["opened_month"].append(int(rng.integers(1, 12)) if rng.random() < rates["account_new"] else 0)
            accounts["use_factor"].append(float(np.exp(rng.normal(0, 0.25))))
            accounts["vacant_kwh"].append(float(rng.uniform(3, 15)))
        self.accounts = accounts
        self.account_of_dwelling = {d: k for k, d in enumerate(accounts["target"])}

    def _new_account(self, kind: int, target: int, holder: int, hname: str, t: int, base_factor: float = 1.0):
        accounts = self.accounts
        accounts["kind"].append(kind)
        accounts["target"].append(target)
        accounts["holder_person"].append(holder)
        accounts["holder_name"].append(hname)
        accounts["phone"].append(self.mobile() if self.py_rng.random() < 0.6 else "")
        accounts["opened_month"].append(t)
        accounts["use_factor"].append(float(np.exp(self.rng.normal(0, 0.25))) * base_factor)
        accounts["vacant_kwh"].append(float(self.rng.uniform(3, 15)))
        return len(accounts["kind"]) - 1

    def _transfer_accounts(self, dws: list[int], t: int):
        """After a household moved into dwellings dws: open an account or transfer the name (or not)."""
        people = self.people
        if not dws:
            return
        mem = np.nonzero((people["status"] == ST_OK) & np.isin(people["dwelling"], dws))[0]
        first = {}
        for i in mem[::-1].tolist():
            first[int(people["dwelling"][i])] = i
        for d in dws:
            if d not in first:
                continue
            k = self.account_of_dwelling.get(d)
            if k is None:
                if self.py_rng.random() < 0.3:
                    self.account_of_dwelling[d] = self._new_account(0, d, first[d], "", t)
                continue
            if self.py_rng.random() < 0.4:
                self.accounts["holder_person"][k] = first[d]
                self.accounts["holder_name"][k] = ""
