"""The simulated district: address library, dwellings, persons, aid and elderly rosters,
electricity accounts, shops and registrations, evolving month by month.

Time is an integer month index t: t = 0 is twelve months before the first delivery (so that the
first delivery already carries twelve months of electricity readings and a year of history); the
deliveries are t = 12 .. 12 + months - 1. Dates are integer days since 1970-01-01.
"""

from __future__ import annotations

import random

import numpy as np

from . import names as vocabulary
from .accounts import AccountsMixin
from .businesses import BusinessesMixin
from .codes import hash_u, salt_of
from .config import HERE, GeneratorConfig, load_yaml
from .district import District, Library
from .population import EDU, ETH_NAMES, REL, ST_DEAD, ST_OK, ST_OUT, STATUS, CategoricalStream, PopulationMixin
from .rosters import AID_TYPES, RostersMixin
from .timeline import day, ymd

__all__ = [
    "AID_TYPES",
    "EDU",
    "ETH_NAMES",
    "REL",
    "ST_DEAD",
    "ST_OK",
    "ST_OUT",
    "STATUS",
    "District",
    "GeneratorConfig",
    "World",
    "ymd",
]

SEASON = {1: 1.35, 2: 1.3, 3: 1.0, 4: 0.85, 5: 0.85, 6: 1.0, 7: 1.45, 8: 1.55, 9: 1.15, 10: 0.9, 11: 0.9, 12: 1.15}


