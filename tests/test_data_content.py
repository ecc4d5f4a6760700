"""MNIST is verified by its decoded content, whatever the container.

Synthetic digits stand in for MNIST in most tests (their own content digests are patched in);
the last tests use the official files in ``../shared/data/mnist`` when that folder exists, and
re-package them every way a learner might have them.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from coursetools.paths import repo_root
from helpers import data as D

STEMS = tuple(D.IDX_CONTENT_SHA256)
SHARED_MNIST = repo_root().parent / "shared" / "data" / "mnist"


def _fake_mnist(n_train: int = 40, n_test: int = 20) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test).astype(np.uint8),
    }


@pytest.fixture
def fake(isolated_env, monkeypatch):
    """Synthetic 'official' MNIST: its content digests and the md5s of its 'original' .gz
    files are patched in, so every container of it must verify and every damage must not."""
    arrays = _fake_mnist()
    originals = {stem: gzip.compress(D.idx_bytes(a), mtime=0) for stem, a in arrays.items()}
    monkeypatch.setattr(
        D,
        "IDX_CONTENT_SHA256",
        {s: hashlib.sha256(D.idx_bytes(a)).hexdigest() for s, a in arrays.items()},
    )
    monkeypatch.setattr(
        D, "IDX_MD5", {f"{s}.gz": hashlib.md5(b).hexdigest() for s, b in originals.items()}
    )
    monkeypatch.setattr(D, "KERAS_NPZ_SHA256", "0" * 64)  # no npz takes the fast path
    return arrays, originals


def _folder(root: Path, files: dict[str, bytes], suffix: str = ".gz") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for stem, blob in files.items():
        (root / f"{stem}{suffix}").write_bytes(blob)
    return root


def _npz(path: Path, arrays: dict[str, np.ndarray], compressed=False, **dtype) -> Path:
    by_key = {key: arrays[stem] for key, stem in D.NPZ_IDX.items()}
    by_key = {k: v.astype(dtype.get(k, v.dtype)) for k, v in by_key.items()}
    (np.savez_compressed if compressed else np.savez)(path, **by_key)
    return path


def _assert_same(data: D.MnistData, arrays: dict[str, np.ndarray]) -> None:
    np.testing.assert_array_equal(data.x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.y_train, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(data.x_test, arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert data.y_train.dtype == np.int64 and data.x_train.dtype == np.uint8


# ------------------------------------------------------------------ every faithful container
def test_original_gz_files_take_the_fast_path(fake, isolated_env):
    arrays, originals = fake
    data = D.load_mnist(_folder(isolated_env / "orig", originals))
    assert data.verified and data.verification == "file checksum (md5)"
    assert "verified: file checksum (md5)" in data.card()
    _assert_same(data, arrays)


@pytest.mark.parametrize("level", [1, 9])
def test_recompressed_gz_verifies_by_content(fake, isolated_env, level):
    arrays, _ = fake
    files = {s: gzip.compress(D.idx_bytes(a), compresslevel=level) for s, a in arrays.items()}
    data = D.load_mnist(_folder(isolated_env / f"gz{level}", files))
    assert data.verified and data.verification == "decoded content (sha256)"
    _assert_same(data, arrays)


@pytest.mark.parametrize("spelling", ["dash", "dot"])
def test_raw_idx_files_verify(fake, isolated_env, spelling):
    arrays, _ = fake
    folder = isolated_env / spelling
    folder.mkdir()
    for stem, a in arrays.items():
        name = stem if spelling == "dash" else stem.replace("-idx", ".idx")
        (folder / name).write_bytes(D.idx_bytes(a))
    data = D.load_mnist(folder)
    assert data.verified and data.verification == "decoded content (sha256)"
    _assert_same(data, arrays)


def test_mixed_folder_verifies(fake, isolated_env):
    arrays, originals = fake
    folder = _folder(isolated_env / "mixed", dict(list(originals.items())[:2]))
    for stem in STEMS[2:]:
        (folder / stem).write_bytes(D.idx_bytes(arrays[stem]))
    data = D.load_mnist(folder)
    assert data.verification == "decoded content (sha256) + file checksum (md5)"


@pytest.mark.parametrize(
    "compressed, dtypes",
    [
        (False, {}),  # Keras's layout: uint8 everywhere
        (True, {"y_train": np.int64, "y_test": np.int64}),  # re-saved, wider labels
        (False, {"x_train": np.float32, "x_test": np.int32}),  # same values, other dtypes
    ],
)
def test_npz_verifies_by_its_arrays(fake, isolated_env, compressed, dtypes):
    arrays, _ = fake
    path = _npz(isolated_env / "mnist.npz", arrays, compressed, **dtypes)
    data = D.load_mnist(str(path))
    assert data.verified and data.verification == "decoded content (sha256)"
    _assert_same(data, arrays)


def test_npz_fast_path(fake, isolated_env, monkeypatch):
    arrays, _ = fake
    path = _npz(isolated_env / "mnist.npz", arrays)
    monkeypatch.setattr(D, "KERAS_NPZ_SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    assert D.load_mnist(path).verification == "file checksum (sha256)"


# ------------------------------------------------------------------ every kind of damage
def _message(exc_info) -> str:
    text = str(exc_info.value)
    # every message says how to get a good copy, and never advises deleting without a check
    assert "make data" in text or "Reinstall" in text
    assert "delete" not in text.lower() or "--verify" in text
    return text


def test_one_changed_pixel_is_caught_and_named(fake, isolated_env):
    arrays, originals = fake
    folder = _folder(isolated_env / "f", originals)
    raw = bytearray(D.idx_bytes(arrays["t10k-images-idx3-ubyte"]))
    raw[500] ^= 0x01
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(D.ContentMismatch) as info:
        D.load_mnist(folder)
    text = _message(info)
    expected = D.IDX_CONTENT_SHA256["t10k-images-idx3-ubyte"]
    assert "t10k-images-idx3-ubyte.gz" in text and f"expected {expected}" in text
    assert "--verify" in text


def test_swapped_files_fail(fake, isolated_env):
    arrays, originals = fake
    files = dict(originals)
    files["train-labels-idx1-ubyte"], files["t10k-labels-idx1-ubyte"] = (
        originals["t10k-labels-idx1-ubyte"],
        originals["train-labels-idx1-ubyte"],
    )
    with pytest.raises(D.ContentMismatch, match="train-labels-idx1-ubyte"):
        D.load_mnist(_folder(isolated_env / "sw", files))


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda b: b[: len(b) // 2], "damaged gzip file"),  # truncated download
        (lambda b: b[:40] + bytes(x ^ 0xFF for x in b[40:60]) + b[60:], "damaged gzip file"),
        (lambda b: b"\x1f\x8b" + b"\x00" * 30, "damaged gzip file"),  # header only
    ],
)
def test_damaged_gzip_is_a_data_error(fake, isolated_env, damage, expected):
    arrays, originals = fake
    folder = _folder(isolated_env / "d", originals)
    target = folder / "train-images-idx3-ubyte.gz"
    target.write_bytes(damage(target.read_bytes()))
    for verify in (True, False):  # never a raw zlib.error / EOFError, checked or not
        with pytest.raises(D.DataError, match=expected) as info:
            D.load_idx_folder(folder, verify=verify)
        assert "train-images-idx3-ubyte.gz" in _message(info)


def test_truncated_raw_idx(fake, isolated_env):
    arrays, _ = fake
    folder = isolated_env / "raw"
    folder.mkdir()
    for stem, a in arrays.items():
        (folder / stem).write_bytes(D.idx_bytes(a))
    f = folder / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(D.ContentMismatch):
        D.load_idx_folder(folder, verify=True)
    with pytest.raises(D.DataError, match="truncated: its header says"):
        D.load_idx_folder(folder, verify=False)
    f.write_bytes(b"\x00\x00")
    with pytest.raises(D.DataError, match="not an IDX file"):
        D.load_idx_folder(folder, verify=False)


def test_npz_with_a_changed_label(fake, isolated_env):
    arrays, _ = fake
    changed = dict(arrays)
    labels = arrays["train-labels-idx1-ubyte"].copy()
    labels[3] = (labels[3] + 1) % 10
    changed["train-labels-idx1-ubyte"] = labels
    with pytest.raises(D.ContentMismatch, match="y_train") as info:
        D.load_mnist(_npz(isolated_env / "m.npz", changed))
    _message(info)


def test_npz_with_values_that_are_not_bytes(fake, isolated_env):
    arrays, _ = fake
    changed = dict(arrays)
    changed["train-images-idx3-ubyte"] = arrays["train-images-idx3-ubyte"] / 255.0  # scaled
    with pytest.raises(D.ContentMismatch, match="not whole numbers 0–255"):
        D.load_mnist(_npz(isolated_env / "m.npz", changed))


@pytest.mark.parametrize("cut", [100, -50])
def test_damaged_npz_is_a_data_error(fake, isolated_env, cut):
    arrays, _ = fake
    path = _npz(isolated_env / "m.npz", arrays, compressed=True)
    blob = path.read_bytes()
    path.write_bytes(blob[:cut] if cut > 0 else blob[:200] + b"\x00" * 64 + blob[264:])
    with pytest.raises(D.DataError, match="damaged and cannot be read") as info:
        D.load_mnist(path)
    _message(info)


def test_verify_cli_changes_nothing(fake, isolated_env, capsys):
    arrays, originals = fake
    folder = _folder(isolated_env / "cli", originals)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert D.main(["--verify", str(folder)]) == 0
    assert "verified: file checksum (md5)" in capsys.readouterr().out
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" * 3))
    assert D.main(["--verify", str(folder)]) == 1
    assert "t10k-labels-idx1-ubyte.gz" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == sorted(before)


def test_verify_cli_checks_even_when_the_bypass_is_set(fake, isolated_env, monkeypatch):
    arrays, _ = fake
    changed = dict(arrays)
    changed["t10k-labels-idx1-ubyte"] = (arrays["t10k-labels-idx1-ubyte"] + 1) % 10
    path = _npz(isolated_env / "m.npz", changed)
    monkeypatch.setenv("MNIST_SKIP_CHECKSUM", "1")
    assert D.main(["--verify", str(path)]) == 1


# ------------------------------------------------------------------ the official MNIST
needs_official = pytest.mark.skipif(
    not SHARED_MNIST.is_dir(),
    reason=f"{SHARED_MNIST} (the official MNIST for development and CI) is not here",
)


@pytest.fixture(scope="module")
def official() -> dict[str, bytes]:
    """The decompressed content of the four official files."""
    return {s: gzip.decompress(D.find_idx_file(SHARED_MNIST, s).read_bytes()) for s in STEMS}


@needs_official
def test_shared_official_mnist_loads_verified(isolated_env, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(SHARED_MNIST))
    data = D.load_mnist("auto")
    assert data.source == "idx" and data.verified
    assert (len(data.y_train), len(data.y_test)) == (60_000, 10_000)
    # the shared train-images file was re-compressed: it verifies by content, the rest by md5
    assert data.verification == "decoded content (sha256) + file checksum (md5)"
    assert data.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


@needs_official
def test_official_mnist_in_every_container(isolated_env, official):
    arrays = {s: D.read_idx(SHARED_MNIST / f"{s}.gz", s)[0] for s in STEMS}
    raw = isolated_env / "raw"
    raw.mkdir()
    for stem, content in official.items():
        (raw / stem).write_bytes(content)
    assert D.load_mnist(raw).verification == "decoded content (sha256)"
    keras_like = _npz(isolated_env / "mnist.npz", arrays)
    resaved = _npz(
        isolated_env / "resaved.npz", arrays, compressed=True, y_train=np.int64, y_test=np.int64
    )
    for path in (keras_like, resaved):
        data = D.load_mnist(path)
        assert data.verified and data.verification == "decoded content (sha256)"
        assert len(data.y_train) == 60_000


@needs_official
def test_damaged_copy_of_the_official_mnist_fails(isolated_env, official):
    folder = isolated_env / "copy"
    shutil.copytree(SHARED_MNIST, folder)
    for p in folder.iterdir():
        p.chmod(0o644)
    content = bytearray(official["train-labels-idx1-ubyte"])
    content[1000] = (content[1000] + 1) % 10
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(D.ContentMismatch, match="train-labels-idx1-ubyte.gz"):
        D.load_mnist(folder)
