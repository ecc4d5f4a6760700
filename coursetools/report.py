"""Claims ledger: the seed articles' claims against the results of the executed lessons.

Usage: python -m coursetools.report [--results DIR ...] [--out build/report.md]

Reads every lesson results file under the results folders, recursively: by default the
committed evidence (evidence/<profile>/<lesson>/seed<N>.json, see coursetools/evidence.py), so a
fresh clone builds the ledger without running a lesson; with --results, your own runs
(<lesson>.json written by lesson.finish(), e.g. build/lessons). Of several files for the same
lesson, profile and seed the newest is used; *.prev.json generations are skipped. Writes
build/report.md and build/report.html; the previous report is kept as a generation. Every
number and verdict comes from the results files; the claims themselves
are registered in coursetools/ledger.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from coursetools.evidence import evidence_dir
from coursetools.files import write_text_keeping_previous
from coursetools.ledger import (
    ARTICLE_CLAIMS,
    NOT_MEASURED,
    Collection,
    LedgerRow,
    ResultFile,
    collect_results,
    format_value,
    key_in_notebook,
    ledger_rows,
    notebook_claim_patterns,
    values_text,
)
from coursetools.paths import build_dir, repo_root

ROOT = repo_root()

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px;
       line-height: 1.4; color: #222; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.35em 0.5em; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
tr:nth-child(even) td { background: #fafafa; }
code { background: #f3f3f3; padding: 0 0.2em; }
.v-holds { color: #1a7f37; } .v-fails { color: #b42318; } .v-depends { color: #9a6700; }
.v-none { color: #777; }
"""


# ----------------------------------------------------------------------------- text helpers
def md(text: object) -> str:
    """Text safe inside a markdown table cell (pipes escaped, no accidental HTML tags)."""
    out = str(text).replace("|", "\\|").replace("\n", " ")
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", out)


