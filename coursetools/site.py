"""The course website: every executed lesson, the workshop guide and the claims ledger as one
static site with navigation and full-text search, that works opened from disk.

Usage: python -m coursetools.site [--from DIR] [--out DIR]

--from   folder of executed lesson notebooks (default: the committed notebooks/, the workshop
         profile's seed-0 run; or e.g. build/lessons/full-seed0 from `make lessons`)
--out    where the site goes (default build/site/); a site built there before is replaced,
         any other non-empty folder is refused

Nothing is executed: Sphinx with myst-nb renders the outputs the notebooks already hold. The
sources (site/), README.md, the notebooks and the generated pages (the claims ledger from the
committed evidence/, the lesson table) are staged in a temporary folder beside --out, so neither
notebooks/ nor site/ is written to. MathJax 2 is copied in from the jupyter-server-mathjax
wheel, so math renders without a CDN; every link is relative, so the site works from a USB
stick (file://, no server) on a machine without network. Each figure's <img> carries the alt
text of its output (helpers.plots.show), added by the Sphinx extension coursetools.alt_text;
a lesson with figures that have none gets a warning.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from coursetools import alt_text, files, formatting, schedule
from coursetools import nbtools as nbt
from coursetools.paths import build_dir, reference_seconds, repo_root

ROOT = repo_root()
SITE_SOURCES = ROOT / "site"
README = ROOT / "README.md"
BUDGET_S = 120  # issue 13: `make site` under 2 minutes once the lessons have run
# Written into every site this command builds: only such a folder is ever replaced by --out.
MARKER = ".course-site"
MATHJAX_PACKAGE = "jupyter_server_mathjax"


class SiteError(Exception):
    """The site cannot be built; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Lesson:
    """One executed lesson notebook and what the site says about it."""

    path: Path
    info: nbt.ExecutionInfo
    missing_alt: str | None = None  # a warning when figures have no alt text (alt_text)

    @property
    def stem(self) -> str:
        return self.path.stem


# ----------------------------------------------------------------------------- input
def load_lessons(source: Path) -> list[Lesson]:
    """The lesson notebooks in ``source``, checked to be executed and free of errors; raises
    :class:`SiteError` naming the folder (or every notebook and cell at fault)."""
    notebooks, problems = nbt.read_lessons(
        source,
        "Pass a folder of executed lesson notebooks: leave FROM unset for the committed "
        "notebooks/, or run `make lessons` first and pass its output folder, e.g. "
        "FROM=build/lessons/workshop-seed0.",
        error=SiteError,
    )
    lessons = []
    for path, nb in notebooks:
        problems += nbt.execution_problems(nb, path.name)
        lessons.append(
            Lesson(path, nbt.execution_info(nb), alt_text.missing_alt_warning(nb, path.name))
        )
    if problems:
        raise SiteError("\n".join(problems))
    return lessons


def mathjax_dir() -> Path:
    """MathJax 2's static files as the jupyter-server-mathjax wheel ships them (found without
    importing the package, which would start loading jupyter_server)."""
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        static = Path(location) / "static"
        if (static / "MathJax.js").is_file():
            return static
    raise SiteError(
        "MathJax is missing: the site needs the jupyter-server-mathjax package (a local "
        "MathJax, never a CDN). Run `make setup` (or pip install -r requirements.lock)."
    )


