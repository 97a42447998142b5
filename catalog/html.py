"""The catalog as static HTML: one index and one page per dataset, under <db dir>/out/catalog/.

Plain files (no server, no scripts): open index.html in a browser, or copy the folder anywhere.
"""

from __future__ import annotations

import datetime as _dt
import shutil
from html import escape
from pathlib import Path

from catalog.discover import Discovered, Gap
from catalog.spec import NOT_SHARED, Catalog, Entry
from sharing.masking import MASK_LABELS

CSS = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;width:100%;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;font-size:14px}
th{background:#f2f2f2}.L1{color:#2a7}.L2{color:#27a}.L3{color:#c70}.L4{color:#c22;font-weight:bold}
.cls-不予共享{color:#c22}.cls-有条件共享{color:#c70}.cls-无条件共享{color:#2a7}.gap{background:#fee;border:1px solid #c22;padding:1em}
.muted{color:#888}code{font-size:13px}dl{display:grid;grid-template-columns:10em 1fr;gap:4px 1em}dt{font-weight:bold}
"""


def page_name(dataset: str) -> str:
    return f"{dataset}.html"


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def _links(datasets, catalog: Catalog) -> str:
    if not datasets:
        return '<span class="muted">—</span>'
    out = []
    for d in sorted(datasets):
        if d in catalog.entries:
            out.append(f'<a href="{escape(page_name(d))}">{escape(d)}</a>')
        else:
            out.append(f"<code>{escape(d)}</code>")
    return "，".join(out)


def _max_grade(catalog: Catalog, entry: Entry, found: Discovered) -> str:
    cols = [c for c, _ in found.columns.get(entry.dataset, [])] or entry.declared_fields
    grades = [g.grade for c in cols if (g := catalog.grade_of(entry.dataset, c))]
    return max(grades) if grades else "—"


def dataset_page(
    catalog: Catalog, entry: Entry, found: Discovered, downstream: dict[str, set[str]], roles: list[str]
) -> str:
    built = entry.dataset in found.columns
    cols = found.columns.get(entry.dataset) or [(c, None) for c in entry.declared_fields]
    rows = []
    for column, dtype in cols:
        g = catalog.grade_of(entry.dataset, column)
        if g is None:
            rows.append(
                f'<tr class="gap"><td><code>{escape(column)}</code></td><td></td><td>{escape(dtype or "")}</td>'
                "<td colspan=3>未分级（目录检查不通过）</td></tr>"
            )
            continue
        rows.append(
            f"<tr><td><code>{escape(column)}</code></td><td>{escape(g.label)}</td>"
            f"<td>{escape(dtype) if dtype else '<span class=muted>未建</span>'}</td>"
            f'<td class="{g.grade}">{g.grade}</td><td>{escape(MASK_LABELS.get(g.mask, g.mask or ""))}</td>'
            f"<td class=muted>{escape(g.via)}</td></tr>"
        )
    basis = ""
    if entry.conditions:
        basis += f"<dt>共享条件</dt><dd>{escape(entry.conditions)}</dd>"
    if entry.legal_basis:
        basis += f"<dt>不予共享依据</dt><dd>{escape(entry.legal_basis)}</dd>"
    status = (
        f"已建，{found.row_counts.get(entry.dataset, 0):,} 行"
        if built
        else ("文件" if entry.kind == "report" else "本库尚未建成（目录先行登记）")
    )
    shared_to = "、".join(roles) if roles else ("—（不予共享）" if entry.sharing_class == NOT_SHARED else "—")
    body = f"""
<p><a href="index.html">← 目录</a></p>
<h1>{escape(entry.name)} <span class=muted>{escape(entry.code)}</span></h1>
<dl>
<dt>数据集</dt><dd><code>{escape(entry.dataset)}</code>（{escape(entry.kind)}）</dd>
<dt>提供部门</dt><dd>{escape(entry.provider)}</dd>
<dt>摘要</dt><dd>{escape(entry.abstract)}</dd>
<dt>共享属性</dt><dd class="cls-{escape(entry.sharing_class)}">{escape(entry.sharing_class)}</dd>
{basis}
<dt>共享方式</dt><dd>{escape(entry.sharing_method)}</dd>
<dt>开放属性</dt><dd>{escape(entry.open_attribute)}</dd>
<dt>更新周期</dt><dd>{escape(entry.update_cycle)}</dd>
<dt>街道范围</dt><dd>{escape(entry.street_scope or "—")}</dd>
<dt>共享给</dt><dd>{escape(shared_to)}</dd>
<dt>状态</dt><dd>{escape(status)}</dd>
{f"<dt>文件位置</dt><dd><code>{escape(entry.location)}</code></dd>" if entry.location else ""}
<dt>Dagster 资产</dt><dd><code>{escape(found.asset_keys.get(entry.dataset, "—"))}</code></dd>
<dt>dbt 节点</dt><dd><code>{escape(found.dbt_ids.get(entry.dataset, "—"))}</code></dd>
<dt>上游（血缘）</dt><dd>{_links(found.upstream.get(entry.dataset, set()), catalog)}</dd>
<dt>下游</dt><dd>{_links(downstream.get(entry.dataset, set()), catalog)}</dd>
<dt>目录文件</dt><dd><code>catalog/entries/{escape(entry.source_file)}</code></dd>
</dl>
<h2>数据项</h2>
<table><tr><th>字段</th><th>名称</th><th>类型（DuckDB）</th><th>分级</th><th>未授权角色所见</th><th>分级来源</th></tr>
{"".join(rows)}
</table>
"""
    return _page(f"{entry.code} {entry.name}", body)


def build_site(
    catalog: Catalog,
    found: Discovered,
    out_dir: Path,
    gaps: list[Gap] | None = None,
    roles_by_dataset: dict[str, list[str]] | None = None,
) -> Path:
    """Write index.html and one page per dataset into out_dir (replaced as a whole)."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    roles_by_dataset = roles_by_dataset or {}
    downstream = found.downstream()
    for entry in catalog.entries.values():
        (tmp / page_name(entry.dataset)).write_text(
            dataset_page(catalog, entry, found, downstream, roles_by_dataset.get(entry.dataset, [])), encoding="utf-8"
        )
    gap_html = ""
    if gaps:
        items = "".join(f"<li>{escape(str(g))}</li>" for g in gaps)
        gap_html = f'<div class="gap"><b>目录检查不通过：{len(gaps)} 处缺失</b><ul>{items}</ul></div>'
    rows = []
    for entry in sorted(catalog.entries.values(), key=lambda e: e.code):
        built = entry.dataset in found.columns
        n = f"{found.row_counts.get(entry.dataset, 0):,}" if built else ("文件" if entry.kind == "report" else "未建")
        rows.append(
            f'<tr><td>{escape(entry.code)}</td><td><a href="{escape(page_name(entry.dataset))}">{escape(entry.name)}</a></td>'
            f"<td><code>{escape(entry.dataset)}</code></td><td>{escape(entry.provider)}</td>"
            f'<td class="cls-{escape(entry.sharing_class)}">{escape(entry.sharing_class)}</td>'
            f'<td class="{_max_grade(catalog, entry, found)}">{_max_grade(catalog, entry, found)}</td>'
            f"<td>{escape(entry.update_cycle)}</td><td>{n}</td>"
            f"<td>{escape('、'.join(roles_by_dataset.get(entry.dataset, [])) or '—')}</td></tr>"
        )
    counts = {
        c: sum(1 for e in catalog.entries.values() if e.sharing_class == c)
        for c in ("无条件共享", "有条件共享", "不予共享")
    }
    body = f"""
<h1>政务信息资源目录 · civichub</h1>
<p class=muted>生成于 {_dt.datetime.now():%Y-%m-%d %H:%M}；{len(catalog.entries)} 个资源（无条件共享 {counts["无条件共享"]}，
有条件共享 {counts["有条件共享"]}，不予共享 {counts["不予共享"]}）。字段类型取自 DuckDB，血缘取自 dbt manifest 与 Dagster 资产图。</p>
{gap_html}
<table><tr><th>资源代码</th><th>资源名称</th><th>数据集</th><th>提供部门</th><th>共享属性</th><th>最高分级</th><th>更新周期</th><th>行数</th><th>共享给</th></tr>
{"".join(rows)}
</table>
"""
    (tmp / "index.html").write_text(_page("政务信息资源目录", body), encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return out_dir / "index.html"
