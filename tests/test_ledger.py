"""The claims ledger (coursetools/ledger.py) and `make report` (coursetools/report.py), on
synthetic results files written into temporary folders."""

from __future__ import annotations

import importlib
import json
import os
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

from coursetools.ledger import (
    ARTICLE_CLAIMS,
    DEPENDS,
    FAILS,
    HOLDS,
    NOT_MEASURED,
    ArticleClaim,
    SeedResult,
    aggregate,
    collect_results,
    judge_file,
    key_in_notebook,
    ledger_row,
    ledger_rows,
    lookup,
    notebook_claim_patterns,
    read_result,
    values_text,
)
from coursetools.paths import repo_root

BY_ID = {c.id: c for c in ARTICLE_CLAIMS}
SMALL = {"n_run": 3200, "n_data": 4000}
FULL = {"n_run": 48000, "n_data": 60000}

# For every registry entry: numbers that should give each verdict it can reach.
CASES: dict[str, dict[str, dict[str, Any]]] = {
    "A01": {
        HOLDS: {"linear_best": 0.88, **FULL},
        FAILS: {"linear_best": 0.93, **SMALL},
        DEPENDS: {"linear_best": 0.89, **SMALL},
    },
    "A02": {
        HOLDS: {"linear_best": 0.91, **FULL},
        FAILS: {"linear_best": 0.85, **FULL},
        DEPENDS: {"linear_best": 0.905, **SMALL},
    },
    "A03": {
        HOLDS: {"linear_best": 0.90, "cnn": 0.97, "mlp": 0.92, "underfit": True},
        FAILS: {"linear_best": 0.90, "cnn": 0.905, "mlp": 0.92, "underfit": False},
    },
    "A04": {
        HOLDS: {"test": 0.95, "val": 0.95, **FULL},
        FAILS: {"test": 0.97, "val": 0.97, **SMALL},
        DEPENDS: {"test": 0.943, "val": 0.942, **SMALL},
    },
    "A05": {
        HOLDS: {"train": 1.0, "gap": 0.05, "verdict": "overfitting"},
        FAILS: {"train": 0.95, "gap": 0.01, "verdict": "good fit"},
    },
    "A06": {
        HOLDS: {"cnn": 0.985, **FULL},
        FAILS: {"cnn": 0.95, **FULL},
        DEPENDS: {"cnn": 0.972, **SMALL},
    },
    "A07": {
        HOLDS: {"test": 0.988, **SMALL},
        FAILS: {"test": 0.95, **FULL},
        DEPENDS: {"test": 0.95, **SMALL},
    },
    "A08": {
        HOLDS: {"cnn": 0.97, "mlp": 0.92, "linear": 0.89},
        FAILS: {"cnn": 0.92, "mlp": 0.925, "linear": 0.89},
    },
    "A09": {
        HOLDS: {"gains": {"100": 6.0, "1000": 2.0, "3200": 1.0}},
        FAILS: {"gains": {"100": 0.1, "3200": -1.0}},
        DEPENDS: {"gains": {"100": 6.875, "1000": 0.375, "3200": -0.25}},
    },
    "A10": {
        HOLDS: {
            "difference": 17.9,
            "rotate_180": 0.78,
            "moderate": 0.959,
            "six_nine_180": 25.0,
            "six_nine_moderate": 0.0,
        },
        FAILS: {
            "difference": 0.5,
            "rotate_180": 0.954,
            "moderate": 0.959,
            "six_nine_180": 1.0,
            "six_nine_moderate": 0.0,
        },
    },
    "A11": {
        FAILS: {"identical": True, "same_training": True, "arrays": 18},
        DEPENDS: {"identical": True, "same_training": False, "arrays": 18},
    },
    "A12": {
        HOLDS: {"zeros": 0.1, "small": 0.1, "large_gap": 0.35, "glorot": 0.93},
        FAILS: {"zeros": 0.1, "small": 0.8, "large_gap": 0.05, "glorot": 0.93},
    },
    "A13": {
        HOLDS: {"elu": 0.94, "relu": 0.92, "elu_dead": 0.0, "relu_dead": 0.1, "depth": 8},
        FAILS: {"elu": 0.91, "relu": 0.93, "elu_dead": 0.0, "relu_dead": 0.1, "depth": 8},
    },
    "A14": {
        HOLDS: {"relu": 0.93, "sigmoid": 0.30, "sigmoid_grad": 1e-5, "depth": 8},
        FAILS: {"relu": 0.90, "sigmoid": 0.88, "sigmoid_grad": 0.5, "depth": 2},
    },
    "A15": {
        HOLDS: {"d_02": 0.01, "d_05": 0.03, "gap": 0.06, "base_gap": 0.10, "n_run": 1000},
        FAILS: {"d_02": 0.005, "d_05": 0.01, "gap": 0.09, "base_gap": 0.10, "n_run": 1000},
    },
    "A16": {
        HOLDS: {
            "loss_gap": 0.28,
            "base_loss_gap": 0.45,
            "val": 0.91,
            "base_val": 0.89,
            "saved": 27,
        },
        FAILS: {
            "loss_gap": 0.44,
            "base_loss_gap": 0.45,
            "val": 0.89,
            "base_val": 0.894,
            "saved": 2,
        },
        DEPENDS: {
            "loss_gap": 0.28,
            "base_loss_gap": 0.45,
            "val": 0.891,
            "base_val": 0.894,
            "saved": 27,
        },
    },
    "A17": {
        HOLDS: {"lr_val": {"1e-05": 0.27, "0.01": 0.93, "1.0": 0.16}, "epochs": 8},
        FAILS: {"lr_val": {"1e-05": 0.90, "0.01": 0.93, "1.0": 0.91}, "epochs": 8},
    },
    "A18": {
        HOLDS: {"batch_val": {"16": 0.92, "1024": 0.87}, "scaled": 0.88, "speed": 3.8, "epochs": 8},
        FAILS: {
            "batch_val": {"16": 0.92, "1024": 0.915},
            "scaled": 0.92,
            "speed": 3.8,
            "epochs": 8,
        },
        DEPENDS: {
            "batch_val": {"16": 0.92, "1024": 0.87},
            "scaled": 0.915,
            "speed": 3.8,
            "epochs": 8,
        },
    },
    "A19": {
        HOLDS: {"optimizers": {"sgd": 0.82, "adam": 0.91, "rmsprop": 0.914}},
        FAILS: {"optimizers": {"sgd": 0.82, "adam": 0.85, "rmsprop": 0.92}},
    },
    "A20": {
        HOLDS: {"optimism": 0.05, "share": 0.5, "models": 21},
        FAILS: {"optimism": 0.47, "share": 0.58, "models": 21},
    },
    "A21": {
        HOLDS: {
            "rare_bal": 0.84,
            "rare_imb": 0.40,
            "mix_change": 1.0,
            "rare_classes": [3, 8],
            "keep": 0.05,
        },
        FAILS: {
            "rare_bal": 0.84,
            "rare_imb": 0.80,
            "mix_change": 0.1,
            "rare_classes": [3, 8],
            "keep": 0.5,
        },
    },
    "A22": {
        HOLDS: {"sgd_ce": 0.86, "sgd_mse": 0.14, "adam_ce": 0.92, "adam_mse": 0.85},
        FAILS: {"sgd_ce": 0.86, "sgd_mse": 0.85, "adam_ce": 0.92, "adam_mse": 0.92},
        DEPENDS: {"sgd_ce": 0.86, "sgd_mse": 0.14, "adam_ce": 0.92, "adam_mse": 0.92},
    },
    "A23": {
        HOLDS: {"scaled": 0.90, "raw": 0.10, "adam_scaled": 0.92, "adam_raw": 0.88},
        FAILS: {"scaled": 0.90, "raw": 0.899, "adam_scaled": 0.92, "adam_raw": 0.918},
        DEPENDS: {"scaled": 0.90, "raw": 0.10, "adam_scaled": 0.92, "adam_raw": 0.918},
    },
    "A24": {
        HOLDS: {"few_val": 0.86, "underfit": True, "mlp_val": 0.92, "few": 1, "epochs": 15},
        FAILS: {"few_val": 0.91, "underfit": False, "mlp_val": 0.92, "few": 1, "epochs": 15},
    },
    "A25": {
        HOLDS: {"gaps": {"250": 0.16, "1000": 0.09, "3200": 0.06}},
        FAILS: {"gaps": {"250": 0.06, "3200": 0.05}},
    },
    "A26": {
        HOLDS: {"share": 0.6, "pairs": [[4, 9, 3], [3, 8, 2]], "test_acc": 0.99, "n_test": 1000},
        FAILS: {"share": 0.3, "pairs": [[1, 8, 2]], "test_acc": 0.989, "n_test": 1000},
    },
    "A27": {
        HOLDS: {"tuned": 0.93, "units": 64, "lr": 0.005, "default": 0.91},
        FAILS: {"tuned": 0.911, "units": 64, "lr": 0.005, "default": 0.911},
    },
    "A28": {
        HOLDS: {"min_epoch": 9, "epochs": 40, "ratio": 1.23},
        FAILS: {"min_epoch": 35, "epochs": 40, "ratio": 1.01},
    },
}


