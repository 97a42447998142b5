"""Street shops, their registered entities (市场主体), food licences and offices; shops closing, successors
at the same premises, new shops, licence renewals. A mixin of World."""

from __future__ import annotations

import numpy as np

from . import names as vocabulary
from .codes import USCC_ALPHABET, cn_number, uscc_check_char
from .timeline import safe_day


class BusinessesMixin:
    def _uscc(self, kind: str) -> str:
        py_rng = self.py_rng
        head = "92" if kind == "individual" else "91"
        org = "".join(py_rng.choice(USCC_ALPHABET) for _ in range(9))
        body = head + self.district.code + org
        return body + uscc_check_char(body)

    def _init_shops(self, n_shops: int, n_off: int):
        rng, py_rng = self.rng, self.py_rng
        self.shops: list[dict] = []
        self.entities: list[dict] = []
        self.licences: list[dict] = []
        prem = list(self.library.shop_premises)
        order = rng.permutation(len(prem))
        self.free_premises = [prem[i] for i in order[n_shops:].tolist()]
        chain_counts: dict[int, int] = {}
        for i in order[:n_shops].tolist():
            self._new_shop(
                prem[i],
                t=0,
                opened_day=self.month_start[0] - int(rng.integers(30, 4000)),
                chain_counts=chain_counts,
                init=True,
            )
        # office entities (not street shops)
        for k in range(n_off):
            ai, unit = self.library.office_premises[k]
            est = self.month_start[0] - int(rng.integers(60, 6000))
            e = dict(
                shop=-1,
                uscc=self._uscc("company"),
                name=f"上海{py_rng.choice(vocabulary.COMPANY_WORDS)}{py_rng.choice(vocabulary.OFFICE_INDUSTRY)}有限公司",
                entity_type=py_rng.choice(["有限责任公司", "有限责任公司", "股份有限公司", "有限责任公司分公司"]),
                legal_rep=self._name(self._pick_surname(), py_rng.random() < 0.6, 1960 + py_rng.randint(0, 30)),
                address=ai,
                unit=unit,
                scope="技术服务；信息咨询服务；企业管理",
                established=est,
                status="存续" if rng.random() < 0.93 else py_rng.choice(["注销", "吊销"]),
                approved=min(est + int(rng.integers(0, 2000)), self.month_start[0]),
            )
            self.entities.append(e)
            if rng.random() < 0.04 or k == 0:  # a staff canteen holds a food licence
                self._new_licence(len(self.entities) - 1, -1, 3, est + 100)
        # forced scenario minimums: at least one protected (never closing) case of each
        op = list(self.shops)
        unreg = [s for s in op if not s["registered"]]
        s = unreg[0] if unreg else op[int(rng.integers(0, len(op)))]
        self._unregister(s)
        s["keep"] = True
        dereg = [s for s in op if s["entity"] >= 0 and self.entities[s["entity"]]["status"] in ("注销", "吊销")]
        if dereg:
            dereg[0]["keep"] = True
        else:
            cands = [s for s in op if s["entity"] >= 0]
            s = cands[int(rng.integers(0, len(cands)))]
            s["keep"] = True
            e = self.entities[s["entity"]]
            e["status"] = "吊销"
            e["approved"] = self.month_start[0] - int(rng.integers(30, 700))
        food = [s for s in op if s["licence"] >= 0]
        expired = [s for s in food if self.licences[s["licence"]]["no_renew"]]
        if expired:
            expired[0]["keep"] = True
        elif food:
            s = food[int(rng.integers(0, len(food)))]
            s["keep"] = True
            self._expire_licence(s["licence"])

    def _unregister(self, s: dict):
        if s["entity"] >= 0:
            self.entities[s["entity"]]["shop"] = -2  # orphaned: drop from the registry
            self.entities[s["entity"]]["dropped"] = True
        if s["licence"] >= 0:
            self.licences[s["licence"]]["dropped"] = True
        s["entity"], s["licence"], s["registered"] = -1, -1, False

    def _expire_licence(self, li: int):
        lic = self.licences[li]
        lic["no_renew"] = True
        vu = self.month_start[0] + int(self.rng.integers(20, 330))
        lic["valid_until"] = safe_day(vu)
        lic["issued"] = safe_day(lic["valid_until"] - 5 * 365 + 1)

    def _new_shop(
        self, premises, t: int, opened_day: int, chain_counts: dict, init: bool = False, successor_of: int = -1
    ):
        rng, py_rng, rates = self.rng, self.py_rng, self.rates
        ai, unit = premises
        sid = len(self.shops)
        chain = -1
        if rng.random() < 0.15:
            chain = int(rng.integers(0, len(vocabulary.CHAINS)))
            sign, cat, reg_stem = vocabulary.CHAINS[chain]
        else:
            cat = int(
                rng.choice(
                    len(vocabulary.SHOP_CATEGORIES),
                    p=np.array(vocabulary.CATEGORY_WEIGHTS) / sum(vocabulary.CATEGORY_WEIGHTS),
                )
            )
            item = py_rng.choice(vocabulary.SHOP_CATEGORIES[cat][3])
            sur = self._pick_surname()
            style = py_rng.random()
            if style < 0.35:
                sign = f"{py_rng.choice(['老', '阿', '小'])}{sur[0]}{item}"
            elif style < 0.5:
                sign = f"{sur[0]}记{item}"
            else:
                sign = f"{py_rng.choice(vocabulary.SHOP_WORDS)}{item}"
            reg_stem = None
        owner = self._name(self._pick_surname(), py_rng.random() < 0.6, 1960 + py_rng.randint(0, 35))
        s = dict(
            id=sid,
            address=ai,
            unit=unit,
            sign=sign,
            category=cat,
            chain=chain,
            owner=owner,
            phone=self.mobile(),
            opened_day=opened_day,
            opened_month=t,
            closed_month=-1,
            status="营业",
            successor_of=successor_of,
            entity=-1,
            licence=-1,
            registered=True,
            base=float(np.exp(rng.normal(np.log(900 if vocabulary.SHOP_CATEGORIES[cat][1] else 450), 0.5))),
            account=-1,
        )
        self.shops.append(s)
        # registration
        unreg = rng.random() < rates["shop_unregistered"]
        if not unreg:
            if chain >= 0 and reg_stem:
                chain_counts[chain] = chain_counts.get(chain, 0) + 1
                name = f"{reg_stem}{self.district.short}第{_cn_ordinal(chain_counts[chain])}分店"
                etype = "有限责任公司分公司"
                kind = "company"
            elif rng.random() < 0.6:
                word = py_rng.choice(vocabulary.SHOP_WORDS + vocabulary.COMPANY_WORDS)
                item = py_rng.choice(vocabulary.SHOP_CATEGORIES[cat][3])
                name = (
                    f"上海市{self.district.name}{word}{item}"
                    if py_rng.random() < 0.5
                    else f"{self.district.name}{word}{item}"
                )
                etype = "个体工商户"
                kind = "individual"
            else:
                name = f"上海{py_rng.choice(vocabulary.COMPANY_WORDS)}{vocabulary.INDUSTRY[cat]}有限公司"
                etype = "有限责任公司"
                kind = "company"
            est = opened_day - int(rng.integers(0, 60))
            dereg = init and rng.random() < rates["shop_deregistered"]
            changed = est + int(rng.integers(0, max(1, self.month_start[0] - est))) if rng.random() < 0.4 else est
            e = dict(
                shop=sid,
                uscc=self._uscc(kind),
                name=name,
                entity_type=etype,
                legal_rep=owner,
                address=ai,
                unit=unit,
                scope=vocabulary.SHOP_CATEGORIES[cat][4],
                established=est,
                status=(py_rng.choice(["注销", "吊销"]) if dereg else py_rng.choice(["存续", "存续", "存续", "在业"])),
                approved=min(changed, self.month_start[t])
                if not dereg
                else self.month_start[0] - int(rng.integers(30, 700)),
            )
            self.entities.append(e)
            s["entity"] = len(self.entities) - 1
            if vocabulary.SHOP_CATEGORIES[cat][1]:
                li = self._new_licence(
                    s["entity"],
                    sid,
                    2 if vocabulary.SHOP_CATEGORIES[cat][2].startswith("餐饮") else 1,
                    est + int(rng.integers(10, 60)),
                    init=init,
                )
                s["licence"] = li
        else:
            s["registered"] = False
        return s

    def _new_licence(self, ent: int, sid: int, kind_digit: int, issued: int, init: bool = False) -> int:
        rng = self.rng
        seq = len(self.licences) + 1
        body = f"{kind_digit}{self.district.code}{seq:06d}"
        chk = sum(int(c) * (i + 1) for i, c in enumerate(body)) % 10
        if init:
            # issued (or last renewed) any time in the last five years, not before the business existed
            issued = max(issued, self.month_start[0] - int(rng.integers(30, 5 * 365 - 30)))
        lic = dict(
            no=f"JY{body}{chk}",
            entity=ent,
            shop=sid,
            kind=kind_digit,
            issued=safe_day(issued),
            valid_until=safe_day(issued + 5 * 365 - 1),
            no_renew=False,
            dropped=False,
        )
        self.licences.append(lic)
        li = len(self.licences) - 1
        if init and rng.random() < self.rates["licence_expired"]:
            self._expire_licence(li)
        return li

    def _update_shops(self, t: int):
        rng, rates = self.rng, self.rates
        ms = self.month_start[t]
        chain_counts: dict[int, int] = {}
        for s in self.shops:
            if s["chain"] >= 0:
                chain_counts[s["chain"]] = chain_counts.get(s["chain"], 0) + 1
        open_shops = [s for s in self.shops if s["status"] == "营业"]
        for s in open_shops:
            if rng.random() < rates["shop_close"] and not s.get("keep"):
                s["status"] = "已关闭"
                s["closed_month"] = t
                s["closed_day"] = ms + int(rng.integers(0, 28))
                if s["entity"] >= 0 and rng.random() < 0.5:
                    e = self.entities[s["entity"]]
                    e["status"] = "注销"
                    e["approved"] = s["closed_day"] + int(rng.integers(0, 3))
                if rng.random() < rates["shop_successor"]:
                    self._new_shop(
                        (s["address"], s["unit"]), t, ms + int(rng.integers(0, 28)), chain_counts, successor_of=s["id"]
                    )
                else:
                    self.free_premises.append((s["address"], s["unit"]))
        # late deregistration of closed shops
        for s in self.shops:
            if s["status"] == "已关闭" and s["entity"] >= 0:
                e = self.entities[s["entity"]]
                if e["status"] in ("存续", "在业") and rng.random() < 0.08:
                    e["status"] = "注销"
                    e["approved"] = ms + int(rng.integers(0, 28))
        n_open = rng.binomial(len(open_shops), rates["shop_open"])
        for _ in range(min(n_open, len(self.free_premises))):
            p = self.free_premises.pop(int(rng.integers(0, len(self.free_premises))))
            self._new_shop(p, t, ms + int(rng.integers(0, 28)), chain_counts)
        # licence renewals
        for _li, lic in enumerate(self.licences):
            if lic["dropped"] or lic["no_renew"]:
                continue
            if lic["valid_until"] < self.month_end[t] + 20:
                lic["issued"] = safe_day(min(lic["valid_until"] - int(rng.integers(5, 25)), ms))
                lic["valid_until"] = safe_day(lic["issued"] + 5 * 365 - 1)


def _cn_ordinal(n: int) -> str:
    return cn_number(n, 1)
