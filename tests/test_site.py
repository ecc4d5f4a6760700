"""coursetools/site.py: the course website, built once from the committed notebooks (no kernel,
a few seconds), checked file by file; bad input refused before anything is built. The browser
checks (search, figures, math, no request off the machine) are in test_site_e2e.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursetools import alt_text
from coursetools import nbtools as nbt
from coursetools import site as course_site
from coursetools.paths import lesson_notebooks, repo_root

# myst-parser 5.2 still calls Sphinx APIs that Sphinx 11 will remove: its warning, not ours.
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:myst_parser.*")

NOTEBOOKS = repo_root() / "notebooks"
# Attributes through which a page loads something by itself (as opposed to <a href>, which
# only leaves when the reader clicks it).
LOADING = {
    "script": "src",
    "link": "href",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "embed": "src",
    "object": "data",
}
OFFSITE = re.compile(r"^(https?:)?//", re.IGNORECASE)


class _Links(HTMLParser):
    """Every URL a page loads (``loads``) or links to (``links``), its ``<img>`` count and each
    ``<img>``'s alt attribute (None without one)."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.images = 0
        self.alts: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in LOADING and attributes.get(LOADING[tag]):
            self.loads.append(attributes[LOADING[tag]] or "")
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        if tag == "img":
            self.images += 1
            self.alts.append(attributes.get("alt"))


def parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def local_target(page: Path, url: str) -> Path | None:
    """The file a relative URL on ``page`` points to, or None for other URLs."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:
        return None  # absolute (http:, mailto:, data:, ...) or only #fragment / ?query
    return (page.parent / unquote(parts.path)).resolve()


def article(page: Path) -> _Links:
    """The page's article (not the theme's logo or icons), parsed."""
    text = page.read_text(encoding="utf-8")
    start = text.index('<article class="bd-article">')
    parser = _Links()
    parser.feed(text[start : text.index("</article>", start)])
    return parser


def article_images(page: Path) -> int:
    """``<img>`` elements inside the page's article."""
    return article(page).images


def expected_alts(nb: nbformat.NotebookNode) -> list[str | None]:
    """The alt text of each figure output of ``nb``, in page order (None: it has none)."""
    return [
        alt_text.alt_text(out)
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if any(mime in out.get("data", {}) for mime in nbt.IMAGE_MIMES)
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The site of the committed notebooks, built once for this module."""
    out = tmp_path_factory.mktemp("site") / "site"
    lessons, warnings = course_site.build_site(NOTEBOOKS, out)
    assert [lesson.path.name for lesson in lessons] == [p.name for p in lesson_notebooks()]
    assert warnings == [], "Sphinx warned:\n" + "\n".join(warnings)
    return out


def test_every_lesson_has_a_page_with_its_figures_and_a_download_link(built):
    table = built / "lessons" / "index.html"
    table_links = parse(table).links
    for notebook in lesson_notebooks():
        page = built / "lessons" / f"{notebook.stem}.html"
        assert page.is_file(), f"no page for {notebook.name}"
        download = built / "notebooks" / notebook.name
        assert download.is_file(), f"no download for {notebook.name}"
        nb = nbformat.read(download, as_version=4)
        assert len(nb.cells) == len(nbformat.read(notebook, as_version=4).cells)
        assert f"../notebooks/{notebook.name}" in parse(page).links, f"{page.name}: no download"
        assert f"../notebooks/{notebook.name}" in table_links
        assert article_images(page) == nbt.count_images(nb), f"{page.name}: a figure is missing"


def test_every_lesson_figure_has_its_alt_text(built):
    """Passes once the committed notebooks were executed with plots.show: each figure's <img alt>
    is its output's alt text (without it, Sphinx writes the image's file name there)."""
    problems = []
    for notebook in lesson_notebooks():
        page = built / "lessons" / f"{notebook.stem}.html"
        expected = expected_alts(nbformat.read(notebook, as_version=4))
        shown = article(page).alts
        assert len(shown) == len(expected), f"{page.name}: a figure is missing"
        problems += [
            f"{page.name}: figure {n}: alt={got!r}"
            for n, (want, got) in enumerate(zip(expected, shown, strict=True), start=1)
            if not want or got != want
        ]
    assert problems == [], "figures without their alt text on the site:\n" + "\n".join(problems)


def text_of(page: Path) -> str:
    """A page's text without tags (Sphinx splits code into one span per word)."""
    text = re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", text)


