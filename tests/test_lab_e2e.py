"""End to end: lesson 00 in JupyterLab, driven through the UI by headless Chromium.

Starts ``jupyter lab`` as ``make lab`` does (127.0.0.1, token on, the course kernel) on an
output-free copy of the lesson, runs its first cells with Shift+Enter until the first figure
renders, checks there is no error on the page, and saves a screenshot under
``<build>/e2e/``. Skips, saying why, only when Chromium is missing or cannot start.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from e2e_support import (
    LabServer,
    headless_chromium,
    http_status,
    keep_previous,
    start_lab,
)

from coursetools.paths import build_dir, repo_root

pytestmark = pytest.mark.browser

LESSON = "00_data_and_baseline"
KERNEL_DISPLAY_NAME = "Python 3 (MNIST course)"
DATA_CARD_TEXT = "MNIST data card"
EMBEDDED_SOURCE = "embedded"
# Lab renders a kernel's error as stderr text; a traceback printed to stderr counts too.
ERROR_OUTPUTS = (
    ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']:has-text('Traceback')"
)
FIGURE = ".jp-OutputArea-output img"
FIGURE_CALL = "plots.show("
KERNEL_START_S = 60  # the kernel, then its connection, on a busy 2-core machine
RUN_TO_FIGURE_S = 180  # TF import (~10 s), the readiness check and the first cells at smoke


def _first_figure_cell(nb: nbformat.NotebookNode) -> int:
    """Index of the first code cell that shows a figure (the course ends those with
    ``plots.show(fig, alt=...)``); found from the source, since a working copy may have no
    outputs."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and FIGURE_CALL in cell.source:
            return index
    raise AssertionError(f"{LESSON}.ipynb has no code cell calling {FIGURE_CALL}")


