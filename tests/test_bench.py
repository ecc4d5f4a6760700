"""coursetools/bench.py: its pure parts (tables, ratios, result files, options, the reference
writer) on tiny synthetic inputs. Nothing here times anything or starts a kernel."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from coursetools import bench, files

ROOT = Path(__file__).resolve().parent.parent

LESSONS = ["00_data_and_baseline", "01_underfitting", "08_class_imbalance"]


def test_median_ignores_missing_values():
    assert bench.median([3.0, None, 1.0, float("nan"), 2.0]) == 2.0
    assert bench.median([4.0, 1.0]) == 2.5
    assert bench.median([None]) is None


def test_compare_rates_uses_per_round_ratios():
    # round 2 is slowed for both paths: the per-round ratio stays 2, the medians do not
    res = bench.compare_rates([200.0, 20.0, 220.0], [100.0, 10.0, 100.0])
    assert res["ratios"] == [2.0, 2.0, 2.2]
    assert res["ratio_median"] == 2.0
    assert res["course_median"] == 200.0 and res["other_median"] == 100.0


def test_compare_rates_rejects_unpaired_measurements():
    with pytest.raises(ValueError, match="same non-zero number"):
        bench.compare_rates([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="same non-zero number"):
        bench.compare_rates([], [])


def test_rotated_orders_each_variant_first_once():
    rounds = [bench.rotated(["a", "b", "c"], r) for r in range(4)]
    assert rounds == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]
    assert bench.rotated([], 3) == []


def test_markdown_table_formats_cells():
    text = bench.markdown_table(
        ["a", "b", "c"], [["x|y", 1234.567, None], ["z", 0.012345, 7], ["w", 12.34, 1.5]]
    )
    lines = text.splitlines()
    assert lines[0] == "| a | b | c |"
    assert lines[1] == "|---|---|---|"
    assert lines[2] == "| x\\|y | 1,235 | — |"
    assert lines[3] == "| z | 0.0123 | 7 |"
    assert lines[4] == "| w | 12.3 | 1.50 |"
    with pytest.raises(ValueError, match="2 cells, expected 3"):
        bench.markdown_table(["a", "b", "c"], [[1, 2]])


def test_write_results_keeps_the_previous_files(tmp_path):
    first = bench.write_results(tmp_path, {"run": 1}, "# one\n")
    assert first == []
    kept = bench.write_results(tmp_path, {"run": 2}, "# two\n")
    assert sorted(p.suffix for p in kept) == [".json", ".md"]
    assert all(p.name.startswith("bench.") and ".prev." in p.name for p in kept)
    assert json.loads((tmp_path / "bench.json").read_text()) == {"run": 2}
    assert json.loads(kept[0].read_text()) == {"run": 1}
    assert kept[1].read_text() == "# one\n"
    bench.write_results(tmp_path, {"run": 3}, "# three\n")  # every generation is kept
    kept_json = files.generations(tmp_path / "bench.json")  # oldest first
    assert [json.loads(p.read_text()) for p in kept_json] == [{"run": 1}, {"run": 2}]
    assert not list(tmp_path.glob("*.tmp*"))


def test_keep_previous_moves_folders(tmp_path):
    folder = tmp_path / "smoke-seed0"
    folder.mkdir()
    (folder / "a.json").write_text("{}")
    kept = bench.keep_previous(folder)
    assert kept.parent == tmp_path and kept.name.startswith("smoke-seed0.")
    assert kept.name.endswith(".prev")
    assert not folder.exists() and (kept / "a.json").exists()
    assert bench.keep_previous(folder) is None


def test_select_lessons():
    assert bench.select_lessons(LESSONS, None) == LESSONS
    assert bench.select_lessons(LESSONS, ["08", "00"]) == [LESSONS[0], LESSONS[2]]
    with pytest.raises(ValueError, match="two-digit"):
        bench.select_lessons(LESSONS, ["8"])
    with pytest.raises(ValueError, match="05 matches no lesson"):
        bench.select_lessons(LESSONS, ["00", "05"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repeats", "0"], "positive integer"),
        (["--repeats", "two"], "positive integer"),
        (["--epochs", "1"], "at least 2"),
        (["--profiles", "fast"], "invalid choice"),
        (["--only", "42"], "42 matches no lesson"),
        (["--skip-notebooks", "--skip-throughput"], "nothing to measure"),
        (["--skip-notebooks", "--write-reference"], "drop --skip-notebooks"),
    ],
)
def test_bad_options_exit_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.parse_args(argv, LESSONS)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_good_options():
    args = bench.parse_args(["--only", "01", "--profiles", "smoke", "smoke", "full"], LESSONS)
    assert args.lessons == ["01_underfitting"]
    assert args.profiles == ["smoke", "full"]
    default = bench.parse_args([], LESSONS)
    assert default.profiles == ["smoke", "workshop"] and default.lessons == LESSONS


def test_write_reference_merges_into_a_copy(tmp_path):
    path = tmp_path / "reference_timings.json"
    shutil.copy(bench.REFERENCE_TIMINGS, path)
    before = json.loads(path.read_text())
    old_workshop = dict(before["seconds"]["workshop"])
    new = bench.write_reference(
        path,
        {"workshop": {"08_class_imbalance": 12.345}, "smoke": {"00_data_and_baseline": 6.04}},
        {"cpu_count": 3, "platform": "Test x"},
        "today, test",
        speed=None,
    )
    assert json.loads(path.read_text()) == new
    assert new["seconds"]["workshop"]["08_class_imbalance"] == 12.3
    assert new["seconds"]["smoke"]["00_data_and_baseline"] == 6.0
    untouched = {k: v for k, v in old_workshop.items() if k != "08_class_imbalance"}
    assert {k: new["seconds"]["workshop"][k] for k in untouched} == untouched
    assert new["measured"] == "today, test"
    assert new["machine"]["cpu_count"] == 3 and new["machine"]["platform"] == "Test x"
    assert new["machine"]["speed_samples_per_s"] == before["machine"]["speed_samples_per_s"]
    assert new["about"] == before["about"]
    again = bench.write_reference(path, {"smoke": {"01_underfitting": 5}}, {}, "later", 1234.5)
    assert again["machine"]["speed_samples_per_s"] == 1234.5
    expected_smoke = {**before["seconds"]["smoke"], "00_data_and_baseline": 6.0}
    expected_smoke["01_underfitting"] = 5.0
    assert again["seconds"]["smoke"] == expected_smoke


def test_write_reference_errors(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        bench.write_reference(tmp_path / "missing.json", {"smoke": {"a": 1}}, {}, "x", None)
    path = tmp_path / "ref.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match="nothing to write"):
        bench.write_reference(path, {}, {}, "x", None)
    assert path.read_text() == "{}"


def test_render_markdown_from_a_synthetic_payload():
    summary = {
        "samples_per_s": 1000.0,
        "steady_samples_per_s": 1200.0,
        "first_epoch_s": 2.0,
        "steady_epoch_s": 1.0,
        "n_params": 10,
        "val_acc": 0.5,
        "same_numbers_as_default": True,
    }
    payload = {
        "started": "s",
        "finished": "f",
        "command": "python -m coursetools.bench",
        "load_before": [1.0, 1.0, 1.0],
        "load_after": [2.0, 2.0, 2.0],
        "machine": {"cpu_count": 2, "platform": "Linux", "versions": {"keras": "3"}},
        "notebooks": {
            "profiles": {
                "smoke": {
                    "total_s": 9.0,
                    "load_before": None,
                    "load_after": None,
                    "lessons": {
                        "00_x": {
                            "seconds": 9.0,
                            "training_s": 4.0,
                            "peak_rss_mib": 700.0,
                            "status": "ok",
                        }
                    },
                }
            },
            "not_runnable": {"full": bench.FULL_NOT_RUNNABLE},
        },
        "throughput": {
            "n_train": 3200,
            "n_val": 800,
            "epochs": 2,
            "repeats": 1,
            "article_fit": "model.fit(...)",
            "models": {
                "cnn": {
                    "paths": {"course": summary, "article": summary},
                    "course_vs_article": {"ratio_median": 1.5},
                    "course_vs_plain_same_batch": {"ratio_median": 0.9},
                }
            },
            "knobs": {
                "batch_size": {"batch 32": summary},
                "input_pipeline": {"arrays": summary},
                "model_size": {"cnn": summary},
            },
        },
        "threads": {"TF default": summary},
        "startup": {"kernel_start_s": 1.5},
    }
    text = bench.render_markdown(payload)
    assert "| 00_x | 9.00 | 4.00 | 5.00 | 700 | ok |" in text
    assert "`full`: not runnable" in text
    assert "| cnn | 1.50 | 0.9 |" in text
    assert "| TF default | 1,000 | 1,200 | True |" in text
    assert "| kernel_start_s | 1.50 |" in text


def test_full_profile_needs_verified_local_data(isolated_env, monkeypatch):
    ok, why = bench.full_data_status()
    assert not ok and why == bench.FULL_NOT_RUNNABLE
    cache = isolated_env / "keras" / "datasets" / "mnist.npz"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not an npz")
    ok, why = bench.full_data_status()
    assert not ok and why.startswith(bench.FULL_NOT_RUNNABLE) and "damaged" in why
    monkeypatch.setenv("MNIST_PATH", str(isolated_env / "nowhere.npz"))
    ok, why = bench.full_data_status()
    assert not ok and "does not exist" in why