# ----------------------------------------------------------------------------- generated pages
def build_info(lessons: list[Lesson], source: Path) -> str:
    """The index's paragraph on where the pages come from (and a warning when the notebooks are
    not the workshop run the prose was written for)."""
    profiles = sorted({lesson.info.profile or "unknown" for lesson in lessons})
    seeds = sorted({str(lesson.info.seed) for lesson in lessons if lesson.info.seed is not None})
    lines = [
        f"These pages show the notebooks of `{show_path(source)}/` as executed at profile "
        f"**{', '.join(profiles)}**, seed {', '.join(seeds) or 'unknown'}; site built "
        f"{datetime.now():%Y-%m-%d %H:%M}.",
        "",
    ]
    others = [lesson.path.name for lesson in lessons if not lesson.info.is_workshop]
    if others:
        lines += [
            "```{warning}",
            f"Not the workshop run: {', '.join(others)} {'was' if len(others) == 1 else 'were'}"
            " executed at another profile. Numbers, figures and verdicts differ from those the "
            "lesson text discusses.",
            "```",
            "",
        ]
    return "\n".join(lines)


def lesson_table(lessons: list[Lesson]) -> str:
    """The lessons page's table: each lesson with its notebook download and the reference
    machine's run time (the pages themselves are linked by ``{doc}``, so Sphinx checks them)."""
    try:
        seconds = reference_seconds("workshop")
    except (OSError, KeyError, ValueError):
        seconds = {}
    rows = [
        "| lesson | notebook | run time at workshop (reference machine) |",
        "|---|---|---|",
    ]
    for lesson in lessons:
        name = lesson.path.name
        # Raw HTML: the notebooks reach the site through html_extra_path, which Sphinx does not
        # resolve links against; the path is relative to lessons/index.html.
        download = f'<a class="download-notebook" href="../notebooks/{name}" download>{name}</a>'
        rows.append(
            f"| {{doc}}`{lesson.stem}` | {download} | "
            f"{formatting.duration(seconds.get(lesson.stem))} |"
        )
    return "\n".join(rows) + "\n"


def ledger_page() -> str:
    """The claims ledger from the committed evidence, as ``make report`` writes it."""
    from coursetools import report
    from coursetools.evidence import evidence_dir
    from coursetools.ledger import collect_results

    folders = [evidence_dir()]
    found = collect_results([f for f in folders if f.is_dir()])
    if not found.used:
        return (
            "# Claims ledger\n\nNo committed evidence was found in "
            f"`{show_path(folders[0])}/`: run `make evidence`, then build the site again.\n"
        )
    markdown = report.render(folders, found, ROOT / "notebooks")
    return markdown.replace("by `make report`", "by `make site` (as `make report` does)", 1)


