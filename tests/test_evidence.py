"""The committed evidence (evidence/<profile>/<lesson>/seed<N>.json): its format, that it covers
every lesson and claim, that the committed notebooks agree with it, and that the ledger finds
every number it needs in it (coursetools/evidence.py, coursetools/record_evidence.py)."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from coursetools import evidence
from coursetools.ledger import (
    ARTICLE_CLAIMS,
    Missing,
    key_in_notebook,
    lookup,
    notebook_claim_patterns,
)
from coursetools.paths import lesson_notebooks, repo_root
from helpers.results import Claim

ROOT = repo_root()
COMMITTED = ROOT / "evidence"
LESSONS = [p.stem for p in lesson_notebooks()]
WORKSHOP_SEEDS = (0, 1, 2, 3, 4)


def result(profile="workshop", seed=0, source="embedded", n_train=4000, n_test=1000, **claims):
    """A lesson results payload as Lesson.finish writes it."""
    return {
        "lesson": "01_underfitting",
        "profile": profile,
        "seed": seed,
        "settings": {"epochs": 15},
        "data": {
            "source": source,
            "description": "digits",
            "location": "/somewhere/on/my/disk",
            "verified": True,
            "n_train": n_train,
            "n_test": n_test,
            "notes": [],
        },
        "versions": {"keras": "3.15.1", "cpu": "AMD EPYC (avx2)"},
        "runs": [{"name": "mlp", "history": {"loss": [1.0, 0.5]}, "val_acc": 0.9, "epochs": 2}],
        "claims": [
            {"key": k, "statement": f"{k} holds", "holds": True, "measured": {"acc": v}}
            for k, v in claims.items()
        ],
        "extra": {"note": 1},
    }


# ----------------------------------------------------------------------------- the module
def test_trim_keeps_claims_and_scores_and_drops_histories_and_paths():
    kept = evidence.trim(result(a=0.9))
    assert kept["claims"][0]["measured"] == {"acc": 0.9}
    assert kept["runs"] == [{"name": "mlp", "epochs": 2, "val_acc": 0.9}]
    assert "location" not in kept["data"] and kept["data"]["verified"] is True
    assert kept["versions"]["cpu"] == "AMD EPYC (avx2)"
    assert evidence.trim(kept) == kept  # evidence is itself valid input


def test_trim_keeps_each_runs_verdict_but_not_the_diagnosis_behind_it():
    payload = result(a=0.9)
    payload["runs"][0]["diagnosis"] = {"verdict": "overfitting", "reason": "a gap", "numbers": {}}
    kept = evidence.trim(payload)
    assert kept["runs"] == [{"name": "mlp", "epochs": 2, "val_acc": 0.9, "verdict": "overfitting"}]
    assert evidence.trim(kept) == kept


def test_verdict_lines_group_the_seeds_most_frequent_verdict_first(tmp_path):
    for seed, verdict in enumerate(["stuck at chance", "underfitting", "stuck at chance"]):
        payload = result(seed=seed, a=0.9)
        payload["runs"][0]["diagnosis"] = {"verdict": verdict}
        evidence.write(payload, tmp_path)
    verdicts = evidence.seed_verdicts("workshop", "01_underfitting", "mlp", tmp_path)
    assert verdicts == {0: "stuck at chance", 1: "underfitting", 2: "stuck at chance"}
    assert evidence.verdict_line("mlp", verdicts) == (
        "mlp verdict, seeds 0–2 (workshop evidence): "
        "stuck at chance (seeds 0, 2); underfitting (seed 1)"
    )
    with pytest.raises(evidence.EvidenceError, match="its runs are: mlp"):
        evidence.seed_verdicts("workshop", "01_underfitting", "MLP", tmp_path)
    assert evidence.seed_verdicts("workshop", "00_data_and_baseline", "mlp", tmp_path) == {}
    assert "no committed evidence" in evidence.verdict_line("mlp", {})


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (result(profile="smoke"), "only workshop and full runs are evidence"),
        (result(source="keras"), "workshop evidence uses the embedded digits"),
        (result(profile="full", source="keras", n_train=2500), "official 60,000/10,000 split"),
        ({"lesson": "01_underfitting"}, "not a lesson results file"),
    ],
)
def test_trim_refuses_what_is_not_evidence(payload, message):
    with pytest.raises(evidence.EvidenceError, match=message):
        evidence.trim(payload)


def test_unverified_data_is_refused_with_the_way_to_check_it():
    payload = result()
    payload["data"]["verified"] = False
    with pytest.raises(evidence.EvidenceError, match="python -m helpers.data --verify"):
        evidence.trim(payload)


def test_written_evidence_loads_back_by_seed(tmp_path):
    for seed, value in ((2, 0.95), (0, 0.91), (1, 0.93)):
        path = evidence.write(result(seed=seed, a=value), tmp_path)
        assert path == tmp_path / "workshop" / "01_underfitting" / f"seed{seed}.json"
    loaded = evidence.load("workshop", "01_underfitting", tmp_path)
    assert list(loaded) == [0, 1, 2]
    ranges = evidence.claim_evidence(loaded)["a"]
    assert ranges.held == 3 and ranges.seeds == (0, 1, 2)
    assert ranges.ranges == {"acc": (0.91, 0.95)}
    assert evidence.load("full", "01_underfitting", tmp_path) == {}


def test_report_lines_print_the_range_and_flag_a_value_outside_it(tmp_path):
    for seed, value in ((0, 0.91), (1, 0.93)):
        evidence.write(result(seed=seed, a=value, b=0.5), tmp_path)
    claims = [Claim("a", "a holds", True, {"acc": 0.92}), Claim("b", "b", True, {"acc": 0.7})]
    text = "\n".join(evidence.report_lines("01_underfitting", "workshop", 3, claims, tmp_path))
    assert "seeds 0, 1" in text
    assert "this run     0.92   seeds 0, 1: 0.91–0.93" in text
    assert "this run      0.7   seeds 0, 1: 0.5   <- outside the committed range" in text
    assert "1 value(s) fall outside the committed range" in text


def test_a_timing_is_shown_but_never_flagged(tmp_path):
    payload = result(seed=0)
    payload["claims"] = [
        {"key": "fast", "statement": "s", "holds": True, "measured": {"big_sps": 900.0}}
    ]
    evidence.write(payload, tmp_path)
    claims = [Claim("fast", "s", True, {"big_sps": 2000.0})]
    text = "\n".join(evidence.report_lines("01_underfitting", "workshop", 0, claims, tmp_path))
    assert "varies with the machine's load" in text and "outside" not in text


def test_no_evidence_yet_is_said_and_smoke_prints_nothing(tmp_path):
    claims = [Claim("a", "a", True, {"acc": 0.9})]
    assert evidence.report_lines("01_underfitting", "full", 0, claims, tmp_path) == [
        "No committed evidence for 01_underfitting at the full profile yet."
    ]
    assert evidence.report_lines("01_underfitting", "smoke", 0, claims, tmp_path) == []


@pytest.mark.parametrize(
    ("value", "low", "high", "inside"),
    [(0.97875, 0.9787, 0.98, True), (0.9786, 0.9787, 0.98, True), (0.975, 0.9787, 0.98, False)],
)
def test_within_allows_only_the_printed_rounding(value, low, high, inside):
    assert evidence.within(value, low, high) is inside


def test_seed_span_reads_as_people_write_it():
    assert evidence.seed_span([2, 0, 1, 3, 4]) == "0–4"
    assert evidence.seed_span([0, 2]) == "0, 2"


def test_record_evidence_writes_and_refuses_with_reasons(tmp_path, monkeypatch, capsys):
    from coursetools import record_evidence as script

    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "01_underfitting.json").write_text(json.dumps(result(seed=3, a=0.9)))
    (runs / "01_underfitting.20261128-101010.prev.json").write_text("{}")
    smoke = tmp_path / "smoke"
    smoke.mkdir()
    (smoke / "02_overfitting.json").write_text(json.dumps(result(profile="smoke")))
    monkeypatch.setenv(evidence.EVIDENCE_ENV, str(tmp_path / "ev"))
    assert script.main([str(runs), str(smoke), str(tmp_path / "nothing")]) == 1
    out, err = capsys.readouterr()
    assert (tmp_path / "ev" / "workshop" / "01_underfitting" / "seed3.json").exists()
    assert "1/1 claims held" in out
    assert "smoke runs are plumbing checks" in err and "no lesson results here" in err
    # --only records the named lessons and leaves the folder's other (older) results alone
    (runs / "02_overfitting.json").write_text(json.dumps({**result(seed=3), "lesson": "02_x"}))
    assert script.main([str(runs), "--only", "01"]) == 0
    assert not (tmp_path / "ev" / "workshop" / "02_x").exists()
    assert "1 evidence file(s) written" in capsys.readouterr().out


# ----------------------------------------------------------------------------- committed evidence
def committed(profile: str) -> dict[str, dict[int, dict]]:
    return {lesson: evidence.load(profile, lesson, COMMITTED) for lesson in LESSONS}


def test_every_committed_file_is_trimmed_evidence_where_its_name_says():
    files = sorted(COMMITTED.glob("*/*/seed*.json"))
    assert files, "no committed evidence: run `make evidence` and commit evidence/"
    for path in files:
        payload = json.loads(path.read_text())
        assert evidence.trim(payload) == payload, path
        assert path == evidence.evidence_path(
            payload["profile"], payload["lesson"], payload["seed"], COMMITTED
        )
        assert payload["lesson"] in LESSONS, f"{path}: no such lesson"


def test_workshop_evidence_covers_every_lesson_at_seeds_0_to_4_and_every_claim_held():
    for lesson, seeds in committed("workshop").items():
        assert tuple(seeds) == WORKSHOP_SEEDS, (
            f"{lesson}: workshop evidence for seeds {list(seeds)}"
        )
        for seed, payload in seeds.items():
            failed = [c["key"] for c in payload["claims"] if not c["holds"]]
            assert not failed, f"{lesson} seed {seed}: workshop claims asserted but failed {failed}"


def test_evidence_claims_are_the_notebooks_claims():
    patterns = notebook_claim_patterns(ROOT / "notebooks")
    for profile in evidence.EVIDENCE_PROFILES:
        for lesson, seeds in committed(profile).items():
            for seed, payload in seeds.items():
                for claim in payload["claims"]:
                    assert key_in_notebook(claim["key"], patterns.get(lesson, [])), (
                        f"evidence/{profile}/{lesson}/seed{seed}.json has claim "
                        f"{claim['key']!r}, which {lesson}.ipynb no longer makes: re-record it"
                    )


@pytest.mark.parametrize("profile", evidence.EVIDENCE_PROFILES)
def test_every_ledger_number_is_in_the_evidence(profile):
    """A renamed claim key or measured value would silently empty a ledger row: fail here."""
    evidence_by_lesson = committed(profile)
    for article in ARTICLE_CLAIMS:
        for seed, payload in evidence_by_lesson[article.lesson].items():
            for number in article.numbers:
                try:
                    lookup(payload, number.path)
                except Missing as exc:
                    where = f"{profile} seed {seed}"
                    pytest.fail(f"ledger {article.id} ({number.name}), {where}: {exc}")


CLAIM_LINE = re.compile(r"^\[(holds|FAILS)\] (.*) \((.*)\)$")
VALUE = re.compile(r"(\w+)=(-?[0-9.]+(?:e[-+]?\d+)?)(?=, \w+=|$)")


def printed_claims(path) -> dict[str, dict[str, float]]:
    """Statement → numeric values, from the claim lines the notebook's last code cell printed
    (the key points, a markdown cell, come after it)."""
    nb = nbformat.read(path, as_version=4)
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    text = "".join(o.get("text", "") for o in last.get("outputs", []) if o.get("name") == "stdout")
    found = {}
    for line in text.splitlines():
        m = CLAIM_LINE.match(line)
        if m:
            found[m.group(2)] = {k: float(v) for k, v in VALUE.findall(m.group(3))}
    return found


@pytest.mark.parametrize("path", lesson_notebooks(), ids=lambda p: p.stem)
def test_the_committed_notebook_agrees_with_the_evidence(path):
    """The committed outputs (workshop, seed 0) print values inside the committed ranges."""
    seeds = evidence.load("workshop", path.stem, COMMITTED)
    assert seeds, f"no workshop evidence for {path.stem}"
    by_statement = {
        c["statement"]: (key, evidence.is_timed(c["measured"]))
        for payload in seeds.values()
        for key, c in ((c["key"], c) for c in payload["claims"])
    }
    ranges = evidence.claim_evidence(seeds)
    printed = printed_claims(path)
    assert printed, f"{path.name}: its last cell printed no claim lines"
    for statement, values in printed.items():
        assert statement in by_statement, f"{path.name}: printed claim not in evidence: {statement}"
        key, timed = by_statement[statement]
        for name, value in values.items():
            if timed or name not in ranges[key].ranges:
                continue
            low, high = ranges[key].ranges[name]
            assert evidence.within(value, low, high), (
                f"{path.name} {key}.{name} printed {value}, outside the committed "
                f"{evidence.range_text(low, high)}: re-run `make outputs` and `make evidence`"
            )


def test_claim_lines_print_one_claims_range_for_the_prose(tmp_path):
    for seed, value in ((0, 0.91), (1, 0.93), (2, 0.92)):
        evidence.write(result(seed=seed, a=value), tmp_path)
    assert evidence.claim_lines("workshop", "01_underfitting", "a", tmp_path) == [
        "a over the committed seeds 0–2 (workshop profile):",
        "  acc                      0.91–0.93",
        "  held at 3 of 3 seeds",
    ]
    assert evidence.claim_lines("full", "01_underfitting", "a", tmp_path) == [
        "a: no committed evidence at the full profile yet."
    ]


# ----------------------------------------------------------------------------- prose ranges
# A range of values in a sentence that speaks of seeds ("96–99% over seeds 0–4", "1.4 to 9.0
# points across seeds"). It has a printed source when a code cell above printed the same text.
NUMBER = r"[−+-]?\d[\d,]*(?:\.\d+)?"  # "−0.9", "+3.4", "2,555"
RANGE = re.compile(rf"(?<![\w.])({NUMBER})\s*(–|to)\s*({NUMBER})")
SEED_TALK = re.compile(
    r"\bseeds?\s+\d+\s*(?:–|-|to)\s*\d+|\b(?:over|across|every) seeds?\b|calibration", re.I
)
SEED_LIST = re.compile(r"seeds?\s*$", re.I)  # the "0–4" of "seeds 0–4" names seeds, not values


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+(?=[A-Z*(])|\n\n", text)


def unprinted_prose_ranges(path) -> list[str]:
    """The seed ranges the markdown states that no code cell above it printed."""
    nb = nbformat.read(path, as_version=4)
    printed, found = "", []
    for cell in nb.cells:
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                printed += out.get("text", "") or out.get("data", {}).get("text/plain", "")
            continue
        for sentence in _sentences(cell.source):
            flat = " ".join(sentence.split())
            if not SEED_TALK.search(flat):
                continue
            for m in RANGE.finditer(flat):
                if SEED_LIST.search(flat[: m.start()]):
                    continue
                low, _, high = m.groups()
                if f"{low}–{high}" not in printed and f"{low} to {high}" not in printed:
                    found.append(f"{m.group(0)!r} in: {flat[:120]}")
    return found


@pytest.mark.parametrize("path", lesson_notebooks(), ids=lambda p: p.stem)
def test_prose_seed_ranges_are_printed_above(path):
    found = unprinted_prose_ranges(path)
    listing = "\n".join(found)
    assert not found, (
        f"{path.name}: {len(found)} seed ranges in the prose that no cell above prints. Print "
        f"each from the evidence in a cell right above it (lesson.show_range), or cut it:\n"
        f"{listing}"
    )


def test_claim_lines_fall_back_to_extra_numbers_and_dicts_of_them(tmp_path):
    for seed, recall in ((0, {"1": 0.95, "3": 1.0}), (1, {"1": 0.96, "3": 0.99})):
        payload = result(seed=seed)
        payload["extra"] = {"per_class_recall": recall, "share": 0.3 + seed / 10}
        evidence.write(payload, tmp_path)
    lines = evidence.claim_lines("workshop", "01_underfitting", "per_class_recall", tmp_path)
    assert lines == [
        "per_class_recall over the committed seeds 0, 1 (workshop profile):",
        "  1                        0.95–0.96",
        "  3                        0.99–1",
    ]
    share = evidence.claim_lines("workshop", "01_underfitting", "share", tmp_path)
    assert share[1] == "  share                    0.3–0.4"


# ----------------------------------------------------------------------------- show_range
def _two_seeds(tmp_path):
    for seed, (acc, base) in enumerate(((0.9766, 0.95), (0.9921, 0.99))):
        payload = result(seed=seed, a=acc, b=base)
        payload["runs"][0]["gap"] = 0.02 + seed / 100
        payload["extra"] = {"metrics": {"lr 0.01": {"acc": acc}}, "loss": [306.0, 2555.0][seed]}
        evidence.write(payload, tmp_path)


def test_a_range_names_claim_values_extras_nested_entries_and_run_fields(tmp_path):
    _two_seeds(tmp_path)

    def values(ref, minus=None):
        return evidence.seed_values("workshop", "01_underfitting", ref, minus, tmp_path)

    assert values("a.acc") == {0: 0.9766, 1: 0.9921}
    assert values("extra.metrics.lr 0.01.acc") == {0: 0.9766, 1: 0.9921}  # a key with a dot
    assert values("run.mlp.gap") == pytest.approx({0: 0.02, 1: 0.03})
    assert values("a.acc", minus="b.acc") == pytest.approx({0: 0.0266, 1: 0.0021})
    misspelt = r"No number 'a\.accuracy'.*claim keys are: a, b"
    with pytest.raises(evidence.EvidenceError, match=misspelt):
        values("a.accuracy")


def test_a_range_prints_in_the_units_the_prose_quotes(tmp_path):
    _two_seeds(tmp_path)

    def line(ref, minus=None, **fmt):
        v = evidence.seed_values("workshop", "01_underfitting", ref, minus, tmp_path)
        return evidence.range_line(ref, v, minus=minus, **fmt)

    assert line("a.acc", unit="%") == "a.acc, seeds 0, 1 (workshop evidence): 97.7–99.2%"
    assert line("extra.loss", digits=0) == "extra.loss, seeds 0, 1 (workshop evidence): 306–2,555"
    assert line("a.acc", minus="b.acc", unit=" points").endswith(": 0.2–2.7 points")
    assert line("b.acc", minus="a.acc", unit=" points").endswith(": −2.7 to −0.2 points")
    crossing = evidence.range_line("d", {0: -0.009, 1: 0.034}, unit=" points")
    assert crossing == "d, seeds 0, 1 (workshop evidence): −0.9 to +3.4 points"
    assert evidence.range_line("d", {0: 0.5, 1: 0.5}, unit="%").endswith(": 50.0%")
    assert evidence.range_line("d", {}, profile="full") == (
        "d: no committed evidence at the full profile yet."
    )


def test_the_prose_check_finds_a_range_printed_only_below_or_not_at_all(tmp_path):
    md = nbformat.v4.new_markdown_cell
    printing = nbformat.v4.new_code_cell(
        "lesson.show_range(...)",
        outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="x: 97.7–99.2%\ny: −0.8 to +0.3")
        ],
    )
    prose = md("Dead units: 97.7–99.2% over seeds 0–4; the gap moved by −0.8 to +0.3 (seeds 0–4).")
    other = md("The articles say 80–90%. Over seeds 0–4 it was 3 to 7 points.")
    path = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[printing, prose]), path)
    assert unprinted_prose_ranges(path) == []
    nbformat.write(nbformat.v4.new_notebook(cells=[prose, printing, other]), path)
    found = unprinted_prose_ranges(path)
    assert [f.split(" in: ")[0] for f in found] == ["'97.7–99.2'", "'−0.8 to +0.3'", "'3 to 7'"]


def test_no_ledger_row_from_the_committed_evidence_asks_for_a_full_run():
    """Every article claim about full MNIST has a full-profile row beside the workshop one."""
    from coursetools.ledger import ARTICLE_CLAIMS, collect_results, ledger_rows

    found = collect_results([COMMITTED])
    rows = [row for claim in ARTICLE_CLAIMS for row in ledger_rows(claim, found.used)]
    asking = [
        (r.claim.id, r.profile) for r in rows if "run the full profile" in r.verdict.condition
    ]
    assert not asking, f"ledger rows that still ask for a full run: {asking}"
    assert {r.profile for r in rows} == {"workshop", "full"}


def test_held_at_every_seed_needs_two_seeds_and_leaves_timings_out(tmp_path):
    def write(seed, claims):
        path = tmp_path / "full" / "04_tuning" / f"seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"seed": seed, "claims": claims}))

    steady = {"key": "steady", "holds": True, "measured": {"gain": 1.0}}
    speed = {"key": "speed", "holds": True, "measured": {"ratio_sps": 7.0}}
    write(0, [steady, speed, {"key": "shaky", "holds": True, "measured": {}}])
    assert evidence.held_at_every_seed("full", "04_tuning", tmp_path) == (frozenset(), (0,))
    write(1, [steady, speed, {"key": "shaky", "holds": False, "measured": {}}])
    keys, seeds = evidence.held_at_every_seed("full", "04_tuning", tmp_path)
    assert keys == {"steady"} and seeds == (0, 1)


def test_data_size_lines_show_each_claim_at_both_sizes_and_the_numbers_that_change(tmp_path):
    def write(profile, seed, claims):
        path = tmp_path / profile / "02_overfitting" / f"seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"seed": seed, "claims": claims}))

    def claim(key, holds, gap):
        return {"key": key, "holds": holds, "measured": {"gap": gap}}

    for seed, gap in enumerate((0.06, 0.05)):
        write("workshop", seed, [claim("memorises", True, gap), claim("steady", True, 0.3)])
    write("full", 0, [claim("memorises", False, 0.017), claim("steady", True, 0.25)])
    lines = evidence.data_size_lines("02_overfitting", root=tmp_path)
    assert "4,000 digits (workshop, seeds 0, 1)" in lines[0] and "(full, official MNIST" in lines[0]
    assert lines[1] == "  memorises: 2/2 | 0/1   <- the verdict changes with the data size"
    assert lines[2] == "      gap: 0.05 to 0.06 | 0.017"
    assert lines[3] == "  steady: 2/2 | 1/1"  # same verdict: numbers only when asked for
    assert evidence.data_size_lines("02_overfitting", ("steady",), tmp_path)[3:] == [
        "  steady: 2/2 | 1/1",
        "      gap: 0.3 | 0.25",
    ]
    with pytest.raises(evidence.EvidenceError, match="no committed claim 'stedy'"):
        evidence.data_size_lines("02_overfitting", ("stedy",), tmp_path)


def test_every_lesson_shows_its_claims_at_both_data_sizes():
    for path in lesson_notebooks():
        sources = [c["source"] for c in json.loads(path.read_text())["cells"]]
        assert any("lesson.show_data_sizes(" in "".join(s) for s in sources), path.name
