"""Handouts of the executed lessons: one self-contained HTML page (and PDF) per lesson + index.

Usage: python -m coursetools.handouts [--from DIR] [--out DIR] [--no-pdf] [--jobs 2]

--from   folder of executed lesson notebooks (default: the committed notebooks/, which hold the
         workshop profile's seed-0 outputs; or e.g. build/lessons/workshop-seed0 from
         `make lessons`, whose timings.json then shows in the index)
--out    where the handouts go (default build/handouts/); a previous build there is kept as
         <out>.<time stamp>.prev, never overwritten
--no-pdf HTML only. Otherwise Debian's chromium (if installed) prints each page to PDF.

The pages work offline: figures are embedded PNGs and no script is loaded from a CDN (math
shows as its TeX source). The build fails, naming notebook and cell, if a cell has an error
output, a notebook was never executed, or a page does not show every figure of its notebook.
Each figure's <img> carries the alt text its output holds (helpers.plots.show); a notebook with
figures that have none gets a warning.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from coursetools import alt_text, files, formatting, math_images
from coursetools import nbtools as nbt
from coursetools.paths import REFERENCE_TIMINGS, build_dir, repo_root

ROOT = repo_root()

COURSE = "Why is my MNIST model wrong?"
PDF_TIMEOUT_S = 90
MIN_PDF_BYTES = 5_000
# The lab template minus everything it would fetch from a CDN (require.js, MathJax, mermaid):
# offline those block or slow down rendering and printing (formulas become images instead:
# coursetools.math_images).
# Figures get their alternative text: the lab template writes no alt attribute, so the image
# blocks add the output's "alt" metadata (set by helpers.plots.show; coursetools.alt_text) to
# the <img> the lab template renders.
TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- macro with_alt(img, alt) -%}
{%- if alt -%}{{ img | replace('<img ', '<img alt="' ~ (alt | escape_html) ~ '" ', 1) }}
{%- else -%}{{ img }}{%- endif -%}
{%- endmacro -%}
{% block data_png scoped -%}
{{ with_alt(super(), output | get_metadata('alt', 'image/png')) }}
{%- endblock data_png %}
{% block data_jpg scoped -%}
{{ with_alt(super(), output | get_metadata('alt', 'image/jpeg')) }}
{%- endblock data_jpg %}
{%- block body_header -%}
{{ super() }}
{%- if resources.handout_warning %}
<div class="handout-warning" role="alert" style="border:3px solid #c62828;background:#ffebee;
 color:#b71c1c;padding:0.8em 1em;margin:1em 0;font-weight:bold">
{{ resources.handout_warning | escape_html }}</div>
{%- endif %}
<p class="handout-origin" style="color:#555;font-size:0.9em">{{ resources.handout_origin
 | escape_html }}</p>
{%- endblock body_header -%}
"""


class BuildError(Exception):
    """The handouts cannot be built; the message says what is wrong and what to do."""


@dataclass
class Handout:
    """One lesson's notebook, its HTML page and what the index says about it."""

    notebook: Path
    nb: nbformat.NotebookNode
    title: str
    info: nbt.ExecutionInfo
    images: int
    html: str = ""
    pdf: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return self.notebook.stem


# ----------------------------------------------------------------------------- checks
class _FigureCounter(HTMLParser):
    """Counts embedded figures inside nbconvert's output areas (not images in markdown), and
    keeps each ``<img>`` figure's alt attribute (None without one)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.count = 0
        self.alts: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        in_figure = bool(self.stack) and (
            "jp-RenderedImage" in self.stack[-1] or "jp-RenderedSVG" in self.stack[-1]
        )
        if tag == "div":
            self.stack.append(attributes.get("class") or "")
        elif tag == "img" and in_figure and (attributes.get("src") or "").startswith("data:image/"):
            self.count += 1
            self.alts.append(attributes.get("alt"))
        elif tag == "svg" and in_figure:
            self.count += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.stack:
            self.stack.pop()


def figures_in_html(page: str) -> int:
    """How many figures a page shows embedded (``data:`` images or inline SVG in an output)."""
    counter = _FigureCounter()
    counter.feed(page)
    return counter.count


def figure_alts(page: str) -> list[str | None]:
    """The alt attribute of each embedded ``<img>`` figure of a page, in page order."""
    counter = _FigureCounter()
    counter.feed(page)
    return counter.alts


def load_lessons(source: Path) -> list[Handout]:
    """Read and check every lesson notebook in ``source``; raise BuildError listing every
    error output and never-executed notebook found."""
    notebooks, problems = nbt.read_lessons(
        source,
        "Run `make lessons` and pass its output folder, e.g. "
        "--from build/lessons/workshop-seed0, or leave it unset for the committed notebooks/.",
        error=BuildError,
    )
    handouts = []
    for path, nb in notebooks:
        problems += nbt.execution_problems(nb, path.name)
        info = nbt.execution_info(nb)
        handout = Handout(path, nb, nbt.lesson_title(nb, path.stem), info, nbt.count_images(nb))
        missing_alt = alt_text.missing_alt_warning(nb, path.name)
        if missing_alt:
            handout.warnings.append(missing_alt)
        if not info.is_workshop:
            handout.warnings.append(
                f"{path.name} was executed at profile {info.profile or 'unknown'} (found from "
                f"{info.evidence}), not at the workshop profile: its numbers and figures are "
                "not the workshop's, and not every claim was asserted."
            )
        handouts.append(handout)
    if problems:
        raise BuildError("\n".join(problems))
    return handouts


# ----------------------------------------------------------------------------- HTML
def html_exporter():
    """nbconvert's lab HTML exporter with the offline handout template."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"handout.html.j2": TEMPLATE})],
        template_file="handout.html.j2",
        embed_images=True,
    )


