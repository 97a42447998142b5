"""sqlfluff over the dbt project, with the dbt templater and the vars a real run passes.

The models read their thresholds from dbt vars that only `matching.config.dbt_vars()` supplies
(matching.yml is the one place they are written); sqlfluff's command line cannot pass them, and a
model it cannot compile is skipped with a warning, i.e. not linted. So the lint goes through here:

    python -m pipelines.sql_lint            # lint dbt_project/models (the macros as the models call them)
    python -m pipelines.sql_lint --fix      # the layout rules' fixes only; review the diff

The rules and the dialect are in `.sqlfluff`. The DuckDB file dbt's adapter opens is in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from sqlfluff.core import FluffConfig, Linter

from matching.config import dbt_vars

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "dbt_project" / "models"
# the rules `--fix` applies: they change whitespace only (but next to a template tag a removed space
# can join two words: `select{{ ... }}`; read the diff)
LAYOUT_RULES = ("LT01", "LT02", "LT06", "LT11", "LT13", "LT14")


def _toml_value(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v, ensure_ascii=False) if isinstance(v, str) else repr(v)


def _linter(folder: Path, rules: tuple[str, ...] | None = None):
    """A linter with .sqlfluff's rules and the dbt vars as the templater's context.

    sqlfluff builds each file's configuration again from files, so the vars go in a file too: a
    pyproject.toml (the one format whose values may be mappings, as `source_rank` is) in `folder`."""
    context = dbt_vars(delivery="2000-01")
    lines = [
        # dbt's artifacts of the lint in the temporary folder, not in dbt_project/target, which a test
        # or a run beside the lint may be writing
        "[tool.sqlfluff.templater.dbt]",
        f"target_path = {_toml_value(str(folder / 'target'))}",
        "[tool.sqlfluff.templater.dbt.context]",
        *(f"{k} = {_toml_value(v)}" for k, v in context.items()),
    ]
    extra = folder / "pyproject.toml"
    extra.write_text("\n".join(lines) + "\n", encoding="utf-8")
    overrides = {"rules": ",".join(rules)} if rules else None
    return Linter(config=FluffConfig.from_path(str(ROOT), extra_config_path=str(extra), overrides=overrides))


def lint(paths: list[Path] | None = None, processes: int = 1, fix: bool = False) -> list[str]:
    """One line per problem, `file:line: CODE description` (and every file that could not be linted)."""
    cwd, db = os.getcwd(), os.environ.get("CIVICHUB_DB")
    os.environ["CIVICHUB_DB"] = ":memory:"  # never the hub's database, which a run may hold open
    os.chdir(ROOT)  # .sqlfluff's project_dir is relative to the repository
    try:
        with tempfile.TemporaryDirectory(prefix="civichub-sqlfluff-") as folder:
            linter = _linter(Path(folder), LAYOUT_RULES if fix else None)
            result = linter.lint_paths(
                tuple(str(p) for p in (paths or [MODELS])), fix=fix, apply_fixes=fix, processes=processes
            )
    finally:
        os.chdir(cwd)
        if db is None:
            os.environ.pop("CIVICHUB_DB", None)
        else:
            os.environ["CIVICHUB_DB"] = db
    problems, linted = [], set()
    for path in result.paths:
        for f in path.files:
            rel = Path(f.path).resolve().relative_to(ROOT)
            linted.add(rel)
            for v in f.get_violations():
                problems.append(f"{rel}:{v.line_no}: {v.rule_code()} {v.desc()}")
    # a model dbt cannot compile is skipped by sqlfluff with a warning only: here it is a problem
    for p in paths or [MODELS]:
        for sql in [p] if p.is_file() else sorted(p.rglob("*.sql")):
            if sql.resolve().relative_to(ROOT) not in linted:
                problems.append(f"{sql.resolve().relative_to(ROOT)}: not linted (dbt could not compile it)")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.sql_lint", description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", type=Path, help="files or folders (default: dbt_project/models)")
    ap.add_argument("--fix", action="store_true", help=f"apply the layout rules' fixes ({', '.join(LAYOUT_RULES)})")
    # One process: the dbt templater renders every file in the main process anyway (sqlfluff#7666),
    # and with a pool a file dbt fails to compile hangs the run instead of failing it (sqlfluff#6037;
    # `./dev test` hung here for its 900 s timeout while other tests used the dbt project beside it).
    ap.add_argument("--processes", type=int, default=1)
    args = ap.parse_args(argv)
    problems = lint([p.resolve() for p in args.paths] or None, args.processes, args.fix)
    print("\n".join(problems) if problems else "sqlfluff: clean")
    return 1 if problems and not args.fix else 0


if __name__ == "__main__":
    sys.exit(main())
