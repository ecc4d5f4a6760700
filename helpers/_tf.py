"""Import TensorFlow and Keras once, quietly, without turning oneDNN's speed-ups off.

TensorFlow prints an informational oneDNN line on stderr at import time that no log level
hides. It would end up in every committed notebook, so the import runs with file descriptor 2
pointed at a temporary file; if the import fails, what it printed is re-emitted with the error.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

# Level 3: op determinism makes TF 2.21 log a harmless C++ "NodeDef mentions attribute"
# line at ERROR level on every fit. Real failures still raise Python exceptions; set
# TF_CPP_MIN_LOG_LEVEL=0 before importing helpers to see the C++ logs again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX-512 or newer. On an
# AVX2-only CPU (many laptops, the CI machines) its fallback kernels trained the capstone CNN
# about 1.3x slower here, and their different float rounding broke lesson 05's symmetric
# start that oneDNN keeps (make bench: "levers"). On, the course computes the same numbers on
# both kinds of CPU. Set TF_ENABLE_ONEDNN_OPTS=0 before importing helpers to compare.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


@contextlib.contextmanager
def _stderr_to_tempfile():
    # Always file descriptor 2, where TensorFlow's C++ code writes. (In a Jupyter kernel
    # sys.stderr is ipykernel's stream, whose fileno() is not fd 2.)
    fd = 2
    try:
        sys.stderr.flush()
        os.fstat(fd)
    except (AttributeError, OSError, ValueError):  # no fd 2 at all (some embedded consoles)
        yield None
        return
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            yield tmp
        except BaseException:
            os.dup2(saved, fd)
            tmp.seek(0)
            sys.stderr.write(tmp.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, fd)
            os.close(saved)


with _stderr_to_tempfile():
    import keras  # noqa: E402
    import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel("ERROR")
try:
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
except ImportError:  # pragma: no cover - absl ships with TensorFlow
    pass

__all__ = ["tf", "keras"]