def render(handout: Handout, exporter) -> None:
    """Convert the notebook to HTML and check every figure of the notebook is on the page."""
    nb = copy.deepcopy(handout.nb)
    nbt.clean_run_metadata(nb)
    handout.warnings += [
        f"{handout.notebook.name}: {problem}" for problem in math_images.typeset_markdown_math(nb)
    ]
    info = handout.info
    origin = (
        f"{handout.title} — executed at profile {info.profile or 'unknown'}, "
        f"seed {info.seed if info.seed is not None else 'unknown'}; built "
        f"{datetime.now():%Y-%m-%d %H:%M} from {handout.notebook.parent.name}/"
        f"{handout.notebook.name}."
    )
    warning = (
        f"Not the workshop run: this notebook was executed at profile "
        f"{info.profile or 'unknown'}. Numbers, figures and verdicts differ from the workshop's."
        if not info.is_workshop
        else ""
    )
    resources = {
        "metadata": {"name": handout.title, "path": str(handout.notebook.parent)},
        "handout_origin": origin,
        "handout_warning": warning,
    }
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    shown = figures_in_html(page)
    if shown != handout.images:
        raise BuildError(
            f"{handout.notebook.name}: the notebook has {handout.images} figure output(s) but its "
            f"HTML shows {shown}. A figure would be missing from the handout."
        )
    handout.html = page


# ----------------------------------------------------------------------------- PDF
def find_chromium() -> str | None:
    """Debian's chromium (``/usr/bin/chromium`` or ``chromium`` on PATH), else None."""
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def chromium_command(chromium: str, page: Path, pdf: Path, profile_dir: Path) -> list[str]:
    """Headless print-to-PDF, quiet on a closed network (no sync, updates or QUIC probes)."""
    flags = [
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        f"--user-data-dir={profile_dir}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.insert(1, "--no-sandbox")
    return [chromium, *flags, page.resolve().as_uri()]


def check_pdf(pdf: Path) -> None:
    """Raise BuildError unless ``pdf`` is a real PDF with at least one page."""
    if not pdf.exists():
        raise BuildError(f"{pdf.name}: Chromium wrote no PDF.")
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    if not data.startswith(b"%PDF-") or len(data) < MIN_PDF_BYTES or pages < 1:
        raise BuildError(
            f"{pdf.name}: not a usable PDF ({len(data)} bytes). Open the HTML and print it "
            "from a browser instead."
        )


def print_pdf(chromium: str, page: Path) -> Path:
    """Print one HTML page to a PDF beside it with a fresh Chromium profile."""
    pdf = page.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="handout-chromium-") as profile_dir:
        cmd = chromium_command(chromium, page, pdf, Path(profile_dir))
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=PDF_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise BuildError(
                f"{page.name}: Chromium did not finish printing within {PDF_TIMEOUT_S} s. "
                "Re-run with --no-pdf and print the HTML from a browser."
            ) from exc
    if done.returncode != 0 or not pdf.exists():
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BuildError(f"{page.name}: Chromium failed (exit {done.returncode}):\n{tail}")
    check_pdf(pdf)
    return pdf


# ----------------------------------------------------------------------------- index
def format_seconds(seconds: object) -> str:
    """``'52 s'``, ``'1 min 43 s'``, or ``'not measured'`` (coursetools.formatting.duration)."""
    return formatting.duration(seconds, missing="not measured")


