"""Profiles (``smoke`` / ``workshop`` / ``full``) resolved into each lesson's sizes and epochs.

- ``smoke``: seconds per notebook; plumbing only, claims printed but not asserted.
- ``workshop``: the default and the committed outputs; the embedded offline data, every claim
  asserted, about a minute per notebook on a 2-core CPU.
- ``full``: the official MNIST (60,000 training digits, downloaded once); a claim whose workshop
  threshold 60,000 digits move past has its own full-profile version (``lesson.claim(...,
  full=...)``); the claims that held at every committed full-profile seed (``evidence/full/``)
  are asserted, and any other that does not hold is printed as a finding.

The full settings are not the workshop's scaled up. One epoch of 48,000 digits is 375 steps of
128, as many as 15 workshop epochs, so the full profile trains for fewer epochs and still takes
several times as many optimizer steps; sweeps keep their smallest points and drop the middle.

Each lesson's settings live in :data:`LESSON_SETTINGS`: the workshop's, and what the other
profiles change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    default_source: str
    assert_claims: bool
    description: str


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", "embedded", False, "seconds per notebook; plumbing only"),
    "workshop": Profile(
        "workshop", "embedded", True, "embedded offline data, claims asserted, ~1 min/notebook"
    ),
    # full asserts what its own evidence shows holding at every committed seed (on the official
    # data), by its own thresholds where it has them; the others' failures are findings
    "full": Profile(
        "full",
        "auto",
        False,
        "official 60,000-digit MNIST; claims its evidence calibrates asserted, others findings",
    ),
}

# Per lesson: the workshop settings (the committed outputs and the calibrated claims are
# workshop runs), then what smoke and full change. An override names only keys the workshop
# has (tests check it), so every profile of a lesson has the same keys.
# train_size None = all of the training part left after the validation split.
LESSON_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "00_data_and_baseline": {
        "workshop": {"train_size": None, "epochs": 10},
        "smoke": {"train_size": 1000, "epochs": 2},
        "full": {"epochs": 3},
    },
    "01_underfitting": {
        "workshop": {
            "train_size": None,
            "epochs": 15,
            "few_epochs": 1,
            "more_epochs": 5,
            "max_epochs": 100,
            "patience": 10,
        },
        "smoke": {
            "train_size": 1000,
            "epochs": 2,
            "more_epochs": 2,
            "max_epochs": 3,
            "patience": 2,
        },
        "full": {"epochs": 3, "more_epochs": 2, "max_epochs": 30, "patience": 3},
    },
    "02_overfitting": {
        # sizes: the MLP size sweep (the largest = train_size's run is reused); small_size must
        # be one of sizes (the CNN and the exercises train on it); halvings: selection demo.
        "workshop": {
            "train_size": None,
            "epochs": 40,
            "sizes": [250, 500, 1000, 2000, 3200],
            "small_size": 500,
            "cnn_epochs": 30,
            "halvings": 500,
        },
        "smoke": {
            "train_size": 1000,
            "epochs": 2,
            "sizes": [250, 500, 1000],
            "small_size": 250,
            "cnn_epochs": 2,
            "halvings": 50,
        },
        "full": {
            "epochs": 15,
            "sizes": [500, 2000, 8000, 24000, 48000],
            "small_size": 2000,
            "cnn_epochs": 15,
        },
    },
    "03_augmentation": {
        # epochs[i] goes with sizes[i]; overaug_size must be one of sizes
        "workshop": {
            "sizes": [100, 1000, 3200],
            "epochs": [60, 20, 8],
            "batch_size": 32,
            "overaug_size": 1000,
        },
        "smoke": {"sizes": [100, 200], "epochs": [2, 1], "overaug_size": 200},
        "full": {"sizes": [500, 4000, 48000], "epochs": [30, 10, 2], "overaug_size": 4000},
    },
    "04_tuning": {
        "workshop": {
            "train_size": None,
            "epochs": 8,
            "lrs": [1e-05, 0.0001, 0.001, 0.01, 0.1, 1.0],
            "batch_sizes": [16, 64, 256, 1024],
            "optimizers": ["sgd", "momentum", "rmsprop", "adam", "adamw"],
            "repeat_seeds": 3,
            "tuner_trials": 4,
            "tuner_epochs": 5,
            "cv_folds": 3,
            "cv_epochs": 5,
            "cv_widths": [32, 128],
            "partitions": 500,
        },
        "smoke": {
            "train_size": 1000,
            "epochs": 2,
            "lrs": [0.001, 1.0],
            "batch_sizes": [1024],
            "optimizers": ["sgd", "adam"],
            "repeat_seeds": 1,
            "tuner_trials": 1,
            "tuner_epochs": 1,
            "cv_folds": 2,
            "cv_epochs": 2,
            "cv_widths": [32],
            "partitions": 20,
        },
        "full": {"epochs": 2, "tuner_epochs": 2, "cv_epochs": 2},
    },
    "05_initialization": {
        "workshop": {
            "train_size": None,
            "epochs": 15,
            "depth": 8,
            "width": 128,
            "stats_batch": 512,
            "high_lr": 0.03,
            "bad_bias": -0.5,
        },
        "smoke": {"train_size": 1000, "epochs": 2, "depth": 3, "stats_batch": 256},
        "full": {"epochs": 3},
    },
    "06_regularization": {
        # one MLP (hidden) on one small training set; dropout_rates: hidden-layer dropout runs
        # (the last is the "main" one); weight_decay is AdamW's (shrink per step = lr × wd, so
        # it scales with the number of steps: 1000 digits × 40 epochs = 320 steps);
        # input_dropout + the last dropout rate = the combination.
        "workshop": {
            "train_size": 1000,
            "epochs": 40,
            "hidden": [256, 256],
            "dropout_rates": [0.2, 0.5],
            "l2": 0.001,
            "weight_decay": 3.0,
            "patience": 5,
            "input_dropout": 0.2,
        },
        "smoke": {"train_size": 500, "epochs": 3, "patience": 1},
        "full": {"train_size": 5000, "weight_decay": 0.6},
    },
    "07_capstone": {
        "workshop": {
            "train_size": None,
            "epochs": 30,
            "learning_rate": 0.003,
            "dropout": 0.25,
            "patience": 10,
            "rotation": 10,
            "translation": 0.1,
            "zoom": 0.1,
            "augment": True,  # the capstone's own models; exercise 2 always compares both
            "members": 2,
            "retrain_on_all": True,
            "exercise_size": 1000,
            "exercise_epochs": 15,
        },
        "smoke": {
            "train_size": 1000,
            "epochs": 2,
            "patience": 2,
            "exercise_size": 300,
            "exercise_epochs": 1,
        },
        "full": {
            "epochs": 8,
            "patience": 3,
            # no augmentation in the capstone's models: with 48,000 digits lesson 03 measures
            # no gain from it, and on the validation split the models without it scored level
            # with the lighter setting below in about 0.8x the training time (chosen there;
            # see evidence/README.md). Exercise 2's augmented run uses the lighter setting.
            "augment": False,
            "rotation": 5,
            "translation": 0.08,
            "zoom": 0.05,
            "retrain_on_all": False,
            "exercise_size": 2000,
            "exercise_epochs": 10,
        },
    },
    "08_class_imbalance": {
        "workshop": {
            "train_size": None,
            "epochs": 15,
            "rare_classes": [3, 8],
            "keep_fraction": 0.05,
        },
        "smoke": {"train_size": 1000, "epochs": 2},
        "full": {"epochs": 4},
    },
}


class LessonConfig(Mapping):
    """A lesson's settings at one profile; read them as ``cfg.epochs`` or ``cfg["epochs"]``."""

    def __init__(self, lesson: str, profile: Profile, values: Mapping[str, Any]):
        self.lesson = lesson
        self.profile = profile
        self._values = MappingProxyType(dict(values))

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(
                f"Lesson {self.lesson!r} has no setting {key!r}; it has {', '.join(self._values)}."
            ) from None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"LessonConfig({self.lesson}, profile={self.profile.name}: {items})"


def get_profile(name: str) -> Profile:
    """The :class:`Profile` called ``name``; a clear error for anything else."""
    if not isinstance(name, str):
        raise TypeError(
            f"PROFILE must be a string, one of {', '.join(PROFILES)}; got {name!r} "
            f"({type(name).__name__})."
        )
    if name not in PROFILES:
        raise ValueError(f"Unknown profile {name!r}. Choose one of: {', '.join(PROFILES)}.")
    return PROFILES[name]


def lesson_config(lesson: str, profile: str) -> LessonConfig:
    """Settings of ``lesson`` (e.g. ``"01_underfitting"``) at ``profile``."""
    prof = get_profile(profile)
    if lesson not in LESSON_SETTINGS:
        raise ValueError(f"Unknown lesson {lesson!r}. Lessons: {', '.join(LESSON_SETTINGS)}.")
    settings = LESSON_SETTINGS[lesson]
    return LessonConfig(lesson, prof, {**settings["workshop"], **settings.get(prof.name, {})})