class World(PopulationMixin, AccountsMixin, BusinessesMixin, RostersMixin):
    """The district's state at month t; step(t) advances it one month."""

    def __init__(
        self, district: District, persons: int, months: int, seed: int, config: GeneratorConfig, start_month: str
    ):
        self.district = district
        self.config = config
        self.rates = config.rates
        self.seed = seed
        self.rng = np.random.default_rng([seed, 7919])
        self.py_rng = random.Random(seed * 1_000_003 + 17)
        y, m = (int(x) for x in start_month.split("-"))
        first = y * 12 + (m - 1) - 12
        self.n_months = 12 + months
        self.month_ym = [((first + t) // 12, (first + t) % 12 + 1) for t in range(self.n_months)]
        self.month_start = [day(yy, mm, 1) for yy, mm in self.month_ym]
        self.month_end = [day(yy + (mm == 12), mm % 12 + 1, 1) - 1 for yy, mm in self.month_ym]
        self.grad_year = self.month_ym[12][0]
        ext = load_yaml(HERE / "districts" / "_elsewhere.yml")
        self.elsewhere = ext
        self.other_shanghai_districts = [x for x in ext["shanghai"] if x["code"] != district.code]
        rc = ext["region_codes"]
        self.shanghai_region_codes = (
            [c for c, _ in rc["shanghai"]],
            np.array([w for _, w in rc["shanghai"]], dtype=float),
        )
        self.province_region_codes = (
            [c for c, _ in rc["province"]],
            np.array([w for _, w in rc["province"]], dtype=float),
        )
        for arr in (self.shanghai_region_codes, self.province_region_codes):
            arr[1][:] = arr[1] / arr[1].sum()

        n_households_est = int(persons / 2.5) + 1
        n_dwellings = int(n_households_est / (1 - self.rates["household_vacancy"])) + 1
        n_shops = max(40, int(persons * self.rates["shops_per_1000_persons"] / 1000))
        n_off = max(10, int(n_shops * self.rates["offices_per_shop"]))
        self.library = Library(district, n_dwellings, n_shops, n_off, self.rng, config)
        self.n_dwellings = len(self.library.dwelling_address)
        self._surnames = [s for s, _ in vocabulary.SURNAMES]
        w = np.array([w for _, w in vocabulary.SURNAMES])
        self._surname_p = w / w.sum()
        self._surname_stream = CategoricalStream(self.rng, self._surname_p)
        self._shanghai_region_stream = CategoricalStream(self.rng, self.shanghai_region_codes[1])
        self._province_region_stream = CategoricalStream(self.rng, self.province_region_codes[1])
        self._ethnicity_stream = CategoricalStream(
            self.rng, np.array(vocabulary.ETH_WEIGHTS) / sum(vocabulary.ETH_WEIGHTS)
        )
        self._init_population(persons)
        self._init_accounts()
        self._init_shops(n_shops, n_off)
        self.visits: list[tuple] = []  # (shop idx, day, visitor idx, result)
        self.kwh: list[np.ndarray] = []  # per month: readings of accounts existing then (-1 = none)
        self.drop_sets: dict[int, set[int]] = {}
        self.month_events: dict[int, dict] = {}
        self.t = 0
        self._init_rosters()
        self._month_close(0)

    def step(self, t: int):
        """Advance to month t (>= 1): events of the month, then readings and visits."""
        self.t = t
        ev = self._population_month(t)
        rng, people = self.rng, self.people
        # graduates find jobs
        g = np.nonzero((people["is_graduate"] == 1) & (people["employment"] == 1))[0]
        people["employment"][g[rng.random(len(g)) < 0.04]] = 0
        people["employment"][self.sticky_unemployed] = 1
        self._update_aid(t)
        self._update_elderly(t)
        self._update_shops(t)
        self.month_events[t] = ev
        self._month_close(t)

    # ---- per-month bookkeeping: readings, visits, power drops ----------------------------------

    def _month_close(self, t: int):
        rng, people, accounts = self.rng, self.people, self.accounts
        yy, mm = self.month_ym[t]
        n_acc = len(accounts["kind"])
        # shop accounts for shops without one
        for s in self.shops:
            if s["account"] < 0 and s["status"] == "营业" and (s["id"] * 7919 + self.seed) % 100 < 95:
                holder_name = self.entities[s["entity"]]["name"] if s["entity"] >= 0 else s["owner"]
                s["account"] = self._new_account(1, s["id"], -1, holder_name, s["opened_month"] if t == 0 else t)
        n_acc = len(accounts["kind"])
        occ = self.occupancy()
        kind = np.array(accounts["kind"])
        target = np.array(accounts["target"])
        factor = np.array(accounts["use_factor"])
        vac = np.array(accounts["vacant_kwh"])
        opened = np.array(accounts["opened_month"])
        n_occ = np.where(kind == 0, occ[np.where(kind == 0, target, 0)], 0)
        base = np.where(n_occ > 0, (60 + 55 * n_occ) * factor, vac)
        shop_base = np.zeros(n_acc)
        for s in self.shops:
            if s["account"] >= 0:
                shop_base[s["account"]] = s["base"] if s["status"] == "营业" else 2.0
        base = np.where(kind == 1, shop_base, base)
        # elderly power drops (hospital stays etc.) this month
        drops: set[int] = set()
        live = self.living()
        listed = [i for i in self.elderly if live[i]]
        if listed and t >= 1:
            k = max(1, int(round(len(listed) * self.rates["elderly_power_drop"])))
            for i in self.py_rng.sample(sorted(listed), min(k, len(listed))):
                a = self.account_of_dwelling.get(int(people["dwelling"][i]))
                if a is not None:
                    drops.add(a)
                    base[a] = base[a] * self.py_rng.uniform(0.0, 0.12)
        self.drop_sets[t] = drops

        z = hash_u(np.arange(n_acc), salt_of(self.seed, "kwh", t))
        z2 = hash_u(np.arange(n_acc), salt_of(self.seed, "kwh2", t))
        gauss = np.sqrt(-2 * np.log(np.maximum(z, 1e-12))) * np.cos(2 * np.pi * z2)
        season = SEASON[mm] if True else 1.0
        val = np.where(kind == 1, base * (0.9 + 0.1 * season), base * season) * np.exp(0.12 * gauss)
        k = np.round(val).astype(np.int64)
        k[opened > t] = -1
        for s in self.shops:
            if s["account"] >= 0 and s["status"] == "已关闭" and s["closed_month"] < t - 1:
                k[s["account"]] = -1
        self.kwh.append(k)
        # visits
        vr = self.rates["visit_rate"]
        ms, me = self.month_start[t], self.month_end[t]
        for s in self.shops:
            if s["status"] == "营业" and s["opened_day"] <= me:
                if rng.random() < (vr if s["registered"] else max(vr, 0.6)):
                    dday = max(ms, s["opened_day"]) + int(rng.integers(0, 28))
                    res = self.py_rng.choices(["合格", "基本合格", "责令整改", "不合格"], [0.7, 0.18, 0.09, 0.03])[0]
                    self.visits.append((s["id"], min(dday, me), int(rng.integers(0, 6)), res, t))
            elif s["status"] == "已关闭" and s["closed_month"] == t and rng.random() < 0.5:
                self.visits.append((s["id"], min(s["closed_day"] + 2, me), int(rng.integers(0, 6)), "已停业", t))
