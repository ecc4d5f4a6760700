"""Notebook-file utilities shared by the handouts, student copies and output tools (no kernel).

Reads lesson notebooks with nbformat and answers questions about them: which profile executed
them, the lesson title, whether every code cell ran without an error, which top-level names a
cell defines and uses, and how to move a previous output aside instead of overwriting it.
"""

from __future__ import annotations

import ast
import re
import symtable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursetools.paths import lesson_notebooks

SOLUTION_TAG = "solution"
INJECTED_TAG = "injected-parameters"
IMAGE_MIMES = ("image/png", "image/svg+xml", "image/jpeg")
# start_lesson prints e.g. "Lesson 00_data_and_baseline · profile workshop (...) · seed 0 · ..."
HEADER = re.compile(r"Lesson (?P<lesson>\S+) · profile (?P<profile>\w+)\b.*? · seed (?P<seed>\d+)")
TITLE = re.compile(r"^#\s+(?P<title>\d\d\s*·\s*.+?)\s*$", re.M)
# Metadata that papermill, nbclient and JupyterLab add while running: never part of a source.
NOTEBOOK_RUN_KEYS = ("papermill", "widgets", "execution")
CELL_RUN_KEYS = ("execution", "papermill", "collapsed", "scrolled")


class NotebookProblem(Exception):
    """A notebook cannot be used as it is; the message names the notebook, cell and the fix."""


