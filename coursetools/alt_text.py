"""Alternative text of the lessons' figures: where it is stored, how it is checked, and how the
course website gets it (a Sphinx extension, listed in ``site/conf.py``).

A lesson shows a figure with ``helpers.plots.show(fig, alt="...")``, which stores the text in
the output's metadata as ``{"image/png": {"alt": "..."}}`` — the key IPython's
``Image(alt=...)`` writes and nbconvert's classic template reads. From there:

- the handouts: :data:`coursetools.handouts.TEMPLATE` writes it into ``<img alt="...">``;
- the website: myst-nb 1.4 takes an image's alt text only from *cell* metadata (one text for
  every figure of a cell) and ignores the output's, so :func:`setup` connects a ``doctree-read``
  hook that gives each image node the alt text of the output it was made from, found by the
  file name myst-nb writes it under (the SHA-256 of the image's bytes).

:func:`figures_without_alt` and :func:`show_calls_without_alt` name every figure output and
every ``plt.show()`` call that would leave a figure without alt text (the tests run them on the
committed lessons).
"""

from __future__ import annotations

import ast
import hashlib
import os
from binascii import a2b_base64
from pathlib import Path
from typing import Any

import nbformat

from coursetools import nbtools as nbt

ALT = "alt"
# Bare pyplot display calls: they show every open figure with no alt text.
PYPLOT_SHOW = {"plt.show", "pyplot.show", "matplotlib.pyplot.show"}
COURSE_SHOW = {"plots.show", "helpers.plots.show"}
FIX = 'show it with plots.show(fig, alt="what it shows") instead'


def _figure_mime(output: nbformat.NotebookNode) -> str | None:
    data = output.get("data", {})
    return next((mime for mime in nbt.IMAGE_MIMES if mime in data), None)


def alt_text(output: nbformat.NotebookNode) -> str | None:
    """The alt text of a figure output (the figure's own metadata first, then the output's, as
    nbconvert's ``get_metadata`` resolves it); None if it is no figure or has no text."""
    mime = _figure_mime(output)
    if mime is None:
        return None
    metadata = output.get("metadata") or {}
    text = (metadata.get(mime) or {}).get(ALT) or metadata.get(ALT)
    return (text.strip() or None) if isinstance(text, str) else None


def figures_without_alt(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """One line per figure output of ``nb`` without alt text, naming notebook and cell (cells
    count from 0, as :func:`coursetools.nbtools.execution_problems` does)."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        figures = [out for out in cell.get("outputs", []) if _figure_mime(out)]
        missing = [n for n, out in enumerate(figures, start=1) if alt_text(out) is None]
        if missing:
            which = "its figure" if len(figures) == 1 else f"figure(s) {missing} of {len(figures)}"
            problems.append(
                f"{name}: cell {i}: {which} has no alt text; show it with plots.show(fig, "
                'alt="what it shows") and execute the notebook again.'
            )
    return problems


def missing_alt_warning(nb: nbformat.NotebookNode, name: str) -> str | None:
    """One sentence for a build's warnings when figures of ``nb`` have no alt text, else None."""
    cells = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if _figure_mime(out) and alt_text(out) is None
    ]
    if not cells:
        return None
    where = ", ".join(str(i) for i in dict.fromkeys(cells))
    return (
        f"{name}: {len(cells)} figure(s) have no alt text (cells {where}), so screen readers get "
        "no description of them. Show each with plots.show(fig, alt=...) and execute the "
        "lesson again."
    )


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _call_problem(call: ast.Call) -> str | None:
    name = _dotted(call.func)
    if name in PYPLOT_SHOW:
        return f"calls {name}(), which shows the figure without alt text"
    if name in COURSE_SHOW:
        alt = next((k.value for k in call.keywords if k.arg == ALT), None)
        if alt is None and not any(k.arg is None for k in call.keywords):  # no alt=, no **kw
            return f"calls {name}() without alt="
        if isinstance(alt, ast.Constant) and not (isinstance(alt.value, str) and alt.value.strip()):
            return f"calls {name}() with an empty alt"
    return None


def show_calls_without_alt(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """One line per code cell of ``nb`` that shows a figure with ``plt.show()`` or calls
    ``plots.show`` without alt text, naming notebook and cell (found in the source, so a new
    figure cannot slip in before the notebook is executed)."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        try:
            tree = ast.parse(nbt._python_source(cell.source))
        except SyntaxError:  # the execution tests report it; still look for plt.show(
            found = [f"calls {n}()" for n in sorted(PYPLOT_SHOW) if f"{n}(" in cell.source][:1]
        else:
            calls = (node for node in ast.walk(tree) if isinstance(node, ast.Call))
            found = [problem for problem in map(_call_problem, calls) if problem]
        for problem in dict.fromkeys(found):
            problems.append(f"{name}: cell {i} {problem}; {FIX}.")
    return problems


# ----------------------------------------------------------------------------- the website
def figure_digest(mime: str, content: Any) -> str:
    """The SHA-256 that myst-nb 1.4 names a figure's file by (``render_image``): of the decoded
    bytes for base64 images, of the text with os.linesep line ends for SVG."""
    if isinstance(content, list):
        content = "".join(content)
    if mime == "image/svg+xml":
        data = os.linesep.join(str(content).splitlines()).encode("utf-8")
    else:
        data = a2b_base64(content)
    return hashlib.sha256(data).hexdigest()


def alt_by_digest(nb: nbformat.NotebookNode) -> dict[str, list[str]]:
    """The alt texts of the figure outputs of ``nb`` that have one, in notebook order, by
    :func:`figure_digest` (identical figures share a file, so a digest may have several)."""
    found: dict[str, list[str]] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            mime, text = _figure_mime(out), alt_text(out)
            if mime and text:
                found.setdefault(figure_digest(mime, out["data"][mime]), []).append(text)
    return found


def add_alt_to_figures(app, doctree) -> None:
    """Sphinx ``doctree-read``: give each image of a notebook page the alt text its output has
    (identical figures theirs in page order). An image whose output has none keeps what myst-nb
    gave it (Sphinx then writes its file name as the alt text)."""
    from docutils import nodes

    source = Path(str(app.env.doc2path(app.env.docname)))
    if source.suffix != ".ipynb":
        return
    alts = alt_by_digest(nbformat.read(source, as_version=4))
    for image in doctree.findall(nodes.image):
        texts = alts.get(Path(image.get("uri", "")).stem)
        if texts and not image.get(ALT):
            image[ALT] = texts.pop(0) if len(texts) > 1 else texts[0]


def setup(app) -> dict[str, Any]:
    """Sphinx extension entry point (``extensions = [..., "coursetools.alt_text"]``)."""
    app.connect("doctree-read", add_alt_to_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