# ----------------------------------------------------------------------------- builders
def put(payload: dict, path: tuple, value: Any) -> None:
    """Write ``value`` at a registry path into a results payload."""
    head, *rest = path
    if head == "claims":
        key, field = rest
        claim = next((c for c in payload["claims"] if c["key"] == key), None)
        if claim is None:
            claim = {"key": key, "statement": f"synthetic {key}", "holds": True, "measured": {}}
            payload["claims"].append(claim)
        if field == "holds":
            claim["holds"] = value
        else:
            claim["measured"][field] = value
    elif head == "runs":
        name, attr = rest
        run = next((r for r in payload["runs"] if r["name"] == name), None)
        if run is None:
            run = {"name": name}
            payload["runs"].append(run)
        run[attr] = value
    else:
        node = payload.setdefault(head, {})
        for k in rest[:-1]:
            node = node.setdefault(k, {})
        node[rest[-1]] = value


def payload(lesson: str, seed: int = 0, profile: str = "workshop") -> dict:
    return {
        "lesson": lesson,
        "profile": profile,
        "seed": seed,
        "settings": {},
        "data": {
            "source": "embedded",
            "description": "synthetic",
            "verified": True,
            "n_train": 4000,
            "n_test": 1000,
            "notes": [],
        },
        "versions": {"helpers": "0.1.0", "keras": "3"},
        "runs": [],
        "claims": [],
        "extra": {},
    }


