"""What every lesson notebook does at its start and its end, in two calls.

``lesson = start_lesson("01_underfitting", globals())`` checks the papermill parameters (names
and types), seeds everything and resolves the profile; ``lesson.finish()`` prints the results
table and the lesson's claims, saves them as JSON beside the executed notebook, and asserts the
claims at the ``workshop`` profile (at ``full`` those its own evidence calibrates; a claim that
fails there without calibration is listed as a finding).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from coursetools import evidence, rules
from coursetools.files import ensure_writable, write_keeping_previous
from coursetools.parameters import check_parameters
from coursetools.paths import run_dir
from coursetools.profiles import get_profile, lesson_config
from helpers._version import __version__
from helpers.data import MnistData, load_mnist
from helpers.plots import RunColors
from helpers.prep import Split, stratified_subset, to_images, train_val_split
from helpers.reproducibility import set_seed, software_versions
from helpers.results import Claim, format_table, runs_table, save_json
from helpers.training import RunRecord, evaluate_on_test, train

PROSE_PROFILE = "workshop"  # the profile of the committed outputs, which the prose describes


def check_version(expected: str) -> None:
    """Fail with a fix-it message when the installed helpers is not version ``expected``.x."""
    if not (__version__ == expected or __version__.startswith(expected + ".")):
        raise RuntimeError(
            f"These notebooks were written for helpers {expected}.x but helpers {__version__} "
            "is installed. From the course folder run `make setup` (or `pip install -e .`), "
            "then restart the kernel."
        )


class Lesson:
    """One execution of a lesson: its settings, data, runs, claims and output folder."""

    def __init__(
        self, name: str, profile: str = "workshop", seed: int = 0, data_source: str | None = None
    ):
        self.name = name
        self.profile = get_profile(profile)
        self.seed = seed
        self.cfg = lesson_config(name, profile)
        self.data_source = data_source
        self.data: MnistData | None = None
        self.runs: dict[str, RunRecord] = {}
        self.claims: list[Claim] = []
        self.colors = RunColors()
        self.extra: dict[str, Any] = {}
        self._tested: set[str] = set()
        set_seed(seed)

    @property
    def output_dir(self) -> Path:
        """Where this run's results and models go (under ``build/``), created if needed."""
        return ensure_writable(run_dir(self.profile.name, self.seed), before_work=False)

    def header(self) -> str:
        return (
            f"Lesson {self.name} · profile {self.profile.name} ({self.profile.description}) · "
            f"seed {self.seed} · helpers {__version__}"
        )

    # ------------------------------------------------------------------ data
    def load_data(self) -> MnistData:
        """Load MNIST from ``DATA_SOURCE`` or the profile's default source; print its card."""
        source = self.data_source or self.profile.default_source
        self.data = load_mnist(source)
        print(self.data.card())
        return self.data

    def split(
        self, train_size: int | None = None, val_fraction: float = 0.2, scale: bool = True
    ) -> Split:
        """Stratified train/validation split of the training data (seeded by ``SEED``), as
        images ready for the models; ``train_size`` keeps a stratified subset of the training
        part (the validation part stays the same size)."""
        if self.data is None:
            self.load_data()
        assert self.data is not None
        s = train_val_split(self.data.x_train, self.data.y_train, val_fraction, self.seed)
        x_tr, y_tr = s.x_train, s.y_train
        if train_size is not None and train_size != len(y_tr):
            if train_size > len(y_tr):
                raise ValueError(
                    f"train_size {train_size} is more than the {len(y_tr)} "
                    "training examples left after the validation split."
                )
            x_tr, y_tr = stratified_subset(x_tr, y_tr, train_size, self.seed)
        return Split(to_images(x_tr, scale), y_tr, to_images(s.x_val, scale), s.y_val)

    # ------------------------------------------------------------------ runs
    def train(self, name: str, build: Callable[[], Any], split: Split, **kwargs) -> RunRecord:
        """Seed, build a fresh model with ``build()``, train it (see
        :func:`helpers.training.train`) and keep the run under ``name``."""
        set_seed(self.seed)
        self.colors.color(name)
        run = train(build(), split, name=name, **kwargs)
        self.runs[name] = run
        return run

    def evaluate_test(self, run: RunRecord) -> float:
        """Accuracy of ``run`` on the test split — once per model, after all choices."""
        if self.data is None:
            raise ValueError("load_data() first.")
        if run.name in self._tested:
            raise ValueError(
                f"{run.name!r} was already evaluated on the test split; the test "
                "split is used once per model."
            )
        self._tested.add(run.name)
        return evaluate_on_test(run, to_images(self.data.x_test), self.data.y_test)

    def table(self, names: list[str] | None = None) -> pd.DataFrame:
        """The runs (all, or ``names`` in that order) as a table."""
        names = list(self.runs) if names is None else names
        return runs_table(self.runs[n] for n in names)

    def show(self, names: list[str] | None = None) -> None:
        """Print :meth:`table` with percentages."""
        print(format_table(self.table(names)))

    def save_model(self, run: RunRecord) -> Path:
        """Save ``run``'s model as ``<lesson>.keras`` beside the results; an earlier file is
        kept as a time-stamped ``*.prev.keras`` generation (see :mod:`coursetools.files`)."""
        path = self.output_dir / f"{self.name}.keras"
        write_keeping_previous(path, run.model.save)
        return path

    # ------------------------------------------------------------------ claims
    def claim(
        self,
        key: str,
        statement: str,
        rule: str,
        *,
        full: tuple[str, str] | None = None,
        **measured: Any,
    ) -> None:
        """Record a claim of the lesson: the numbers it is judged on and whether they satisfy
        ``rule``, a Python expression over those numbers' names (e.g. ``"gap >= 0.04"``; see
        :func:`coursetools.rules.judge`). The verdict follows from the recorded numbers alone,
        so it can be recomputed from the evidence, and a test can break the numbers and see the
        claim fail. Returns nothing, so a cell that ends with a claim prints nothing.

        ``full`` is the ``(statement, rule)`` the full profile asserts instead, where 60,000
        digits move a number past what the workshop's threshold (calibrated on 4,000) says;
        its threshold is calibrated on the committed full-profile seeds (``evidence/full/``).
        """
        if full is not None:
            if not (
                isinstance(full, tuple) and len(full) == 2 and all(isinstance(s, str) for s in full)
            ):
                raise TypeError(
                    f"claim {key!r}: full must be a (statement, rule) pair of strings, got {full!r}"
                )
            if self.profile.name == "full":
                statement, rule = full
        if not isinstance(rule, str):
            raise TypeError(
                f"claim {key!r}: the rule must be a string expression over the measured values "
                f'(e.g. "gap >= 0.04"), got {type(rule).__name__}'
            )
        c = Claim(key, statement, rules.judge(rule, measured), measured, rule)
        self.claims = [old for old in self.claims if old.key != key] + [c]

    def show_evidence(self, key: str) -> None:
        """Print claim ``key``'s values (or extra number ``key``'s) over the committed seeds at
        this profile, for prose that quotes a seed range: it is then printed right above it."""
        print("\n".join(evidence.claim_lines(self.profile.name, self.name, key)))

    def show_range(
        self, ref: str, *, minus: str | None = None, unit: str = "", digits: int = 1
    ) -> None:
        """Print one recorded number's range over the committed workshop seeds, in the units
        the prose quotes it in, so the prose's seed range is printed right above it. The prose
        describes the workshop profile, so this prints its evidence whatever this run's profile.

        ``ref`` (and ``minus``, subtracted seed by seed) is ``"<claim key>.<measured name>"``,
        ``"extra.<name>"`` or ``"run.<run name>.<field>"``; ``unit`` is ``"%"`` or
        ``" points"`` for fractions shown × 100, ``" million"``, or ``""``; each end is rounded
        to ``digits`` decimals.
        """
        if unit not in evidence.UNIT_SCALE:
            raise ValueError(f"unit must be one of {tuple(evidence.UNIT_SCALE)}; got {unit!r}")
        values = evidence.seed_values(PROSE_PROFILE, self.name, ref, minus)
        print(evidence.range_line(ref, values, unit=unit, digits=digits, minus=minus))

    def show_data_sizes(self, also: tuple[str, ...] = ()) -> None:
        """Print every claim of this lesson at both data sizes from the committed evidence: the
        workshop's 4,000 digits and the official 60,000 (full profile), with the numbers behind
        each claim whose verdict changes and each claim named in ``also``. Nothing is trained,
        whatever this run's profile."""
        print("\n".join(evidence.data_size_lines(self.name, also)))

    def show_verdicts(self, run_name: str) -> None:
        """Print the diagnosis verdict of one run at each committed workshop seed, so the
        prose's "on some seeds it is called ..." is printed right above it."""
        verdicts = evidence.seed_verdicts(PROSE_PROFILE, self.name, run_name)
        print(evidence.verdict_line(run_name, verdicts))

    def finish(self) -> pd.DataFrame:
        """Print the results table and claims, save them as JSON, and assert the claims: all of
        them at the workshop profile; at full, those that held at every committed full-profile
        seed (on the official data); at smoke none."""
        table = self.table()
        print(format_table(table))
        print()
        for c in self.claims:
            print(c.line())
        ranges = evidence.report_lines(self.name, self.profile.name, self.seed, self.claims)
        if ranges:
            print("\n" + "\n".join(ranges))
        src = self.data
        payload = {
            "lesson": self.name,
            "profile": self.profile.name,
            "seed": self.seed,
            "settings": dict(self.cfg),
            "data": None
            if src is None
            else {
                "source": src.source,
                "description": src.description,
                "location": src.location,
                "verified": src.verified,
                "n_train": len(src.y_train),
                "n_test": len(src.y_test),
                "notes": list(src.notes),
            },
            "versions": software_versions(),
            "runs": [r.to_dict() for r in self.runs.values()],
            "claims": [c.__dict__ for c in self.claims],
            "extra": self.extra,
        }
        path = self.output_dir / f"{self.name}.json"
        backup = save_json(path, payload)
        print(
            f"\nResults saved to build/…/{path.parent.name}/{path.name}"
            + (f" (the previous results kept as {backup.name})" if backup else "")
        )
        failed = [c for c in self.claims if not c.holds]
        if self.profile.assert_claims:
            assert not failed, "Claims that did not hold:\n" + "\n".join(c.line() for c in failed)
            print(f"All {len(self.claims)} claims hold at the {self.profile.name} profile.")
        elif self.profile.name == "full" and src is not None:
            self._finish_full(failed, src)
        else:
            print(
                f"{self.profile.name} profile: claims are reported, not asserted "
                f"({len(self.claims) - len(failed)}/{len(self.claims)} hold)."
            )
        return table

    def _finish_full(self, failed: list[Claim], src: MnistData) -> None:
        """At full, assert the claims that held at every committed full-profile seed (the
        profile's own calibration), on the official data only; list the others that fail as
        findings."""
        official = src.verified and src.source != "embedded"
        calibrated, seeds = evidence.held_at_every_seed(self.profile.name, self.name)
        asserted = calibrated if official else frozenset()
        held = len(self.claims) - len(failed)
        if asserted:
            print(
                f"full profile: {held}/{len(self.claims)} claims hold; asserted are the "
                f"{sum(c.key in asserted for c in self.claims)} that held at every committed "
                f"full-profile seed (evidence/full/{self.name}/, seeds "
                f"{evidence.seed_span(seeds)})."
            )
        else:
            if not official:
                why = "the data is not the verified official MNIST"
            elif len(seeds) < 2:
                why = "fewer than two full-profile seeds are committed"
            else:
                why = "no claim held at every committed full-profile seed"
            print(
                f"full profile: claims are reported, not asserted ({held}/{len(self.claims)} "
                f"hold; {why})."
            )
        regressed = [c for c in failed if c.key in asserted]
        findings = [c for c in failed if c.key not in asserted]
        if findings:
            print(
                f"\nFindings: on this data ({len(src.y_train):,} training digits; each run "
                "above says how many it used) these claims do not hold, and none of them held "
                "at every committed full-profile seed either. They are measurements, not errors:"
            )
            for c in findings:
                print(f"  - {c.key}: {c.statement}")
        assert not regressed, (
            f"Claims that held at every committed full-profile seed ({evidence.seed_span(seeds)}) "
            "did not hold in this run (another seed, a changed lesson, other software or another "
            "kind of CPU; `make evidence PROFILE=full` re-records the evidence):\n"
            + "\n".join(c.line() for c in regressed)
        )


def start_lesson(name: str, namespace: Mapping[str, Any]) -> Lesson:
    """Validate the parameters in ``namespace`` (pass ``globals()``), seed, and start ``name``."""
    params = check_parameters(namespace)
    lesson = Lesson(name, params["PROFILE"], params["SEED"], params["DATA_SOURCE"])
    ensure_writable(run_dir(lesson.profile.name, lesson.seed))  # now, not after the training
    print(lesson.header())
    return lesson
