"""Alternative text of the lessons' figures, and their colour-blind-safe palette.

``helpers.plots.show(fig, alt=...)`` puts the text in the figure's output (checked here in
process, and in a real kernel against what ``plt.show()`` gives); ``coursetools.alt_text``
finds figures and ``plt.show()`` calls without it. The last two tests run on the committed
lessons: ``test_every_committed_figure_has_alt_text`` reads their *outputs*, so it passes once
the notebooks have been executed with ``plots.show``. The handouts and the website render the
text into ``<img alt>`` (tests in test_handouts.py and test_site.py).
"""

from __future__ import annotations

import types

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402

from coursetools import alt_text  # noqa: E402
from coursetools import nbtools as nbt  # noqa: E402
from coursetools.paths import lesson_notebooks, repo_root  # noqa: E402
from helpers import overfitting, plots  # noqa: E402

NOTEBOOKS = lesson_notebooks()
ALT = "Line chart of accuracy (y axis) against epoch (x axis): the curve rises to 90%."


def run(name: str, epochs: int = 2) -> types.SimpleNamespace:
    acc, val = [0.5, 0.7, 0.8][:epochs], [0.4, 0.6, 0.65][:epochs]
    loss, val_loss = [1.0, 0.5, 0.25][:epochs], [1.1, 0.7, 0.75][:epochs]
    return types.SimpleNamespace(
        name=name,
        history={"accuracy": acc, "val_accuracy": val, "loss": loss, "val_loss": val_loss},
    )


def figure(title: str = "Accuracy") -> plt.Figure:
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1, 2], [0.5, 0.8, 0.9])
    ax.set_title(title)
    return fig


@pytest.fixture
def displayed(monkeypatch) -> list:
    """What plots.show hands to IPython's display(), instead of displaying it."""
    calls: list = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: calls.append((objs, kw)))
    return calls


# ----------------------------------------------------------------------------- plots.show
def test_show_displays_the_figure_with_its_alt_text_and_closes_it(displayed):
    fig = figure()
    plots.show(fig, alt=f"  {ALT}\n")
    assert displayed == [((fig,), {"metadata": {"image/png": {"alt": ALT}}})]
    assert not plt.fignum_exists(fig.number), "the notebook would show the figure a second time"


@pytest.mark.parametrize(
    ("alt", "message"),
    [
        (None, 'plots.show needs alt="...": a sentence or two saying what the figure shows'),
        ("", 'plots.show needs alt="..."'),
        (" \n ", 'plots.show needs alt="..."'),
        ("Accuracy.", "alt only repeats the figure's title ('Accuracy.')"),
    ],
)
def test_show_refuses_a_missing_empty_or_title_only_alt(displayed, alt, message):
    fig = figure()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plots.show(fig, alt=alt)
    with pytest.raises(ValueError, match="plots.show needs alt="):
        plots.show(fig)  # no alt at all
    assert displayed == []
    assert not plt.fignum_exists(fig.number), "shown at the end of the cell without alt text"


def test_show_needs_a_figure(displayed):
    fig = figure()
    with pytest.raises(TypeError, match="needs a matplotlib Figure, got Axes"):
        plots.show(fig.axes[0], alt=ALT)
    plt.close(fig)


KERNEL_CELLS = [
    # helpers/plots.py loaded from its file: the helpers package would start TensorFlow
    "import importlib.util\n"
    "import matplotlib.pyplot as plt\n"
    f"spec = importlib.util.spec_from_file_location('plots', {str(repo_root() / 'helpers' / 'plots.py')!r})\n"  # noqa: E501
    "plots = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(plots)\n"
    "def figure():\n"
    "    fig, ax = plt.subplots(figsize=(3, 2))\n"
    "    ax.plot([0, 1, 4], label='a')\n"
    "    ax.set(title='A title', xlabel='x', ylabel='y')\n"
    "    return fig",
    "fig = figure()\nplt.show()",
    f"fig = figure()\nplots.show(fig, alt={ALT!r})",
    "print('nothing else was shown')",
    "plots.show(figure(), alt='')",
]


