"""End to end: the course website in headless Chromium, opened from disk with the network cut.

Builds the site of the committed notebooks once (a few seconds, no kernel), opens
``index.html`` as a ``file://`` URL the way a learner opens it from a USB stick, and aborts
(and records) every request that is not for a local file. Searches through the search box and
finds the lesson, checks that a lesson's figures decode and that lesson 01's math is typeset by
the local MathJax, then that nothing tried to leave the machine. Screenshots under
``<build>/site-e2e/``. Skips, saying why, only when Chromium is missing or cannot start.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2e_support import headless_chromium

from coursetools import nbtools as nbt
from coursetools import site as course_site
from coursetools.paths import build_dir, repo_root

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:myst_parser.*"),
]

SEARCH_TERM = "McNemar"
SEARCH_FINDS = "04 · Tuning without fooling yourself"  # the lesson with McNemar's test
FIGURES_LESSON = "03_augmentation"
MATH_LESSON = "01_underfitting"  # the only lesson with $...$ math
# Schemes that never leave the machine: MathJax 2 probes web-font support with an
# about:blank font, and pages may embed data: images.
LOCAL_SCHEMES = ("file:", "about:", "data:", "blob:")


@dataclass
class Traffic:
    """What the pages asked for beyond local files: ``aborted`` by the route, ``seen`` by the
    context's request event (which also sees requests a route might not, a service worker's,
    say); and every local file that failed to load (a broken relative link)."""

    aborted: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site of the committed notebooks, built once for this module."""
    out = tmp_path_factory.mktemp("site-e2e") / "site"
    course_site.build_site(repo_root() / "notebooks", out)
    return out


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Headless Debian Chromium through Playwright; skip only if it is missing or won't start."""
    yield from headless_chromium()


@pytest.fixture
def offline(chromium) -> Iterator[tuple[object, Traffic]]:
    """A page in a fresh browser context whose network is cut: every request that is not for
    a local file is aborted and recorded."""
    traffic = Traffic()
    context = chromium.new_context(viewport={"width": 1300, "height": 1000})

    def only_local(route) -> None:
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            traffic.aborted.append(url)
            route.abort()

    def on_request(request) -> None:
        if not request.url.startswith(LOCAL_SCHEMES):
            traffic.seen.append(request.url)

    def on_failed(request) -> None:
        if request.url.startswith("file:"):
            traffic.failed_local.append(f"{request.url} ({request.failure})")

    context.route("**/*", only_local)
    context.on("request", on_request)
    context.on("requestfailed", on_failed)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page, traffic
    finally:
        context.close()


def test_search_finds_the_lesson_offline(offline, site):
    from playwright.sync_api import expect

    page, traffic = offline
    page.goto((site / "index.html").as_uri())
    expect(page.locator("h1")).to_contain_text("Why is my MNIST model wrong?")
    with _screenshot_on_failure(page, "search-failure"):
        page.locator("button.search-button-field:visible").first.click()
        box = page.locator("#pst-search-dialog input[name=q]")
        expect(box).to_be_visible()
        box.fill(SEARCH_TERM)
        box.press("Enter")
        page.wait_for_url("**/search.html?q=*")
        results = page.locator("#search-results li a")
        expect(results.first).to_be_visible()
        expect(page.locator("#search-results")).to_contain_text("Search finished")
        titles = results.all_inner_texts()
        assert SEARCH_FINDS in titles, f"searching {SEARCH_TERM!r} found {titles}"
    shot = _screenshot(page, "search")
    page.locator("#search-results li a", has_text=SEARCH_FINDS).first.click()
    page.wait_for_url("**/lessons/04_tuning.html*")
    expect(page.locator("h1").first).to_contain_text(SEARCH_FINDS)
    _assert_stayed_on_the_machine(traffic)
    assert shot.stat().st_size > 10_000


def test_lesson_figures_render_from_disk(offline, site):
    page, traffic = offline
    page.goto((site / "lessons" / f"{FIGURES_LESSON}.html").as_uri(), wait_until="load")
    expected = nbt.count_images(nbt.read(site / "notebooks" / f"{FIGURES_LESSON}.ipynb"))
    figures = page.locator("article.bd-article img")
    assert figures.count() == expected
    sizes = figures.evaluate_all("imgs => imgs.map(i => [i.complete, i.naturalWidth])")
    assert all(done and width > 0 for done, width in sizes), f"undecoded figures: {sizes}"
    figures.first.scroll_into_view_if_needed()
    _screenshot(page, "figures")
    _assert_stayed_on_the_machine(traffic)


def test_math_is_typeset_by_the_local_mathjax(offline, site):
    page, traffic = offline
    page.goto((site / "lessons" / f"{MATH_LESSON}.html").as_uri())
    spans = page.locator("span.math.notranslate, div.math.notranslate")
    assert spans.count() > 0, f"{MATH_LESSON} has no math to typeset"
    # MathJax 2 replaces each \( \) with a .MathJax element once its queue is empty.
    page.wait_for_function(
        "() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0"
        " && document.querySelectorAll('.MathJax, .MathJax_Display').length > 0"
    )
    version = page.evaluate("MathJax.version")
    assert version.startswith("2.7"), version
    typeset = page.locator(".MathJax, .MathJax_Display")
    assert typeset.count() == spans.count()
    assert page.locator(".MathJax_Error, merror").count() == 0
    fonts = page.evaluate(
        "Array.from(document.fonts).filter(f => f.family.startsWith('STIX')).map(f => f.status)"
    )
    assert "loaded" in fonts, f"MathJax's STIX web fonts did not load from disk: {fonts}"
    typeset.first.scroll_into_view_if_needed()
    _screenshot(page, "math")
    _assert_stayed_on_the_machine(traffic)


def test_the_network_cut_records_what_a_page_tries_to_fetch(offline):
    """The checks above mean something only if an off-machine request would be caught."""
    page, traffic = offline
    page.set_content('<img src="https://cdn.example.invalid/figure.png">')
    page.wait_for_load_state("load")
    assert traffic.aborted == traffic.seen == ["https://cdn.example.invalid/figure.png"]


# ----------------------------------------------------------------------------- helpers
def _assert_stayed_on_the_machine(traffic: Traffic) -> None:
    assert traffic.aborted == [], f"requests off the machine (aborted): {traffic.aborted}"
    assert traffic.seen == [], f"requests off the machine: {traffic.seen}"
    assert traffic.failed_local == [], f"local files that failed to load: {traffic.failed_local}"


def _screenshot(page, name: str) -> Path:
    """Viewport screenshot at ``<build>/site-e2e/<name>.png``."""
    path = build_dir() / "site-e2e" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path


@contextlib.contextmanager
def _screenshot_on_failure(page, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # evidence of the failure; never hide the error
            print(f"screenshot of the failure: {_screenshot(page, name)}")
        raise
