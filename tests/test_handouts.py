"""coursetools/handouts.py on tiny synthetic executed notebooks (no kernel; Chromium only in
the test marked `browser`)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursetools import alt_text, math_images
from coursetools import handouts as make_handouts
from coursetools import nbtools as nbt
from coursetools.paths import lesson_notebooks as lesson_paths
from coursetools.paths import repo_root

HEADER = "Lesson {name} · profile {profile} (tiny) · seed {seed} · helpers 0.1.0\n"


def png_figure() -> str:
    """A real matplotlib PNG, base64-encoded as Jupyter stores it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1, 2], [1, 0, 2])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def executed_lesson(
    name: str,
    title: str,
    profile: str = "workshop",
    figures: int = 1,
    error: bool = False,
    executed: bool = True,
) -> nbformat.NotebookNode:
    """A small lesson as it looks after execution: header line, a figure, a printout."""
    cells = [
        new_markdown_cell(f"# {title}\n\n## Symptom\n\nSomething is wrong."),
        new_code_cell("import helpers\nlesson = helpers.start_lesson(...)"),
        new_code_cell("plt.plot([0, 1, 2]); plt.show()"),
        new_code_cell("print('accuracy 91.0%')"),
    ]
    if executed:
        cells[1].outputs = [
            new_output(
                "stream", name="stdout", text=HEADER.format(name=name, profile=profile, seed=0)
            )
        ]
        cells[2].outputs = [
            new_output(
                "display_data",
                data={"image/png": png_figure(), "text/plain": "<Figure size 200x150 with 1 Axes>"},
            )
            for _ in range(figures)
        ]
        cells[3].outputs = [new_output("stream", name="stdout", text="accuracy 91.0%\n")]
        if error:
            cells[3].outputs = [
                new_output("error", ename="KeyError", evalue="'mlp'", traceback=["KeyError"])
            ]
        for count, cell in enumerate(cells[1:], start=1):
            cell.execution_count = count
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def write_lessons(folder: Path, *notebooks: tuple[str, nbformat.NotebookNode]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks:
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@pytest.fixture
def two_lessons(tmp_path):
    return write_lessons(
        tmp_path / "executed",
        ("00_tiny", executed_lesson("00_tiny", "00 · A tiny lesson", figures=2)),
        ("01_small", executed_lesson("01_small", "01 · A small lesson")),
    )


@pytest.fixture
def reference(tmp_path, monkeypatch):
    """Reference timings with a value for 00_tiny only."""
    path = tmp_path / "reference_timings.json"
    data = {"machine": {"cpu_count": 2}, "seconds": {"workshop": {"00_tiny": 83}, "smoke": {}}}
    path.write_text(json.dumps(data))
    monkeypatch.setattr(make_handouts, "REFERENCE_TIMINGS", path)
    return path


def build(source: Path, out: Path, *extra: str) -> int:
    return make_handouts.main(["--from", str(source), "--out", str(out), "--no-pdf", *extra])


def test_html_and_index_list_every_lesson_with_labelled_times(two_lessons, tmp_path, reference):
    (two_lessons / "timings.json").write_text(
        json.dumps(
            {"profile": "workshop", "seed": 0, "cpu_count": 2, "seconds": {"01_small.ipynb": 12.4}}
        )
    )
    out = tmp_path / "handouts"
    assert build(two_lessons, out) == 0
    assert (out / "00_tiny.html").exists() and (out / "01_small.html").exists()
    index = (out / "index.html").read_text()
    assert "00 · A tiny lesson" in index and "01 · A small lesson" in index
    assert 'href="00_tiny.html"' in index and 'href="01_small.html"' in index
    rows = {
        line.split("</td>")[0]: line for line in index.splitlines() if line.startswith("<tr><td>")
    }
    tiny, small = rows["<tr><td>00 · A tiny lesson"], rows["<tr><td>01 · A small lesson"]
    # this run: only 01 was timed; reference machine: only 00 has a value
    assert "<td>not measured</td><td>1 min 23 s</td>" in tiny
    assert "<td>12 s</td><td>not measured</td>" in small
    assert "from executed/timings.json" in index and "Reference machine (2 CPUs)" in index


def test_without_timings_the_run_column_says_not_measured(two_lessons, tmp_path, reference):
    out = tmp_path / "handouts"
    assert build(two_lessons, out) == 0
    index = (out / "index.html").read_text()
    assert "has no timings.json" in index
    assert index.count("<td>not measured</td>") == 3  # 2 lessons unmeasured here, 1 reference


def test_pages_embed_every_figure_and_load_nothing_from_a_cdn(two_lessons, tmp_path):
    out = tmp_path / "handouts"
    assert build(two_lessons, out) == 0
    page = (out / "00_tiny.html").read_text()
    assert make_handouts.figures_in_html(page) == 2
    assert page.count('src="data:image/png;base64,') == 2
    assert "<script src=" not in page and "cdnjs" not in page
    assert "executed at profile workshop, seed 0" in page


def test_formulas_become_images_with_their_tex_as_alt_text(tmp_path, capsys):
    """No MathJax offline: each formula is drawn by mathtext, code spans keep their dollars."""
    nb = executed_lesson("01_small", "01 · A small lesson")
    prose = "The loss is $-\\log p_\\text{correct}$, so $$1 - p$$ and `echo $HOME` stays."
    nb.cells[0].source += "\n\n" + prose
    nb.cells.insert(1, new_markdown_cell("A formula mathtext cannot draw: $\\frac{1$."))
    source = write_lessons(tmp_path / "executed", ("01_small", nb))
    assert build(source, tmp_path / "handouts") == 0
    page = (tmp_path / "handouts" / "01_small.html").read_text()
    assert page.count('class="math"') == page.count('src="data:image/svg+xml;base64,') == 2
    assert 'alt="-\\log p_\\text{correct}"' in page and 'alt="1 - p"' in page
    assert "$-\\log" not in page and "$$1 - p$$" not in page
    assert "echo $HOME" in page
    assert make_handouts.figures_in_html(page) == 1, "formulas are not counted as figures"
    err = capsys.readouterr().err
    assert "01_small.ipynb: cell 1: mathtext cannot draw $\\frac{1$" in err
    assert "it shows as TeX source" in err


def test_the_committed_formulas_are_all_drawn():
    """Lesson 01's formulas (the only ones today) are in the TeX subset mathtext draws."""
    drawn = 0
    for path in lesson_paths():
        nb = nbt.read(path)
        assert math_images.typeset_markdown_math(nb) == [], path.name
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                drawn += cell.source.count('<img class="math"')
                # a dollar left outside code would be a formula the pattern did not recognise
                assert "$" not in math_images.CODE.sub("", cell.source), (path.name, cell.source)
    assert drawn == 5, "lesson 01 has five formulas"


# nbconvert's lab exporter gives every <img> without alt this text: no description at all.
NBCONVERT_NO_ALT = "No description has been provided for this image"


def test_every_figure_carries_its_alt_text_and_one_without_is_warned(tmp_path, capsys):
    nb = executed_lesson("00_tiny", "00 · A tiny lesson", figures=3)
    described = 'Line chart of "accuracy" <rising> & more: it rises from 50% to 90%.'
    nb.cells[2].outputs[0].metadata = {"image/png": {"alt": described}}
    nb.cells[2].outputs[2].metadata = {
        "alt": "Top-level alt text, as IPython's Image(alt=) may put it."
    }
    source = write_lessons(tmp_path / "executed", ("00_tiny", nb))
    assert build(source, tmp_path / "handouts") == 0
    page = (tmp_path / "handouts" / "00_tiny.html").read_text()
    assert make_handouts.figure_alts(page) == [
        described,
        NBCONVERT_NO_ALT,
        "Top-level alt text, as IPython's Image(alt=) may put it.",
    ]
    assert "<rising>" not in page, "the alt text must be escaped"
    assert (
        "WARNING: 00_tiny.ipynb: 1 figure(s) have no alt text (cells 2), so screen readers get no "
        "description of them." in capsys.readouterr().err
    )


def test_every_committed_lesson_figure_has_its_alt_text_in_the_handout():
    """The committed lessons' handout pages (passes once the notebooks were executed with
    plots.show): each figure's <img alt> is the alt text its output holds."""
    exporter = make_handouts.html_exporter()
    problems = []
    for handout in make_handouts.load_lessons(repo_root() / "notebooks"):
        make_handouts.render(handout, exporter)
        expected = [
            alt_text.alt_text(out)
            for cell in handout.nb.cells
            if cell.cell_type == "code"
            for out in cell.outputs
            if any(mime in out.get("data", {}) for mime in ("image/png", "image/jpeg"))
        ]
        shown = make_handouts.figure_alts(handout.html)
        assert len(shown) == len(expected) == nbt.count_images(handout.nb), handout.stem
        problems += [
            f"{handout.notebook.name}: figure {n}: alt={got!r}"
            for n, (want, got) in enumerate(zip(expected, shown, strict=True), start=1)
            if not want or got != want
        ]
    assert problems == [], "figures without their alt text in the handouts:\n" + "\n".join(problems)


def test_a_figure_the_page_would_not_show_fails_the_build(tmp_path, capsys):
    nb = executed_lesson("00_tiny", "00 · A tiny lesson")
    # text/html outranks image/png in nbconvert's display priority: the PNG would be dropped
    nb.cells[2].outputs[0].data["text/html"] = "<b>a table instead</b>"
    source = write_lessons(tmp_path / "executed", ("00_tiny", nb))
    assert build(source, tmp_path / "handouts") == 1
    err = capsys.readouterr().err
    assert "00_tiny.ipynb: the notebook has 1 figure output(s) but its HTML shows 0" in err
    assert not (tmp_path / "handouts").exists()


def test_an_error_output_fails_naming_notebook_and_cell(tmp_path, capsys):
    source = write_lessons(
        tmp_path / "executed",
        ("00_tiny", executed_lesson("00_tiny", "00 · A tiny lesson")),
        ("01_broken", executed_lesson("01_broken", "01 · Broken", error=True)),
    )
    assert build(source, tmp_path / "handouts") == 1
    captured = capsys.readouterr()
    assert "01_broken.ipynb: cell 3 has an error output (KeyError: 'mlp')" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "handouts").exists()