def show_path(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# ----------------------------------------------------------------------------- build
def stage(lessons: list[Lesson], source: Path, folder: Path) -> None:
    """Sphinx's source folder: site/ plus README.md, the notebooks (as pages and as
    downloads) and the generated pages."""
    shutil.copytree(SITE_SOURCES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(README, folder / "README.md")
    downloads = folder / "_extra" / "notebooks"
    downloads.mkdir(parents=True)
    (folder / "lessons").mkdir(exist_ok=True)
    for lesson in lessons:
        shutil.copy2(lesson.path, folder / "lessons" / lesson.path.name)
        shutil.copy2(lesson.path, downloads / lesson.path.name)
    (folder / "build_info.inc.md").write_text(build_info(lessons, source))
    (folder / "lessons" / "lessons.inc.md").write_text(lesson_table(lessons))
    (folder / "ledger.md").write_text(ledger_page())
    (folder / "schedule.md").write_text(schedule.page())


def run_sphinx(source: Path, html: Path, doctrees: Path) -> list[str]:
    """Build the HTML in this process (one process: nine notebooks build in seconds, and
    ``-j 2`` measured slower on 2 cores); return Sphinx's warnings, which are collected rather
    than printed so that they can name the real files instead of the staging copies. Raises
    :class:`SiteError` when Sphinx fails."""
    from sphinx.application import Sphinx
    from sphinx.errors import SphinxError
    from sphinx.util.console import strip_escape_sequences
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    messages = io.StringIO()
    try:
        with patch_docutils(source), docutils_namespace():
            app = Sphinx(source, source, html, doctrees, "html", status=None, warning=messages)
            app.build()
        failed = app.statuscode != 0
    except SphinxError as exc:
        messages.write(f"{exc}\n")
        failed = True
    text = strip_escape_sequences(messages.getvalue())  # Sphinx colours them even so
    lines = [line for line in text.splitlines() if line.strip()]
    if failed:
        raise SiteError("Sphinx could not build the site:\n" + "\n".join(lines))
    return lines


def unstaged(warning: str, staged: Path, source: Path) -> str:
    """A Sphinx warning naming the file it is about instead of its staging copy (a notebook
    warning's line number is myst-nb's: cell index * 10000 + line in the cell)."""
    for copy, original in (
        (staged / "lessons", source),
        (staged / "README.md", README),
        (staged, SITE_SOURCES),
    ):
        warning = warning.replace(str(copy), show_path(original))
    return warning


def check_out(out: Path) -> None:
    """Raise :class:`SiteError` unless ``out`` is new, empty or a site built here before:
    --out is replaced, and must never be someone's folder of other files."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise SiteError(
            f"--out {out} exists and is not a site this command built (it has no {MARKER} "
            "file): refusing to replace it. Pass a new or empty folder."
        )


def replace_site(built: Path, out: Path) -> None:
    """Move the new site to ``out``, replacing a site built there before (and nothing else)."""
    check_out(out)
    if out.exists():
        shutil.rmtree(out)
    built.rename(out)


def build_site(source: Path, out: Path) -> tuple[list[Lesson], list[str]]:
    """Build the site from the notebooks in ``source`` into ``out``; returns the lessons and
    Sphinx's warnings. Raises :class:`SiteError` on bad input or a failed build."""
    lessons = load_lessons(source)
    mathjax = mathjax_dir()
    if not (SITE_SOURCES / "conf.py").is_file():
        raise SiteError(
            f"{SITE_SOURCES}/conf.py is missing: build the site from a checkout of the course "
            "(the site's sources live in its site/ folder)."
        )
    out = out.resolve()
    check_out(out)  # before the build, not after it
    try:
        files.ensure_writable(out.parent, "the website", "pass --out a folder you can write to")
    except files.OutputNotWritable as exc:
        raise SiteError(str(exc)) from exc
    # Beside --out, so the finished site is moved there by a rename; myst-nb writes its
    # figure files next to Sphinx's output folder (../jupyter_execute), so inside this too.
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-build-", dir=out.parent))
    try:
        stage(lessons, source, work / "src")
        html = work / "html"
        warnings = run_sphinx(work / "src", html, work / "doctrees")
        warnings = [unstaged(w, work / "src", source) for w in warnings]
        shutil.copytree(mathjax, html / "_static" / "mathjax")
        (html / MARKER).write_text(
            f"Built by python -m coursetools.site from {show_path(source)}; replaced on rebuild.\n"
        )
        replace_site(html, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return lessons, warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=ROOT / "notebooks",
        help="folder of executed lesson notebooks (default: the committed notebooks/)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="where the site goes (default build/site/)"
    )
    args = parser.parse_args(argv)
    out = args.out or build_dir() / "site"
    started = time.monotonic()
    try:
        lessons, warnings = build_site(args.source, out)
    except SiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - started
    for warning in warnings:
        print(warning, file=sys.stderr)
    for lesson in lessons:
        if lesson.missing_alt:
            print(f"warning: {lesson.missing_alt}", file=sys.stderr)
    budget = "within" if seconds <= BUDGET_S else "OVER"
    count = f"{len(lessons)} lesson" + ("s" if len(lessons) != 1 else "")
    warned = f"; {len(warnings)} Sphinx warning(s), above" if warnings else ""
    print(
        f"Course website: {count} from {show_path(args.source)}/ into {show_path(out)}/ in "
        f"{seconds:.1f} s ({budget} the {BUDGET_S} s budget{warned}). Open "
        f"{show_path(out / 'index.html')} in a browser: no server or network needed."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
