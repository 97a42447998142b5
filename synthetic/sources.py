"""Render one monthly delivery of the eight source files from the world state, with per-source
noise, the row-level answer key and the planted-problem list."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np

from . import names as N
from .codes import FULLWIDTH, USCC_ALPHABET, cn_number, excel_serial, hash64, hash_u, salt_of, uscc_valid
from .world import AID_TYPES, EDU, ETH_NAMES, REL, ST_DEAD, ST_OK, ST_OUT, STATUS, World, ymd

NOISE_KINDS = {
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
        self.cfg = w.cfg
        self.seed = w.seed
        self.lib = w.lib
        self.as_of = w.month_end[t]
        self.export_day = w.month_end[t] + 1
        self.ym = w.month_ym[t]
        self.P = w.P
        self.occ = w.occupancy()
        L = self.lib
        self.dname = w.d.name
        self.former = w.d.former_district

    # ---- noise plumbing -------------------------------------------------------------------------

    def r(self, source: str, key: str) -> float:
        return self.cfg.rate(source, key)

    def u(self, keys, *salt) -> np.ndarray:
        return hash_u(np.asarray(keys, dtype=np.int64), salt_of(self.seed, *salt))

    def h(self, keys, *salt) -> np.ndarray:
        return hash64(np.asarray(keys, dtype=np.int64), salt_of(self.seed, *salt))

    # ---- addresses ------------------------------------------------------------------------------

    def addr(
        self, ai: int, room: str, style: int, variant: int = -1, former: bool = False, street_in: bool = False
    ) -> str:
        """style 0: 上海市静安区…, 1: 静安区…, 2: bare road…; room: dwelling room or shop unit."""
        L = self.lib
        road = L.a_road_name[ai]
        lane = int(L.a_lane[ai])
        no = int(L.a_no[ai])
        is_room = room[:1].isdigit() and room.isdigit()
        dname = self.former if (former and self.former) else self.dname
        if style == 0:
            pre = "上海市" + dname
        elif style == 1:
            pre = dname
        else:
            pre = ""
        if street_in and pre:
            pre += L.street_name[L.a_street[ai]]
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
        uv = self.u(keys, source, salt, "v")
        hv = self.h(keys, source, salt, "k")
        uf = self.u(keys, source, salt, "f")
        r_var = self.r(source, "address_variant")
        r_for = self.r(source, "address_former_district")
        former_st = self.lib.street_former
        out = []
        L = self.lib
        for j in range(n):
            ai = int(ais[j])
            v = int(hv[j] % 7) if uv[j] < r_var else -1
            fm = bool(former_st[L.a_street[ai]]) and uf[j] < r_for and style < 2
            si = v == -1 and uf[j] > 1 - r_var / 2 and style < 2
            out.append(self.addr(ai, rooms[j], style, v, fm, si))
        return out

    def dw_addr(self, d: int, style: int) -> str:
        return self.addr(int(self.lib.dw_addr[d]), self.lib.dw_room[d], style)

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
        u = self.u(keys, source, salt, "dv")
        h = self.h(keys, source, salt, "dk")
        r = self.r(source, "date_variant")
        nk = 5 if xlsx else 4
        days = np.asarray(days, dtype=np.int64)
        out = np.datetime_as_string(days.astype("datetime64[D]")).tolist() if len(days) else []
        for j in np.nonzero(u < r)[0].tolist():
            out[j] = self.fmt_date(int(days[j]), int(1 + h[j] % (nk - 1)), xlsx)
        return out

    def phone_col(self, source: str, keys, phones, salt: str, planted, rows_of=None, field_name="联系电话"):
        u = self.u(keys, source, salt, "pv")
        h = self.h(keys, source, salt, "pk")
        rv = self.r(source, "phone_variant")
        ri = self.r(source, "phone_invalid")
        rb = self.r(source, "blank_field")
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
        u = self.u(keys, source, salt, "u")
        h = self.h(keys, source, salt, "h")
        ux = self.u(keys, source, salt, "x")
        r_typo, r_tr, r_15, r_bl, r_fw = (
            self.r(source, k) for k in ("id_typo", "id_transposed", "id_15digit", "id_blank", "id_fullwidth")
        )
        r_x = self.r(source, "id_lowercase_x")
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
        u = self.u(keys, source, salt, "u")
        h = self.h(keys, source, salt, "h")
        us = self.u(keys, source, salt, "s")
        r_h, r_t, r_b = (self.r(source, k) for k in ("name_homophone", "name_traditional", "name_blank"))
        r_s = self.r(source, "name_separator")
        c1, c2, c3 = r_h, r_h + r_t, r_h + r_t + r_b
        out = list(nms)
        for j in np.nonzero(u < c3)[0].tolist():
            nm = nms[j]
            x = u[j]
            if x < c1:
                sl = 2 if nm[:2] in _COMPOUND else 1
                new = N.homophone(nm, int(h[j]), sl)
                if new:
                    out[j] = new
                    planted.append(("name_homophone", j, field_name, f"true={nm}"))
            elif x < c2:
                new = N.traditional(nm)
                if new:
                    out[j] = new
                    planted.append(("name_traditional", j, field_name, f"true={nm}"))
            else:
                out[j] = ""
                planted.append(("field_blank", j, field_name, f"true={nm}"))
        for j in np.nonzero(us < r_s)[0].tolist():
            if "·" in out[j]:
                out[j] = N.with_separator(out[j], 1 + int(h[j] >> 20) % 4)
        return out

    def dup_mask(self, source: str, keys) -> np.ndarray:
        return self.u(keys, source, "dup") < self.r(source, "duplicate_row")

    def vocab(self, source: str, keys, values, unknown: dict, planted, field_name: str):
        u = self.u(keys, source, field_name, "vocab")
        r = self.r(source, "vocab_unknown")
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
        w, P, L, src = self.w, self.P, self.lib, "police_population"
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
        births = P["birth"]
        ids = self.id_col(src, keys, P["idn"].tolist(), births, pl, "公民身份号码")
        nms = self.name_col(src, keys, P["name"].tolist(), pl, "姓名")
        sex = np.where(P["sex"] == 1, "男", "女").tolist()
        eth = [ETH_NAMES[e] for e in P["eth"].tolist()]
        bdate = self.date_col(src, keys, births, "birth")
        rel = [REL[r] for r in P["rel"].tolist()]
        # registered address
        regk, regdw, regaddr = P["regk"], P["regdw"], P["regaddr"]
        reg_in = np.nonzero(regdw >= 0)[0]
        reg_col = list(regaddr)
        rc = self.addr_col(
            src, reg_in, L.dw_addr[regdw[reg_in]], [L.dw_room[d] for d in regdw[reg_in].tolist()], 0, "reg"
        )
        for j, s in zip(reg_in.tolist(), rc):
            reg_col[j] = s
        pdw = P["police_dw"]
        res_col = self.addr_col(src, keys, L.dw_addr[pdw], [L.dw_room[d] for d in pdw.tolist()], 0, "res")
        status = self.vocab(
            src,
            keys,
            [STATUS[s] for s in P["status"].tolist()],
            {"正常": "在册", "死亡": "注销", "迁出": "迁移"},
            pl,
            "人员状态",
        )
        ub = self.u(keys, src, "edu", "blank")
        rb = self.r(src, "blank_field")
        edu = [("" if ub[j] < rb else EDU[e]) for j, e in enumerate(P["edu"].tolist())]
        phones = self.phone_col(src, keys, P["phone"].tolist(), "phone", pl)
        upd = self.date_col(src, keys, np.minimum(P["updated"], self.as_of), "upd")
        hk = P["hukou"].tolist()
        # scans: stale address, library, ID vs birth date / sex
        dw = P["dw"]
        for j in np.nonzero(pdw != dw)[0].tolist():
            pl.append(("address_stale", j, "居住地址", f"written {hid_s(int(pdw[j]))}, lives {hid_s(int(dw[j]))}"))
        inlib = L.a_inlib
        for j in np.nonzero(~inlib[L.dw_addr[pdw]])[0].tolist():
            pl.append(("address_not_in_library", j, "居住地址", L.a_id[int(L.dw_addr[pdw[j]])]))
        for j in reg_in[~inlib[L.dw_addr[regdw[reg_in]]]].tolist():
            pl.append(("address_not_in_library", j, "户籍地址", L.a_id[int(L.dw_addr[regdw[j]])]))
        true_ids = P["idn"]
        for j, s in enumerate(ids):
            if s == true_ids[j] or not s:
                continue
            norm = unicodedata.normalize("NFKC", s).upper()
            tid = true_ids[j]
            if len(norm) == 18:
                if norm[6:14] != tid[6:14]:
                    pl.append(("id_birthdate_mismatch", j, "公民身份号码", f"{norm[6:14]} vs {tid[6:14]}"))
                if norm[16].isdigit() and int(norm[16]) % 2 != int(tid[16]) % 2:
                    pl.append(("id_sex_mismatch", j, "公民身份号码", f"{norm[16]} vs {sex[j]}"))
        truth = [(j, int(dw[j]), -1) for j in range(n)]
        cols = [ids, nms, sex, eth, bdate, hk, rel, reg_col, res_col, status, edu, phones, upd]
        self.finish(tab, cols, truth, pl, keys, xlsx=False)
        return tab

    def assistance(self) -> Table:
        w, P, L, src = self.w, self.P, self.lib, "civil_affairs_assistance"
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
        births = P["birth"][mem] if n else np.zeros(0)
        keys = mem * 7 + 1
        hkeys = heads * 7 + 2
        m_ids = self.id_col(src, keys, [P["idn"][i] for i in mem.tolist()], births, pl, "成员身份证号")
        m_nms = self.name_col(src, keys, [P["name"][i] for i in mem.tolist()], pl, "成员姓名")
        pl_h: list = []
        h_ids = self.id_col(
            src,
            hkeys,
            [P["idn"][i] for i in heads.tolist()],
            P["birth"][heads] if n else [],
            pl_h,
            "户主身份证号",
            salt="hid",
        )
        h_nms = self.name_col(src, hkeys, [P["name"][i] for i in heads.tolist()], pl_h, "户主姓名", salt="hname")
        pl += pl_h
        types = self.vocab(
            src,
            heads * 3,
            [AID_TYPES[f["type"]] for _, f, _ in recs],
            {"低保": "低保户", "低收入": "低收入户", "特困": "特困供养"},
            pl,
            "救助类型",
        )
        rel = ["户主" if i == f["head"] else REL[P["rel"][i]] for _, f, i in recs]
        rel = [("其他" if r == "户主" and i != f["head"] else r) for r, (_, f, i) in zip(rel, recs)]
        size = [f["declared"] for _, f, _ in recs]
        amount = [f["amount"] for _, f, _ in recs]
        adws = np.array([f["addr_dw"] for _, f, _ in recs], dtype=np.int64)
        addr = self.addr_col(src, heads * 5 + 3, L.dw_addr[adws] if n else [], [L.dw_room[d] for d in adws.tolist()], 1)
        st_name = [L.street_name[L.a_street[int(L.dw_addr[d])]] for d in adws.tolist()]
        cm_name = [L.comm_name_of(int(L.dw_addr[d])) for d in adws.tolist()]
        since_days = [ymd(w.month_start[0]).replace(year=f["since"][0], month=f["since"][1], day=1) for _, f, _ in recs]
        since_days = [(x - ymd(0)).days for x in since_days]
        us = self.u(heads, src, "since")
        hs = self.h(heads, src, "since_k")
        rs = self.r(src, "date_variant")
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
        for j, (d, f, i) in enumerate(recs):
            st = P["status"][i]
            if st == ST_DEAD:
                pl.append(("dead_but_aided", j, "成员身份证号", f"died {_ym(w, P['status_t'][i])}"))
            elif st == ST_OUT:
                pl.append(("moved_out_but_aided", j, "成员身份证号", f"moved out {_ym(w, P['status_t'][i])}"))
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
            if ad != int(P["dw"][i]):
                if ad == int(P["regdw"][i]):
                    pl.append(
                        ("aid_renhu_fenli", j, "家庭地址", f"registered {hid_s(ad)}, lives {hid_s(int(P['dw'][i]))}")
                    )
                else:
                    pl.append(("address_stale", j, "家庭地址", f"written {hid_s(ad)}, lives {hid_s(int(P['dw'][i]))}"))
            if not L.a_inlib[int(L.dw_addr[ad])]:
                pl.append(("address_not_in_library", j, "家庭地址", L.a_id[int(L.dw_addr[ad])]))
        truth = [(int(i), int(P["dw"][i]), -1) for _, _, i in recs]
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
        w, P, L, src = self.w, self.P, self.lib, "civil_affairs_elderly_alone"
        tab = Table(
            src,
            ["姓名", "身份证号", "性别", "年龄", "居住地址", "联系电话", "紧急联系人", "紧急联系人电话", "所属居委"],
        )
        people = sorted(w.elderly.keys())
        n = len(people)
        idx = np.array(people, dtype=np.int64)
        keys = idx * 11 + 5
        pl: list = []
        ids = self.id_col(src, keys, [P["idn"][i] for i in people], P["birth"][idx] if n else [], pl, "身份证号")
        nms = self.name_col(src, keys, [P["name"][i] for i in people], pl, "姓名")
        sex = ["男" if P["sex"][i] else "女" for i in people]
        age = [int((self.as_of - P["birth"][i]) // 365.25) for i in people]
        adws = np.array([w.elderly[i]["addr_dw"] for i in people], dtype=np.int64)
        addr = self.addr_col(src, keys, L.dw_addr[adws] if n else [], [L.dw_room[d] for d in adws.tolist()], 2)
        phones = self.phone_col(src, keys, [w.elderly[i]["phone"] for i in people], "phone", pl)
        contact = [w.elderly[i]["contact"] for i in people]
        cphone = self.phone_col(
            src, keys, [w.elderly[i]["cphone"] for i in people], "cphone", pl, field_name="紧急联系人电话"
        )
        comm = [L.comm_name_of(int(L.dw_addr[d])) for d in adws.tolist()]
        for j, i in enumerate(people):
            st = P["status"][i]
            if st == ST_DEAD:
                pl.append(("dead_elderly_alone", j, "身份证号", f"died {_ym(w, P['status_t'][i])}"))
            elif st == ST_OUT:
                pl.append(("moved_out_elderly_alone", j, "身份证号", f"moved out {_ym(w, P['status_t'][i])}"))
            elif self.occ[P["dw"][i]] > 1:
                pl.append(("elderly_not_alone", j, "居住地址", f"{self.occ[P['dw'][i]]} residents"))
            if adws[j] != P["dw"][i]:
                pl.append(
                    ("address_stale", j, "居住地址", f"written {hid_s(int(adws[j]))}, lives {hid_s(int(P['dw'][i]))}")
                )
            if not L.a_inlib[int(L.dw_addr[adws[j]])]:
                pl.append(("address_not_in_library", j, "居住地址", L.a_id[int(L.dw_addr[adws[j]])]))
        truth = [(int(i), int(P["dw"][i]), -1) for i in people]
        cols = [nms, ids, sex, age, addr, phones, contact, cphone, comm]
        self.finish(tab, cols, truth, pl, keys, xlsx=True)
        return tab

    def electricity(self, elderly_people: list[int]) -> Table:
        w, P, L, A, src, t = self.w, self.P, self.lib, self.w.A, "utility_electricity", self.t
        tab = Table(src, ["用电户号", "户名", "用电地址", "联系电话", "抄表月份", "用电量"])
        months = list(range(max(0, t - 11), t + 1))
        n_acc = len(w.kwh[t])
        M = np.full((n_acc, len(months)), -1, dtype=np.int64)
        for c, m in enumerate(months):
            k = w.kwh[m]
            M[: len(k), c] = k
        miss = self.u(np.arange(n_acc)[:, None] * 64 + np.array(months)[None, :], src, "miss") < self.r(
            src, "reading_missing"
        )
        M[miss] = -1
        accs = np.nonzero((M >= 0).any(axis=1))[0]
        kind = np.array(A["kind"])[:n_acc]
        target = np.array(A["target"])[:n_acc]
        holder = np.array(A["holder"])[:n_acc]
        pl: list = []
        keys = accs
        # holder names (noise keyed by account)
        hn = [P["name"][holder[a]] if holder[a] >= 0 else A["hname"][a] for a in accs.tolist()]
        hn = self.name_col(src, keys, hn, pl, "户名")
        ais, rooms = [], []
        shops = w.shops
        for a in accs.tolist():
            if kind[a] == 0:
                ais.append(int(L.dw_addr[target[a]]))
                rooms.append(L.dw_room[target[a]])
            else:
                s = shops[target[a]]
                ais.append(s["addr"])
                rooms.append(s["unit"])
        addr = self.addr_col(src, keys, ais, rooms, 2)
        phones = self.phone_col(src, keys, [A["phone"][a] for a in accs.tolist()], "phone", pl)
        acc_no = [str(3100000000 + (int(a) * 104729) % 100000000) for a in accs.tolist()]
        prefixes = [f"{a},{b},{c},{d}," for a, b, c, d in zip(acc_no, hn, addr, phones)]
        mlabels = [f"{w.month_ym[m][0]}-{w.month_ym[m][1]:02d}" for m in months]
        Ms = M[accs]
        dup = self.u(accs[:, None] * 64 + np.array(months)[None, :], src, "dup") < self.r(src, "duplicate_row")
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
                if hd >= 0 and P["status"][hd] == ST_DEAD:
                    tab.planted.append(
                        ("account_holder_dead", row0, int(hd), tr[1], -1, "户名", f"died {_ym(w, P['status_t'][hd])}")
                    )
                elif hd >= 0 and (P["status"][hd] == ST_OUT or P["dw"][hd] != target[a]):
                    tab.planted.append(
                        (
                            "account_holder_not_resident",
                            row0,
                            int(hd),
                            tr[1],
                            -1,
                            "户名",
                            f"holder lives {hid_s(int(P['dw'][hd]))} status {STATUS[P['status'][hd]]}",
                        )
                    )
                elif hd < 0:
                    tab.planted.append(("account_holder_unknown", row0, -1, tr[1], -1, "户名", A["hname"][a]))
                if occ[target[a]] == 0:
                    tab.planted.append(("account_vacant", row0, -1, tr[1], -1, "", ""))
            if not L.a_inlib[ais[r]]:
                tab.planted.append(("address_not_in_library", row0, tr[0], tr[1], tr[2], "用电地址", L.a_id[ais[r]]))
        # elderly power drop: listed elderly whose dwelling's latest reading collapsed
        for i in elderly_people:
            d = int(P["dw"][i])
            a = w.acc_of_dw.get(d)
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
        return e["addr"], e["unit"]

    def registry(self) -> Table:
        w, L, src = self.w, self.lib, "market_business_registry"
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
        ents = [k for k, e in enumerate(w.entities) if not e.get("dropped") and e["est"] <= self.as_of]
        n = len(ents)
        keys = np.array(ents, dtype=np.int64)
        E = [w.entities[k] for k in ents]
        pl: list = []
        uscc = self.uscc_col(src, keys, [e["uscc"] for e in E], pl, "统一社会信用代码")
        nm = [e["name"] for e in E]
        et = [e["etype"] for e in E]
        rep = self.name_col(src, keys, [e["rep"] for e in E], pl, "法定代表人")
        addr = self.addr_col(src, keys, [e["addr"] for e in E], [e["unit"] for e in E], 0)
        scope = [e["scope"] for e in E]
        est = self.date_col(src, keys, [e["est"] for e in E], "est")
        status = self.vocab(
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
                    pl.append(("closed_but_registered_active", j, "登记状态", f"closed {_ym(w, sh['closed_t'])}"))
            if not L.a_inlib[e["addr"]]:
                pl.append(("address_not_in_library", j, "经营场所", L.a_id[e["addr"]]))
        truth = [(-1, -1, e["shop"] if e["shop"] >= 0 else -1) for e in E]
        cols = [uscc, nm, et, rep, addr, scope, est, status, appr]
        self.finish(tab, cols, truth, pl, keys, xlsx=False)
        return tab

    def uscc_col(self, source, keys, codes, planted, field_name):
        u = self.u(keys, source, "uscc")
        h = self.h(keys, source, "uscc_h")
        r = self.r(source, "uscc_typo")
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
        w, L, src = self.w, self.lib, "market_food_licence"
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
        lics = [k for k, l in enumerate(w.licences) if not l["dropped"] and l["issued"] <= self.as_of]
        keys = np.array(lics, dtype=np.int64)
        Ls = [w.licences[k] for k in lics]
        E = [w.entities[l["entity"]] for l in Ls]
        pl: list = []
        uscc = self.uscc_col(src, keys, [e["uscc"] for e in E], pl, "统一社会信用代码")
        rep = self.name_col(src, keys, [e["rep"] for e in E], pl, "法定代表人")
        addr = self.addr_col(src, keys, [e["addr"] for e in E], [e["unit"] for e in E], 0)
        fmt = [{1: "食品销售经营者", 2: "餐饮服务经营者", 3: "单位食堂"}[l["kind"]] for l in Ls]
        issued = self.date_col(src, keys, [l["issued"] for l in Ls], "iss", xlsx=True)
        valid = self.date_col(src, keys, [l["valid_until"] for l in Ls], "val", xlsx=True)
        for j, l in enumerate(Ls):
            s = l["shop"]
            if s >= 0 and w.shops[s]["status"] == "营业" and l["valid_until"] < self.export_day:
                pl.append(("licence_expired_operating", j, "有效期至", ymd(l["valid_until"]).isoformat()))
            if not L.a_inlib[E[j]["addr"]]:
                pl.append(("address_not_in_library", j, "经营场所", L.a_id[E[j]["addr"]]))
        truth = [(-1, -1, l["shop"] if l["shop"] >= 0 else -1) for l in Ls]
        cols = [[l["no"] for l in Ls], [e["name"] for e in E], uscc, rep, addr, fmt, issued, valid]
        self.finish(tab, cols, truth, pl, keys, xlsx=True)
        return tab

    def visits(self) -> Table:
        w, L, src, t = self.w, self.lib, "street_shop_visits", self.t
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
        usv = self.u(keys, src, "sign")
        hsv = self.h(keys, src, "sign_h")
        rs = self.r(src, "sign_variant")
        signs = []
        for j, s in enumerate(S):
            sg = s["sign"]
            if usv[j] < rs:
                k = int(hsv[j] % 3)
                road = L.a_road_name[s["addr"]]
                if k == 0:
                    sg = f"{sg}（{road}店）" if s["chain"] >= 0 else f"{sg}{road[:2]}店"
                elif k == 1 and len(sg) > 3:
                    sg = sg[:-1]
                else:
                    sg = f"{sg}({road}{L.a_no[s['addr']]}号)"
            signs.append(sg)
        addr = self.addr_col(src, keys, [s["addr"] for s in S], [s["unit"] for s in S], 2)
        phones = self.phone_col(src, keys, [s["phone"] for s in S], "phone", pl)
        cat = [N.SHOP_CATEGORIES[s["cat"]][0] for s in S]
        st_name = [L.street_name[L.a_street[s["addr"]]] for s in S]
        cm_name = [L.comm_name_of(s["addr"]) for s in S]
        visitor = [self._visitor(int(L.a_street[s["addr"]]), v[2]) for s, (_, v) in zip(S, vis)]
        latest = {}
        for j, (_, v) in enumerate(vis):
            latest[v[0]] = j
            if not L.a_inlib[S[j]["addr"]]:
                pl.append(("address_not_in_library", j, "经营地址", L.a_id[S[j]["addr"]]))
        for sid, j in sorted(latest.items()):
            s = w.shops[sid]
            if s["status"] == "营业" and not s["registered"]:
                pl.append(("unregistered_operating", j, "店招名称", s["sign"]))
        truth = [(-1, -1, v[0]) for _, v in vis]
        cols = [
            dates,
            signs,
            addr,
            [s["owner"] for s in S],
            phones,
            cat,
            [v[3] for _, v in vis],
            st_name,
            cm_name,
            visitor,
        ]
        self.finish(tab, cols, truth, pl, keys, xlsx=True)
        return tab

    def _visitor(self, street: int, k: int) -> str:
        rr_key = self.seed * 131 + street * 17 + k
        sur = N.VISITORS_SURNAME_POOL[rr_key % len(N.VISITORS_SURNAME_POOL)]
        g = N.GIVEN[("mid", k % 2)]
        return sur + g[(rr_key * 7) % len(g)] + g[(rr_key * 13 + 5) % len(g)]

    def graduates(self) -> Table:
        w, P, src = self.w, self.P, "hr_graduates"
        tab = Table(src, ["姓名", "身份证号", "毕业院校", "学历", "毕业年份", "就业状态", "联系电话"])
        idx = np.nonzero((P["grad"] == 1) & (P["status"] != ST_DEAD))[0]
        keys = idx * 13 + 7
        pl: list = []
        nms = self.name_col(src, keys, [P["name"][i] for i in idx.tolist()], pl, "姓名")
        for j, nm in enumerate(nms):
            try:
                nm.encode("gbk")
            except UnicodeEncodeError:
                pl.append(("name_unencodable", j, "姓名", f"true={P['name'][idx[j]]}"))
        ids = self.id_col(src, keys, [P["idn"][i] for i in idx.tolist()], P["birth"][idx], pl, "身份证号")
        emp = self.vocab(
            src,
            keys,
            [["已就业", "未就业", "灵活就业"][e] for e in P["employ"][idx].tolist()],
            {"未就业": "待业", "灵活就业": "自主创业", "已就业": "已签约"},
            pl,
            "就业状态",
        )
        phones = self.phone_col(src, keys, [P["phone"][i] for i in idx.tolist()], "phone", pl)
        aided = set(w.aid.keys())
        for j, i in enumerate(idx.tolist()):
            d = int(P["dw"][i])
            if d in aided and P["status"][i] == ST_OK:
                pl.append(("graduate_from_aid_family", j, "身份证号", w.aid[d]["cert"]))
                if P["employ"][i] == 1:
                    pl.append(("graduate_from_aid_family_unemployed", j, "就业状态", w.aid[d]["cert"]))
        truth = [(int(i), int(P["dw"][i]), -1) for i in idx.tolist()]
        cols = [
            nms,
            ids,
            [N.SCHOOLS[s] for s in P["school"][idx].tolist()],
            [N.DEGREES[d] for d in P["degree"][idx].tolist()],
            [str(w.grad_year)] * len(idx),
            emp,
            phones,
        ]
        self.finish(tab, cols, truth, pl, keys, xlsx=False)
        return tab


_COMPOUND = {s for s, _ in N.SURNAMES if len(s) == 2}


def _ym(w: World, t: int) -> str:
    y, m = w.month_ym[int(t)]
    return f"{y}-{m:02d}"
