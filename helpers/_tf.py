"""Import TensorFlow and Keras once, quietly, without turning oneDNN's speed-ups off, and
without tf.data's autotuning thread in Keras's input pipeline for arrays (it stalled every epoch).

TensorFlow prints an informational oneDNN line on stderr at import time that no log level
hides. It would end up in every committed notebook, so the import runs with file descriptor 2
pointed at a temporary file; if the import fails, what it printed is re-emitted with the error.
"""

from __future__ import annotations

import contextlib
import functools
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


def _without_autotune(get_tf_dataset):
    """Wrap Keras's ``ArrayDataAdapter.get_tf_dataset``: the same dataset, autotuning off."""

    @functools.wraps(get_tf_dataset)  # keeps the original as __wrapped__ (tests compare both)
    def get_tf_dataset_without_autotune(self):
        options = tf.data.Options()
        options.autotune.enabled = False
        return get_tf_dataset(self).with_options(options)

    get_tf_dataset_without_autotune.autotune_disabled = True
    return get_tf_dataset_without_autotune


def disable_array_autotune() -> bool:
    """Turn tf.data's autotuning off in the pipeline Keras builds for in-memory arrays.

    Why: with autotuning on, each iterator (one per epoch, one per validation pass) starts a
    tuning thread, and destroying the iterator waits for that thread to wake up. On a 2-core
    machine the whole process then sat idle for seconds at the end of every epoch (seen with
    gdb: the main thread in ``RootDataset::Iterator::~Iterator`` waiting on
    ``Model::OptimizeLoop``); a 48,000-digit epoch of the capstone lost about 7 s. Autotuning
    chooses only buffer sizes and parallelism, never the order of the batches, so the weights
    are the same (tests/test_models_training.py checks it). Returns False, changing nothing,
    where Keras's internals differ from the pinned version's.
    """
    try:
        from keras.src.trainers.data_adapters import array_data_adapter
    except ImportError:  # pragma: no cover - another Keras layout: leave it alone
        return False
    adapter = getattr(array_data_adapter, "ArrayDataAdapter", None)
    current = getattr(adapter, "get_tf_dataset", None)
    if current is None:  # pragma: no cover
        return False
    if not getattr(current, "autotune_disabled", False):
        adapter.get_tf_dataset = _without_autotune(current)
    return True


disable_array_autotune()

__all__ = ["tf", "keras", "disable_array_autotune"]