def payload_for(claim: ArticleClaim, numbers: dict, seed: int = 0) -> dict:
    p = payload(claim.lesson, seed)
    for n in claim.numbers:
        put(p, n.path, numbers[n.name])
    return p


def write(path: Path, content: dict, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def result_for(tmp_path: Path, claim: ArticleClaim, numbers: dict, seed: int = 0):
    f = write(tmp_path / f"s{seed}" / f"{claim.lesson}.json", payload_for(claim, numbers, seed))
    return read_result(f)


# ----------------------------------------------------------------------------- registry
def test_registry_is_large_enough_and_unique():
    assert len(ARTICLE_CLAIMS) >= 12
    assert len(BY_ID) == len(ARTICLE_CLAIMS)
    for c in ARTICLE_CLAIMS:
        assert c.paraphrase and c.topic and c.numbers
        assert c.seeds and all(re.fullmatch(r"\d{3}", s) for s in c.seeds), c.id


def test_seed_ids_name_existing_articles():
    folder = repo_root().parent / "shared" / "seeds"
    if not folder.is_dir():
        pytest.skip(f"{folder} not present in this checkout")
    numbers = {p.name[:3] for p in folder.glob("*.txt")}
    for c in ARTICLE_CLAIMS:
        assert set(c.seeds) <= numbers, c.id


def test_every_entry_has_cases():
    assert set(CASES) == set(BY_ID)
    assert all(len(cases) >= 2 for cases in CASES.values())


@pytest.mark.parametrize(
    "cid,expected",
    [(cid, status) for cid, cases in CASES.items() for status in cases],
)
def test_verdict_from_a_results_file(cid, expected, tmp_path):
    claim = BY_ID[cid]
    seed = judge_file(claim, result_for(tmp_path, claim, CASES[cid][expected]))
    assert seed.missing == ""
    assert seed.verdict.status == expected, seed.verdict
    assert seed.verdict.condition


def test_conditions_are_built_from_the_numbers():
    aug = BY_ID["A09"].judge(CASES["A09"][DEPENDS])
    assert "helps with 100 training digits (+6.9 points" in aug.condition
    assert "not with 3,200 (−0.2)" in aug.condition
    other = BY_ID["A09"].judge({"gains": {"50": 3.0, "800": -2.0}})
    assert "50 training digits (+3.0" in other.condition and "800 (−2.0)" in other.condition


def test_glorot_claim_is_judged_as_the_article_states_it():
    # the lesson's own claim ("it is the default") holds; the article's claim does not
    verdict = BY_ID["A11"].judge({"identical": True, "same_training": True, "arrays": 18})
    assert verdict.status == FAILS and "already Keras's default" in verdict.condition
    assert "the same history epoch by epoch" in verdict.condition


def test_accuracy_figures_name_the_data_size():
    v = BY_ID["A06"].judge({"cnn": 0.972, "n_run": 3200, "n_data": 4000})
    assert v.status == DEPENDS and "3,200 of the 4,000" in v.condition
    assert "60,000" in v.condition
    v = BY_ID["A06"].judge({"cnn": 0.96, "n_run": 48000, "n_data": 60000})
    assert v.status == FAILS


# ----------------------------------------------------------------------------- aggregation
def seeds_for(tmp_path, cid, statuses):
    claim = BY_ID[cid]
    return [
        judge_file(claim, result_for(tmp_path, claim, CASES[cid][s], seed=i))
        for i, s in enumerate(statuses)
    ]


def test_agreeing_seeds_give_their_verdict_with_mean_numbers(tmp_path):
    seeds = seeds_for(tmp_path, "A08", [HOLDS, HOLDS, HOLDS])
    v = aggregate(BY_ID["A08"], seeds)
    assert v.status == HOLDS and "mean of 3 seeds" in v.condition


def test_disagreeing_seeds_depend(tmp_path):
    seeds = seeds_for(tmp_path, "A08", [HOLDS, FAILS, HOLDS])
    v = aggregate(BY_ID["A08"], seeds)
    assert v.status == DEPENDS
    assert "differs between seeds, 2 of 3 hold" in v.condition
    assert "s1: does not hold" in v.condition


def test_mean_condition_uses_the_mean():
    claim = BY_ID["A05"]
    a = SeedResult(
        0,
        {"train": 1.0, "gap": 0.04, "verdict": "overfitting"},
        claim.judge({"train": 1.0, "gap": 0.04, "verdict": "overfitting"}),
    )
    b = SeedResult(
        1,
        {"train": 1.0, "gap": 0.08, "verdict": "overfitting"},
        claim.judge({"train": 1.0, "gap": 0.08, "verdict": "overfitting"}),
    )
    assert "gap 6.0 points" in aggregate(claim, [a, b]).condition


def test_values_show_every_seed_and_the_mean(tmp_path):
    seeds = seeds_for(tmp_path, "A08", [HOLDS, FAILS])
    lines = values_text(BY_ID["A08"], seeds)
    assert lines[0] == "CNN: 97.0% (s0) 92.0% (s1); mean 94.5%"


# ----------------------------------------------------------------------------- missing numbers
def test_missing_claim_key_is_not_measured(tmp_path):
    claim = BY_ID["A13"]
    p = payload_for(claim, CASES["A13"][HOLDS])
    p["claims"] = [c for c in p["claims"] if c["key"] != "dead_relus"]
    seed = judge_file(claim, read_result(write(tmp_path / "r.json", p)))
    assert seed.verdict is None
    assert seed.missing.startswith(NOT_MEASURED) and "dead_relus" in seed.missing


def test_missing_measured_field_is_not_measured(tmp_path):
    claim = BY_ID["A16"]
    p = payload_for(claim, CASES["A16"][HOLDS])
    del p["claims"][0]["measured"]["loss_gap"]
    seed = judge_file(claim, read_result(write(tmp_path / "r.json", p)))
    assert seed.verdict is None and "loss_gap" in seed.missing


def test_one_unmeasured_seed_is_reported_not_fatal(tmp_path):
    claim = BY_ID["A08"]
    good = [judge_file(claim, result_for(tmp_path, claim, CASES["A08"][HOLDS], seed=0))]
    bad = payload("01_underfitting", seed=1)
    bad_seed = judge_file(claim, read_result(write(tmp_path / "bad.json", bad)))
    v = aggregate(claim, [*good, bad_seed])
    assert v.status == HOLDS and "1 of 2 seeds not measured" in v.condition
    assert values_text(claim, [*good, bad_seed])[0].endswith("— (s1)")
    none = aggregate(claim, [bad_seed])
    assert none.status == NOT_MEASURED and "capacity_order" in none.condition


def test_lookup_reads_lists_and_reports_empty_values():
    p = payload("x")
    p["settings"]["sizes"] = [1, 2]
    p["extra"]["nan"] = None
    assert lookup(p, ("settings", "sizes", -1)) == 2
    with pytest.raises(LookupError, match="empty"):
        lookup(p, ("extra", "nan"))


def test_ledger_row_prefers_the_profile_with_most_data(tmp_path):
    claim = BY_ID["A08"]
    smoke = payload_for(claim, CASES["A08"][FAILS])
    smoke["profile"] = "smoke"
    results = [
        read_result(write(tmp_path / "a.json", smoke)),
        result_for(tmp_path, claim, CASES["A08"][HOLDS]),
    ]
    row = ledger_row(claim, results)
    assert row.profile == "workshop" and row.verdict.status == HOLDS
    assert ledger_row(claim, []).verdict.status == NOT_MEASURED


# ----------------------------------------------------------------------------- collecting files
def test_collect_keeps_newest_and_skips_backups_and_other_json(tmp_path):
    old = write(tmp_path / "a" / "01_underfitting.json", payload("01_underfitting"), 1_000_000)
    new_payload = payload("01_underfitting")
    new_payload["extra"]["marker"] = "new"
    new = write(tmp_path / "b" / "01_underfitting.json", new_payload, 2_000_000)
    write(tmp_path / "b" / "01_underfitting.20261128-101010.prev.json", payload("01_underfitting"))
    write(tmp_path / "b" / "tuner" / "oracle.json", {"ongoing_trials": {}})
    (tmp_path / "b" / "broken.json").write_text("{not json")
    other_seed = write(
        tmp_path / "a" / "s1" / "01_underfitting.json", payload("01_underfitting", 1)
    )
    found = collect_results([tmp_path / "a", tmp_path / "b"])
    assert [r.path for r in found.used] == [new, other_seed]
    assert found.used[0].payload["extra"]["marker"] == "new"
    assert found.superseded == (old,)
    assert [p.name for p in found.previous] == ["01_underfitting.20261128-101010.prev.json"]
    assert sorted(p.name for p in found.not_results) == ["broken.json", "oracle.json"]


# ----------------------------------------------------------------------------- notebooks
def test_claim_keys_are_parsed_from_notebook_code(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell('lesson.claim("in_markdown", "x", "a > 0", a=1)'),
        nbformat.v4.new_code_cell('lesson.claim(\n    "plain_key", "s", "a > 0", a=1)'),
        nbformat.v4.new_code_cell('for k in ks:\n    lesson.claim(f"gap_{k}", "s", "a > 0", a=1)'),
    ]
    nbformat.write(nb, tmp_path / "03_demo.ipynb")
    patterns = notebook_claim_patterns(tmp_path)["03_demo"]
    assert key_in_notebook("plain_key", patterns)
    assert key_in_notebook("gap_dropout", patterns)
    assert not key_in_notebook("in_markdown", patterns)
    assert not key_in_notebook("gap_", patterns)


def test_registry_matches_the_committed_notebooks():
    patterns = notebook_claim_patterns(repo_root() / "notebooks")
    for c in ARTICLE_CLAIMS:
        assert c.lesson in patterns, f"{c.id}: no notebook for lesson {c.lesson}"
        for key in c.claim_keys:
            assert key_in_notebook(key, patterns[c.lesson]), (
                f"{c.id}: notebook {c.lesson} makes no claim '{key}'"
            )


# ----------------------------------------------------------------------------- the CLI
def load_script():
    return importlib.import_module("coursetools.report")


def test_cli_fails_clearly_without_results(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = load_script().main(
        ["--results", str(tmp_path / "empty"), "--out", str(tmp_path / "r.md")]
    )
    err = capsys.readouterr().err
    assert code == 1 and "make lessons" in err and "Traceback" not in err
    assert not (tmp_path / "r.md").exists()


def test_cli_writes_report_and_keeps_the_previous_one(tmp_path, capsys):
    results = tmp_path / "results"
    by_lesson: dict[str, dict] = {}
    left_out = ARTICLE_CLAIMS[-1].lesson  # one lesson without results
    for c in ARTICLE_CLAIMS:
        if c.lesson == left_out:
            continue
        p = by_lesson.setdefault(c.lesson, payload(c.lesson))
        status = next(iter(CASES[c.id]))
        for n in c.numbers:
            put(p, n.path, CASES[c.id][status][n.name])
    for lesson, p in by_lesson.items():
        write(results / "workshop-seed0" / f"{lesson}.json", p)
    out = tmp_path / "report" / "report.md"
    script = load_script()
    assert script.main(["--results", str(results), "--out", str(out)]) == 0
    md, html = out.read_text(), out.with_suffix(".html").read_text()
    for c in ARTICLE_CLAIMS:
        assert f"| {c.id} |" in md and f"<td>{c.id}</td>" in html
    assert "<table>" in html and "<style>" in html
    missing = md.split("## Article claims without results")[1].split("## ")[0]
    assert f"lesson {left_out}" in missing and "make lessons" in missing
    first = md
    assert script.main(["--results", str(results), "--out", str(out)]) == 0
    (kept_md,) = out.parent.glob("report.*.prev.md")
    assert kept_md.read_text() == first
    assert len(list(out.parent.glob("report.*.prev.html"))) == 1


def test_ledger_rows_show_each_data_size_and_smoke_only_alone(tmp_path):
    claim = BY_ID["A08"]
    full = payload_for(claim, CASES["A08"][FAILS])
    full["profile"] = "full"
    smoke = payload_for(claim, CASES["A08"][HOLDS])
    smoke["profile"] = "smoke"
    workshop = result_for(tmp_path, claim, CASES["A08"][HOLDS])
    results = [
        read_result(write(tmp_path / "full.json", full)),
        read_result(write(tmp_path / "smoke.json", smoke)),
        workshop,
    ]
    rows = ledger_rows(claim, results)
    assert [(r.profile, r.verdict.status) for r in rows] == [("workshop", HOLDS), ("full", FAILS)]
    only_smoke = ledger_rows(claim, [results[1]])
    assert [r.profile for r in only_smoke] == ["smoke"]
    assert [r.verdict.status for r in ledger_rows(claim, [])] == [NOT_MEASURED]
    assert "at the full profile" in ledger_row(claim, [workshop], "full").verdict.condition


def test_a_data_size_verdict_points_at_the_full_row_when_there_is_one(tmp_path):
    claim = BY_ID["A02"]  # the article's figure is for 60,000 digits
    workshop = payload_for(claim, CASES["A02"][DEPENDS])
    full = payload_for(claim, CASES["A02"][HOLDS])
    full["profile"] = "full"
    only_workshop = read_result(write(tmp_path / "workshop.json", workshop))
    both = [only_workshop, read_result(write(tmp_path / "full.json", full))]
    alone = ledger_rows(claim, [only_workshop])
    assert alone[0].verdict.status == DEPENDS
    assert "(run the full profile)" in alone[0].verdict.condition
    rows = ledger_rows(claim, both)
    assert rows[0].profile == "workshop" and rows[0].verdict.status == DEPENDS
    assert "(the full-profile row below measures it)" in rows[0].verdict.condition
    assert not any("run the full profile" in r.verdict.condition for r in rows)