def read_json(path: Path, what: str) -> dict | None:
    """A JSON object from ``path``, or None (with a warning on stderr) if it is unreadable."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        print(
            f"warning: {what} {path} is unreadable ({exc}); its times are not shown.",
            file=sys.stderr,
        )
        return None
    if not isinstance(data, dict) or not isinstance(data.get("seconds"), dict):
        print(
            f"warning: {what} {path} has no 'seconds' table; its times are not shown.",
            file=sys.stderr,
        )
        return None
    return data


def index_page(handouts: Sequence[Handout], source: Path, pdfs: bool) -> str:
    """The index: every lesson with links, how it was executed and its measured run times."""
    run = read_json(source / "timings.json", "timings file")
    reference = read_json(REFERENCE_TIMINGS, "reference timings")
    profiles = {h.info.profile for h in handouts}
    ref_profile = profiles.pop() if len(profiles) == 1 and None not in profiles else "workshop"
    run_label = (
        f"Measured for these notebooks (profile {run.get('profile', '?')}, "
        f"{run.get('cpu_count', '?')} CPUs, from {source.name}/timings.json)"
        if run
        else f"Measured for these notebooks ({source.name}/ has no timings.json)"
    )
    ref_machine = (reference or {}).get("machine", {})
    ref_label = (
        f"Reference machine ({ref_machine.get('cpu_count', '?')} CPUs), {ref_profile} profile"
    )
    ref_seconds = ((reference or {}).get("seconds") or {}).get(ref_profile) or {}
    rows = []
    for h in handouts:
        links = [f'<a href="{html.escape(h.stem)}.html">HTML</a>']
        if pdfs and h.pdf:
            links.append(f'<a href="{html.escape(h.stem)}.pdf">PDF</a>')
        seed = h.info.seed if h.info.seed is not None else "unknown"
        executed = f"{h.info.profile or 'unknown'}, seed {seed}"
        if not h.info.is_workshop:
            executed = (
                f'<strong style="color:#b71c1c">{html.escape(executed)} (not workshop)</strong>'
            )
        else:
            executed = html.escape(executed)
        this_run = (run or {}).get("seconds", {}).get(h.notebook.name)
        rows.append(
            "<tr>"
            f"<td>{html.escape(h.title)}</td><td>{' · '.join(links)}</td><td>{executed}</td>"
            f"<td>{format_seconds(this_run)}</td>"
            f"<td>{format_seconds(ref_seconds.get(h.stem))}</td></tr>"
        )
    warning = ""
    if any(not h.info.is_workshop for h in handouts):
        warning = (
            '<p role="alert" style="border:3px solid #c62828;background:#ffebee;padding:0.6em">'
            "<strong>Some notebooks were not executed at the workshop profile</strong>: their "
            "numbers and figures are not the workshop's.</p>"
        )
    pdf_note = "" if pdfs else "<p>No PDFs in this build (see the build's message for why).</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(COURSE)} — handouts</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:0.3em 0.6em;
text-align:left;vertical-align:top}}th{{background:#eee}}</style></head>
<body><h1>{html.escape(COURSE)} — handouts</h1>
<p>Built {datetime.now():%Y-%m-%d %H:%M} from <code>{html.escape(str(source))}</code>.</p>
{warning}
<table><thead><tr><th>Lesson</th><th>Handout</th><th>Executed with</th>
<th>{html.escape(run_label)}</th><th>{html.escape(ref_label)}</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<p>Times are wall seconds per notebook, kernel start included. "not measured" means no
measurement exists; no value is estimated.</p>
{pdf_note}
</body></html>
"""


# ----------------------------------------------------------------------------- build
def replace_output(staging: Path, out: Path) -> str | None:
    """Move ``staging`` to ``out``; an existing ``out`` is kept as a time-stamped generation
    (``<out>.<stamp>.prev``, never overwritten). Returns a sentence saying where it went (None
    if there was nothing to keep)."""
    previous = files.keep_previous(out)
    staging.rename(out)
    return None if previous is None else f"Previous handouts kept in {previous}."


def build(source: Path, out: Path, pdf: bool, jobs: int = 2) -> list[Handout]:
    """Check, render and (optionally) print every lesson of ``source`` into ``out``."""
    handouts = load_lessons(source)
    exporter = html_exporter()
    try:
        for h in handouts:
            render(h, exporter)
    finally:  # rendering adds warnings (formulas); print them even when a page fails
        for h in handouts:
            for warning in h.warnings:
                print(f"WARNING: {warning}", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        pages = []
        for h in handouts:
            page = staging / f"{h.stem}.html"
            page.write_text(h.html, encoding="utf-8")
            pages.append(page)
        chromium = find_chromium() if pdf else None
        if chromium:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                for h, printed in zip(
                    handouts, pool.map(lambda p: print_pdf(chromium, p), pages), strict=True
                ):
                    h.pdf = out / printed.name
        (staging / "index.html").write_text(
            index_page(handouts, source, pdfs=bool(chromium)), encoding="utf-8"
        )
        moved = replace_output(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if moved:
        print(moved)
    if pdf and not chromium:
        print(
            "PDFs skipped: Chromium was not found. Install it (sudo apt-get install chromium) "
            "and run this again, or open each HTML page in any browser and print it to PDF."
        )
    return handouts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--from",
        dest="source",
        default=str(ROOT / "notebooks"),
        help="folder of executed lesson notebooks (default notebooks/)",
    )
    parser.add_argument("--out", default=None, help="output folder (default build/handouts)")
    parser.add_argument("--no-pdf", action="store_true", help="HTML only, no Chromium")
    parser.add_argument("--jobs", type=int, default=2, help="PDFs printed at once (default 2)")
    args = parser.parse_args(argv)
    source = Path(args.source).resolve()
    out = Path(args.out).resolve() if args.out else build_dir() / "handouts"
    start = time.perf_counter()
    try:
        handouts = build(source, out, pdf=not args.no_pdf, jobs=args.jobs)
    except BuildError as exc:
        print(f"error: handouts not built:\n{exc}", file=sys.stderr)
        return 1
    pdfs = sum(1 for h in handouts if h.pdf)
    print(
        f"{len(handouts)} handouts ({pdfs} PDFs) in {out} — open {out / 'index.html'} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