def show_path(path: Path) -> str:
    """A path relative to the repository when it lies inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def when(mtime: float) -> str:
    return datetime.fromtimestamp(mtime).strftime("%Y-%m-%d %H:%M")


def seed_list(seeds: Sequence[int]) -> str:
    return ", ".join(str(s) for s in sorted(set(seeds)))


# ----------------------------------------------------------------------------- sections
def header(folders: Sequence[Path], found: Collection) -> list[str]:
    """When, from where, how many files, which profiles/seeds, data sources and versions."""
    used = found.used
    lines = [
        '# Claims ledger — "Why is my MNIST model wrong?"',
        "",
        f"Generated {datetime.now():%Y-%m-%d %H:%M} by `make report` from the results files the "
        "executed lessons wrote. Every value and verdict below is read from those files; the "
        "article claims are registered in `coursetools/ledger.py` and cite the articles in "
        "`shared/seeds/` by file number.",
        "",
        f"- Results folders: {', '.join(f'`{show_path(f)}`' for f in folders)}",
        f"- Results files used: {len(used)} (newest per lesson, profile and seed); set aside: "
        f"{len(found.superseded)} older duplicates, {len(found.previous)} `*.prev.json` "
        f"backups, {len(found.not_results)} other JSON files",
    ]
    by_profile: dict[str, list[ResultFile]] = defaultdict(list)
    for r in used:
        by_profile[r.profile].append(r)
    for profile, files in sorted(by_profile.items()):
        lessons = sorted({r.lesson for r in files})
        lines.append(
            f"- Profile **{profile}**: seeds {seed_list([r.seed for r in files])}; "
            f"{len(lessons)} lessons ({', '.join(lesson[:2] for lesson in lessons)})"
        )
    sources: dict[str, set[str]] = defaultdict(set)
    for r in used:
        d = r.data
        sources[str(d.get("source", "unknown"))].add(
            f"{d.get('description', 'no description')} — n_train {d.get('n_train', '?')}, "
            f"n_test {d.get('n_test', '?')}, verified {d.get('verified', '?')}"
        )
    for source, descriptions in sorted(sources.items()):
        lines.append(f"- Data source **{source}**: {'; '.join(sorted(descriptions))}")
    versions = sorted({str(r.payload.get("versions", {}).get("helpers", "?")) for r in used})
    keras = sorted({str(r.payload.get("versions", {}).get("keras", "?")) for r in used})
    if used:
        lines.append(
            f"- helpers version(s): {', '.join(versions)}; keras {', '.join(keras)}; files "
            f"written {when(min(r.mtime for r in used))} – {when(max(r.mtime for r in used))}"
        )
    lines += [
        "",
        "Verdicts: **holds**; **does not hold**; **depends** (with the condition). Where the "
        "seeds disagree the verdict is *depends (differs between seeds)*. Seeds are shown as s0, "
        "s1, …; values are validation accuracy unless they say test. A claim measured at both "
        "data sizes has a row for each: `workshop` (4,000 embedded digits) and `full` (the "
        "official 60,000), so what changes with the data reads off two neighbouring rows.",
        "",
    ]
    return lines


def ledger_table(rows: Sequence[LedgerRow]) -> list[str]:
    """One row per article claim."""
    lines = [
        "## Ledger: the articles' claims",
        "",
        "| id | claim (our words) | seed articles | lesson | measured, per seed | "
        "profile · data | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        c = row.claim
        measured = "<br>".join(md(line) for line in values_text(c, row.seeds)) or "—"
        seeds = seed_list([s.seed for s in row.seeds])
        where = f"{row.profile} · {', '.join(row.sources)}; seeds {seeds}" if row.profile else "—"
        lines.append(
            f"| {c.id} | **{md(c.topic)}**: {md(c.paraphrase)} | "
            f"{', '.join('seed ' + s for s in c.seeds)} | {c.lesson} | {measured} | {md(where)} | "
            f"{md(row.verdict.text())} |"
        )
    return [*lines, ""]


def claim_cell(claim: dict | None) -> str:
    if claim is None:
        return NOT_MEASURED
    nums = ", ".join(
        f"{k} {format_value(v, 'num') if isinstance(v, float) else v}"
        for k, v in claim.get("measured", {}).items()
    )
    mark = "✓ holds" if claim.get("holds") else "✗ FAILS"
    return f"{mark}<br>{md(nums)}" if nums else mark


def lesson_sections(used: Sequence[ResultFile], notebooks: Path) -> list[str]:
    """For each lesson and profile: every claim the notebook asserted, per seed."""
    patterns = notebook_claim_patterns(notebooks) if notebooks.is_dir() else {}
    groups: dict[tuple[str, str], list[ResultFile]] = defaultdict(list)
    for r in used:
        groups[(r.lesson, r.profile)].append(r)
    lines = ["## Per lesson: every claim the notebooks checked", ""]
    for (lesson, profile), files in sorted(groups.items()):
        files.sort(key=lambda r: r.seed)
        sources = sorted({str(r.data.get("source", "unknown")) for r in files})
        lines += [
            f"### {lesson} — {profile}, seeds {seed_list([r.seed for r in files])} "
            f"({', '.join(sources)})",
            "",
        ]
        for r in files:
            v = r.payload.get("versions", {})
            lines.append(
                f"- s{r.seed}: `{show_path(r.path)}` (written {when(r.mtime)}, helpers "
                f"{v.get('helpers', '?')}, data {r.data.get('source', '?')})"
            )
        keys: dict[str, str] = {}
        for r in files:
            for c in r.payload["claims"]:
                keys.setdefault(c["key"], c.get("statement", ""))
        lesson_patterns = patterns.get(lesson)
        lines += ["", "| claim | statement | " + " | ".join(f"s{r.seed}" for r in files) + " |"]
        lines.append("|---|---|" + "---|" * len(files))
        for key, statement in keys.items():
            stale = lesson_patterns is not None and not key_in_notebook(key, lesson_patterns)
            label = f"`{key}`" + (" (no longer in the notebook)" if stale else "")
            cells = []
            for r in files:
                found = next((c for c in r.payload["claims"] if c["key"] == key), None)
                cells.append(claim_cell(found))
            lines.append(f"| {label} | {md(statement)} | " + " | ".join(cells) + " |")
        if lesson_patterns is not None:
            absent = [p.pattern for p in lesson_patterns if not any(p.fullmatch(k) for k in keys)]
            if absent:
                lines += [
                    "",
                    f"Claims the current notebook makes that these results lack ({NOT_MEASURED}"
                    f"; re-run the lesson): {', '.join(f'`{a}`' for a in absent)}",
                ]
        lines.append("")
    return lines


def unmeasured(rows: Sequence[LedgerRow]) -> list[str]:
    """Article claims with no results yet, and how to get them."""
    missing = [r for r in rows if r.verdict.status == NOT_MEASURED]
    lines = ["## Article claims without results", ""]
    if not missing:
        return [*lines, "Every registered article claim has results.", ""]
    for r in missing:
        lines.append(
            f"- {r.claim.id} {md(r.claim.topic)}: {md(r.verdict.condition)} — run "
            f"`make lessons` (lesson {r.claim.lesson}: `python -m coursetools.run_lessons --only "
            f"{r.claim.lesson[:2]}`)"
        )
    return [*lines, ""]


def render(folders: Sequence[Path], found: Collection, notebooks: Path) -> str:
    """The whole report as markdown."""
    rows = [row for c in ARTICLE_CLAIMS for row in ledger_rows(c, found.used)]
    parts = [
        *header(folders, found),
        *ledger_table(rows),
        *unmeasured(rows),
        *lesson_sections(found.used, notebooks),
    ]
    return "\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- writing
def to_html(markdown: str) -> str:
    """A standalone HTML page (offline: inline CSS, no scripts)."""
    import mistune

    body = mistune.create_markdown(escape=False, plugins=["table"])(markdown)
    for status, cls in (
        ("holds", "v-holds"),
        ("does not hold", "v-fails"),
        ("depends", "v-depends"),
        (NOT_MEASURED, "v-none"),
    ):
        body = body.replace(
            f"<strong>{status}</strong>", f'<strong class="{cls}">{status}</strong>'
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>Claims ledger — Why is my MNIST model wrong?</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--results",
        nargs="+",
        type=Path,
        default=None,
        help="folders searched recursively for lesson results (default: the committed "
        "evidence/; e.g. --results build/lessons for your own runs)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="report path (default build/report.md)"
    )
    parser.add_argument(
        "--notebooks", type=Path, default=ROOT / "notebooks", help="lesson notebooks folder"
    )
    args = parser.parse_args(argv)
    if args.results is None:
        folders = [evidence_dir()]
    else:
        folders = list(args.results)
        for f in folders:
            if not f.is_dir():
                print(f"warning: results folder {f} does not exist; skipped", file=sys.stderr)
    folders = [f for f in folders if f.is_dir()]
    found = collect_results(folders)
    if found.not_results:
        examples = ", ".join(show_path(p) for p in found.not_results[:3])
        print(
            f"warning: skipped {len(found.not_results)} JSON file(s) that are not lesson results "
            f"(e.g. {examples})",
            file=sys.stderr,
        )
    if not found.used:
        where = ", ".join(show_path(f) for f in folders) or "(no results folder exists)"
        print(
            f"error: no lesson results files (<lesson>.json) found under {where}. "
            "Run `make lessons` and pass --results build/lessons, or `make evidence`.",
            file=sys.stderr,
        )
        return 1
    out = args.out or build_dir() / "report.md"
    markdown = render(folders, found, args.notebooks)
    kept = write_text_keeping_previous(out, markdown)
    write_text_keeping_previous(out.with_suffix(".html"), to_html(markdown))
    print(
        f"Claims ledger from {len(found.used)} results files: {out} and "
        f"{out.with_suffix('.html').name}"
        + (f" (previous report kept as {kept.name})" if kept else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
