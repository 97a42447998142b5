"""Render one monthly delivery of the eight source files from the world state, with per-source
noise, the row-level answer key and the planted-problem list."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np

from . import names as vocabulary
from .codes import FULLWIDTH, USCC_ALPHABET, cn_number, excel_serial, hash64, hash_u, salt_of, uscc_valid
from .world import AID_TYPES, EDU, ETH_NAMES, REL, ST_DEAD, ST_OK, ST_OUT, STATUS, World, ymd

NOISE_KINDS = {
    "address_room_missing",
    "id_bad_check",
    "id_transposed",
    "id_15digit",
    "field_blank",
    "name_homophone",
    "name_traditional",
    "name_unencodable",
    "vocab_unknown",
    "duplicate_row",
    "address_stale",
    "uscc_bad_check",
    "phone_invalid",
    "id_birthdate_mismatch",
    "id_sex_mismatch",
}
SCENARIO_KINDS = {
    "dead_but_aided",
    "moved_out_but_aided",
    "aid_family_size_mismatch",
    "aid_renhu_fenli",
    "dead_elderly_alone",
    "moved_out_elderly_alone",
    "elderly_not_alone",
    "elderly_power_drop",
    "account_holder_dead",
    "account_holder_unknown",
    "account_holder_not_resident",
    "account_vacant",
    "licence_expired_operating",
    "deregistered_operating",
    "closed_but_registered_active",
    "unregistered_operating",
    "address_not_in_library",
    "graduate_from_aid_family",
    "graduate_from_aid_family_unemployed",
}


def pid_s(i: int) -> str:
    return f"P{i + 1:08d}" if i >= 0 else ""


def hid_s(d: int) -> str:
    return f"H{d + 1:07d}" if d >= 0 else ""


def sid_s(s: int) -> str:
    return f"S{s + 1:06d}" if s >= 0 else ""


@dataclass
class Table:
    source: str
    header: list[str]
    rows: list = field(default_factory=list)  # list of lists (xlsx) or of str lines (csv)
    truth: list = field(default_factory=list)  # (pid, hid, sid) ints per row
    planted: list = field(default_factory=list)  # (kind, row_index0, pid, hid, sid, field, detail)


class Renderer:
    def __init__(self, w: World, t: int):
        self.w = w
        self.t = t
        self.config = w.config
        self.seed = w.seed
        self.library = w.library
        self.as_of = w.month_end[t]
        self.export_day = w.month_end[t] + 1
        self.ym = w.month_ym[t]
        self.people = w.people
        self.occ = w.occupancy()
        self.dname = w.district.name
        self.former = w.district.former_district

    # ---- noise plumbing -------------------------------------------------------------------------

    def rate(self, source: str, key: str) -> float:
        return self.config.rate(source, key)

    def uniform(self, keys, *salt) -> np.ndarray:
        return hash_u(np.asarray(keys, dtype=np.int64), salt_of(self.seed, *salt))

    def hashes(self, keys, *salt) -> np.ndarray:
        return hash64(np.asarray(keys, dtype=np.int64), salt_of(self.seed, *salt))

    # ---- addresses ------------------------------------------------------------------------------

    def addr(
        self, ai: int, room: str, style: int, variant: int = -1, former: bool = False, street_in: bool = False
    ) -> str:
        """style 0: 上海市静安区…, 1: 静安区…, 2: bare road…; room: dwelling room or shop unit."""
        library = self.library
        road = library.address_road_name[ai]
        lane = int(library.address_lane[ai])
        no = int(library.address_number[ai])
        is_room = room[:1].isdigit() and room.isdigit()
        dname = self.former if (former and self.former) else self.dname
        if style == 0:
            pre = "上海市" + dname
        elif style == 1:
            pre = dname
        else:
            pre = ""
        if street_in and pre:
            pre += library.street_name[library.address_street[ai]]
        if variant == 0:  # prefix toggled
            pre = "" if pre else "上海市" + dname
        rsuf = "室" if is_room else ""
        if variant == 1:  # short form 柳营路669-14-1102
            if lane:
                s = f"{road}{lane}-{no}" + (f"-{room}" if room else "")
            else:
                s = f"{road}{no}号" + (f"-{room}" if room and is_room else room)
            return pre + s
        if variant == 2:  # Chinese numerals before 弄/号/室 (never inside the road name)
            st = int(self.seed + ai) % 2
            lane_s = f"{cn_number(lane, st)}弄" if lane else ""
            room_s = ("".join("零一二三四五六七八九"[int(c)] for c in room) + "室") if is_room else room
            return f"{pre}{road}{lane_s}{cn_number(no, st)}号{room_s}"
        lane_word = "衖" if variant == 4 else "弄"
        no_word = "号"
        if variant == 5 and lane:
            no_word = ["号楼", "幢", "栋"][(ai + len(room)) % 3]
        if variant == 3:
            rsuf = ""
        lane_s = f"{lane}{lane_word}" if lane else ""
        s = f"{pre}{road}{lane_s}{no}{no_word}{room}{rsuf}"
        if variant == 6:
            s = s.translate(FULLWIDTH)
        return s

    def addr_col(self, source: str, keys, ais, rooms, style: int, salt: str = "addr"):
        """Render addresses for many records with stable per-record variants."""
        n = len(keys)
        if n == 0:
            return []
        uv = self.uniform(keys, source, salt, "v")
        hv = self.hashes(keys, source, salt, "k")
        uf = self.uniform(keys, source, salt, "f")
        r_var = self.rate(source, "address_variant")
        r_for = self.rate(source, "address_former_district")
        former_st = self.library.street_is_former_district
        out = []
        library = self.library
        for j in range(n):
            ai = int(ais[j])
            v = int(hv[j] % 7) if uv[j] < r_var else -1
            fm = bool(former_st[library.address_street[ai]]) and uf[j] < r_for and style < 2
            si = v == -1 and uf[j] > 1 - r_var / 2 and style < 2
            out.append(self.addr(ai, rooms[j], style, v, fm, si))
        return out

    def dwelling_address(self, d: int, style: int) -> str:
        return self.addr(int(self.library.dwelling_address[d]), self.library.dwelling_room[d], style)

    def residence_col(self, source: str, keys, police_dwellings) -> list[str]:
        """居住地址 of the police export (the dwelling the police have on file)."""
        library = self.library
        return self.addr_col(
            source,
            keys,
            library.dwelling_address[police_dwellings],
            [library.dwelling_room[d] for d in police_dwellings.tolist()],
            0,
            "res",
        )

    def extra_police_plants(self, source: str, ids: list[str], births) -> list[tuple]:
        """Planted problems of the police rows that only a noise profile knows about."""
        return []

    def operator_names(self, keys, entities: list[dict]) -> list[str]:
        """经营者名称 of the food licences: the registered name."""
        return [e["name"] for e in entities]

    def reading_months(self) -> list[int]:
        """抄表月份 in the utility export: the last twelve months up to the delivery month."""
        return list(range(max(0, self.t - 11), self.t + 1))

    def account_holder_names(self, account_ids) -> list[str]:
        """户名 of each account: the holder's name, or the stored name of a holder unknown here."""
        people, accounts = self.people, self.w.accounts
        holder = accounts["holder_person"]
        return [
            people["name"][holder[a]] if holder[a] >= 0 else accounts["holder_name"][a] for a in account_ids.tolist()
        ]

    # ---- field noise ----------------------------------------------------------------------------

    def fmt_date(self, dayn: int, k: int, xlsx: bool):
        dt = ymd(dayn)
        if k == 0:
            return dt.strftime("%Y-%m-%d")
        if k == 1:
            return f"{dt.year}/{dt.month}/{dt.day}"
        if k == 2:
            return dt.strftime("%Y%m%d")
        if k == 3:
            return f"{dt.year}年{dt.month}月{dt.day}日"
        return excel_serial(dayn) if xlsx else dt.strftime("%Y-%m-%d")

    def date_col(self, source: str, keys, days, salt: str, xlsx: bool = False, base: int = 0):
        u = self.uniform(keys, source, salt, "dv")
        h = self.hashes(keys, source, salt, "dk")
        r = self.rate(source, "date_variant")
        nk = 5 if xlsx else 4
        days = np.asarray(days, dtype=np.int64)
        out = np.datetime_as_string(days.astype("datetime64[D]")).tolist() if len(days) else []
        for j in np.nonzero(u < r)[0].tolist():
            out[j] = self.fmt_date(int(days[j]), int(1 + h[j] % (nk - 1)), xlsx)
        return out

    def phone_col(self, source: str, keys, phones, salt: str, planted, rows_of=None, field_name="联系电话"):
        u = self.uniform(keys, source, salt, "pv")
        h = self.hashes(keys, source, salt, "pk")
        rv = self.rate(source, "phone_variant")
        ri = self.rate(source, "phone_invalid")
        rb = self.rate(source, "blank_field")
        out = []
        for j, p in enumerate(phones):
            if not p:
                out.append("")
                continue
            x = u[j]
            if x < ri and not p.startswith("021"):
                k = int(h[j] % 10)
                bad = p[: k + 1] + p[k + 2 :]
                out.append(bad)
                planted.append(("phone_invalid", j, field_name, f"true={p}"))
                continue
            if x < ri + rb:
                out.append("")
                continue
            if x < ri + rb + rv and not p.startswith("021"):
                k = int(h[j] % 4)
                p = [
                    f"+86 {p[:3]} {p[3:7]} {p[7:]}",
                    f"{p[:3]}-{p[3:7]}-{p[7:]}",
                    f"86-{p}",
                    f"{p[:3]} {p[3:7]} {p[7:]}",
                ][k]
            out.append(p)
        return out

    def id_col(self, source: str, keys, ids, births, planted, field_name: str, salt: str = "id"):
        """Noisy ID strings. planted gets (kind, j, field, detail) for checkable problems."""
        u = self.uniform(keys, source, salt, "u")
        h = self.hashes(keys, source, salt, "h")
        ux = self.uniform(keys, source, salt, "x")
        r_typo, r_tr, r_15, r_bl, r_fw = (
            self.rate(source, k) for k in ("id_typo", "id_transposed", "id_15digit", "id_blank", "id_fullwidth")
        )
        r_x = self.rate(source, "id_lowercase_x")
        c1, c2, c3, c4, c5 = np.cumsum([r_typo, r_tr, r_15, r_bl, r_fw])
        out = list(ids)
        for j in np.nonzero(u < c5)[0].tolist():
            idn = ids[j]
            x = u[j]
            hh = int(h[j])
            if x < c1:
                p = hh % 18
                if p == 17:
                    ch = "10X98765432"[(("10X98765432".index(idn[17]) + 1 + (hh >> 8) % 10) % 11)]
                    new = idn[:17] + ch
                else:
                    dgt = (int(idn[p]) + 1 + (hh >> 8) % 9) % 10
                    new = idn[:p] + str(dgt) + idn[p + 1 :]
                out[j] = new
                planted.append(("id_bad_check", j, field_name, f"true={idn}"))
            elif x < c2:
                cands = [p for p in range(6, 16) if idn[p] != idn[p + 1]]
                if not cands:
                    continue
                p = cands[hh % len(cands)]
                out[j] = idn[:p] + idn[p + 1] + idn[p] + idn[p + 2 :]
                planted.append(("id_transposed", j, field_name, f"true={idn}"))
            elif x < c3:
                if ymd(int(births[j])).year >= 1985 or not idn.startswith(("1", "2", "3", "4", "5", "6")):
                    continue
                out[j] = idn[:6] + idn[8:17]
                planted.append(("id_15digit", j, field_name, f"true={idn}"))
            elif x < c4:
                out[j] = ""
                planted.append(("field_blank", j, field_name, f"true={idn}"))
            else:
                out[j] = idn.translate(FULLWIDTH)
        for j in np.nonzero(ux < r_x)[0].tolist():
            if out[j].endswith("X"):
                out[j] = out[j][:-1] + "x"
        return out

    def name_col(self, source: str, keys, nms, planted, field_name: str, salt: str = "name", surname_len=None):
        u = self.uniform(keys, source, salt, "u")
        h = self.hashes(keys, source, salt, "h")
        us = self.uniform(keys, source, salt, "s")
        r_h, r_t, r_b = (self.rate(source, k) for k in ("name_homophone", "name_traditional", "name_blank"))
        r_s = self.rate(source, "name_separator")
        c1, c2, c3 = r_h, r_h + r_t, r_h + r_t + r_b
        out = list(nms)
        for j in np.nonzero(u < c3)[0].tolist():
            nm = nms[j]
            x = u[j]
            if x < c1:
                sl = 2 if nm[:2] in _COMPOUND else 1
                new = vocabulary.homophone(nm, int(h[j]), sl)
                if new:
                    out[j] = new
                    planted.append(("name_homophone", j, field_name, f"true={nm}"))
            elif x < c2:
                new = vocabulary.traditional(nm)
                if new:
                    out[j] = new
                    planted.append(("name_traditional", j, field_name, f"true={nm}"))
            else:
                out[j] = ""
                planted.append(("field_blank", j, field_name, f"true={nm}"))
        for j in np.nonzero(us < r_s)[0].tolist():
            if "·" in out[j]:
                out[j] = vocabulary.with_separator(out[j], 1 + int(h[j] >> 20) % 4)
        return out

    def dup_mask(self, source: str, keys) -> np.ndarray:
        return self.uniform(keys, source, "dup") < self.rate(source, "duplicate_row")

    def vocab_col(self, source: str, keys, values, unknown: dict, planted, field_name: str):
        u = self.uniform(keys, source, field_name, "vocab")
        r = self.rate(source, "vocab_unknown")
        out = list(values)
        for j in np.nonzero(u < r)[0].tolist():
            if out[j] in unknown:
                new = unknown[out[j]]
                planted.append(("vocab_unknown", j, field_name, f"{new} (true {out[j]})"))
                out[j] = new
        return out

    # ---- assembling -----------------------------------------------------------------------------

    def finish(self, tab: Table, cols: list, truth: list, planted_local: list, keys, xlsx: bool, extra_planted=None):
        """Assemble rows (with duplicates), truth and planted. planted_local entries:
        (kind, j, field, detail) with j the record index."""
        n = len(truth)
        dup = self.dup_mask(tab.source, keys) if n else np.zeros(0, dtype=bool)
        order = np.repeat(np.arange(n), 1 + dup.astype(np.int64))
        row_of = np.cumsum(1 + dup.astype(np.int64)) - 1 - dup.astype(np.int64)  # first row of record
        if xlsx:
            recs = [list(r) for r in zip(*cols)] if n else []
            tab.rows = [recs[j] for j in order.tolist()]
        else:
            lines = [",".join(r) for r in zip(*cols)] if n else []
            tab.rows = [lines[j] for j in order.tolist()]
        tab.truth = [truth[j] for j in order.tolist()]
        for kind, j, fld, det in planted_local:
            pid, hid, sid = truth[j]
            tab.planted.append((kind, int(row_of[j]), pid, hid, sid, fld, det))
            if dup[j]:
                tab.planted.append((kind, int(row_of[j]) + 1, pid, hid, sid, fld, det))
        for j in np.nonzero(dup)[0].tolist():
            pid, hid, sid = truth[j]
            tab.planted.append(
                ("duplicate_row", int(row_of[j]) + 1, pid, hid, sid, "", f"duplicate of row {row_of[j] + 1}")
            )
        return row_of, dup

    # ---- sources --------------------------------------------------------------------------------

    def police(self) -> Table:
        w, people, library, src = self.w, self.people, self.library, "police_population"
        tab = Table(
            src,
            [
                "公民身份号码",
                "姓名",
                "性别",
                "民族",
                "出生日期",
                "户号",
                "与户主关系",
                "户籍地址",
                "居住地址",
                "人员状态",
                "文化程度",
                "联系电话",
                "更新日期",
            ],
        )
        n = w.n_persons
        keys = np.arange(n)
        pl: list = []
        births = people["birth_day"]
        ids = self.id_col(src, keys, people["id_number"].tolist(), births, pl, "公民身份号码")
        nms = self.name_col(src, keys, people["name"].tolist(), pl, "姓名")
        sex = np.where(people["sex"] == 1, "男", "女").tolist()
        eth = [ETH_NAMES[e] for e in people["ethnicity"].tolist()]
        bdate = self.date_col(src, keys, births, "birth")
        rel = [REL[r] for r in people["relation"].tolist()]
        # registered address
        regdw, regaddr = people["registered_dwelling"], people["registered_address"]
        reg_in = np.nonzero(regdw >= 0)[0]
        reg_col = list(regaddr)
        rc = self.addr_col(
            src,
            reg_in,
            library.dwelling_address[regdw[reg_in]],
            [library.dwelling_room[d] for d in regdw[reg_in].tolist()],
            0,
            "reg",
        )
        for j, s in zip(reg_in.tolist(), rc):
            reg_col[j] = s
        pdw = people["police_dwelling"]
        res_col = self.residence_col(src, keys, pdw)
        status = self.vocab_col(
            src,
            keys,
            [STATUS[s] for s in people["status"].tolist()],
            {"正常": "在册", "死亡": "注销", "迁出": "迁移"},
            pl,
            "人员状态",
        )
        ub = self.uniform(keys, src, "edu", "blank")
        rb = self.rate(src, "blank_field")
        edu = [("" if ub[j] < rb else EDU[e]) for j, e in enumerate(people["education"].tolist())]
        phones = self.phone_col(src, keys, people["phone"].tolist(), "phone", pl)
        upd = self.date_col(src, keys, np.minimum(people["updated"], self.as_of), "upd")
        hk = people["hukou_number"].tolist()
        # scans: stale address, library, ID vs birth date / sex
        dw = people["dwelling"]
        written = np.array([bool(s) for s in res_col], dtype=bool)
        for j in np.nonzero((pdw != dw) & written)[0].tolist():
            pl.append(("address_stale", j, "居住地址", f"written {hid_s(int(pdw[j]))}, lives {hid_s(int(dw[j]))}"))
        inlib = library.address_in_library
        for j in np.nonzero(~inlib[library.dwelling_address[pdw]] & written)[0].tolist():
            pl.append(
                ("address_not_in_library", j, "居住地址", library.address_code[int(library.dwelling_address[pdw[j]])])
            )
        for j in reg_in[~inlib[library.dwelling_address[regdw[reg_in]]]].tolist():
            pl.append(
                ("address_not_in_library", j, "户籍地址", library.address_code[int(library.dwelling_address[regdw[j]])])
            )
        true_ids = people["id_number"]
        for j, s in enumerate(ids):
            if s == true_ids[j] or not s:
                continue
            norm = unicodedata.normalize("NFKC", s).upper().replace(" ", "").lstrip("'")
            tid = true_ids[j]
            if len(norm) == 18:
                if norm[6:14] != tid[6:14]:
                    pl.append(("id_birthdate_mismatch", j, "公民身份号码", f"{norm[6:14]} vs {tid[6:14]}"))
                if norm[16].isdigit() and int(norm[16]) % 2 != int(tid[16]) % 2:
                    pl.append(("id_sex_mismatch", j, "公民身份号码", f"{norm[16]} vs {sex[j]}"))
        pl += self.extra_police_plants(src, ids, births)
        truth = [(j, int(dw[j]), -1) for j in range(n)]
        cols = [ids, nms, sex, eth, bdate, hk, rel, reg_col, res_col, status, edu, phones, upd]
        self.finish(tab, cols, truth, pl, keys, xlsx=False)
        return tab

    def assistance(self) -> Table:
        w, people, library, src = self.w, self.people, self.library, "civil_affairs_assistance"
        tab = Table(
            src,
            [
                "救助证编号",
                "救助类型",
                "户主姓名",
                "户主身份证号",
                "成员姓名",
                "成员身份证号",
                "与户主关系",
                "家庭人口数",
                "月救助金额",
                "家庭地址",
                "所属街道",
                "所属居委",
                "起始年月",
            ],
        )
        fams = sorted(w.aid.items(), key=lambda kv: kv[1]["cert"])
        recs = []  # (dwelling, family, member)
        for d, f in fams:
            for i in f["members"]:
                recs.append((d, f, i))
        n = len(recs)
        mem = np.array([i for _, _, i in recs], dtype=np.int64)
        heads = np.array([f["head"] for _, f, _ in recs], dtype=np.int64)
        pl: list = []
        births = people["birth_day"][mem] if n else np.zeros(0)
        keys = mem * 7 + 1
        hkeys = heads * 7 + 2
        m_ids = self.id_col(src, keys, [people["id_number"][i] for i in mem.tolist()], births, pl, "成员身份证号")
        m_nms = self.name_col(src, keys, [people["name"][i] for i in mem.tolist()], pl, "成员姓名")
        pl_h: list = []
        h_ids = self.id_col(
            src,
            hkeys,
            [people["id_number"][i] for i in heads.tolist()],
            people["birth_day"][heads] if n else [],
            pl_h,
            "户主身份证号",
            salt="hid",
        )
        h_nms = self.name_col(src, hkeys, [people["name"][i] for i in heads.tolist()], pl_h, "户主姓名", salt="hname")
        pl += pl_h
        types = self.vocab_col(
            src,
            heads * 3,
            [AID_TYPES[f["type"]] for _, f, _ in recs],
            {"低保": "低保户", "低收入": "低收入户", "特困": "特困供养"},
            pl,
            "救助类型",
        )
        rel = ["户主" if i == f["head"] else REL[people["relation"][i]] for _, f, i in recs]
        rel = [("其他" if r == "户主" and i != f["head"] else r) for r, (_, f, i) in zip(rel, recs)]
        size = [f["declared"] for _, f, _ in recs]
        amount = [f["amount"] for _, f, _ in recs]
        adws = np.array([f["listed_dwelling"] for _, f, _ in recs], dtype=np.int64)
        addr = self.addr_col(
            src,
            heads * 5 + 3,
            library.dwelling_address[adws] if n else [],
            [library.dwelling_room[d] for d in adws.tolist()],
            1,
        )
        st_name = [library.street_name[library.address_street[int(library.dwelling_address[d])]] for d in adws.tolist()]
        cm_name = [library.committee_name_of(int(library.dwelling_address[d])) for d in adws.tolist()]
        since_days = [ymd(w.month_start[0]).replace(year=f["since"][0], month=f["since"][1], day=1) for _, f, _ in recs]
        since_days = [(x - ymd(0)).days for x in since_days]
        us = self.uniform(heads, src, "since")
        hs = self.hashes(heads, src, "since_k")
        rs = self.rate(src, "date_variant")
        since = []
        for j, dd in enumerate(since_days):
            dt = ymd(dd)
            k = int(hs[j] % 4) if us[j] < rs else 0
            since.append(
                [f"{dt.year}-{dt.month:02d}", f"{dt.year}年{dt.month}月", f"{dt.year}{dt.month:02d}", excel_serial(dd)][
                    k
                ]
            )
        # scans
        count = {}
        for _, f, _ in recs:
            count[f["cert"]] = count.get(f["cert"], 0) + 1
        for j, (_d, f, i) in enumerate(recs):
            st = people["status"][i]
            if st == ST_DEAD:
                pl.append(("dead_but_aided", j, "成员身份证号", f"died {_ym(w, people['status_month'][i])}"))
            elif st == ST_OUT:
                pl.append(("moved_out_but_aided", j, "成员身份证号", f"moved out {_ym(w, people['status_month'][i])}"))
            if f["declared"] != count[f["cert"]]:
                pl.append(
                    (
                        "aid_family_size_mismatch",
                        j,
                        "家庭人口数",
                        f"declared {f['declared']}, listed {count[f['cert']]}",
                    )
                )
            ad = int(adws[j])
            if ad != int(people["dwelling"][i]):
                if ad == int(people["registered_dwelling"][i]):
                    pl.append(
                        (
                            "aid_renhu_fenli",
                            j,
                            "家庭地址",
                            f"registered {hid_s(ad)}, lives {hid_s(int(people['dwelling'][i]))}",
                        )
                    )
                else:
                    pl.append(
                        (
                            "address_stale",
                            j,
                            "家庭地址",
                            f"written {hid_s(ad)}, lives {hid_s(int(people['dwelling'][i]))}",
                        )
                    )
            if not library.address_in_library[int(library.dwelling_address[ad])]:
                pl.append(
                    ("address_not_in_library", j, "家庭地址", library.address_code[int(library.dwelling_address[ad])])
                )
        truth = [(int(i), int(people["dwelling"][i]), -1) for _, _, i in recs]
        cols = [
            [f["cert"] for _, f, _ in recs],
            types,
            h_nms,
            h_ids,
            m_nms,
            m_ids,
            rel,
            size,
            amount,
            addr,
            st_name,
            cm_name,
            since,
        ]
        self.finish(tab, cols, truth, pl, keys, xlsx=True)
        return tab

    def elderly(self) -> Table:
        w, people, library, src = self.w, self.people, self.library, "civil_affairs_elderly_alone"
        tab = Table(
            src,
            ["姓名", "身份证号", "性别", "年龄", "居住地址", "联系电话", "紧急联系人", "紧急联系人电话", "所属居委"],
        )
        listed = sorted(w.elderly.keys())
        n = len(listed)
        idx = np.array(listed, dtype=np.int64)
        keys = idx * 11 + 5
        pl: list = []
        ids = self.id_col(
            src, keys, [people["id_number"][i] for i in listed], people["birth_day"][idx] if n else [], pl, "身份证号"
        )
        nms = self.name_col(src, keys, [people["name"][i] for i in listed], pl, "姓名")
        sex = ["男" if people["sex"][i] else "女" for i in listed]
        age = [int((self.as_of - people["birth_day"][i]) // 365.25) for i in listed]
        adws = np.array([w.elderly[i]["listed_dwelling"] for i in listed], dtype=np.int64)
        addr = self.addr_col(
            src, keys, library.dwelling_address[adws] if n else [], [library.dwelling_room[d] for d in adws.tolist()], 2
        )
        phones = self.phone_col(src, keys, [w.elderly[i]["phone"] for i in listed], "phone", pl)
        contact = [w.elderly[i]["contact"] for i in listed]
        cphone = self.phone_col(
            src, keys, [w.elderly[i]["contact_phone"] for i in listed], "cphone", pl, field_name="紧急联系人电话"
        )
        comm = [library.committee_name_of(int(library.dwelling_address[d])) for d in adws.tolist()]
        for j, i in enumerate(listed):
            st = people["status"][i]
            if st == ST_DEAD:
                pl.append(("dead_elderly_alone", j, "身份证号", f"died {_ym(w, people['status_month'][i])}"))
            elif st == ST_OUT:
                pl.append(("moved_out_elderly_alone", j, "身份证号", f"moved out {_ym(w, people['status_month'][i])}"))
            elif self.occ[people["dwelling"][i]] > 1:
                pl.append(("elderly_not_alone", j, "居住地址", f"{self.occ[people['dwelling'][i]]} residents"))
            if adws[j] != people["dwelling"][i]:
                pl.append(
                    (
                        "address_stale",
                        j,
                        "居住地址",
                        f"written {hid_s(int(adws[j]))}, lives {hid_s(int(people['dwelling'][i]))}",
                    )
                )
            if not library.address_in_library[int(library.dwelling_address[adws[j]])]:
                pl.append(
                    (
                        "address_not_in_library",
                        j,
                        "居住地址",
                        library.address_code[int(library.dwelling_address[adws[j]])],
                    )
                )
        truth = [(int(i), int(people["dwelling"][i]), -1) for i in listed]
        cols = [nms, ids, sex, age, addr, phones, contact, cphone, comm]
        self.finish(tab, cols, truth, pl, keys, xlsx=True)
        return tab

    def electricity(self, elderly_people: list[int]) -> Table:
        w, people, library, accounts, src, t = (
            self.w,
            self.people,
            self.library,
            self.w.accounts,
            "utility_electricity",
            self.t,
        )
        tab = Table(src, ["用电户号", "户名", "用电地址", "联系电话", "抄表月份", "用电量"])
        months = self.reading_months()
        n_acc = len(w.kwh[t])
        M = np.full((n_acc, len(months)), -1, dtype=np.int64)
        for c, m in enumerate(months):
            k = w.kwh[m]
            M[: len(k), c] = k
        miss = self.uniform(np.arange(n_acc)[:, None] * 64 + np.array(months)[None, :], src, "miss") < self.rate(
            src, "reading_missing"
        )
        M[miss] = -1
        accs = np.nonzero((M >= 0).any(axis=1))[0]
        kind = np.array(accounts["kind"])[:n_acc]
        target = np.array(accounts["target"])[:n_acc]
        holder = np.array(accounts["holder_person"])[:n_acc]
        pl: list = []
        keys = accs
        # holder names (noise keyed by account)
        hn = self.account_holder_names(accs)
        hn = self.name_col(src, keys, hn, pl, "户名")
        ais, rooms = [], []
        shops = w.shops
        for a in accs.tolist():
            if kind[a] == 0:
                ais.append(int(library.dwelling_address[target[a]]))
                rooms.append(library.dwelling_room[target[a]])
            else:
                s = shops[target[a]]
                ais.append(s["address"])
                rooms.append(s["unit"])
        addr = self.addr_col(src, keys, ais, rooms, 2)
        phones = self.phone_col(src, keys, [accounts["phone"][a] for a in accs.tolist()], "phone", pl)
        acc_no = [str(3100000000 + (int(a) * 104729) % 100000000) for a in accs.tolist()]
        prefixes = [f"{a},{b},{c},{d}," for a, b, c, d in zip(acc_no, hn, addr, phones)]
        mlabels = [f"{w.month_ym[m][0]}-{w.month_ym[m][1]:02d}" for m in months]
        Ms = M[accs]
        dup = self.uniform(accs[:, None] * 64 + np.array(months)[None, :], src, "dup") < self.rate(src, "duplicate_row")
        lines = []
        truth = []
        last_row = {}
        truth_acc = [((-1, int(target[a]), -1) if kind[a] == 0 else (-1, -1, int(target[a]))) for a in accs.tolist()]
        rownum = 0
        for r, a in enumerate(accs.tolist()):
            pre = prefixes[r]
            row = Ms[r]
            tr = truth_acc[r]
            for c in range(len(months)):
                v = row[c]
                if v < 0:
                    continue
                line = f"{pre}{mlabels[c]},{v}"
                lines.append(line)
                truth.append(tr)
                last_row[a] = (rownum, c)
                rownum += 1
                if dup[r, c]:
                    lines.append(line)
                    truth.append(tr)
                    tab.planted.append(("duplicate_row", rownum, tr[0], tr[1], tr[2], "", f"duplicate of row {rownum}"))
                    rownum += 1
        tab.rows = lines
        tab.truth = truth
        acc_pos = {a: r for r, a in enumerate(accs.tolist())}
        for kind_, j, fld, det in pl:  # account-level noise -> the account's latest row
            a = int(accs[j])
            tr = truth_acc[j]
            tab.planted.append((kind_, last_row[a][0], tr[0], tr[1], tr[2], fld, det))
        occ = self.occ
        for r, a in enumerate(accs.tolist()):
            tr = truth_acc[r]
            row0 = last_row[a][0]
            if kind[a] == 0:
                hd = holder[a]
                if hd >= 0 and people["status"][hd] == ST_DEAD:
                    tab.planted.append(
                        (
                            "account_holder_dead",
                            row0,
                            int(hd),
                            tr[1],
                            -1,
                            "户名",
                            f"died {_ym(w, people['status_month'][hd])}",
                        )
                    )
                elif hd >= 0 and (people["status"][hd] == ST_OUT or people["dwelling"][hd] != target[a]):
                    tab.planted.append(
                        (
                            "account_holder_not_resident",
                            row0,
                            int(hd),
                            tr[1],
                            -1,
                            "户名",
                            f"holder lives {hid_s(int(people['dwelling'][hd]))} status {STATUS[people['status'][hd]]}",
                        )
                    )
                elif hd < 0:
                    tab.planted.append(
                        ("account_holder_unknown", row0, -1, tr[1], -1, "户名", accounts["holder_name"][a])
                    )
                if occ[target[a]] == 0:
                    tab.planted.append(("account_vacant", row0, -1, tr[1], -1, "", ""))
            if not library.address_in_library[ais[r]]:
                tab.planted.append(
                    ("address_not_in_library", row0, tr[0], tr[1], tr[2], "用电地址", library.address_code[ais[r]])
                )
        # elderly power drop: listed elderly whose dwelling's latest reading collapsed
        for i in elderly_people:
            d = int(people["dwelling"][i])
            a = w.account_of_dwelling.get(d)
            if a is None or a not in acc_pos:
                continue
            row = Ms[acc_pos[a]]
            latest = row[-1]
            prior = row[:-1][row[:-1] >= 0]
            if latest < 0 or len(prior) < 3:
                continue
            med = float(np.median(prior))
            if latest < 0.3 * med:
                tab.planted.append(
                    (
                        "elderly_power_drop",
                        last_row[a][0],
                        int(i),
                        d,
                        -1,
                        "用电量",
                        f"latest {latest} vs median {med:.0f}",
                    )
                )
        return tab

    def _shop_addr_parts(self, e):
        return e["address"], e["unit"]

    def registry(self) -> Table:
        w, library, src = self.w, self.library, "market_business_registry"
        tab = Table(
            src,
            [
                "统一社会信用代码",
                "主体名称",
                "主体类型",
                "法定代表人",
                "经营场所",
                "经营范围",
                "成立日期",
                "登记状态",
                "核准日期",
            ],
        )
        ents = [k for k, e in enumerate(w.entities) if not e.get("dropped") and e["established"] <= self.as_of]
        keys = np.array(ents, dtype=np.int64)
        E = [w.entities[k] for k in ents]
        pl: list = []
        uscc = self.uscc_col(src, keys, [e["uscc"] for e in E], pl, "统一社会信用代码")
        nm = [e["name"] for e in E]
        et = [e["entity_type"] for e in E]
        rep = self.name_col(src, keys, [e["legal_rep"] for e in E], pl, "法定代表人")
        addr = self.addr_col(src, keys, [e["address"] for e in E], [e["unit"] for e in E], 0)
        scope = [e["scope"] for e in E]
        est = self.date_col(src, keys, [e["established"] for e in E], "est")
        status = self.vocab_col(
            src, keys, [e["status"] for e in E], {"存续": "开业", "在业": "在营", "注销": "已注销"}, pl, "登记状态"
        )
        appr = self.date_col(src, keys, [min(e["approved"], self.as_of) for e in E], "appr")
        for j, e in enumerate(E):
            s = e["shop"]
            if s >= 0:
                sh = w.shops[s]
                if e["status"] in ("注销", "吊销") and sh["status"] == "营业":
                    pl.append(("deregistered_operating", j, "登记状态", e["status"]))
                if e["status"] in ("存续", "在业") and sh["status"] == "已关闭":
                    pl.append(("closed_but_registered_active", j, "登记状态", f"closed {_ym(w, sh['closed_month'])}"))
            if not library.address_in_library[e["address"]]:
                pl.append(("address_not_in_library", j, "经营场所", library.address_code[e["address"]]))
        truth = [(-1, -1, e["shop"] if e["shop"] >= 0 else -1) for e in E]
        cols = [uscc, nm, et, rep, addr, scope, est, status, appr]
        self.finish(tab, cols, truth, pl, keys, xlsx=False)
        return tab

    def uscc_col(self, source, keys, codes, planted, field_name):
        u = self.uniform(keys, source, "uscc")
        h = self.hashes(keys, source, "uscc_h")
        r = self.rate(source, "uscc_typo")
        out = list(codes)
        for j in np.nonzero(u < r)[0].tolist():
            c = codes[j]
            p = int(h[j] % 17)
            ch = USCC_ALPHABET[(USCC_ALPHABET.index(c[p]) + 1 + int(h[j] >> 8) % 30) % 31]
            out[j] = c[:p] + ch + c[p + 1 :]
            if not uscc_valid(out[j]):
                planted.append(("uscc_bad_check", j, field_name, f"true={c}"))
        return out

    def licence(self) -> Table:
        w, library, src = self.w, self.library, "market_food_licence"
        tab = Table(
            src,
            [
                "许可证编号",
                "经营者名称",
                "统一社会信用代码",
                "法定代表人",
                "经营场所",
                "主体业态",
                "发证日期",
                "有效期至",
            ],
        )
        lics = [k for k, lic in enumerate(w.licences) if not lic["dropped"] and lic["issued"] <= self.as_of]
        keys = np.array(lics, dtype=np.int64)
        licences = [w.licences[k] for k in lics]
        E = [w.entities[lic["entity"]] for lic in licences]
        pl: list = []
        uscc = self.uscc_col(src, keys, [e["uscc"] for e in E], pl, "统一社会信用代码")
        rep = self.name_col(src, keys, [e["legal_rep"] for e in E], pl, "法定代表人")
        addr = self.addr_col(src, keys, [e["address"] for e in E], [e["unit"] for e in E], 0)
        fmt = [{1: "食品销售经营者", 2: "餐饮服务经营者", 3: "单位食堂"}[lic["kind"]] for lic in licences]
        issued = self.date_col(src, keys, [lic["issued"] for lic in licences], "iss", xlsx=True)
        valid = self.date_col(src, keys, [lic["valid_until"] for lic in licences], "val", xlsx=True)
        for j, lic in enumerate(licences):
            s = lic["shop"]
            if s >= 0 and w.shops[s]["status"] == "营业" and lic["valid_until"] < self.export_day:
                pl.append(("licence_expired_operating", j, "有效期至", ymd(lic["valid_until"]).isoformat()))
            if not library.address_in_library[E[j]["address"]]:
                pl.append(("address_not_in_library", j, "经营场所", library.address_code[E[j]["address"]]))
        truth = [(-1, -1, lic["shop"] if lic["shop"] >= 0 else -1) for lic in licences]
        cols = [[lic["no"] for lic in licences], self.operator_names(keys, E), uscc, rep, addr, fmt, issued, valid]
        self.finish(tab, cols, truth, pl, keys, xlsx=True)
        return tab

    def visits(self) -> Table:
        w, library, src, t = self.w, self.library, "street_shop_visits", self.t
        tab = Table(
            src,
            [
                "走访日期",
                "店招名称",
                "经营地址",
                "联系人",
                "联系电话",
                "业态",
                "检查结果",
                "所属街道",
                "所属居委",
                "走访人",
            ],
        )
        vis = [(k, v) for k, v in enumerate(w.visits) if v[4] <= t]
        keys = np.array([k for k, _ in vis], dtype=np.int64)
        pl: list = []
        S = [w.shops[v[0]] for _, v in vis]
        dates = self.date_col(src, keys, [v[1] for _, v in vis], "date", xlsx=True)
        signs = self.visit_signs(keys, S)
        addr = self.addr_col(src, keys, [s["address"] for s in S], [s["unit"] for s in S], 2)
        contacts, contact_phones = self.visit_contacts(keys, S)
        phones = self.phone_col(src, keys, contact_phones, "phone", pl)
        cat = [vocabulary.SHOP_CATEGORIES[s["category"]][0] for s in S]
        st_name = [library.street_name[library.address_street[s["address"]]] for s in S]
        cm_name = [library.committee_name_of(s["address"]) for s in S]
        visitor = [self._visitor(int(library.address_street[s["address"]]), v[2]) for s, (_, v) in zip(S, vis)]
        latest = {}
        for j, (_, v) in enumerate(vis):
            latest[v[0]] = j
            if not library.address_in_library[S[j]["address"]]:
                pl.append(("address_not_in_library", j, "经营地址", library.address_code[S[j]["address"]]))
        for sid, j in sorted(latest.items()):
            s = w.shops[sid]
            if s["status"] == "营业" and not s["registered"]:
                pl.append(("unregistered_operating", j, "店招名称", s["sign"]))
        truth = [(-1, -1, v[0]) for _, v in vis]
        cols = [
            dates,
            signs,
            addr,
            contacts,
            phones,
            cat,
            [v[3] for _, v in vis],
            st_name,
            cm_name,
            visitor,
        ]
        self.finish(tab, cols, truth, pl, keys, xlsx=True)
        return tab

    def visit_signs(self, keys, shops: list[dict]) -> list[str]:
        """店招 as the visitor wrote it: the sign, now and then with a branch suffix or shortened."""
        library, src = self.library, "street_shop_visits"
        usv = self.uniform(keys, src, "sign")
        hsv = self.hashes(keys, src, "sign_h")
        rs = self.rate(src, "sign_variant")
        signs = []
        for j, s in enumerate(shops):
            sg = s["sign"]
            if usv[j] < rs:
                k = int(hsv[j] % 3)
                road = library.address_road_name[s["address"]]
                if k == 0:
                    sg = f"{sg}（{road}店）" if s["chain"] >= 0 else f"{sg}{road[:2]}店"
                elif k == 1 and len(sg) > 3:
                    sg = sg[:-1]
                else:
                    sg = f"{sg}({road}{library.address_number[s['address']]}号)"
            signs.append(sg)
        return signs

    def visit_contacts(self, keys, shops: list[dict]) -> tuple[list[str], list[str]]:
        """联系人 and 联系电话 of each visit: here the shop's owner (its legal representative)."""
        return [s["owner"] for s in shops], [s["phone"] for s in shops]

    def _visitor(self, street: int, k: int) -> str:
        rr_key = self.seed * 131 + street * 17 + k
        sur = vocabulary.VISITORS_SURNAME_POOL[rr_key % len(vocabulary.VISITORS_SURNAME_POOL)]
        g = vocabulary.GIVEN[("mid", k % 2)]
        return sur + g[(rr_key * 7) % len(g)] + g[(rr_key * 13 + 5) % len(g)]

    def graduates(self) -> Table:
        w, people, src = self.w, self.people, "hr_graduates"
        tab = Table(src, ["姓名", "身份证号", "毕业院校", "学历", "毕业年份", "就业状态", "联系电话"])
        idx = np.nonzero((people["is_graduate"] == 1) & (people["status"] != ST_DEAD))[0]
        keys = idx * 13 + 7
        pl: list = []
        nms = self.name_col(src, keys, [people["name"][i] for i in idx.tolist()], pl, "姓名")
        for j, nm in enumerate(nms):
            try:
                nm.encode("gbk")
            except UnicodeEncodeError:
                pl.append(("name_unencodable", j, "姓名", f"true={people['name'][idx[j]]}"))
        ids = self.id_col(
            src, keys, [people["id_number"][i] for i in idx.tolist()], people["birth_day"][idx], pl, "身份证号"
        )
        emp = self.vocab_col(
            src,
            keys,
            [["已就业", "未就业", "灵活就业"][e] for e in people["employment"][idx].tolist()],
            {"未就业": "待业", "灵活就业": "自主创业", "已就业": "已签约"},
            pl,
            "就业状态",
        )
        phones = self.phone_col(src, keys, [people["phone"][i] for i in idx.tolist()], "phone", pl)
        aided = set(w.aid.keys())
        for j, i in enumerate(idx.tolist()):
            d = int(people["dwelling"][i])
            if d in aided and people["status"][i] == ST_OK:
                pl.append(("graduate_from_aid_family", j, "身份证号", w.aid[d]["cert"]))
                if people["employment"][i] == 1:
                    pl.append(("graduate_from_aid_family_unemployed", j, "就业状态", w.aid[d]["cert"]))
        truth = [(int(i), int(people["dwelling"][i]), -1) for i in idx.tolist()]
        cols = [
            nms,
            ids,
            [vocabulary.SCHOOLS[s] for s in people["school"][idx].tolist()],
            [vocabulary.DEGREES[d] for d in people["degree"][idx].tolist()],
            [str(w.grad_year)] * len(idx),
            emp,
            phones,
        ]
        self.finish(tab, cols, truth, pl, keys, xlsx=False)
        return tab


_COMPOUND = {s for s, _ in vocabulary.SURNAMES if len(s) == 2}


def _ym(w: World, t: int) -> str:
    y, m = w.month_ym[int(t)]
    return f"{y}-{m:02d}"
