"""Helpers for the course "Why is my MNIST model wrong?".

Import this before TensorFlow: it quiets TensorFlow's start-up logs (keeping oneDNN on).
The notebooks use :func:`start_lesson`, ``helpers.keras`` (Keras, imported quietly) and the
small modules below:

- :mod:`helpers.data` — ``load_mnist`` (path / Keras cache / download / embedded), data card
- :mod:`helpers.prep` — scaling, shapes, stratified splits and subsets, imbalance, oversampling
- :mod:`helpers.reproducibility` — ``set_seed`` (op determinism), ``software_versions``
- :mod:`helpers.models` — linear, MLP, CNN builders; augmentation; optimizers
- :mod:`helpers.training` — ``train`` → ``RunRecord``; evaluation
- :mod:`helpers.diagnosis` — verdict from learning curves
- :mod:`helpers.plots` — learning curves, confusion matrix, digit grids, mistakes, bars
- :mod:`helpers.results` — tables and JSON results
- :mod:`helpers.lesson` — ``start_lesson`` / ``finish``: parameters, data, claims (every lesson)
- :mod:`helpers.overfitting` — loss turn-up, gap vs size, selection bias (lesson 02)
- :mod:`helpers.layer_stats` — per-layer activation/gradient statistics, dead units (lesson 05)
- :mod:`helpers.regularization` — loss gap without the L2 penalty, early-stopping replay (lesson 06)

The course's tooling (papermill runner, doctor, ledger, bench, handouts, evidence, the
profiles' settings) is the separate package :mod:`coursetools`, which never starts TensorFlow.
"""

from coursetools.parameters import ParameterError, check_parameters  # noqa: I001
from coursetools.profiles import PROFILES, lesson_config
from helpers import _tf  # noqa: F401  (before anything that imports TensorFlow: quietly)
from helpers._tf import keras  # the notebooks' Keras, imported after TensorFlow is quieted
from helpers._version import __version__
from helpers.data import DataError, MnistData, load_mnist
from helpers.diagnosis import Diagnosis, diagnose
from helpers.lesson import Lesson, check_version, start_lesson
from helpers.models import augmentation, build_cnn, build_linear, build_mlp, make_optimizer
from helpers.prep import (
    Split,
    class_weights,
    imbalanced_subset,
    oversample,
    stratified_subset,
    to_flat,
    to_images,
    train_val_split,
)
from helpers.reproducibility import set_seed, software_versions
from helpers.training import RunRecord, evaluate, predict_proba, train

__all__ = [
    "__version__",
    "keras",
    "DataError",
    "MnistData",
    "load_mnist",
    "Diagnosis",
    "diagnose",
    "Lesson",
    "ParameterError",
    "check_parameters",
    "check_version",
    "start_lesson",
    "augmentation",
    "build_cnn",
    "build_linear",
    "build_mlp",
    "make_optimizer",
    "Split",
    "class_weights",
    "imbalanced_subset",
    "oversample",
    "stratified_subset",
    "to_flat",
    "to_images",
    "train_val_split",
    "PROFILES",
    "lesson_config",
    "set_seed",
    "software_versions",
    "RunRecord",
    "evaluate",
    "predict_proba",
    "train",
]
