"""The committed calibration evidence: each lesson's claims, measured at several seeds.

A lesson run saves its results (``<lesson>.json``) under ``build/``, which is never committed.
The evidence folder (``evidence/<profile>/<lesson>/seed<N>.json`` at the top of the
repository) keeps a trimmed copy of those results for the seeds a maintainer calibrated on:
every claim's measured values and verdict, each run's scores, the settings, the data source and
the software and CPU that produced them. It is small enough to review in a diff, and it lets a
fresh clone print seed ranges and rebuild the claims ledger without training anything.

Used by lesson 00–08's "What we measured" cell (through ``Lesson.finish``) to print each
claim's range over the committed seeds beside this run's value, by ``make report``, and by
``make evidence`` (``coursetools/record_evidence.py``), which writes it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursetools import formatting
from coursetools.files import write_text_keeping_previous
from coursetools.paths import repo_root
from coursetools.rules import judge

EVIDENCE_ENV = "COURSE_EVIDENCE_DIR"
EVIDENCE_PROFILES = ("workshop", "full")
# Run fields worth keeping: scores and cost. The per-epoch history and the diagnosis text are
# what make a results file large; the ledger and the ranges never read them.
RUN_FIELDS = (
    "name",
    "epochs",
    "n_train",
    "n_params",
    "wall_time_s",
    "samples_per_s",
    "train_acc",
    "val_acc",
    "test_acc",
    "best_val_acc",
    "best_epoch",
    "stopped_early",
    "gap",
)


# A claim that measures speed (samples per second) varies with the machine's load from one run
# to the next, even at the same seed: its range is shown, but a value outside it is not news.
TIMED_SUFFIXES = ("_sps", "_seconds")


def is_timed(measured: Mapping[str, Any]) -> bool:
    """Whether a claim's measured values include a speed or a duration."""
    return any(name.endswith(TIMED_SUFFIXES) for name in measured)


class EvidenceError(ValueError):
    """A results file that cannot become evidence (wrong profile, unverified data, ...)."""


def evidence_dir() -> Path:
    """``$COURSE_EVIDENCE_DIR`` if set (tests use it), else ``<repo>/evidence``."""
    env = os.environ.get(EVIDENCE_ENV)
    return Path(env).expanduser().resolve() if env else repo_root() / "evidence"


def evidence_path(profile: str, lesson: str, seed: int, root: Path | None = None) -> Path:
    """Where the evidence of ``lesson`` at ``profile`` and ``seed`` is kept."""
    return (root or evidence_dir()) / profile / lesson / f"seed{seed}.json"


