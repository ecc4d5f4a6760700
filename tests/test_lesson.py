"""Parameters, profiles, the Lesson object, results files and plots."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402
from coursetools import files, profiles  # noqa: E402
from coursetools.parameters import ParameterError, check_parameters  # noqa: E402
from helpers import plots, results  # noqa: E402
from helpers.lesson import Lesson, check_version  # noqa: E402

GOOD = {"PROFILE": "smoke", "SEED": 0, "DATA_SOURCE": None}


def test_parameters_accepts_the_three():
    assert check_parameters({**GOOD, "os": object(), "In": []}) == GOOD


@pytest.mark.parametrize(
    ("namespace", "message"),
    [
        ({**GOOD, "PROFLE": "full"}, "Unknown parameter 'PROFLE' \\(did you mean 'PROFILE'\\?\\)"),
        ({**GOOD, "EPOCHS": 3}, "Unknown parameter 'EPOCHS'.*takes: PROFILE"),
        ({**GOOD, "PROFILE": "fast"}, "PROFILE must be one of smoke, workshop, full; got 'fast'"),
        ({**GOOD, "SEED": "3"}, "SEED must be an int from 0 to 2147483647; got '3' \\(str\\)"),
        ({**GOOD, "SEED": True}, "SEED must be an int from 0 to"),
        ({**GOOD, "DATA_SOURCE": 5}, "DATA_SOURCE must be None or a string"),
        ({"PROFILE": "smoke"}, "SEED, DATA_SOURCE not defined"),
    ],
)
def test_parameter_errors(namespace, message):
    with pytest.raises(ParameterError, match=message):
        check_parameters(namespace)


def test_profiles_are_strict():
    with pytest.raises(ValueError, match="Unknown profile 'fulll'. Choose one of: smoke, workshop"):
        profiles.get_profile("fulll")
    with pytest.raises(TypeError, match="PROFILE must be a string"):
        profiles.get_profile(3)
    with pytest.raises(ValueError, match="Unknown lesson"):
        profiles.lesson_config("99_nope", "smoke")
    cfg = profiles.lesson_config("01_underfitting", "workshop")
    assert cfg.epochs == cfg["epochs"] and cfg.profile.assert_claims
    with pytest.raises(AttributeError, match="has no setting 'epoch'"):
        _ = cfg.epoch


def test_every_lesson_has_the_same_keys_in_every_profile():
    for lesson, by_profile in profiles.LESSON_SETTINGS.items():
        assert set(by_profile) == set(profiles.PROFILES), lesson
        keys = {p: set(profiles.lesson_config(lesson, p)) for p in profiles.PROFILES}
        assert len({frozenset(k) for k in keys.values()}) == 1, (lesson, keys)


def test_profile_overrides_name_workshop_keys_and_change_them():
    """smoke and full list only what they change: a misspelt key would otherwise become a new
    setting no lesson reads, and a repeated value hides what the profile really changes."""
    for lesson, by_profile in profiles.LESSON_SETTINGS.items():
        base = by_profile["workshop"]
        for name, overrides in by_profile.items():
            if name == "workshop":
                continue
            assert set(overrides) <= set(base), (lesson, name, set(overrides) - set(base))
            same = [k for k, v in overrides.items() if base[k] == v]
            assert not same, f"{lesson}: {name} repeats the workshop's {same}"


def test_check_version():
    check_version(helpers.__version__.rsplit(".", 1)[0])
    with pytest.raises(RuntimeError, match="make setup"):
        check_version("9.9")


def test_lesson_end_to_end_smoke(isolated_env, capsys):
    lesson = helpers.start_lesson("01_underfitting", dict(GOOD))
    assert "profile smoke" in capsys.readouterr().out
    lesson.load_data()
    split = lesson.split(train_size=200)
    assert len(split.y_train) == 200 and len(split.y_val) == 800
    run = lesson.train("lin", helpers.build_linear, split, epochs=1, verbose="quiet")
    lesson.claim("c1", "one epoch was run", "epochs == 1", epochs=run.epochs)
    lesson.claim("c2", "impossible", "value > 1", value=0.5)
    acc = lesson.evaluate_test(run)
    assert 0 < acc <= 1
    with pytest.raises(ValueError, match="already evaluated"):
        lesson.evaluate_test(run)
    table = lesson.finish()  # smoke: reported, not asserted
    out = capsys.readouterr().out
    assert "[FAILS] impossible" in out and "reported, not asserted (1/2 hold)" in out
    assert list(table["run"]) == ["lin"] and "test_acc" in table
    path = isolated_env / "build" / "lessons" / "smoke-seed0" / "01_underfitting.json"
    saved = json.loads(path.read_text())
    assert saved["profile"] == "smoke" and saved["data"]["source"] == "embedded"
    assert saved["claims"][0]["holds"] is True and saved["runs"][0]["name"] == "lin"
    assert saved["claims"][0]["rule"] == "epochs == 1"
    lesson.finish()  # a re-run keeps the previous results
    assert len(files.generations(path)) == 1
    assert "previous results kept" in capsys.readouterr().out
    model_path = lesson.save_model(run)
    assert model_path.suffix == ".keras" and model_path.exists()


def test_a_claim_is_judged_by_a_rule_over_its_numbers_not_by_a_ready_verdict(isolated_env):
    lesson = Lesson("01_underfitting", "smoke", 0)
    with pytest.raises(TypeError, match="rule must be a string expression"):
        lesson.claim("k", "s", True, value=0.5)
    with pytest.raises(ValueError, match="'gap' is not defined"):
        lesson.claim("k", "s", "gap > 0.1", value=0.5)
    lesson.claim("k", "s", "value > 0.1", value=0.5)
    assert lesson.claims[0].holds and lesson.claims[0].rule == "value > 0.1"


def test_the_full_profile_judges_a_claim_by_its_own_version(isolated_env):
    full = ("at 60,000 digits the gap is >= 1 point", "gap >= 0.01")
    for profile, statement, holds in [
        ("workshop", "the gap is >= 4 points", False),
        ("full", full[0], True),
    ]:
        lesson = Lesson("02_overfitting", profile, 0)
        lesson.claim("gap", "the gap is >= 4 points", "gap >= 0.04", full=full, gap=0.02)
        (claim,) = lesson.claims
        assert (claim.statement, claim.holds) == (statement, holds)
        assert claim.rule == ("gap >= 0.01" if profile == "full" else "gap >= 0.04")
        assert claim.measured == {"gap": 0.02}
    with pytest.raises(TypeError, match="full must be a \\(statement, rule\\) pair"):
        lesson.claim("k", "s", "gap > 0", full="gap > 0.01", gap=0.02)


def test_workshop_profile_asserts_claims(isolated_env):
    lesson = Lesson("01_underfitting", "workshop", 0)
    lesson.claim("x", "a claim that fails", "value > 1", value=0.5)
    with pytest.raises(AssertionError, match="a claim that fails \\(value=0.5\\)"):
        lesson.finish()


def test_full_profile_lists_failing_claims_as_findings(isolated_env, capsys):
    lesson = Lesson("01_underfitting", "full", 0)
    lesson.data = helpers.load_mnist("embedded")
    lesson.claim("holds", "a claim that holds", "value < 1", value=0.5)
    lesson.claim("breaks", "a claim that breaks at this size", "value > 1", value=0.5)
    lesson.finish()  # full on the embedded digits: reported, not asserted
    out = capsys.readouterr().out
    assert "reported, not asserted (1/2 hold; the data is not the verified official MNIST)" in out
    findings = out.split("Findings:")[1]
    assert "4,000 training digits" in findings
    assert "- breaks: a claim that breaks at this size" in findings
    assert "holds:" not in findings


def _full_evidence(root, lesson, held_by_seed):
    for seed, held in held_by_seed.items():
        path = root / "full" / lesson / f"seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        claims = [{"key": k, "holds": h, "measured": {"value": 1.0}} for k, h in held.items()]
        path.write_text(json.dumps({"seed": seed, "claims": claims}))


def test_full_profile_asserts_what_its_own_evidence_calibrates(isolated_env, monkeypatch, capsys):
    import dataclasses

    root = isolated_env / "evidence"
    monkeypatch.setenv("COURSE_EVIDENCE_DIR", str(root))
    _full_evidence(
        root,
        "01_underfitting",
        {0: {"steady": True, "shaky": True}, 1: {"steady": True, "shaky": False}},
    )
    official = dataclasses.replace(helpers.load_mnist("embedded"), source="idx")

    lesson = Lesson("01_underfitting", "full", 0)
    lesson.data = official
    lesson.claim("steady", "held at every committed seed", "value < 1", value=0.5)
    lesson.claim("shaky", "held at one seed", "value > 1", value=0.5)
    lesson.finish()  # only a claim its evidence calibrates is asserted
    out = capsys.readouterr().out
    assert "asserted are the 1 that held at every committed full-profile seed" in out
    assert "- shaky: held at one seed" in out.split("Findings:")[1]

    lesson = Lesson("01_underfitting", "full", 0)
    lesson.data = official
    lesson.claim("steady", "held at every committed seed", "value > 1", value=0.5)
    with pytest.raises(AssertionError, match=r"held at every committed full-profile seed \(0, 1\)"):
        lesson.finish()

    _full_evidence(root, "02_overfitting", {0: {"a": False}, 1: {"a": True}})
    lesson = Lesson("02_overfitting", "full", 0)  # nothing held at every seed: reported only
    lesson.data = official
    lesson.claim("a", "held at one seed", "value > 1", value=0.5)
    lesson.finish()
    assert "no claim held at every committed full-profile seed" in capsys.readouterr().out

    lesson = Lesson("01_underfitting", "full", 0)  # not the official data: reported only
    lesson.data = helpers.load_mnist("embedded")
    lesson.claim("steady", "held at every committed seed", "value > 1", value=0.5)
    lesson.finish()
    assert "not the verified official MNIST" in capsys.readouterr().out


def test_split_too_large(isolated_env):
    lesson = Lesson("01_underfitting", "smoke", 0)
    lesson.load_data()
    with pytest.raises(ValueError, match="more than the 3200"):
        lesson.split(train_size=5000)


def test_save_json_keeps_previous(tmp_path):
    p = tmp_path / "r.json"
    assert results.save_json(p, {"a": np.float32(1.5), "b": float("nan")}) is None
    backup = results.save_json(p, {"a": 2})
    assert backup == files.generations(p)[0]
    assert json.loads(backup.read_text()) == {"a": 1.5, "b": None}
    assert json.loads(p.read_text()) == {"a": 2}


def test_plots_have_titles_and_labels(tiny_images):
    x, y = tiny_images

    class FakeRun:
        name = "r"
        history = {
            "accuracy": [0.5, 0.7],
            "val_accuracy": [0.4, 0.6],
            "loss": [1, 0.5],
            "val_loss": [1.1, 0.7],
        }

    colors = plots.RunColors()
    assert colors.color("a") == colors.color("a") != colors.color("b")
    figs = [
        plots.learning_curves([FakeRun()], "accuracy", colors),
        plots.learning_curves([FakeRun()], "loss"),
        plots.confusion_matrix(y, y),
        plots.digits_per_class(x, y, per_class=3),
        plots.worst_mistakes(x, y, np.eye(10)[(y + 1) % 10] * 0.9 + 0.01, n=4),
        plots.comparison_bars(
            results.runs_table([]).assign(run=["a"], train_acc=[1.0], val_acc=[0.9])
        ),
    ]
    for fig in figs:
        ax = fig.axes[0]
        assert ax.get_title() or fig._suptitle.get_text()
        if ax.get_xlabel() == "" and fig._suptitle is not None:
            continue  # image grids: the title is the suptitle, axes carry captions
        assert ax.get_xlabel() and ax.get_ylabel()
        plt.close(fig)
    with pytest.raises(ValueError, match="metric must be"):
        plots.learning_curves([FakeRun()], "f1")
    with pytest.raises(ValueError, match="no mistakes"):
        plots.worst_mistakes(x, y, np.eye(10)[y])


def test_show_range_prints_the_workshop_evidence_at_any_profile(isolated_env, capsys):
    # the committed evidence of lesson 00: the prose of a full run quotes the workshop seeds too
    lesson = Lesson("00_data_and_baseline", "full", 0)
    lesson.show_range("raw_inputs_kill_relus.dead_units_raw", unit="%")
    out = capsys.readouterr().out
    assert out.startswith("raw_inputs_kill_relus.dead_units_raw, seeds 0–4 (workshop evidence): ")
    assert out.rstrip().endswith("%")
    allowed = r"\('', '%', ' points', ' million'\)"
    with pytest.raises(ValueError, match=rf"unit must be one of {allowed}; got 'pts'"):
        lesson.show_range("raw_inputs_kill_relus.dead_units_raw", unit="pts")