def test_a_notebook_never_executed_fails(tmp_path, capsys):
    source = write_lessons(
        tmp_path / "src", ("00_tiny", executed_lesson("00_tiny", "00 · Tiny", executed=False))
    )
    assert build(source, tmp_path / "handouts") == 1
    assert "00_tiny.ipynb: no code cell was ever executed" in capsys.readouterr().err


def test_an_empty_or_missing_folder_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert build(tmp_path / "empty", tmp_path / "out") == 1
    assert "holds no lesson notebook" in capsys.readouterr().err
    assert build(tmp_path / "missing", tmp_path / "out") == 1
    assert "no such folder" in capsys.readouterr().err


def test_a_previous_build_is_moved_aside_not_destroyed(two_lessons, tmp_path, capsys):
    out = tmp_path / "handouts"
    assert build(two_lessons, out) == 0
    (out / "my-notes.txt").write_text("first build")
    assert build(two_lessons, out) == 0
    (first,) = tmp_path.glob("handouts.*.prev")
    assert (first / "my-notes.txt").read_text() == "first build"
    assert f"Previous handouts kept in {first}." in capsys.readouterr().out
    (out / "my-notes.txt").write_text("second build")
    assert build(two_lessons, out) == 0
    kept = make_handouts.files.generations(out)  # oldest first
    assert [(k / "my-notes.txt").read_text() for k in kept] == ["first build", "second build"]
    assert sorted(p.name for p in tmp_path.iterdir())[:2] == ["executed", "handouts"]