def test_ledger_and_workshop_guide_are_pages_in_the_navigation(built):
    ledger = text_of(built / "ledger.html")
    assert "Ledger: the articles’ claims" in ledger
    assert "Results folders: evidence" in ledger and "by make site" in ledger
    guide = text_of(built / "workshop.html")
    for heading in ("Running a workshop (instructors)", "An offline room", "Troubleshooting"):
        assert heading in guide, heading
    index_links = parse(built / "index.html").links
    for target in ("lessons/index.html", "workshop.html", "schedule.html", "ledger.html"):
        assert target in index_links, target


def test_the_schedule_page_and_each_lessons_teaching_structure(built):
    plan = text_of(built / "schedule.html")
    assert "One-day workshop" in plan and "Two-day workshop" in plan
    for notebook in lesson_notebooks():
        assert notebook.stem in plan, notebook.stem
        page = text_of(built / "lessons" / f"{notebook.stem}.html")
        for words in ("Learning objectives", "Key points", "Instructor note."):
            assert words in page, f"{notebook.stem}: no {words!r} on its page"


def test_no_page_loads_anything_off_the_machine_and_every_local_link_resolves(built):
    # _static/ holds a copy of the theme's Jinja macros (webpack-macros.html): not a page.
    pages = sorted(p for p in built.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) >= 9 + 4  # the lessons, index, lessons index, guide, ledger (+ search)
    offsite, broken = [], []
    for page in pages:
        found = parse(page)
        offsite += [
            f"{page.relative_to(built)}: {url}" for url in found.loads if OFFSITE.match(url)
        ]
        for url in found.loads + found.links:
            target = local_target(page, url)
            if target is not None and not target.exists():
                broken.append(f"{page.relative_to(built)}: {url}")
    assert offsite == [], "pages load from the network (a CDN?):\n" + "\n".join(offsite)
    assert broken == [], "relative links to missing files:\n" + "\n".join(broken[:20])
    css_urls = [
        f"{css.relative_to(built)}: {url}"
        for css in built.joinpath("_static").rglob("*.css")
        for url in re.findall(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", css.read_text("utf-8"))
    ]
    assert css_urls == [], "stylesheets fetch from the network:\n" + "\n".join(css_urls)


def test_math_comes_from_the_local_mathjax(built):
    page = built / "lessons" / "01_underfitting.html"
    text = page.read_text(encoding="utf-8")
    assert 'class="math notranslate nohighlight"' in text, "lesson 01's $...$ math is gone"
    scripts = [url for url in parse(page).loads if "MathJax.js" in url]
    assert scripts == ["../_static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"]
    assert (built / "_static" / "mathjax" / "MathJax.js").is_file()
    assert (built / "_static" / "mathjax" / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()


def test_search_index_covers_lesson_text(built):
    index = (built / "searchindex.js").read_text(encoding="utf-8")
    assert "mcnemar" in index.lower()
    assert "04_tuning" in index


def test_rebuilding_replaces_the_site(tmp_path):
    # A site built before (it has the marker) is replaced; a build leaves no staging folder.
    out = tmp_path / "site"
    (out / "lessons").mkdir(parents=True)
    (out / course_site.MARKER).write_text("old")
    (out / "lessons" / "99_gone.html").write_text("stale")
    lesson = executed_lesson()
    nbformat.write(lesson, tmp_path / "08_tiny.ipynb")
    course_site.build_site(tmp_path, out)
    assert not (out / "lessons" / "99_gone.html").exists()
    assert (out / "lessons" / "08_tiny.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["08_tiny.ipynb", "site"]


def png(slope: float) -> str:
    """A small real PNG (base64, as Jupyter stores it); different slopes, different files."""
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, slope])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def figure_output(image: str, alt: str | None) -> nbformat.NotebookNode:
    out = new_output("display_data", data={"image/png": image, "text/plain": "<Figure>"})
    out.metadata = {"image/png": {"alt": alt}} if alt else {}
    return out


def test_figures_carry_the_alt_text_of_their_outputs(tmp_path, capsys):
    # two figures in one cell, each with its text; one image twice (one file) with two texts;
    # a figure without any: Sphinx writes its file name there, and the build warns
    same = png(2)
    lesson = executed_lesson()
    lesson.cells[1].outputs += [
        figure_output(png(1), "A rising line."),
        figure_output(png(-1), 'A "falling" line <below> & more.'),
    ]
    for n, (image, alt) in enumerate(
        [(same, "The same image, first."), (same, "The same image, second."), (png(3), None)],
        start=2,
    ):
        lesson.cells.append(
            new_code_cell("...", execution_count=n, outputs=[figure_output(image, alt)])
        )
    nbformat.write(lesson, tmp_path / "08_tiny.ipynb")
    code, err = run_main(capsys, "--from", str(tmp_path), "--out", str(tmp_path / "site"))
    assert code == 0
    alts = article(tmp_path / "site" / "lessons" / "08_tiny.html").alts
    assert alts[:4] == [
        "A rising line.",
        'A "falling" line <below> & more.',
        "The same image, first.",
        "The same image, second.",
    ]
    assert len(alts) == 5 and alts[4].endswith(".png"), "Sphinx's default alt: the file name"
    assert "warning: 08_tiny.ipynb: 1 figure(s) have no alt text (cells 4)" in err


# ----------------------------------------------------------------------------- bad input
def executed_lesson(error: bool = False, executed: bool = True) -> nbformat.NotebookNode:
    """A two-cell lesson as it looks after a run (or with an error, or never run)."""
    code = new_code_cell("print('accuracy 91.0%')")
    if executed:
        code.execution_count = 1
        code.outputs = [new_output("stream", name="stdout", text="accuracy 91.0%\n")]
    if error:
        code.outputs = [new_output("error", ename="ValueError", evalue="boom", traceback=[])]
    return new_notebook(cells=[new_markdown_cell("# 08 · Tiny lesson\n\nText."), code])


def run_main(capsys, *args: str) -> tuple[int, str]:
    code = course_site.main(list(args))
    return code, capsys.readouterr().err


def test_a_missing_folder_is_named_with_what_to_do(tmp_path, capsys):
    missing = tmp_path / "lessons" / "full-seed0"
    code, err = run_main(capsys, "--from", str(missing), "--out", str(tmp_path / "site"))
    assert code == 1
    assert str(missing) in err and "no such folder" in err and "make lessons" in err
    assert not (tmp_path / "site").exists()


def test_a_folder_without_lessons_is_named_with_what_to_do(tmp_path, capsys):
    (tmp_path / "scratch.ipynb").write_text("{}")
    nbformat.write(executed_lesson(), tmp_path / "08_tiny.20261129-101010.prev.ipynb")
    code, err = run_main(capsys, "--from", str(tmp_path), "--out", str(tmp_path / "site"))
    assert code == 1
    assert f"{tmp_path} holds no lesson notebook" in err and "FROM=" in err


@pytest.mark.parametrize(
    ("error", "executed", "expected"),
    [
        (True, True, "cell 1 has an error output (ValueError: boom)"),
        (False, False, "no code cell was ever executed"),
    ],
)
def test_an_error_or_unexecuted_notebook_is_refused_naming_it(
    tmp_path, capsys, error, executed, expected
):
    nbformat.write(executed_lesson(error, executed), tmp_path / "08_tiny.ipynb")
    code, err = run_main(capsys, "--from", str(tmp_path), "--out", str(tmp_path / "site"))
    assert code == 1
    assert "08_tiny.ipynb" in err and expected in err


def test_an_out_folder_that_is_not_a_site_is_never_replaced(tmp_path, capsys):
    nbformat.write(executed_lesson(), tmp_path / "08_tiny.ipynb")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    code, err = run_main(capsys, "--from", str(tmp_path), "--out", str(precious))
    assert code == 1 and "refusing to replace" in err and str(precious) in err
    assert [p.name for p in precious.iterdir()] == ["thesis.tex"]


def test_sphinx_warnings_name_the_notebook_and_a_failed_build_says_why(
    tmp_path, capsys, monkeypatch
):
    lesson = executed_lesson()
    lesson.cells[0].source += "\n\nSee [the notes](missing_notes.md)."
    nbformat.write(lesson, tmp_path / "08_tiny.ipynb")
    code, err = run_main(capsys, "--from", str(tmp_path), "--out", str(tmp_path / "site"))
    assert code == 0
    assert f"{tmp_path}/08_tiny.ipynb:" in err and "missing_notes.md" in err
    assert "/src/lessons/" not in err  # never the staging copy

    broken = tmp_path / "site-sources"
    broken.mkdir()
    (broken / "conf.py").write_text("html_theme = 'no_such_theme'\n")
    monkeypatch.setattr(course_site, "SITE_SOURCES", broken)
    code, err = run_main(capsys, "--from", str(tmp_path), "--out", str(tmp_path / "site"))
    assert code == 1 and "Sphinx could not build the site" in err and "no_such_theme" in err
    assert (tmp_path / "site" / "lessons" / "08_tiny.html").is_file()  # the last good site


def test_kept_generations_are_not_lessons(tmp_path):
    nbformat.write(executed_lesson(), tmp_path / "08_tiny.ipynb")
    nbformat.write(executed_lesson(), tmp_path / "08_tiny.20261129-101010.prev.ipynb")
    assert [lesson.path.name for lesson in course_site.load_lessons(tmp_path)] == ["08_tiny.ipynb"]