def trim(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence kept from a lesson's results: everything but histories and file paths.

    Raises :class:`EvidenceError` for results that are not evidence: a smoke run, data that was
    not verified, or a full run on anything but the official 60,000/10,000 split.
    """
    for key in ("lesson", "profile", "seed", "settings", "data", "versions", "runs", "claims"):
        if key not in payload:
            raise EvidenceError(f"not a lesson results file: no {key!r} field")
    profile, data = payload["profile"], payload["data"] or {}
    where = f"{payload['lesson']} ({profile}, seed {payload['seed']})"
    if profile not in EVIDENCE_PROFILES:
        raise EvidenceError(
            f"{where}: only {' and '.join(EVIDENCE_PROFILES)} runs are evidence; "
            f"{profile} runs are plumbing checks."
        )
    if not data.get("verified"):
        raise EvidenceError(
            f"{where}: the data ({data.get('source')}) was not verified by checksum; "
            "evidence must come from a verified copy (python -m helpers.data --verify PATH)."
        )
    if profile == "workshop" and data.get("source") != "embedded":
        raise EvidenceError(f"{where}: workshop evidence uses the embedded digits, not {data}.")
    if profile == "full" and (data.get("n_train"), data.get("n_test")) != (60_000, 10_000):
        raise EvidenceError(
            f"{where}: full evidence needs the official 60,000/10,000 split; this run had "
            f"{data.get('n_train')}/{data.get('n_test')}."
        )
    return {
        "lesson": payload["lesson"],
        "profile": profile,
        "seed": payload["seed"],
        "data": {
            k: data.get(k) for k in ("source", "description", "verified", "n_train", "n_test")
        },
        "versions": dict(payload["versions"]),
        "settings": dict(payload["settings"]),
        "claims": list(payload["claims"]),
        "runs": [_trim_run(r) for r in payload["runs"]],
        "extra": dict(payload.get("extra") or {}),
    }


def _trim_run(run: Mapping[str, Any]) -> dict[str, Any]:
    kept = {k: run.get(k) for k in RUN_FIELDS if k in run}
    # the diagnosis's verdict only: its reason and numbers repeat the scores kept above
    verdict = (run.get("diagnosis") or {}).get("verdict") or run.get("verdict")
    if verdict:
        kept["verdict"] = verdict
    return kept


def write(payload: Mapping[str, Any], root: Path | None = None) -> Path:
    """Write the evidence of one results payload (see :func:`trim`); returns its path."""
    kept = trim(payload)
    path = evidence_path(kept["profile"], kept["lesson"], kept["seed"], root)
    text = json.dumps(kept, indent=1, allow_nan=False) + "\n"
    write_text_keeping_previous(path, text, keep=False)  # committed: git keeps its history
    return path


def load(profile: str, lesson: str, root: Path | None = None) -> dict[int, dict[str, Any]]:
    """The committed evidence of ``lesson`` at ``profile``, by seed (empty when there is none)."""
    folder = (root or evidence_dir()) / profile / lesson
    found: dict[int, dict[str, Any]] = {}
    for path in sorted(folder.glob("seed*.json")):
        payload = json.loads(path.read_text())
        found[int(payload["seed"])] = payload
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class ClaimEvidence:
    """One claim over the committed seeds: how often it held and each value's range."""

    key: str
    seeds: tuple[int, ...]
    held: int
    ranges: dict[str, tuple[float, float]]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if not math.isfinite(value) else float(value)


def claim_evidence(evidence: Mapping[int, Mapping[str, Any]]) -> dict[str, ClaimEvidence]:
    """Per claim key: the seeds it was measured at, how many held, and each numeric value's
    (min, max) over them."""
    seen: dict[str, dict[str, Any]] = {}
    for seed, payload in evidence.items():
        for claim in payload["claims"]:
            entry = seen.setdefault(claim["key"], {"seeds": [], "held": 0, "values": {}})
            entry["seeds"].append(seed)
            entry["held"] += bool(claim["holds"])
            for name, value in claim["measured"].items():
                number = _number(value)
                if number is not None:
                    entry["values"].setdefault(name, []).append(number)
    return {
        key: ClaimEvidence(
            key,
            tuple(e["seeds"]),
            e["held"],
            {n: (min(v), max(v)) for n, v in e["values"].items()},
        )
        for key, e in seen.items()
    }


def held_at_every_seed(
    profile: str, lesson: str, root: Path | None = None, min_seeds: int = 2
) -> tuple[frozenset[str], tuple[int, ...]]:
    """The claim keys of ``lesson`` that held at every committed seed of ``profile``, and those
    seeds; no keys when fewer than ``min_seeds`` seeds are committed (one seed calibrates
    nothing). Claims on a timing are left out: their values follow the machine's load."""
    evidence = load(profile, lesson, root)
    if len(evidence) < min_seeds:
        return frozenset(), tuple(evidence)
    by_key = claim_evidence(evidence)
    timed = {
        c["key"]
        for payload in evidence.values()
        for c in payload["claims"]
        if is_timed(c["measured"])
    }
    every = {
        k
        for k, ev in by_key.items()
        if ev.held == len(evidence) == len(ev.seeds) and k not in timed
    }
    return frozenset(every), tuple(evidence)


def seed_span(seeds: Sequence[int]) -> str:
    """``0–4`` for consecutive seeds, else ``0, 2, 5``."""
    s = sorted(set(seeds))
    if len(s) > 2 and s == list(range(s[0], s[-1] + 1)):
        return f"{s[0]}–{s[-1]}"
    return ", ".join(str(x) for x in s)


def range_text(low: float, high: float) -> str:
    """``0.9787`` when both ends print the same, else ``0.9763–0.9812``."""
    low_text, high_text = formatting.number(low), formatting.number(high)
    return low_text if low_text == high_text else f"{low_text}–{high_text}"


def within(value: float, low: float, high: float) -> bool:
    """``low ≤ value ≤ high``, allowing for the 4 significant digits values are printed with."""
    slack = 1e-9 + 5e-4 * max(abs(low), abs(high), abs(value))
    return low - slack <= value <= high + slack


def extra_ranges(evidence: Mapping[int, Mapping[str, Any]], name: str) -> dict[str, tuple]:
    """An extra number's (min, max) over the seeds that recorded it; for a dict of numbers
    (e.g. recall per digit), one range per entry."""
    values: dict[str, list[float]] = {}
    for payload in evidence.values():
        value = (payload.get("extra") or {}).get(name)
        items = value.items() if isinstance(value, Mapping) else [(name, value)]
        for label, v in items:
            number = _number(v)
            if number is not None:
                values.setdefault(str(label), []).append(number)
    return {label: (min(v), max(v)) for label, v in values.items()}


def claim_lines(profile: str, lesson: str, key: str, root: Path | None = None) -> list[str]:
    """One claim's values (or one extra number's) over the committed seeds, for prose that
    quotes a seed range."""
    evidence = load(profile, lesson, root)
    ev = claim_evidence(evidence).get(key)
    if ev is None:
        ranges = extra_ranges(evidence, key)
        if not ranges:
            return [f"{key}: no committed evidence at the {profile} profile yet."]
        seeds = [s for s, p in evidence.items() if key in (p.get("extra") or {})]
        lines = [f"{key} over the committed seeds {seed_span(seeds)} ({profile} profile):"]
        lines += [f"  {label:<24} {range_text(lo, hi)}" for label, (lo, hi) in ranges.items()]
        return lines
    lines = [f"{key} over the committed seeds {seed_span(ev.seeds)} ({profile} profile):"]
    for name, (low, high) in ev.ranges.items():
        lines.append(f"  {name:<24} {range_text(low, high)}")
    lines.append(f"  held at {ev.held} of {len(ev.seeds)} seeds")
    return lines


def _walk(value: Any, path: str) -> Any:
    """``value[a][b]`` for ``path`` "a.b", where a key may itself contain dots ("lr 0.01")."""
    if not path:
        return value
    if not isinstance(value, Mapping):
        return None
    if path in value:
        return value[path]
    for key in sorted(value, key=lambda k: -len(str(k))):  # the longest key that fits first
        if path.startswith(f"{key}."):
            return _walk(value[key], path[len(str(key)) + 1 :])
    return None


def recorded_value(payload: Mapping[str, Any], ref: str) -> float | None:
    """One number of one seed's evidence, named by ``ref``:

    - ``"<claim key>.<measured name>"`` — a value a claim measured;
    - ``"extra.<name>"`` (``"extra.<name>.<entry>"`` inside a dict) — a number the lesson kept;
    - ``"run.<run name>.<field>"`` — a score of one run (see ``RUN_FIELDS``).
    """
    head, _, rest = ref.partition(".")
    if head == "extra":
        return _number(_walk(payload.get("extra") or {}, rest))
    if head == "run":
        name, _, field = rest.rpartition(".")
        runs = [r for r in payload.get("runs", []) if r.get("name") == name]
        return _number(runs[0].get(field)) if runs else None
    claims = [c for c in payload.get("claims", []) if c["key"] == head]
    return _number(claims[0]["measured"].get(rest)) if claims else None


def seed_values(
    profile: str, lesson: str, ref: str, minus: str | None = None, root: Path | None = None
) -> dict[int, float]:
    """``ref``'s value (less ``minus``'s, when given) at each committed seed that recorded it."""
    evidence = load(profile, lesson, root)
    values = {}
    for seed, payload in evidence.items():
        value = recorded_value(payload, ref)
        other = recorded_value(payload, minus) if minus else 0.0
        if value is not None and other is not None:
            values[seed] = value - other
    if evidence and not values:  # a misspelt name must not read as "no evidence yet"
        keys = sorted({c["key"] for p in evidence.values() for c in p["claims"]})
        raise EvidenceError(
            f"No number {ref!r}{f' or {minus!r}' if minus else ''} in the {profile} evidence of "
            f"{lesson}. Name one as '<claim key>.<measured name>', 'extra.<name>' or "
            f"'run.<run name>.<field>'; its claim keys are: {', '.join(keys)}."
        )
    return values


def seed_verdicts(
    profile: str, lesson: str, run_name: str, root: Path | None = None
) -> dict[int, str]:
    """The diagnosis verdict of the run called ``run_name`` at each committed seed."""
    evidence = load(profile, lesson, root)
    verdicts = {
        seed: run["verdict"]
        for seed, payload in evidence.items()
        for run in payload["runs"]
        if run.get("name") == run_name and run.get("verdict")
    }
    if evidence and not verdicts:  # a misspelt name must not read as "no evidence yet"
        names = sorted({r["name"] for p in evidence.values() for r in p["runs"]})
        raise EvidenceError(
            f"No verdict of a run {run_name!r} in the {profile} evidence of {lesson}; "
            f"its runs are: {', '.join(names)}."
        )
    return verdicts


def verdict_line(run_name: str, verdicts: Mapping[int, str], profile: str = "workshop") -> str:
    """``mlp verdict, seeds 0–4 (workshop evidence): overfitting (seeds 0, 1, 3);
    not yet converged (seeds 2, 4)`` — the most frequent verdict first."""
    if not verdicts:
        return f"{run_name} verdict: no committed evidence at the {profile} profile yet."
    seeds_of: dict[str, list[int]] = {}
    for seed in sorted(verdicts):
        seeds_of.setdefault(verdicts[seed], []).append(seed)
    parts = [
        f"{verdict} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})"
        for verdict, seeds in sorted(seeds_of.items(), key=lambda kv: (-len(kv[1]), kv[1][0]))
    ]
    return f"{run_name} verdict, seeds {seed_span(list(verdicts))} ({profile} evidence): " + (
        "; ".join(parts)
    )


def _number_text(value: float, digits: int, signed: bool) -> str:
    text = f"{value:+,.{digits}f}" if signed else f"{value:,.{digits}f}"
    return text.replace("-", "−")  # a typographic minus, as the prose writes it


UNIT_SCALE = {"": 1.0, "%": 100.0, " points": 100.0, " million": 1e-6}


def range_line(
    ref: str,
    values: Mapping[int, float],
    *,
    unit: str = "",
    digits: int = 1,
    minus: str | None = None,
    profile: str = "workshop",
) -> str:
    """``ref, seeds 0–4 (workshop evidence): 97.7–99.2%`` for prose that quotes the range.

    ``unit`` is ``"%"`` or ``" points"`` (values are fractions, printed × 100),
    ``" million"`` (printed ÷ 1,000,000) or ``""`` (printed as recorded); each end is rounded to
    ``digits`` decimals.
    """
    name = f"{ref} − {minus}" if minus else ref
    if not values:
        return f"{name}: no committed evidence at the {profile} profile yet."
    scale = UNIT_SCALE.get(unit, 1.0)
    low, high = min(values.values()) * scale, max(values.values()) * scale
    signed = unit == " points" and low < 0 < high
    sep = " to " if low < 0 else "–"  # "−2.7–−0.2" would read as a subtraction
    ends = _number_text(low, digits, signed)
    if _number_text(high, digits, signed) != ends:
        ends += sep + _number_text(high, digits, signed)
    return f"{name}, seeds {seed_span(list(values))} ({profile} evidence): {ends}{unit}"


def report_lines(
    lesson: str, profile: str, seed: int, claims: Iterable[Any], root: Path | None = None
) -> list[str]:
    """Lines printed under a lesson's claims: each value of this run next to its range over the
    committed seeds at the same profile, and any value that falls outside it."""
    evidence = load(profile, lesson, root)
    if profile not in EVIDENCE_PROFILES:
        return []
    if not evidence:
        return [f"No committed evidence for {lesson} at the {profile} profile yet."]
    by_key = claim_evidence(evidence)
    seeds = list(evidence)
    lines = [
        f"This run (seed {seed}) against the committed evidence "
        f"(evidence/{profile}/{lesson}/, seeds {seed_span(seeds)}):"
    ]
    outside = []
    for claim in claims:
        ev = by_key.get(claim.key)
        if ev is None:
            lines.append(f"  {claim.key}: not in the committed evidence (a new claim?)")
            continue
        timed = is_timed(claim.measured)
        note = " (a timing: it varies with the machine's load)" if timed else ""
        lines.append(f"  {claim.key}: held at {ev.held} of {len(ev.seeds)} seeds{note}")
        for name, value in claim.measured.items():
            number = _number(value)
            if number is None or name not in ev.ranges:
                continue
            low, high = ev.ranges[name]
            inside = timed or within(number, low, high)
            flag = "" if inside else "   <- outside the committed range"
            if flag:
                outside.append(f"{claim.key}.{name}")
            lines.append(
                f"    {name:<24} this run {formatting.number(number):>8}   "
                f"seeds {seed_span(ev.seeds)}: {range_text(low, high)}{flag}"
            )
    if outside:
        lines.append(
            f"{len(outside)} value(s) fall outside the committed range: another seed, a changed "
            "lesson,\nother software or another kind of CPU (each evidence file names its own). "
            "Not an error:\n`make evidence` re-records the evidence."
        )
    return lines


SIZE_LABELS = {"workshop": "4,000 digits", "full": "60,000 digits"}


def _value_range(low: float, high: float) -> str:
    ends = formatting.number(low)
    return ends if formatting.number(high) == ends else f"{ends} to {formatting.number(high)}"


def data_size_lines(lesson: str, also: Sequence[str] = (), root: Path | None = None) -> list[str]:
    """Each claim of ``lesson`` at both data sizes, from the committed evidence alone: at how
    many seeds the workshop's claim held on its 4,000 digits and on the official 60,000 (full;
    the workshop's rule re-judged on the numbers measured there), and, for a claim whose
    verdict differs or that ``also`` names, the range of each of its numbers at both sizes.
    Where the full profile asserts its own version of a claim, that version follows."""
    unknown = [k for k in also if k not in claim_evidence(load("workshop", lesson, root))]
    if unknown:
        raise EvidenceError(f"{lesson} has no committed claim {', '.join(map(repr, unknown))}.")
    loaded = {p: load(p, lesson, root) for p in SIZE_LABELS}
    by_size = {p: claim_evidence(loaded[p]) for p in SIZE_LABELS}
    full_claims = _claims_by_key(loaded["full"])
    seeds = {
        p: seed_span(sorted({s for ev in by_size[p].values() for s in ev.seeds})) for p in by_size
    }
    if not by_size["full"]:
        return [f"{lesson}: no committed full-profile evidence yet (make evidence PROFILE=full)."]
    lines = [
        "Committed results, no training: claims held at how many seeds, on "
        f"{SIZE_LABELS['workshop']} (workshop, seeds {seeds['workshop']}) | "
        f"{SIZE_LABELS['full']} (full, official MNIST, seeds {seeds['full']})"
    ]
    for key, small in by_size["workshop"].items():
        large = by_size["full"].get(key)
        if large is None:
            lines.append(f"  {key}: {small.held}/{len(small.seeds)} | not measured at full")
            continue
        # the workshop's claim, judged on the numbers measured at full
        workshop_rule = _claims_by_key(loaded["workshop"])[key][0].get("rule")
        at_full = full_claims[key]
        held = large.held
        if workshop_rule and at_full[0].get("rule") != workshop_rule:
            held = sum(judge(workshop_rule, c["measured"]) for c in at_full)
        same = small.held / len(small.seeds) == held / len(large.seeds)
        mark = "" if same else "   <- the verdict changes with the data size"
        lines.append(f"  {key}: {small.held}/{len(small.seeds)} | {held}/{len(large.seeds)}{mark}")
        if not same or key in also:
            for name, (lo, hi) in small.ranges.items():
                if name in large.ranges:
                    at_full_range = _value_range(*large.ranges[name])
                    lines.append(f"      {name}: {_value_range(lo, hi)} | {at_full_range}")
        if workshop_rule and at_full[0].get("rule", workshop_rule) != workshop_rule:
            lines.append(
                f"      at full the lesson claims instead (held {large.held}/{len(large.seeds)}): "
                f"{at_full[0]['statement']}"
            )
    return lines


def _claims_by_key(evidence: Mapping[int, Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each claim key's recorded claims, one per committed seed."""
    found: dict[str, list[dict[str, Any]]] = {}
    for payload in evidence.values():
        for claim in payload["claims"]:
            found.setdefault(claim["key"], []).append(claim)
    return found