def test_a_failed_build_leaves_the_previous_one_alone(two_lessons, tmp_path):
    out = tmp_path / "handouts"
    assert build(two_lessons, out) == 0
    before = sorted(p.name for p in out.iterdir())
    nbformat.write(executed_lesson("02_bad", "02 · Bad", error=True), two_lessons / "02_bad.ipynb")
    assert build(two_lessons, out) == 1
    assert sorted(p.name for p in out.iterdir()) == before
    assert not list(tmp_path.glob("handouts.*.prev"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["executed", "handouts"]


def test_notebooks_not_executed_at_workshop_get_a_warning_and_a_banner(tmp_path, capsys):
    source = write_lessons(
        tmp_path / "executed",
        ("00_tiny", executed_lesson("00_tiny", "00 · Tiny", profile="smoke")),
    )
    out = tmp_path / "handouts"
    assert build(source, out) == 0
    err = capsys.readouterr().err
    assert "WARNING: 00_tiny.ipynb was executed at profile smoke" in err
    assert "Not the workshop run" in (out / "00_tiny.html").read_text()
    assert "smoke, seed 0" in (out / "index.html").read_text()
    assert "not executed at the workshop profile" in (out / "index.html").read_text()


def test_papermill_outputs_are_recognised_by_their_injected_parameters(tmp_path, capsys):
    nb = executed_lesson("00_tiny", "00 · Tiny")
    nb.cells[1].outputs = []  # no header line: only papermill's cell tells the profile
    injected = new_code_cell('# Parameters\nPROFILE = "smoke"\nSEED = 3\n', execution_count=1)
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(1, injected)
    nb.metadata["papermill"] = {"parameters": {"PROFILE": "smoke", "SEED": 3}}
    source = write_lessons(tmp_path / "executed", ("00_tiny", nb))
    assert build(source, tmp_path / "handouts") == 0
    assert "profile smoke (found from papermill's injected parameters)" in capsys.readouterr().err
    assert "smoke, seed 3" in (tmp_path / "handouts" / "index.html").read_text()


def test_without_chromium_html_is_built_and_the_way_to_pdfs_is_printed(
    two_lessons, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(make_handouts, "find_chromium", lambda: None)
    out = tmp_path / "handouts"
    assert make_handouts.main(["--from", str(two_lessons), "--out", str(out)]) == 0
    assert "sudo apt-get install chromium" in capsys.readouterr().out
    assert not list(out.glob("*.pdf"))
    assert ".pdf" not in (out / "index.html").read_text()


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "not measured"),
        ("?", "not measured"),
        (7.4, "7 s"),
        (59.6, "1 min 00 s"),
        (125, "2 min 05 s"),
    ],
)
def test_format_seconds(seconds, shown):
    assert make_handouts.format_seconds(seconds) == shown


def test_a_tiny_or_fake_pdf_is_rejected(tmp_path):
    fake = tmp_path / "x.pdf"
    fake.write_bytes(b"%PDF-1.4\n" + b"0" * 100)
    with pytest.raises(make_handouts.BuildError, match="not a usable PDF"):
        make_handouts.check_pdf(fake)
    with pytest.raises(make_handouts.BuildError, match="wrote no PDF"):
        make_handouts.check_pdf(tmp_path / "missing.pdf")


@pytest.mark.browser
def test_pdfs_are_printed_with_chromium(two_lessons, tmp_path):
    if make_handouts.find_chromium() is None:
        pytest.skip("Chromium not installed (sudo apt-get install chromium): PDFs are not built")
    out = tmp_path / "handouts"
    assert make_handouts.main(["--from", str(two_lessons), "--out", str(out)]) == 0
    for stem in ("00_tiny", "01_small"):
        make_handouts.check_pdf(out / f"{stem}.pdf")
    assert 'href="00_tiny.pdf"' in (out / "index.html").read_text()