@pytest.fixture(scope="module")
def lesson_copy(tmp_path_factory) -> tuple[Path, int]:
    """An output-free copy of the committed lesson (Lab autosaves; the original stays
    untouched), and the index of the cell that must draw a figure when run."""
    source = repo_root() / "notebooks" / f"{LESSON}.ipynb"
    nb = nbformat.read(source, as_version=4)
    figure_cell = _first_figure_cell(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    folder = tmp_path_factory.mktemp("lab-root")
    nbformat.write(nb, folder / source.name)
    return folder / source.name, figure_cell


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Headless Debian Chromium through Playwright; skip only if it is missing or won't start."""
    yield from headless_chromium()


@pytest.fixture(scope="module")
def lab(lesson_copy, tmp_path_factory) -> Iterator[LabServer]:
    """JupyterLab serving the copy's folder, smoke profile, results written under tmp."""
    notebook, _ = lesson_copy
    home = tmp_path_factory.mktemp("lab-home")
    extra = {"COURSE_PROFILE": "smoke", "COURSE_OUTPUT_DIR": str(home / "course-output")}
    server = start_lab(notebook.parent, home, extra)
    try:
        server.wait_until_ready(timeout=60)
        yield server
    finally:
        server.stop()


def test_token_is_required(lab):
    assert http_status(lab.api("/api/contents", with_token=False)) in (401, 403)
    assert http_status(lab.api("/api/contents")) == 200


def test_lesson_runs_in_lab_and_draws_a_figure(chromium, lab, lesson_copy, capsys):
    notebook, figure_cell = lesson_copy
    page = chromium.new_page(viewport={"width": 1400, "height": 1600})
    page.set_default_timeout(30_000)
    started = time.monotonic()
    try:
        _run_to_first_figure(page, lab.api(f"/lab/tree/{notebook.name}"), figure_cell)
        _assert_saved_run(notebook, figure_cell)
    except BaseException:
        with contextlib.suppress(Exception):  # evidence of the failure; never hide the error
            print(f"screenshot of the failure: {_screenshot(page)}")
        raise
    seconds = time.monotonic() - started
    shot = _screenshot(page)
    page.close()
    with capsys.disabled():
        print(f"\nLab screenshot: {shot} ({seconds:.1f} s in the browser)")


def _run_to_first_figure(page, url: str, figure_cell: int) -> None:
    """Open the notebook, wait for the course kernel, Shift+Enter down to ``figure_cell``,
    check the figure, the data card and the absence of errors, then save with Ctrl+S."""
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded")
    panel = page.locator(".jp-NotebookPanel").first
    cells = panel.locator(".jp-Notebook .jp-Cell")
    expect(cells.first).to_be_visible(timeout=60_000)
    assert page.locator(FIGURE).count() == 0, "the copy should start without outputs"

    expect(panel.locator(".jp-Toolbar-kernelName")).to_have_text(KERNEL_DISPLAY_NAME)
    # Keys pressed before the kernel is connected only move the selection: wait for
    # "<kernel> | Idle" in the status bar (the toolbar's indicator says idle too early).
    kernel_idle = page.locator("#jp-main-statusbar", has_text=f"{KERNEL_DISPLAY_NAME} | Idle")
    expect(kernel_idle).to_have_count(1, timeout=KERNEL_START_S * 1000)
    _dismiss_dialogs(page)

    cells.first.locator(".jp-InputPrompt").click()  # the prompt: never a link in the text
    page.keyboard.press("Escape")  # command mode: Shift+Enter runs a cell and moves down
    expect(cells.first).to_have_class(re.compile(r"\bjp-mod-active\b"))
    for _ in range(figure_cell + 1):
        page.keyboard.press("Shift+Enter")

    figure = cells.nth(figure_cell).locator(FIGURE)
    try:
        expect(figure).to_be_attached(timeout=RUN_TO_FIGURE_S * 1000)
    except AssertionError as err:
        raise AssertionError(
            f"no figure in cell {figure_cell} after {RUN_TO_FIGURE_S} s; errors on the "
            f"page: {page.locator(ERROR_OUTPUTS).all_inner_texts()}"
        ) from err
    assert figure.evaluate("img => img.naturalWidth") > 100, "the figure did not render"
    expect(kernel_idle).to_have_count(1, timeout=RUN_TO_FIGURE_S * 1000)

    errors = page.locator(ERROR_OUTPUTS)
    assert errors.count() == 0, f"error output in Lab:\n{errors.first.inner_text()}"
    card = panel.locator(".jp-OutputArea-output", has_text=DATA_CARD_TEXT)
    expect(card).to_contain_text(EMBEDDED_SOURCE)

    page.keyboard.press("Control+s")  # save through the UI; the caller checks the file
    expect(page.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(0)
    card.evaluate("out => out.closest('.jp-Cell').scrollIntoView({block: 'start'})")


def _assert_saved_run(notebook: Path, figure_cell: int) -> None:
    """Every code cell up to the figure ran, without an error, and the figure is a PNG."""
    cells = nbformat.read(notebook, as_version=4).cells[: figure_cell + 1]
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"cell {index} was not run"
        for out in cell.outputs:
            assert out.output_type != "error", f"cell {index}: {out.ename}: {out.evalue}"
    assert any("image/png" in out.get("data", {}) for out in cells[figure_cell].outputs)


def _dismiss_dialogs(page) -> None:
    """Close any modal dialog or toast that would swallow the keystrokes."""
    for dialog in page.locator(".jp-Dialog").all():
        dialog.locator(".jp-Dialog-button.jp-mod-reject, .jp-Dialog-button").first.click()
    for toast in page.locator(".Toastify__toast .jp-Notification-Toast-Close").all():
        toast.click()


def _screenshot(page) -> Path:
    """Full-page screenshot at ``<build>/e2e/lab_<lesson>.png``; the last one kept as .prev."""
    path = build_dir() / "e2e" / f"lab_{LESSON}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    keep_previous(path)
    page.screenshot(path=str(path), full_page=True)
    return path