def test_in_a_kernel_show_gives_what_plt_show_gives_plus_the_alt_text(tmp_path):
    """The committed outputs are compared by nbval: the text of a figure must not change."""
    from nbclient import NotebookClient

    nb = new_notebook(cells=[new_code_cell(source) for source in KERNEL_CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # as coursetools.notebooks does
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    assert [o.output_type for o in nb.cells[0].outputs] == []
    (with_plt,) = nb.cells[1].outputs
    (with_alt,) = nb.cells[2].outputs
    assert with_plt.output_type == with_alt.output_type == "display_data"
    assert set(with_plt.data) == set(with_alt.data) == {"image/png", "text/plain"}
    assert with_alt.data["text/plain"] == with_plt.data["text/plain"]
    assert with_alt.data["text/plain"] == "<Figure size 300x200 with 1 Axes>"
    assert with_alt.data["image/png"] == with_plt.data["image/png"], "a different PNG"
    assert with_plt.metadata == {}
    assert with_alt.metadata == {"image/png": {"alt": ALT}}
    assert [o.get("text") for o in nb.cells[3].outputs] == ["nothing else was shown\n"]
    (error,) = nb.cells[4].outputs  # the refused figure is not shown either
    assert error.output_type == "error" and error.ename == "ValueError"
    assert 'plots.show needs alt="..."' in error.evalue


# ----------------------------------------------------------------------------- describe_curves
def test_describe_curves_says_what_is_plotted_and_where_each_run_ends():
    text = plots.describe_curves([run("MLP, raw 0-255"), run("cnn")])
    assert text == (
        "Line chart of accuracy (y axis) against epoch (x axis): training and validation curves "
        "for “MLP, raw 0-255” and cnn. Where the curves end, after 2 epochs: “MLP, raw 0-255” "
        "training curve 70.0%, validation curve 60.0%; cnn training curve 70.0%, validation "
        "curve 60.0%."
    )
    loss = plots.describe_curves([run("a", epochs=3), run("b")], "loss")
    assert loss.startswith("Line chart of loss (y axis, log scale) against epoch (x axis)")
    assert (
        "Where the curves end: a training curve 0.25, validation curve 0.75 after 3 epochs; "
        "b training curve 0.5"
    ) in loss
    with pytest.raises(ValueError, match="metric must be"):
        plots.describe_curves([run("a")], "f1")
    with pytest.raises(ValueError, match="at least one run"):
        plots.describe_curves([])


# ----------------------------------------------------------------------------- palette
def test_runs_get_colour_blind_safe_colours_and_line_styles_tell_train_from_validation():
    palette = sns.color_palette("colorblind", 10)
    assert plots.PALETTE == "colorblind"
    assert plt.rcParams["axes.prop_cycle"].by_key()["color"] == palette.as_hex()
    colors = plots.RunColors()
    assert [colors.color(name) for name in ("a", "b", "a")] == [palette[0], palette[1], palette[0]]
    for metric in ("accuracy", "loss"):  # two plots of a lesson: one colour per run in both
        fig = plots.learning_curves([run("a"), run("b")], metric, colors)
        styles = {
            line.get_label(): (line.get_color(), line.get_linestyle()) for line in fig.axes[0].lines
        }
        assert styles == {
            "a (train)": (palette[0], "-"),
            "a (validation)": (palette[0], "--"),
            "b (train)": (palette[1], "-"),
            "b (validation)": (palette[1], "--"),
        }
        plt.close(fig)
    table = overfitting.pd.DataFrame(
        {"n_train": [250, 500], "train_acc": [1.0, 1.0], "val_acc": [0.8, 0.9], "gap": [0.2, 0.1]}
    )
    fig = overfitting.plot_gap_vs_size(table)
    left = {line.get_label(): line.get_linestyle() for line in fig.axes[0].lines}
    assert left == {"training": "-", "validation": "--"}
    plt.close(fig)


# ----------------------------------------------------------------------------- checks
def figure_output(alt: str | None = None, top_level: bool = False) -> nbformat.NotebookNode:
    out = new_output(
        "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 200x150>"}
    )
    if alt is not None:
        out.metadata = {"alt": alt} if top_level else {"image/png": {"alt": alt}}
    return out


def test_alt_text_is_read_from_the_output_metadata_as_nbconvert_reads_it():
    assert alt_text.alt_text(figure_output(ALT)) == ALT
    assert alt_text.alt_text(figure_output(ALT, top_level=True)) == ALT
    assert alt_text.alt_text(figure_output("  ")) is None
    assert alt_text.alt_text(figure_output()) is None
    assert alt_text.alt_text(new_output("stream", name="stdout", text="x")) is None


def test_figures_and_show_calls_without_alt_text_are_named_by_notebook_and_cell():
    cells = [
        new_markdown_cell("# 09 · Tiny"),
        new_code_cell("plt.plot([1]); plt.show()", outputs=[figure_output()]),
        new_code_cell(f"plots.show(fig, alt={ALT!r})", outputs=[figure_output(ALT)]),
        new_code_cell("plots.show(fig)\nplots.show(fig, alt='')"),
        new_code_cell("%matplotlib inline\nplots.show(fig, alt=f'{x} rises.', **{})"),
        new_code_cell("plt.show(", outputs=[figure_output(ALT), figure_output()]),
    ]
    nb = new_notebook(cells=cells)
    assert alt_text.show_calls_without_alt(nb, "09_tiny.ipynb") == [
        "09_tiny.ipynb: cell 1 calls plt.show(), which shows the figure without alt text; show "
        'it with plots.show(fig, alt="what it shows") instead.',
        "09_tiny.ipynb: cell 3 calls plots.show() without alt=; show it with "
        'plots.show(fig, alt="what it shows") instead.',
        "09_tiny.ipynb: cell 3 calls plots.show() with an empty alt; show it with "
        'plots.show(fig, alt="what it shows") instead.',
        "09_tiny.ipynb: cell 5 calls plt.show(); show it with "
        'plots.show(fig, alt="what it shows") instead.',
    ]
    assert alt_text.figures_without_alt(nb, "09_tiny.ipynb") == [
        "09_tiny.ipynb: cell 1: its figure has no alt text; show it with plots.show(fig, "
        'alt="what it shows") and execute the notebook again.',
        "09_tiny.ipynb: cell 5: figure(s) [2] of 2 has no alt text; show it with plots.show(fig, "
        'alt="what it shows") and execute the notebook again.',
    ]
    warning = alt_text.missing_alt_warning(nb, "09_tiny.ipynb")
    assert warning is not None and warning.startswith(
        "09_tiny.ipynb: 2 figure(s) have no alt text (cells 1, 5)"
    )
    assert alt_text.missing_alt_warning(new_notebook(cells=cells[:1] + cells[2:3]), "x") is None


# ----------------------------------------------------------------------------- the lessons
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_lesson_shows_a_figure_without_alt_text(path):
    """From the sources: a new figure cannot slip in, executed or not."""
    problems = alt_text.show_calls_without_alt(nbformat.read(path, as_version=4), path.name)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_committed_figure_has_alt_text(path):
    """From the committed outputs: what the handouts and the website render."""
    nb = nbformat.read(path, as_version=4)
    assert nbt.count_images(nb) > 0, f"{path.name} shows no figure: was it executed?"
    problems = alt_text.figures_without_alt(nb, path.name)
    assert problems == [], (
        "\n".join(problems) + f"\nRe-execute the lesson with its plots.show calls (make outputs "
        f"NB=notebooks/{path.name}) and commit its outputs."
    )