def read(path: Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat 4, with a clear error for a file that is not one."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for broken JSON / schema
        raise NotebookProblem(f"{path}: not a readable notebook ({exc})") from exc


def read_lessons(
    source: Path, hint: str, error: type[Exception] = NotebookProblem
) -> tuple[list[tuple[Path, nbformat.NotebookNode]], list[str]]:
    """Every lesson notebook in ``source``, read, and one line per notebook that could not be.

    Raises ``error`` (the caller's own error class) for a missing folder or one without a
    lesson notebook; ``hint`` (what to pass instead) ends that message.
    """
    if not source.is_dir():
        raise error(f"--from {source}: no such folder. {hint}")
    paths = lesson_notebooks(source)
    if not paths:
        raise error(f"{source} holds no lesson notebook (NN_name.ipynb). {hint}")
    lessons, problems = [], []
    for path in paths:
        try:
            lessons.append((path, read(path)))
        except NotebookProblem as exc:
            problems.append(str(exc))
    return lessons, problems


def tags(cell: nbformat.NotebookNode) -> list[str]:
    """The cell's tags (an empty list when it has none)."""
    return list(cell.get("metadata", {}).get("tags", []))


def is_solution(cell: nbformat.NotebookNode) -> bool:
    """A code cell tagged ``solution`` (the worked answer to the exercise above it)."""
    return cell.cell_type == "code" and SOLUTION_TAG in tags(cell)


def lesson_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first ``# NN · Title`` heading of a markdown cell, else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = TITLE.search(cell.source)
            if match:
                return match.group("title")
    return fallback


def stream_text(cell: nbformat.NotebookNode) -> str:
    """All text a code cell printed (stdout and stderr streams and text/plain results)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


@dataclass(frozen=True)
class ExecutionInfo:
    """Which profile and seed a notebook was executed with, and how that was found out."""

    profile: str | None
    seed: int | None
    evidence: str

    @property
    def is_workshop(self) -> bool:
        return self.profile == "workshop"


def _injected_value(source: str, name: str) -> object | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return None
    return None


def execution_info(nb: nbformat.NotebookNode) -> ExecutionInfo:
    """Profile and seed from the header line ``start_lesson`` printed, else from papermill's
    ``injected-parameters`` cell; ``profile`` is None when neither says."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            match = HEADER.search(stream_text(cell))
            if match:
                return ExecutionInfo(
                    match.group("profile"), int(match.group("seed")), "the lesson's header line"
                )
    for cell in nb.cells:
        if cell.cell_type == "code" and INJECTED_TAG in tags(cell):
            profile = _injected_value(cell.source, "PROFILE")
            seed = _injected_value(cell.source, "SEED")
            return ExecutionInfo(
                profile if isinstance(profile, str) else None,
                seed if isinstance(seed, int) else None,
                "papermill's injected parameters",
            )
    return ExecutionInfo(None, None, "nothing (no header line, no injected parameters)")


def execution_problems(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """Why ``nb`` is not a clean executed notebook: error outputs (naming the cell) or no code
    cell ever executed. Cell numbers count every cell from 0, as JupyterLab's order shows."""
    problems = []
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    for i, cell in code:
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(
                    f"{name}: cell {i} has an error output ({out.get('ename', '?')}: "
                    f"{out.get('evalue', '')}). Fix the lesson and execute it again."
                )
    never_run = [i for i, c in code if c.get("execution_count") is None and not c.get("outputs")]
    if code and len(never_run) == len(code):
        problems.append(
            f"{name}: no code cell was ever executed (cells {never_run[0]}..{never_run[-1]} have "
            "no execution count and no outputs). Execute it first (make lessons, or "
            "make outputs NB=...) and build from the executed copy."
        )
    elif never_run:
        problems.append(
            f"{name}: cell {never_run[0]} (and {len(never_run) - 1} more) never ran: no execution "
            "count and no outputs. Execute the whole notebook top to bottom and build again."
        )
    return problems


def count_images(nb: nbformat.NotebookNode) -> int:
    """How many figure outputs (PNG, SVG or JPEG) the notebook's code cells hold."""
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if any(mime in out.get("data", {}) for mime in IMAGE_MIMES)
    )


def clean_run_metadata(nb: nbformat.NotebookNode) -> None:
    """Drop papermill / execution / widget metadata from the notebook and its cells."""
    for key in NOTEBOOK_RUN_KEYS:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in CELL_RUN_KEYS:
            cell.metadata.pop(key, None)
        if cell.metadata.get("tags") == []:  # papermill gives every cell an empty list
            del cell.metadata["tags"]


# ----------------------------------------------------------------------------- names
def _python_source(source: str) -> str:
    """Cell source with IPython magics turned into plain Python, so ``ast`` can read it."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _global_references(table: symtable.SymbolTable) -> set[str]:
    names = set()
    for child in table.get_children():
        for sym in child.get_symbols():
            if sym.is_global() and sym.is_referenced():
                names.add(sym.get_name())
        names |= _global_references(child)
    return names


def names_in_cell(source: str) -> tuple[set[str], set[str]]:
    """(names the cell binds at module level, module-level names it reads), found statically.

    Reads inside functions, classes and comprehensions count when they refer to a global.
    Raises SyntaxError for a cell that is not valid Python.
    """
    table = symtable.symtable(_python_source(source), "<cell>", "exec")
    bound, used = set(), set()
    for sym in table.get_symbols():
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            bound.add(sym.get_name())
        if sym.is_referenced():
            used.add(sym.get_name())
    return bound, used | _global_references(table)


def items_in_cell(source: str) -> tuple[set[str], set[str]]:
    """(subscripts the cell assigns, subscripts it reads) as source text, e.g.
    ``lesson.extra['gap']``: results a cell stores for a later one under a key."""
    stored, read = set(), set()
    for node in ast.walk(ast.parse(_python_source(source))):
        if isinstance(node, ast.Subscript):
            text = ast.unparse(node)
            (stored if isinstance(node.ctx, ast.Store) else read).add(text)
    return stored, read


@dataclass(frozen=True)
class SolutionLeak:
    """A later non-solution cell reads a name, or a subscript such as ``lesson.extra['x']``,
    that only a solution cell sets: without the solution it fails there."""

    name: str
    solution_cell: int
    used_in_cell: int
    kind: str = "name"  # "name" (NameError) or "item" (KeyError)

    def describe(self, notebook: str) -> str:
        error = "NameError" if self.kind == "name" else "KeyError"
        return (
            f"{notebook}: cell {self.used_in_cell} uses {self.name!r}, which only the solution "
            f"in cell {self.solution_cell} sets; the student copy would fail there with "
            f"{error}. Set it outside the solution (or stop using it) in the lesson."
        )


def solution_leaks(nb: nbformat.NotebookNode) -> list[SolutionLeak]:
    """Names and subscripts set only by ``solution`` cells and read by a later non-solution
    cell, found statically (subscripts are compared as source text).

    Anything set by an earlier non-solution cell, or by the reading cell itself, is fine;
    cells that are not valid Python are skipped.
    """
    outside: dict[str, set[str]] = {"name": set(), "item": set()}
    from_solution: dict[str, dict[str, int]] = {"name": {}, "item": {}}
    leaks = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            found = {"name": names_in_cell(cell.source), "item": items_in_cell(cell.source)}
        except SyntaxError:
            continue
        for kind, (bound, used) in found.items():
            if is_solution(cell):
                for name in bound - outside[kind]:
                    from_solution[kind].setdefault(name, i)
                continue
            for name in sorted((used - bound - outside[kind]) & from_solution[kind].keys()):
                leaks.append(SolutionLeak(name, from_solution[kind][name], i, kind))
            outside[kind] |= bound
    return leaks


def _meaningful(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def distinctive_solution_lines(nb: nbformat.NotebookNode) -> dict[str, int]:
    """Stripped lines of solution cells that occur in no other cell (blank and comment-only
    lines ignored), each with the index of the solution cell it comes from. If one of them
    shows up in a student copy, the solution leaked."""
    outside = {
        line.strip()
        for cell in nb.cells
        if not is_solution(cell)
        for line in cell.source.splitlines()
    }
    lines: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        if is_solution(cell):
            for line in cell.source.splitlines():
                if _meaningful(line) and line.strip() not in outside:
                    lines.setdefault(line.strip(), i)
    return lines


def leaked_solution_lines(
    original: nbformat.NotebookNode, copy: nbformat.NotebookNode
) -> list[str]:
    """Distinctive solution lines of ``original`` found anywhere in ``copy`` (cell sources and
    any outputs' text)."""
    present = set()
    for cell in copy.cells:
        present.update(line.strip() for line in cell.source.splitlines())
        present.update(line.strip() for line in stream_text(cell).splitlines())
    return sorted(line for line in distinctive_solution_lines(original) if line in present)
