"""TeX formulas in markdown cells as SVG images, for pages that load no MathJax.

The handouts are read offline and printed to PDF, so they run no script from the internet;
without MathJax a formula such as ``$-\\log p_\\text{correct}$`` would show as TeX source.
matplotlib's mathtext (already a course dependency) draws the TeX subset the lessons use; the
TeX source becomes the image's alternative text.
"""

from __future__ import annotations

import base64
import html
import io
import re

import nbformat

# Fenced code blocks and inline code spans are left alone: a `$` there is code, not math.
CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]+`)", re.S)
MATH = re.compile(
    r"(?<![\\$])\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^$\n]+?)\$(?!\$)", re.S
)
FONT_SIZE = 12  # points, about the handouts' body text


class MathProblem(ValueError):
    """A formula that mathtext cannot draw; the message names it."""


def svg_data_uri(tex: str) -> str:
    """The formula ``tex`` (without dollar signs) drawn by mathtext, as a ``data:`` URI."""
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buffer = io.BytesIO()
    try:
        mathtext.math_to_image(
            f"${tex}$", buffer, prop=FontProperties(size=FONT_SIZE), format="svg"
        )
    except ValueError as exc:
        raise MathProblem(f"mathtext cannot draw ${tex}$: {exc}".splitlines()[0]) from exc
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def math_img(tex: str, display: bool = False) -> str:
    """An ``<img>`` tag showing ``tex``, with the TeX source as its alt text."""
    style = "display:block;margin:0.5em auto" if display else "vertical-align:middle"
    return (
        f'<img class="math" src="{svg_data_uri(tex)}" alt="{html.escape(tex.strip())}" '
        f'style="{style}">'
    )


def replace_math(markdown: str) -> str:
    """``markdown`` with every ``$…$`` and ``$$…$$`` outside code replaced by an image."""

    def formula(match: re.Match) -> str:
        display = match.group("display")
        return math_img(display if display is not None else match.group("inline"), bool(display))

    parts = CODE.split(markdown)
    return "".join(part if i % 2 else MATH.sub(formula, part) for i, part in enumerate(parts))


def typeset_markdown_math(nb: nbformat.NotebookNode) -> list[str]:
    """Replace the formulas of ``nb``'s markdown cells by images, in place; return one line per
    formula that could not be drawn (that cell is left as it was)."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or "$" not in cell.source:
            continue
        try:
            cell.source = replace_math(cell.source)
        except MathProblem as exc:
            problems.append(f"cell {i}: {exc}; it shows as TeX source")
    return problems
