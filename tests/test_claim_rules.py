"""Every lesson claim can fail: its verdict is a rule over the numbers it records, and breaking
those numbers the way a broken model (or a missing effect) would breaks the claim.

The base numbers are the committed evidence (workshop, seed 0), where every claim holds; each
entry of ``BROKEN`` changes some of them and the claim must then fail. The same breaks, or
those of ``BROKEN_FULL`` where 60,000 digits need their own, must also fail each claim the full
profile asserts, on the committed full-profile numbers (seed 0) and by its full-profile rule.
The committed verdicts at every profile and seed must also follow from the committed numbers by
the notebook's rule for that profile.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from coursetools.paths import repo_root
from coursetools.rules import RULE_FUNCTIONS, RuleError, declared, judge, lesson_claims

ROOT = repo_root()
EVIDENCE = ROOT / "evidence"
CLAIMS = lesson_claims(ROOT / "notebooks")

Break = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


def same_as(name: str, other: str, plus: float = 0.0) -> Break:
    """A break that sets ``name`` to the measured ``other`` (+ ``plus``): no difference left."""
    return lambda m: {name: m[other] + plus}


# What a broken model, or a lesson whose effect did not happen, would measure; several entries
# break a claim's separate parts.
BROKEN: dict[str, dict[str, list[Break]]] = {
    "00_data_and_baseline": {
        "linear_beats_majority": [{"linear_val_acc": 0.10}],
        "linear_in_article_band": [{"linear_val_acc": 0.98}, {"linear_val_acc": 0.70}],
        "scaling_beats_raw": [same_as("raw_val_acc", "scaled_val_acc")],
        "raw_inputs_kill_relus": [{"dead_units_raw": 0.10}, {"dead_units_scaled": 0.50}],
        "sorted_validation_split_fails": [{"sorted_val_acc": 0.85}, {"stratified_val_acc": 0.0}],
        "sorted_validation_digits_unseen": [
            {"validation_classes": list(range(10))},
            {"training_classes": list(range(10))},
        ],
    },
    "01_underfitting": {
        "capacity_order": [same_as("cnn_val", "mlp_val"), same_as("mlp_val", "linear_val")],
        "linear_equal_epochs_underfit": [{"underfit": False}],
        "linear_band": [{"linear_val": 0.97}, {"linear_best_val": 0.80}],
        "linear_below_cnn": [same_as("linear_best_val", "cnn_val")],
        "few_epochs_underfit": [{"underfit": False}, same_as("val_acc", "mlp_val", -0.005)],
        "low_lr_underfit": [{"underfit": False}],
        "mse_sgd_underfit": [{"underfit": False}],
        "ce_beats_mse_sgd": [same_as("mse_val", "ce_val", -0.05)],
        "mse_adam_close": [same_as("mse_val", "ce_val", -0.30)],
        "cnn_not_underfit": [{"underfit": True}],
    },
    "02_overfitting": {
        "mlp_memorises": [{"train_acc": 0.95}, {"gap": 0.01}],
        "mlp_verdict_overfitting": [{"verdict": "good fit"}],
        "val_loss_turns_up": [
            same_as("min_epoch", "epochs"),
            {"ratio": 1.0},
            same_as("train_loss_last", "train_loss_at_min", 0.1),
        ],
        "gap_shrinks_with_data": [same_as("gap_small", "gap_large"), {"smallest_step": -0.05}],
        "cnn_overfits": [{"train_acc": 0.95}, {"gap": 0.01}],
        "cnn_beats_mlp_same_data": [
            same_as("cnn_val", "mlp_val", -0.01),
            same_as("cnn_gap", "mlp_gap", 0.01),
        ],
        "article_about_95": [{"val_acc": 0.99}, {"val_acc": 0.90}],
        "choosing_flatters": [{"optimism": 0.0}, {"fixed_optimism": 0.005}],
    },
    "03_augmentation": {
        "mirrored_digits_are_not_digits": [{"mirrored_val_acc": 0.95}],
        "augmented_model_tolerates_shifts": [same_as("augmented_drop_points", "plain_drop_points")],
        "augmentation_helps_small": [{"gain_points": 0.0}],
        "gain_shrinks_with_size": [same_as("gain_large", "gain_small")],
        "gain_small_at_largest": [{"gain_points": 5.0}, {"gain_points": -5.0}],
        "rotate_180_hurts": [same_as("rotate_180_val", "moderate_val")],
        "rotate_180_confuses_6_and_9": [same_as("six_nine_rotate_180", "six_nine_moderate")],
    },
    "04_tuning": {
        "lr_extremes_lose": [
            same_as("low_lr_val_acc", "best_val_acc"),
            same_as("high_lr_val_acc", "best_val_acc"),
        ],
        "best_lr_inside": [same_as("best_lr", "lowest_lr"), same_as("best_lr", "highest_lr")],
        "big_batch_faster": [same_as("big_batch_sps", "small_batch_sps")],
        "big_batch_less_accurate": [same_as("big_batch_val_acc", "small_batch_val_acc")],
        "plain_sgd_last": [{"worst_optimizer": "adam"}, same_as("sgd_val_acc", "adam_val_acc")],
        "top_two_mcnemar": [{"p_value": 0.01}, same_as("second_val_acc", "first_val_acc", -0.05)],
        "tuner_pick_good": [{"tuner_val_acc": 0.50}],
        "dropped_epochs_cost_accuracy": [
            lambda m: {"naive_epochs": [m["cv_epochs"]]},
            {"fixed_epochs": [1]},
            same_as("cv_1_epoch", "cv_fixed"),
        ],
        "leakage_optimism": [{"optimism_points": 0.0}],
    },
    "05_initialization": {
        "zeros_never_learn": [{"val_acc": 0.90}, {"max_abs_weight": 0.05}],
        "constant_init_stays_symmetric": [
            lambda m: {"unit_spread": 0.1 * m["max_abs_weight"]},
            {"val_acc": 0.90},
        ],
        "small_init_vanishes": [{"act_ratio": 10.0}, {"grad_ratio": 10.0}, {"val_acc": 0.90}],
        "large_init_explodes": [{"act_ratio": 10.0}, {"grad_ratio": 10.0}, {"gap_to_glorot": 0.0}],
        "glorot_and_he_train": [{"he": 0.10}, {"glorot": 0.10}],
        "he_keeps_relu_signal": [
            same_as("he_last_over_first", "glorot_last_over_first"),
            {"glorot_last_over_first": 1.0},
        ],
        "glorot_uniform_is_the_default": [
            {"identical_weights": False},
            {"identical_history": False},
            {"identical_trained_weights": False},
        ],
        "sigmoid_vanishes_at_init": [
            {"sigmoid_spread_last_over_first": 1.0},
            {"sigmoid_grad_first_over_output": 1.0},
            {"relu_grad_first_over_output": 1e-4},
        ],
        "relu_elu_beat_sigmoid_when_deep": [same_as("sigmoid", "relu")],
        "dead_relus": [{"healthy": 0.90}, {"elu": 0.30}, {"high_lr": 0.0}, {"bad_bias": 0.0}],
    },
    "06_regularization": {
        "baseline_overfits": [{"train_acc": 0.90}, {"gap": 0.01}],
        **{
            f"loss_gap_{k}": [same_as("loss_gap", "baseline_loss_gap")]
            for k in (
                "dropout",
                "l2",
                "weight_decay",
                "batch_norm",
                "early_stopping",
                "combination",
            )
        },
        "accuracy_gap_stays": [{"min_gap": 0.0}],
        "dropout_not_significant": [{"changes": [0.0, 0.05]}],
        "batch_norm_trains_faster": [
            {"batch_norm_epoch": None},  # never reached 99%
            same_as("batch_norm_epoch", "baseline_epoch"),
        ],
        "early_stopping_saves_epochs": [
            {"stopped_early": False},
            {"epochs_saved": 0},
            same_as("val_acc", "baseline_val_acc", -0.05),
        ],
    },
    "07_capstone": {
        "capstone_test_accuracy": [{"test_acc": 0.10}],
        "capstone_beats_earlier_lessons": [
            same_as("capstone_val_acc", "best_earlier_val_acc"),
            same_as("capstone_test_acc", "best_earlier_test_acc", -0.01),
        ],
        "saved_model_reloads": [{"same_digits": False}, {"max_prob_diff": 0.1}],
    },
    "08_class_imbalance": {
        "accuracy_hides_rare_collapse": [
            {"mix_acc_change_pts": -10.0},
            {"rare_recall_drop_pts": 0.0},
        ],
        "balanced_accuracy_shows_it": [
            {"balanced_acc_drop_pts": 0.0},
            same_as("mix_acc_drop_pts", "balanced_acc_drop_pts"),
        ],
        "common_digits_keep_recall": [{"common_recall_change_pts": -5.0}],
        "class_weights_raise_rare_recall": [{"gain_pts": 0.0}],
        "oversampling_raises_rare_recall": [{"gain_pts": 0.0}],
        "fixes_do_not_replace_data": [
            {"gap_class_weights_pts": 0.0},
            {"gap_oversampling_pts": 0.0},
        ],
        "curves_do_not_show_it": [{"verdict_imbalanced": "underfitting"}],
    },
}


# Where the full profile's own version of a claim (``full=``) needs other breaks than BROKEN's.
BROKEN_FULL: dict[str, dict[str, list[Break]]] = {
    "00_data_and_baseline": {
        # a shuffled split: every digit on both sides
        "sorted_validation_digits_unseen": [
            {"validation_classes": list(range(10)), "training_classes": list(range(10))},
            {"training_classes": list(range(10))},
        ],
    },
    "02_overfitting": {
        "article_about_95": [{"val_acc": 0.95}],  # what the articles say it scores
        "mlp_memorises": [{"train_acc": 0.95}, {"gap": 0.003}],
    },
    "04_tuning": {
        # the claim at full: the dropped epoch is real but costs little; a big cost breaks it
        "dropped_epochs_cost_accuracy": [
            lambda m: {"naive_epochs": [m["cv_epochs"]]},
            {"fixed_epochs": [1]},
            same_as("cv_1_epoch", "cv_fixed", -0.05),
            {"cv_fixed": 0.10, "cv_1_epoch": 0.10},  # equal, because nothing learned
        ],
    },
    "05_initialization": {
        # the claim at full: the signal vanishes, yet training leaves chance; stuck breaks it
        "small_init_vanishes": [{"act_ratio": 10.0}, {"grad_ratio": 10.0}, {"val_acc": 0.11}],
    },
}


def evidence_files(profile: str | None = None):
    pattern = f"{profile or '*'}/*/seed*.json"
    return sorted(EVIDENCE.glob(pattern))


def base_claims(lesson: str, profile: str = "workshop") -> dict[str, dict[str, Any]]:
    data = json.loads((EVIDENCE / profile / lesson / "seed0.json").read_text())
    return {c["key"]: c for c in data["claims"]}


def rule_of(lesson: str, key: str, profile: str = "workshop") -> str:
    found = declared(CLAIMS[lesson], key)
    assert found is not None, f"{lesson}: claim {key} is not declared in the notebook"
    return found.rule_at(profile)


def asserted_at_full(lesson: str) -> set[str]:
    """The claims the full profile asserts: those that held at every committed full seed."""
    held: dict[str, bool] = {}
    for path in evidence_files("full"):
        data = json.loads(path.read_text())
        if data["lesson"] == lesson:
            for c in data["claims"]:
                held[c["key"]] = held.get(c["key"], True) and c["holds"]
    return {k for k, ok in held.items() if ok}


# ----------------------------------------------------------------------------- judge
def test_judge_evaluates_the_rule_on_the_measured_values():
    assert judge("gap >= 0.04 and train_acc >= 0.99", {"gap": 0.05, "train_acc": 1.0})
    assert not judge("gap >= 0.04", {"gap": 0.03})
    assert judge("min(a, b) > 1 and abs(c) < 1", {"a": 2, "b": 3, "c": -0.5})
    assert judge("max(abs(c) for c in changes) < 0.02", {"changes": [0.01, -0.015]})


def test_a_missing_number_fails_every_comparison():
    assert not judge("x + 3 <= y", {"x": None, "y": 9})
    assert not judge("x >= 0", {"x": math.nan})


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("gap >= gap_min", "'gap_min' is not defined; it may use the measured values (gap)"),
        ("gap >=", "is not a Python expression"),
        ("__import__('os')", "'__import__' is not defined"),
        ("open('x')", "'open' is not defined"),
    ],
)
def test_a_bad_rule_says_what_it_may_use(rule, message):
    with pytest.raises(RuleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        judge(rule, {"gap": 0.1})


def test_a_claim_rule_must_be_a_literal_string(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('lesson.claim("k", "s", gap > 0.1, gap=gap)')]
    nbformat.write(nb, tmp_path / "09_demo.ipynb")
    with pytest.raises(RuleError, match="rule of claim 'k' must be a string literal"):
        lesson_claims(tmp_path)


def test_a_full_profile_version_is_read_from_the_notebook_and_must_be_literal(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            'lesson.claim("k", "gap >= 4 points", "gap >= 0.04", '
            'full=("gap >= 1 point", "gap >= 0.01"), gap=gap)'
        )
    ]
    nbformat.write(nb, tmp_path / "09_demo.ipynb")
    (found,) = lesson_claims(tmp_path)["09_demo"]
    assert found.measured == ("gap",)
    assert (found.rule_at("workshop"), found.statement_at("workshop")) == (
        "gap >= 0.04",
        "gap >= 4 points",
    )
    assert (found.rule_at("full"), found.statement_at("full")) == ("gap >= 0.01", "gap >= 1 point")
    nb.cells = [nbformat.v4.new_code_cell('lesson.claim("k", "s", "g > 0", full=FULL, g=g)')]
    nbformat.write(nb, tmp_path / "09_demo.ipynb")
    with pytest.raises(RuleError, match="full= of claim 'k' must be a pair of string literals"):
        lesson_claims(tmp_path)


def test_rejudge_applies_the_notebooks_rules_to_the_committed_numbers(tmp_path, capsys):
    import nbformat

    from coursetools.record_evidence import rejudge

    nbs, root = tmp_path / "notebooks", tmp_path / "evidence"
    nbs.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            'lesson.claim("gap", "gap >= 4 points", "gap >= 0.04", '
            'full=("gap >= 1 point", "gap >= 0.01"), gap=gap)'
        )
    ]
    nbformat.write(nb, nbs / "09_demo.ipynb")
    for profile in ("workshop", "full"):
        path = root / profile / "09_demo" / "seed0.json"
        path.parent.mkdir(parents=True)
        claim = {"key": "gap", "statement": "old", "holds": False, "measured": {"gap": 0.02}}
        payload = {
            "lesson": "09_demo",
            "profile": profile,
            "seed": 0,
            "data": {"verified": True, "source": "embedded", "n_train": 60_000, "n_test": 10_000},
            "versions": {},
            "settings": {},
            "claims": [{**claim, "rule": "gap >= 0.04"}, {**claim, "key": "gone", "rule": "1"}],
            "runs": [],
            "extra": {},
        }
        path.write_text(json.dumps(payload))
    changed, unknown = rejudge(root, nbs)
    assert changed == 2 and unknown == [
        "09_demo gone (full/09_demo/seed0.json)",
        "09_demo gone (workshop/09_demo/seed0.json)",
    ]
    full = json.loads((root / "full" / "09_demo" / "seed0.json").read_text())["claims"][0]
    assert (full["rule"], full["statement"], full["holds"]) == (
        "gap >= 0.01",
        "gap >= 1 point",
        True,
    )
    small = json.loads((root / "workshop" / "09_demo" / "seed0.json").read_text())["claims"][0]
    assert (small["statement"], small["holds"]) == ("gap >= 4 points", False)
    assert "gap (fails -> holds)" in capsys.readouterr().out
    assert rejudge(root, nbs)[0] == 0  # nothing left to change


# ----------------------------------------------------------------------------- notebooks
def rule_names(rule: str) -> set[str]:
    tree = ast.parse(rule, mode="eval")
    bound = {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, ast.comprehension)
        for t in ast.walk(node.target)
        if isinstance(t, ast.Name)
    }
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return used - bound - set(RULE_FUNCTIONS)


@pytest.mark.parametrize("lesson", sorted(CLAIMS))
def test_every_rule_uses_only_the_values_its_claim_records(lesson):
    for c in CLAIMS[lesson]:
        for rule in filter(None, (c.rule, c.full_rule)):
            extra = rule_names(rule) - set(c.measured)
            assert not extra, f"{lesson} {c.key.pattern}: rule {rule!r} uses unrecorded {extra}"


def test_every_claim_of_every_lesson_has_breaks():
    for lesson in CLAIMS:
        keys = set(base_claims(lesson))
        assert set(BROKEN.get(lesson, {})) == keys, (
            f"{lesson}: claims without a break: {sorted(keys - set(BROKEN.get(lesson, {})))}; "
            f"breaks for no claim: {sorted(set(BROKEN.get(lesson, {})) - keys)}"
        )


@pytest.mark.parametrize("lesson", sorted(BROKEN))
def test_each_claim_fails_when_its_numbers_are_broken(lesson):
    for key, claim in base_claims(lesson).items():
        rule, measured = rule_of(lesson, key), claim["measured"]
        assert judge(rule, measured), f"{lesson} {key}: does not hold on the committed numbers"
        for brk in BROKEN[lesson][key]:
            change = brk(measured) if callable(brk) else brk
            assert set(change) <= set(measured), f"{lesson} {key}: breaks unknown {set(change)}"
            broken = {**measured, **change}
            assert not judge(rule, broken), f"{lesson} {key}: still holds with {change}"


@pytest.mark.parametrize("lesson", sorted(BROKEN))
def test_each_claim_the_full_profile_asserts_fails_when_its_numbers_are_broken(lesson):
    base = base_claims(lesson, "full")
    for key in sorted(asserted_at_full(lesson)):
        rule, measured = rule_of(lesson, key, "full"), base[key]["measured"]
        assert judge(rule, measured), f"{lesson} {key}: does not hold on the committed numbers"
        for brk in BROKEN_FULL.get(lesson, {}).get(key) or BROKEN[lesson][key]:
            change = brk(measured) if callable(brk) else brk
            assert set(change) <= set(measured), f"{lesson} {key}: breaks unknown {set(change)}"
            broken = {**measured, **change}
            assert not judge(rule, broken), f"{lesson} {key} at full: still holds with {change}"


def test_full_breaks_name_full_profile_rules():
    for lesson, claims in BROKEN_FULL.items():
        for key in claims:
            assert key in asserted_at_full(lesson), f"{lesson} {key}: not asserted at full"


@pytest.mark.parametrize("path", evidence_files(), ids=lambda p: "/".join(p.parts[-3:]))
def test_committed_verdicts_follow_from_the_committed_numbers(path):
    data = json.loads(path.read_text())
    for claim in data["claims"]:
        rule = rule_of(data["lesson"], claim["key"], data["profile"])
        assert claim["rule"] == rule, (
            f"{claim['key']}: the committed evidence was judged by {claim['rule']!r}, the "
            f"notebook's rule at {data['profile']} is {rule!r} (`make rejudge` re-judges it)"
        )
        assert judge(rule, claim["measured"]) == claim["holds"], (
            f"{claim['key']}: the rule {rule!r} on the committed numbers disagrees with the "
            f"committed verdict ({claim['holds']})"
        )
