"""Persons and families: names, ID numbers, hukou, registration (人户分离), education, phones, and the
monthly events of the population (deaths, moves out / within / in, births). A mixin of World."""

from __future__ import annotations

import numpy as np

from . import names as vocabulary
from .codes import cn_number, id_check_chars
from .timeline import year_of, ymd

REL = ["户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "儿媳", "女婿", "兄弟姐妹", "其他"]
R_HEAD, R_SPOUSE, R_SON, R_DAU, R_FATHER, R_MOTHER, R_GSON, R_GDAU, R_DIL, R_SIL, R_SIB, R_OTHER = range(12)
EDU = ["", "学龄前", "小学", "初中", "高中", "中专", "大学专科", "大学本科", "研究生", "文盲或半文盲"]
ST_OK, ST_DEAD, ST_OUT = 0, 1, 2
STATUS = ["正常", "死亡", "迁出"]
ETH_NAMES = vocabulary.ETHNICITIES


# the columns a family is added with (_add_family); the rest are derived (_finish_new_persons)
PERSON_COLUMNS = (
    "sex",
    "birth_day",
    "name",
    "ethnicity",
    "dwelling",
    "relation",
    "registration_kind",
    "registered_dwelling",
    "registered_address",
    "hukou_number",
    "rare_name",
    "family",
    "region_code",
)


def _new_person_columns() -> dict[str, list]:
    return {column: [] for column in PERSON_COLUMNS}


class PopulationMixin:
    def _name(self, surname: str, sex: int, birth_year: int, rare: bool = False) -> str:
        py_rng = self.py_rng
        gen = "old" if birth_year < 1960 else ("mid" if birth_year < 1990 else "new")
        pool = vocabulary.GIVEN[(gen, sex)]
        two = py_rng.random() < {"old": 0.6, "mid": 0.5, "new": 0.75}[gen]
        g = py_rng.choice(pool)
        if two:
            c2 = py_rng.choice(pool)
            g += c2 if c2 != g else py_rng.choice(pool)
        if rare:
            g = g[:-1] + py_rng.choice(vocabulary.RARE_CHARS if py_rng.random() < 0.5 else vocabulary.GBK_RARE_OK)
        return surname + g

    def _pick_surname(self) -> str:
        return self._surnames[self._surname_stream.next()]

    def mobile(self) -> str:
        py_rng = self.py_rng
        return f"1{'3456789'[py_rng.randrange(7)]}{py_rng.randrange(1000000000):09d}"

    # ---- population -----------------------------------------------------------------------------

    def _new_family(self, kind: int, base_age_day: int):
        """Return list of (rel, age_years, sex) for a household of the given kind."""
        py_rng = self.py_rng
        ages = []
        if kind == 0:  # single young/middle
            ages.append((R_HEAD, py_rng.randint(20, 59), py_rng.random() < 0.55))
        elif kind == 1:  # single elderly
            ages.append((R_HEAD, min(100, 60 + int(py_rng.expovariate(1 / 14))), py_rng.random() < 0.35))
        elif kind in (2, 3):  # couple young / elderly
            a = py_rng.randint(24, 59) if kind == 2 else py_rng.randint(60, 92)
            ages += [(R_HEAD, a, True), (R_SPOUSE, max(20, a + py_rng.randint(-5, 2)), False)]
        elif kind in (4, 5):  # couple + 1 or 2 children
            a = py_rng.randint(27, 62)
            ages += [(R_HEAD, a, True), (R_SPOUSE, max(22, a + py_rng.randint(-5, 2)), False)]
            for _ in range(1 if kind == 4 else 2):
                c = py_rng.randint(0, max(0, min(34, a - 23)))
                s = py_rng.random() < 0.51
                ages.append((R_SON if s else R_DAU, c, s))
        elif kind == 6:  # single parent
            a = py_rng.randint(28, 60)
            s = py_rng.random() < 0.3
            ages.append((R_HEAD, a, s))
            c = py_rng.randint(0, max(0, min(30, a - 22)))
            cs = py_rng.random() < 0.5
            ages.append((R_SON if cs else R_DAU, c, cs))
        elif kind == 7:  # three generations
            a = py_rng.randint(30, 56)
            ages += [(R_HEAD, a, True), (R_SPOUSE, max(24, a + py_rng.randint(-4, 2)), False)]
            c = py_rng.randint(0, max(0, min(28, a - 23)))
            cs = py_rng.random() < 0.51
            ages.append((R_SON if cs else R_DAU, c, cs))
            pa = a + py_rng.randint(24, 34)
            if py_rng.random() < 0.6:
                ages.append((R_FATHER, pa, True))
            ages.append((R_MOTHER, pa - py_rng.randint(0, 4), False))
        else:  # roommates
            for k in range(py_rng.randint(2, 3)):
                ages.append((R_HEAD if k == 0 else R_OTHER, py_rng.randint(20, 40), py_rng.random() < 0.5))
        return ages

    def _init_population(self, n_persons: int):
        rng = self.rng
        t0 = self.month_start[0]
        # single, single elderly, couple, elderly couple, +1 child, +2 children, single parent, 3 generations, roommates
        kinds_p = np.array([0.10, 0.12, 0.08, 0.17, 0.23, 0.06, 0.05, 0.12, 0.07])
        people = _new_person_columns()
        dw_perm = rng.permutation(self.n_dwellings)
        st_kind = CategoricalStream(rng, kinds_p)
        h = 0
        count = 0
        self.family_registration: list = []
        while count < n_persons and h < self.n_dwellings:
            kind = st_kind.next()
            members = self._new_family(kind, t0)
            members = members[: n_persons - count]
            dw = int(dw_perm[h])
            self._add_family(people, members, dw, t0, kind)
            h += 1
            count += len(members)
        self.people = {
            k: np.array(
                v, dtype=object if k in ("name", "registered_address", "hukou_number", "region_code") else np.int64
            )
            for k, v in people.items()
        }
        n = len(self.people["sex"])
        self.people["status"] = np.zeros(n, dtype=np.int64)
        self.people["status_month"] = np.zeros(n, dtype=np.int64)
        self.people["last_dwelling"] = self.people["dwelling"].copy()
        self.people["police_dwelling"] = self.people["dwelling"].copy()
        self.people["created_month"] = np.zeros(n, dtype=np.int64)
        self.people["updated"] = np.maximum(t0 - rng.integers(0, 3000, size=n), self.people["birth_day"] + 20)
        self._finish_new_persons(0, n)

    def _add_family(self, people: dict, members, dw: int, t_day: int, kind: int = 0, regk: int | None = None):
        """Append one household's persons to the column lists in people."""
        rng, py_rng, rates = self.rng, self.py_rng, self.rates
        fam = len(self.family_registration)
        if regk is None:
            u = py_rng.random()
            f = rates["from_other_province"]
            rf = rates["renhu_fenli"]
            regk = 3 if u < f else (1 if u < f + rf * 0.5 else (2 if u < f + rf else 0))
        if regk == 1:
            regdw = int(rng.integers(0, self.n_dwellings))
            regaddr = ""
        elif regk == 2:
            o = self.other_shanghai_districts[py_rng.randrange(len(self.other_shanghai_districts))]
            regdw = -1
            regaddr = (
                f"上海市{o['name']}{py_rng.choice(o['roads'])}{py_rng.randint(1, 1500)}弄"
                f"{py_rng.randint(1, 60)}号{py_rng.randint(1, 6)}{py_rng.randint(1, 4):02d}室"
            )
        else:
            regdw = dw if regk == 0 else -1
            regaddr = ""
        if regk == 3:
            region = self.province_region_codes[0][self._province_region_stream.next()]
            prov = self.elsewhere["provinces"].get(region[:2], ["江苏省南通市如皋市如城街道"])
            regaddr = f"{py_rng.choice(prov)}{py_rng.choice(['建设路', '人民路', '解放路', '新华村', '友谊路'])}{py_rng.randint(1, 300)}号"
            hukou = ""
        else:
            region = None
            hukou = None  # filled from registered dwelling below
        eth = self._ethnicity_stream.next()
        head_surname = self._pick_surname() if eth != 4 else py_rng.choice(vocabulary.KOREAN_SURNAMES)
        uy_father = py_rng.choice(vocabulary.UYGHUR_GIVEN_M)
        self.family_registration.append((regk, regdw))
        for rel, age, male in members:
            sex = 1 if male else 0
            birth = t_day - age * 365 - py_rng.randint(0, 364)
            by = year_of(birth)
            if rel in (R_HEAD, R_SON, R_DAU, R_FATHER, R_GSON, R_GDAU, R_SIB):
                surname = head_surname
            else:
                surname = self._pick_surname() if eth != 4 else py_rng.choice(vocabulary.KOREAN_SURNAMES)
            rare = py_rng.random() < 0.0008
            if eth == 5:
                g = (
                    uy_father
                    if (rel == R_HEAD and male)
                    else py_rng.choice(vocabulary.UYGHUR_GIVEN_M if male else vocabulary.UYGHUR_GIVEN_F)
                )
                nm = f"{g}·{uy_father if rel in (R_SON, R_DAU) else py_rng.choice(vocabulary.UYGHUR_GIVEN_M)}"
            elif eth == 6:
                nm = py_rng.choice(vocabulary.TIBETAN)
            else:
                nm = self._name(surname, sex, by, rare)
            if region is None:
                rs = self.shanghai_region_codes[0][self._shanghai_region_stream.next()]
                reg = rs
            else:
                reg = region
            if eth == 5:
                reg = "650102"
            reg = _region_for_year(reg, by)
            people["sex"].append(sex)
            people["birth_day"].append(birth)
            people["name"].append(nm)
            people["ethnicity"].append(eth)
            people["dwelling"].append(dw)
            people["relation"].append(rel)
            people["registration_kind"].append(regk)
            people["registered_dwelling"].append(regdw)
            people["registered_address"].append(regaddr)
            people["hukou_number"].append(hukou if hukou is not None else "")
            people["rare_name"].append(1 if rare else 0)
            people["family"].append(fam)
            people["region_code"].append(reg)

    def _finish_new_persons(self, lo: int, hi: int):
        """Compute ID numbers, hukou numbers, education, phones, graduate flags for persons lo..hi."""
        rng, people = self.rng, self.people
        n = hi - lo
        if n <= 0:
            return
        births = people["birth_day"][lo:hi]
        dates = [x.replace("-", "") for x in np.datetime_as_string(births.astype("datetime64[D]")).tolist()]
        sex = people["sex"][lo:hi]
        if not hasattr(self, "_used_ids"):
            self._used_ids = set()
        ids = np.empty(n, dtype=object)
        todo = np.arange(n)
        while len(todo):
            seq = rng.integers(0, 500, size=len(todo)) * 2 + sex[todo]
            body = [f"{people['region_code'][lo + i]}{dates[i]}{s:03d}" for i, s in zip(todo, seq)]
            digits = (
                np.frombuffer("".join(body).encode("ascii"), dtype=np.uint8).reshape(len(todo), 17).astype(np.int64)
                - 48
            )
            chk = id_check_chars(digits)
            again = []
            for k, i in enumerate(todo):
                idn = body[k] + chk[k]
                if idn in self._used_ids:
                    again.append(i)
                else:
                    self._used_ids.add(idn)
                    ids[i] = idn
            todo = np.array(again, dtype=np.int64)
        if "id_number" in people:
            people["id_number"] = np.concatenate([people["id_number"], ids])
        else:
            people["id_number"] = ids
        # hukou numbers: per registered dwelling / external family
        if not hasattr(self, "hukou_of"):
            self.hukou_of = {}
        py_rng = self.py_rng
        for i in range(lo, hi):
            k = people["registration_kind"][i]
            if k == 3:
                continue
            key = ("dw", int(people["registered_dwelling"][i])) if k in (0, 1) else ("fam", int(people["family"][i]))
            hk = self.hukou_of.get(key)
            if hk is None:
                hk = f"{py_rng.randint(10000000, 99999999)}{len(self.hukou_of) % 10}"
                self.hukou_of[key] = hk
            people["hukou_number"][i] = hk
        # education, phone, graduates
        ages = (self.month_start[max(self.t, 0) if hasattr(self, "t") else 0] - births) / 365.25
        edu = np.zeros(n, dtype=np.int64)
        u = rng.random(n)
        edu[ages < 6] = 1
        edu[(ages >= 6) & (ages < 12)] = 2
        edu[(ages >= 12) & (ages < 15)] = 3
        edu[(ages >= 15) & (ages < 18)] = 4
        adult = ages >= 18
        lvl = np.searchsorted(np.cumsum([0.06, 0.2, 0.22, 0.1, 0.14, 0.22, 0.06]), u)
        lvl = np.minimum(lvl, 6)
        adult_edu = np.array([2, 3, 4, 5, 6, 7, 8])[lvl]
        old = ages >= 70
        adult_edu = np.where(old & (u < 0.15), 9, np.where(old & (adult_edu > 6), 4, adult_edu))
        edu[adult] = adult_edu[adult]
        phones = np.empty(n, dtype=object)
        has = (ages >= 16) & (rng.random(n) < np.where(ages > 80, 0.45, 0.9))
        for k in range(n):
            phones[k] = self.mobile() if has[k] else ""
        birth_year = births.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        cohort = (birth_year >= self.grad_year - 25) & (birth_year <= self.grad_year - 21)
        grad = cohort & (rng.random(n) < self.rates["graduate_share"])
        employ = rng.choice(3, size=n, p=[0.65, 0.23, 0.12])  # 已就业 未就业 灵活就业
        school = rng.integers(0, len(vocabulary.SCHOOLS), size=n)
        degree = rng.choice(4, size=n, p=vocabulary.DEGREE_WEIGHTS)
        for key, val in (
            ("education", edu),
            ("phone", phones),
            ("is_graduate", grad.astype(np.int64)),
            ("employment", employ),
            ("school", school),
            ("degree", degree),
        ):
            people[key] = np.concatenate([people[key], val]) if key in people and len(people[key]) == lo else val

    def _append_persons(self, new_people: dict, t: int, dw_for_police: bool = True):
        people = self.people
        lo = len(people["sex"])
        m = len(new_people["sex"])
        for k, v in new_people.items():
            people[k] = np.concatenate([people[k], np.array(v, dtype=people[k].dtype)])
        people["status"] = np.concatenate([people["status"], np.zeros(m, dtype=np.int64)])
        people["status_month"] = np.concatenate([people["status_month"], np.full(m, t, dtype=np.int64)])
        people["last_dwelling"] = np.concatenate(
            [people["last_dwelling"], np.array(new_people["dwelling"], dtype=np.int64)]
        )
        people["police_dwelling"] = np.concatenate(
            [people["police_dwelling"], np.array(new_people["dwelling"], dtype=np.int64)]
        )
        people["created_month"] = np.concatenate([people["created_month"], np.full(m, t, dtype=np.int64)])
        days = self.month_start[t] + self.rng.integers(0, 28, size=m)
        people["updated"] = np.concatenate([people["updated"], days])
        self._finish_new_persons(lo, lo + m)
        return lo, lo + m

    @property
    def n_persons(self) -> int:
        return len(self.people["sex"])

    def living(self) -> np.ndarray:
        return self.people["status"] == ST_OK

    def occupancy(self) -> np.ndarray:
        people = self.people
        live = people["status"] == ST_OK
        return np.bincount(people["dwelling"][live], minlength=self.n_dwellings)

    def age_at(self, t_day: int) -> np.ndarray:
        return (t_day - self.people["birth_day"]) / 365.25

    # ---- monthly events ---------------------------------------------------------------------------

    def _population_month(self, t: int) -> dict:
        """Deaths, moves out, moves within, police catching up, move-ins and births of month t."""
        rng, py_rng, rates, people = self.rng, self.py_rng, self.rates, self.people
        ms = self.month_start[t]
        ev = dict(deaths=0, moved_out=0, moved_in=0, moved_within=0, births=0)
        live = self.living()
        ages = self.age_at(ms)
        # deaths
        q = np.clip(0.008 * np.exp(0.1 * (ages - 60)), 0.0005, 0.5) * rates["death_scale"] / 12.0
        dead = live & (rng.random(self.n_persons) < q)
        force_d = set()
        if t == 10:  # make sure listed people die and stay listed (dead_but_aided, dead_elderly_alone)
            cand = [
                i for f in self.aid.values() for i in f["members"] if people["status"][i] == ST_OK and ages[i] >= 55
            ]
            if not cand:
                cand = [
                    i for f in self.aid.values() for i in f["members"] if people["status"][i] == ST_OK and ages[i] >= 30
                ]
            for i in py_rng.sample(cand, min(len(cand), max(1, len(cand) // 60))):
                force_d.add(i)
                self.aid[int(people["dwelling"][i])]["keep"] = True
            cand = [i for i in self.elderly if people["status"][i] == ST_OK]
            for i in py_rng.sample(sorted(cand), min(len(cand), max(1, len(cand) // 80))):
                force_d.add(i)
            for i in force_d:
                dead[i] = True
        di = np.nonzero(dead)[0]
        people["status"][di] = ST_DEAD
        people["status_month"][di] = t
        people["last_dwelling"][di] = people["dwelling"][di]
        people["updated"][di] = ms + rng.integers(0, 28, size=len(di))
        ev["deaths"] = len(di)
        for i in di.tolist():
            if i in self.elderly and (i in force_d or rng.random() < rates["elderly_dead_stuck"]):
                self.elderly[i]["stuck"] = True
            d = int(people["dwelling"][i])
            if (
                d in self.aid
                and i in self.aid[d]["members"]
                and (i in force_d or rng.random() < rates["aid_dead_stuck"])
            ):
                self.aid[d]["stuck"].add(i)
        # whole households moving out
        occ = self.occupancy()
        occupied = np.nonzero(occ > 0)[0]
        n_out = rng.binomial(len(occupied), rates["move_out_households"])
        out_dw = rng.choice(occupied, size=n_out, replace=False) if n_out else np.array([], dtype=np.int64)
        out_dw = np.array(
            [d for d in out_dw.tolist() if not (d in self.aid and self.aid[d].get("keep"))], dtype=np.int64
        )
        live = self.living()
        mv = live & np.isin(people["dwelling"], out_dw)
        # single young adults leaving
        mv |= live & (ages >= 20) & (ages < 35) & (rng.random(self.n_persons) < rates["move_out_persons"])
        mi = np.nonzero(mv)[0]
        people["status"][mi] = ST_OUT
        people["status_month"][mi] = t
        people["last_dwelling"][mi] = people["dwelling"][mi]
        people["updated"][mi] = ms + rng.integers(0, 28, size=len(mi))
        ev["moved_out"] = len(mi)
        for d in out_dw.tolist():
            if d in self.aid and rng.random() < 0.8:
                del self.aid[d]
        # moves within the district (whole households to an empty dwelling)
        occ = self.occupancy()
        vacant = np.nonzero(occ == 0)[0]
        vacant = vacant[
            ~np.isin(vacant, np.array(sorted(self.aid), dtype=np.int64))
        ]  # a dead aided person's home stays theirs
        occupied = np.nonzero(occ > 0)[0]
        n_w = min(rng.binomial(len(occupied), rates["move_within_households"]), len(vacant) // 3)
        if n_w:
            src = rng.choice(occupied, size=n_w, replace=False)
            dst = rng.choice(vacant, size=n_w, replace=False)
            mp = np.full(self.n_dwellings, -1, dtype=np.int64)
            mp[src] = dst
            live = self.living()
            movers = np.nonzero(live & (mp[people["dwelling"]] >= 0))[0]
            people["dwelling"][movers] = mp[people["dwelling"][movers]]
            people["last_dwelling"][movers] = people["dwelling"][movers]
            people["updated"][movers] = ms + rng.integers(0, 28, size=len(movers))
            ev["moved_within"] = len(movers)
            for s, d in zip(src.tolist(), dst.tolist()):
                if s in self.aid:
                    self.aid[d] = self.aid.pop(s)
            self._transfer_accounts(dst.tolist(), t)
        # police catch up with moves (stale addresses otherwise)
        live = self.living()
        stale = live & (people["police_dwelling"] != people["dwelling"])
        upd = stale & (rng.random(self.n_persons) >= self.config.rate("police_population", "address_stale"))
        people["police_dwelling"][upd] = people["dwelling"][upd]
        # move-ins: new households into empty dwellings
        occ = self.occupancy()
        vacant = np.nonzero(occ == 0)[0]
        vacant = vacant[
            ~np.isin(vacant, np.array(sorted(self.aid), dtype=np.int64))
        ]  # a dead aided person's home stays theirs
        n_in = min(len(vacant), max(0, int(n_out + rng.binomial(max(1, len(occupied)), 0.0003))))
        new_people = _new_person_columns()
        kinds_p = np.array([0.2, 0.03, 0.15, 0.02, 0.3, 0.08, 0.05, 0.07, 0.1])
        new_dws = rng.choice(vacant, size=n_in, replace=False).tolist() if n_in else []
        for d in new_dws:
            members = self._new_family(int(rng.choice(9, p=kinds_p)), ms)
            self._add_family(new_people, members, int(d), ms)
        # births
        mothers = np.nonzero(
            self.living()
            & (people["sex"] == 0)
            & (ages >= 22)
            & (ages < 42)
            & np.isin(people["relation"], [R_HEAD, R_SPOUSE])
        )[0]
        n_b = min(len(mothers), rng.binomial(self.n_persons, rates["births"]))
        chosen_m = rng.choice(mothers, size=n_b, replace=False).tolist() if n_b else []
        fathers = (
            np.nonzero(
                self.living()
                & np.isin(people["dwelling"], people["dwelling"][chosen_m])
                & (people["sex"] == 1)
                & np.isin(people["relation"], [R_HEAD, R_SPOUSE])
            )[0]
            if n_b
            else []
        )
        father_of = {}
        for i in list(fathers)[::-1]:
            father_of[int(people["dwelling"][i])] = int(i)
        for mo in chosen_m:
            d = int(people["dwelling"][mo])
            fa = father_of.get(d)
            surname_src = people["name"][fa] if fa is not None else people["name"][mo]
            sur = (
                surname_src[:2]
                if surname_src[:2] in {s for s, _ in vocabulary.SURNAMES if len(s) == 2}
                else surname_src[0]
            )
            sex = 1 if py_rng.random() < 0.52 else 0
            birth = ms + py_rng.randint(0, 27)
            new_people["sex"].append(sex)
            new_people["birth_day"].append(birth)
            new_people["name"].append(self._name(sur, sex, ymd(birth).year))
            new_people["ethnicity"].append(int(people["ethnicity"][mo]))
            new_people["dwelling"].append(d)
            new_people["relation"].append(R_SON if sex else R_DAU)
            new_people["registration_kind"].append(int(people["registration_kind"][mo]))
            new_people["registered_dwelling"].append(int(people["registered_dwelling"][mo]))
            new_people["registered_address"].append(people["registered_address"][mo])
            new_people["hukou_number"].append("")
            new_people["rare_name"].append(0)
            new_people["family"].append(int(people["family"][mo]))
            new_people["region_code"].append(
                self.district.code if people["registration_kind"][mo] != 3 else people["region_code"][mo]
            )
            ev["births"] += 1
        if new_people["sex"]:
            self._append_persons(new_people, t)
            ev["moved_in"] = sum(1 for r in new_people["relation"]) - ev["births"]
            self._transfer_accounts([int(d) for d in new_dws], t)
        return ev


def _cn_ordinal(n: int) -> str:
    return cn_number(n, 1)


# codes of districts/counties that were abolished or created: a person's region code is the one
# in force when the number was assigned (approximated by the birth year)
_SUCCESSOR = {
    "310108": (2016, "310106"),
    "310103": (2012, "310101"),
    "310119": (2010, "310115"),
    "310102": (2001, "310101"),
    "310230": (2017, "310151"),
    "310227": (1999, "310117"),
}


def _region_for_year(code: str, birth_year: int) -> str:
    s = _SUCCESSOR.get(code)
    if s and birth_year >= s[0]:
        return s[1]
    return code


class CategoricalStream:
    """Categorical draws in batches (numpy's per-call overhead is large)."""

    def __init__(self, rng: np.random.Generator, p: np.ndarray, batch: int = 65536):
        self.rng, self.p, self.batch = rng, np.asarray(p, dtype=float), batch
        self.buf: list[int] = []
        self.i = 0

    def next(self) -> int:
        if self.i >= len(self.buf):
            self.buf = self.rng.choice(len(self.p), size=self.batch, p=self.p).tolist()
            self.i = 0
        v = self.buf[self.i]
        self.i += 1
        return v
