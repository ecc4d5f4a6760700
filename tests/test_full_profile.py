"""The full profile without the network.

``coursetools/run_lessons.py --profile full`` — what ``make lessons PROFILE=full`` runs — executes a
lesson end to end on the official MNIST in ``../shared/data/mnist`` (for development and CI;
the test skips, saying so, where that folder is absent), loaded through ``MNIST_PATH`` and
verified by content. A small file in the Keras ``mnist.npz`` layout (real digits from the
embedded set) shows that a file that is not MNIST is refused unless the check is bypassed
with ``MNIST_SKIP_CHECKSUM=1``, and that the data card then says so.

The lesson is 08_class_imbalance: its full settings take the whole training part and it is
the cheapest lesson at full (about a minute and a half on a 2-core machine).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from pathlib import Path
from types import ModuleType

import nbformat
import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from coursetools.paths import repo_root
from coursetools.profiles import LESSON_SETTINGS, lesson_config
from helpers.data import IDX_CONTENT_SHA256, ContentMismatch, idx_bytes, load_mnist
from helpers.lesson import Lesson
from helpers.results import load_json

pytestmark = pytest.mark.notebooks

LESSON = "08_class_imbalance"
FIXTURE_TRAIN, FIXTURE_TEST = 2500, 500  # not the embedded 4,000/1,000: a fallback would show
OFFICIAL_TRAIN = 60_000  # digits in the official MNIST training split
SHARED_MNIST = repo_root().parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="module")
def mnist_npz(tmp_path_factory) -> Path:
    """A stratified 2,500/500 sample of the embedded digits saved like Keras's mnist.npz."""
    data = load_mnist("embedded", verify=True)
    x_tr, _, y_tr, _ = train_test_split(
        data.x_train, data.y_train, train_size=FIXTURE_TRAIN, stratify=data.y_train, random_state=0
    )
    x_te, _, y_te, _ = train_test_split(
        data.x_test, data.y_test, train_size=FIXTURE_TEST, stratify=data.y_test, random_state=0
    )
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez(
        path,
        x_train=x_tr.astype(np.uint8),
        y_train=y_tr.astype(np.uint8),
        x_test=x_te.astype(np.uint8),
        y_test=y_te.astype(np.uint8),
    )
    return path


@pytest.fixture
def full_env(mnist_npz, tmp_path, monkeypatch) -> Path:
    """MNIST_PATH at the fixture, checksum check bypassed, an empty Keras cache."""
    monkeypatch.setenv("MNIST_PATH", str(mnist_npz))
    monkeypatch.setenv("MNIST_SKIP_CHECKSUM", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    # run_lessons.main sets COURSE_OUTPUT_DIR itself; setting it here first makes monkeypatch
    # restore the test process's value afterwards.
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "unused"))
    return tmp_path


def _run_lessons_script() -> ModuleType:
    return importlib.import_module("coursetools.run_lessons")


def _stdout(notebook: nbformat.NotebookNode) -> str:
    return "".join(
        o.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("name") == "stdout"
    )


def test_fixture_without_the_bypass_fails_the_checksum(mnist_npz, monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_PATH", str(mnist_npz))
    monkeypatch.delenv("MNIST_SKIP_CHECKSUM", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(ContentMismatch) as info:
        load_mnist("auto")
    message = str(info.value)
    with np.load(mnist_npz) as npz:
        actual = hashlib.sha256(idx_bytes(npz["x_train"])).hexdigest()
    assert str(mnist_npz) in message and "x_train" in message
    expected = IDX_CONTENT_SHA256["train-images-idx3-ubyte"]
    assert f"sha256 of its content is {actual}, expected {expected}" in message


def test_fixture_with_the_bypass_loads_unverified(full_env, mnist_npz):
    data = load_mnist("auto")
    assert (data.source, data.location, data.verified) == ("npz", str(mnist_npz), False)
    assert (len(data.y_train), len(data.y_test)) == (FIXTURE_TRAIN, FIXTURE_TEST)
    assert data.notes == ()  # MNIST_PATH is explicit: no fallback to the embedded set
    assert "NOT verified" in data.card()


def test_full_sizes_fit_the_official_training_part():
    """Every size a lesson's full settings ask for fits the official 60,000 training digits
    minus the validation part that Lesson.split carves off."""
    val_fraction = inspect.signature(Lesson.split).parameters["val_fraction"].default
    available = int(OFFICIAL_TRAIN * (1 - val_fraction))
    too_big = {}
    for lesson in LESSON_SETTINGS:
        for key, value in lesson_config(lesson, "full").items():
            if key.endswith("_size") and "batch" not in key:
                sizes = [value]
            elif key == "sizes":
                sizes = list(value)
            else:
                continue
            too_big.update({f"{lesson}.{key}": s for s in sizes if s is not None and s > available})
    assert not too_big, f"full-profile sizes above the {available} training digits: {too_big}"


@pytest.mark.skipif(
    not SHARED_MNIST.is_dir(),
    reason=f"no official MNIST at {SHARED_MNIST} (development and CI copy); the full-profile "
    "run is tried where it is present",
)
def test_make_lessons_profile_full_runs_a_lesson_on_the_official_mnist(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MNIST_PATH", str(SHARED_MNIST))
    monkeypatch.delenv("MNIST_SKIP_CHECKSUM", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "unused"))  # restored afterwards
    out = tmp_path / "lessons"
    code = _run_lessons_script().main(
        ["--profile", "full", "--only", LESSON[:2], "--out", str(out)]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.out + printed.err
    assert f"{LESSON}.ipynb" in printed.out and "ok" in printed.out

    results = load_json(out / f"{LESSON}.json")
    assert (results["lesson"], results["profile"], results["seed"]) == (LESSON, "full", 0)
    assert results["settings"] == json.loads(json.dumps(dict(lesson_config(LESSON, "full"))))
    data = results["data"]
    assert (data["source"], data["verified"], data["notes"]) == ("idx", True, [])
    assert (data["n_train"], data["n_test"]) == (OFFICIAL_TRAIN, 10_000)
    assert all(r["n_train"] > 30_000 for r in results["runs"])  # not a small subset
    assert all(isinstance(c["holds"], bool) and c["measured"] for c in results["claims"])

    notebook = nbformat.read(out / f"{LESSON}.ipynb", as_version=4)
    printed_by_kernel = _stdout(notebook)
    assert "checksum     : verified: decoded content (sha256)" in printed_by_kernel
    assert "epoch   1/" in printed_by_kernel  # long epochs print progress
    last_code = [c for c in notebook.cells if c.cell_type == "code"][-1]
    last = "".join(o.get("text", "") for o in last_code.get("outputs", []))
    assert "that held at every committed full-profile seed" in last  # asserted from evidence

    timings = json.loads((out / "timings.json").read_text())
    assert timings["profile"] == "full" and list(timings["seconds"]) == [f"{LESSON}.ipynb"]
