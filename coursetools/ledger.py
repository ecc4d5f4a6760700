"""The claims ledger: what the articles in ``shared/seeds/`` claim, which lesson measures it,
and what the lessons' results files say about it.

:data:`ARTICLE_CLAIMS` is the registry: one small frozen record per article claim, with our own
paraphrase, the seed articles that make it (by file number, e.g. ``"002"``), the lesson that
tests it, the :class:`Number` s it is judged on (each a path into one results file written by
``lesson.finish()``) and a ``judge`` that turns the numbers of ONE results file into a
:class:`Verdict`. Nothing in a row is typed in by hand: :func:`ledger_row` fills it from the
results files and :func:`aggregate` combines the seeds. ``coursetools/report.py`` renders it.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from coursetools import formatting
from coursetools.files import is_generation
from coursetools.rules import lesson_claims

HOLDS = "holds"
FAILS = "does not hold"
DEPENDS = "depends"
NOT_MEASURED = "not measured in this run"
STATUSES = (HOLDS, FAILS, DEPENDS)

#: the official MNIST training set; below ~90% of it the articles' full-data figures are
#: expected to be higher than what we measure
FULL_MNIST_TRAIN = 60_000
RUN_FULL = "(run the full profile)"
SEE_FULL_ROW = "(the full-profile row below measures it)"
#: how far (in accuracy) a measured figure may lie outside an article's figure and still match
FIGURE_TOLERANCE = 0.01

RESULT_KEYS = ("lesson", "profile", "seed", "runs", "claims")


# ----------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Verdict:
    """holds / does not hold / depends, and the condition or evidence in words."""

    status: str
    condition: str

    def text(self) -> str:
        return f"**{self.status}** — {self.condition}" if self.condition else f"**{self.status}**"


@dataclass(frozen=True)
class Number:
    """One input of a verdict: its name for the judge, where it is in a results file, and
    (when ``label`` is set) how the report shows it.

    ``path`` starts with ``"claims"`` (then the claim key and ``"holds"`` or a measured field),
    ``"runs"`` (run name, attribute), ``"extra"``, ``"settings"`` or ``"data"`` (then keys).
    ``fmt`` is one of ``pct`` (a fraction as a percentage), ``pts`` (already in points),
    ``dpts`` (a difference of fractions, in points), ``num``, ``int``, ``text``, ``ratio``.
    """

    name: str
    path: tuple[str | int, ...]
    label: str = ""
    fmt: str = "pct"


@dataclass(frozen=True)
class ArticleClaim:
    """A claim the seed articles make, and how the course measures it."""

    id: str
    topic: str
    paraphrase: str
    seeds: tuple[str, ...]
    lesson: str
    numbers: tuple[Number, ...]
    judge: Callable[[Mapping[str, Any]], Verdict]

    @property
    def claim_keys(self) -> tuple[str, ...]:
        """The lesson claim keys whose numbers this entry reads."""
        keys = (str(n.path[1]) for n in self.numbers if n.path[0] == "claims")
        return tuple(dict.fromkeys(keys))


@dataclass(frozen=True)
class ResultFile:
    """One lesson results file (``<lesson>.json``) found on disk."""

    path: Path
    payload: Mapping[str, Any]
    mtime: float

    @property
    def lesson(self) -> str:
        return str(self.payload["lesson"])

    @property
    def profile(self) -> str:
        return str(self.payload["profile"])

    @property
    def seed(self) -> int:
        return int(self.payload["seed"])

    @property
    def data(self) -> Mapping[str, Any]:
        return self.payload.get("data") or {}


@dataclass(frozen=True)
class SeedResult:
    """One claim judged on one results file: the numbers and verdict, or why it was not."""

    seed: int
    numbers: Mapping[str, Any] | None
    verdict: Verdict | None
    missing: str = ""


@dataclass(frozen=True)
class LedgerRow:
    """One row of the ledger: an article claim with every seed's numbers and the verdict."""

    claim: ArticleClaim
    profile: str | None
    sources: tuple[str, ...]
    seeds: tuple[SeedResult, ...]
    verdict: Verdict


class Missing(LookupError):
    """A number the verdict needs is not in the results file."""


# ----------------------------------------------------------------------------- formatting
pct, pts, count = formatting.pct, formatting.signed_points, formatting.count


def format_value(value: Any, fmt: str) -> str:
    """Show one number the way :class:`Number.fmt` asks."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if fmt == "pct":
            return pct(value)
        if fmt == "pts":
            return pts(value) + " pts"
        if fmt == "dpts":
            return pts(100 * value) + " pts"
        if fmt == "int":
            return count(value)
        if fmt == "ratio":
            return f"{value:.2f}×"
        if fmt == "num":
            return f"{value:.3g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {format_value(v, fmt)}" for k, v in value.items())
    return str(value)


# ----------------------------------------------------------------------------- reading numbers
def lookup(payload: Mapping[str, Any], path: Sequence[str | int]) -> Any:
    """The value at ``path`` in a results file, or :class:`Missing` saying what is absent."""
    head, *rest = path
    if head == "claims":
        key, *fields = rest
        claim = next((c for c in payload.get("claims", []) if c.get("key") == key), None)
        if claim is None:
            raise Missing(f"claim '{key}' not in this file")
        node: Any = claim if fields[:1] == ["holds"] else claim.get("measured", {})
        trail = [f"claim '{key}'"]
    elif head == "runs":
        name, *fields = rest
        node = next((r for r in payload.get("runs", []) if r.get("name") == name), None)
        if node is None:
            raise Missing(f"run '{name}' not in this file")
        trail = [f"run '{name}'"]
    else:
        node, fields, trail = payload.get(head), rest, [str(head)]
        if node is None:
            raise Missing(f"no '{head}' block in this file")
    for f in fields:
        trail.append(str(f))
        if isinstance(node, Mapping) and f in node:
            node = node[f]
        elif isinstance(node, list) and isinstance(f, int) and -len(node) <= f < len(node):
            node = node[f]
        else:
            raise Missing(f"{' → '.join(trail)} missing")
    if node is None or (isinstance(node, float) and math.isnan(node)):
        raise Missing(f"{' → '.join(trail)} is empty")
    return node


def judge_file(claim: ArticleClaim, result: ResultFile) -> SeedResult:
    """Read ``claim``'s numbers from one results file and judge them."""
    try:
        numbers = {n.name: lookup(result.payload, n.path) for n in claim.numbers}
    except Missing as exc:
        return SeedResult(result.seed, None, None, f"{NOT_MEASURED}: {exc}")
    try:
        verdict = claim.judge(numbers)
    except (KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
        return SeedResult(result.seed, numbers, None, f"{NOT_MEASURED}: unexpected numbers ({exc})")
    return SeedResult(result.seed, numbers, verdict)


def _mean_value(values: list[Any]) -> Any:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return statistics.fmean(values)
    if all(isinstance(v, Mapping) for v in values):
        shared = [k for k in values[0] if all(k in v for v in values)]
        return {k: _mean_value([v[k] for v in values]) for k in shared}
    return values[0]


def mean_numbers(numbers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Numbers averaged over seeds (dicts per key); non-numeric values from the first seed."""
    return {k: _mean_value([n[k] for n in numbers]) for k in numbers[0]}


def aggregate(claim: ArticleClaim, seeds: Sequence[SeedResult]) -> Verdict:
    """All measured seeds agree → that verdict (its condition from the seeds' mean numbers);
    they disagree → ``depends`` (differs between seeds, k of n hold); none → not measured."""
    judged = [s for s in seeds if s.verdict is not None]
    unmeasured = len(seeds) - len(judged)
    note = f" ({unmeasured} of {len(seeds)} seeds not measured)" if unmeasured else ""
    if not judged:
        reason = seeds[0].missing if seeds else f"{NOT_MEASURED}: no results for {claim.lesson}"
        return Verdict(NOT_MEASURED, reason.removeprefix(NOT_MEASURED + ": "))
    statuses = {s.verdict.status for s in judged}  # type: ignore[union-attr]
    if len(statuses) == 1:
        status = statuses.pop()
        if len(judged) == 1:
            return Verdict(status, judged[0].verdict.condition + note)  # type: ignore[union-attr]
        mean = claim.judge(mean_numbers([s.numbers for s in judged]))  # type: ignore[misc]
        return Verdict(status, f"{mean.condition} (numbers: mean of {len(judged)} seeds){note}")
    k = sum(s.verdict.status == HOLDS for s in judged)  # type: ignore[union-attr]
    each = "; ".join(f"s{s.seed}: {s.verdict.status}" for s in judged)  # type: ignore[union-attr]
    return Verdict(DEPENDS, f"differs between seeds, {k} of {len(judged)} hold ({each}){note}")


def values_text(claim: ArticleClaim, seeds: Sequence[SeedResult]) -> list[str]:
    """One line per shown number: every seed's value, and the mean when there are several."""
    lines = []
    for n in claim.numbers:
        if not n.label:
            continue
        parts, nums = [], []
        for s in seeds:
            if s.numbers is None:
                parts.append(f"— (s{s.seed})")
                continue
            v = s.numbers[n.name]
            parts.append(f"{format_value(v, n.fmt)} (s{s.seed})")
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                nums.append(v)
        mean = (
            f"; mean {format_value(statistics.fmean(nums), n.fmt)}"
            if len(nums) > 1 and n.fmt != "text"
            else ""
        )
        lines.append(f"{n.label}: {' '.join(parts)}{mean}")
    return lines


PROFILE_PREFERENCE = ("full", "workshop", "smoke")


def _rank(profile: str) -> int:
    return PROFILE_PREFERENCE.index(profile) if profile in PROFILE_PREFERENCE else 99


def _profiles(claim: ArticleClaim, results: Iterable[ResultFile]) -> list[str]:
    """The profiles with results for ``claim``'s lesson, the one with the most data first."""
    return sorted({r.profile for r in results if r.lesson == claim.lesson}, key=_rank)


def ledger_row(
    claim: ArticleClaim, results: Iterable[ResultFile], profile: str | None = None
) -> LedgerRow:
    """Fill ``claim``'s row from the results files of its lesson at ``profile`` (by default
    the profile with the most data that has any: full, then workshop, then smoke)."""
    results = list(results)
    profile = profile or next(iter(_profiles(claim, results)), None)
    chosen = sorted(
        (r for r in results if r.lesson == claim.lesson and r.profile == profile),
        key=lambda r: r.seed,
    )
    if not chosen:
        at = f" at the {profile} profile" if profile else ""
        verdict = Verdict(NOT_MEASURED, f"no results for lesson {claim.lesson}{at}")
        return LedgerRow(claim, None, (), (), verdict)
    seeds = tuple(judge_file(claim, r) for r in chosen)
    sources = tuple(dict.fromkeys(str(r.data.get("source", "unknown")) for r in chosen))
    return LedgerRow(claim, profile, sources, seeds, aggregate(claim, seeds))


def ledger_rows(claim: ArticleClaim, results: Iterable[ResultFile]) -> list[LedgerRow]:
    """``claim``'s rows, one per data size measured (workshop's 4,000 digits, then full's
    60,000), so the ledger shows what changes with the data; smoke only where nothing else is.
    A row that depends on the data size points at the full-profile row when there is one."""
    results = list(results)
    profiles = _profiles(claim, results)
    real = [p for p in profiles if p != "smoke"]
    chosen = sorted(real, key=_rank, reverse=True) if real else profiles[:1]
    rows = [ledger_row(claim, results, p) for p in chosen] or [ledger_row(claim, results)]
    if "full" in chosen:
        rows = [_points_at_full_row(r) for r in rows]
    return rows


def _points_at_full_row(row: LedgerRow) -> LedgerRow:
    condition = row.verdict.condition.replace(RUN_FULL, SEE_FULL_ROW)
    return replace(row, verdict=replace(row.verdict, condition=condition))


# ----------------------------------------------------------------------------- results files
def read_result(path: Path) -> ResultFile | None:
    """The results file at ``path``, or None when it is not a lesson's results file."""
    try:
        payload = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(payload, dict) or any(k not in payload for k in RESULT_KEYS):
        return None
    if not isinstance(payload["seed"], int) or not isinstance(payload["claims"], list):
        return None
    return ResultFile(Path(path), payload, Path(path).stat().st_mtime)


@dataclass(frozen=True)
class Collection:
    """Results files found under some folders: those used, and what was set aside."""

    used: tuple[ResultFile, ...]
    superseded: tuple[Path, ...]
    previous: tuple[Path, ...]
    not_results: tuple[Path, ...]


def collect_results(folders: Iterable[Path]) -> Collection:
    """Every lesson results file under ``folders`` (recursively). Hidden temporary files are
    skipped; ``*.prev.json`` backups and JSON files that are not lesson results are set aside;
    of several files for the same (lesson, profile, seed) the newest is used."""
    newest: dict[tuple[str, str, int], ResultFile] = {}
    superseded, previous, not_results = [], [], []
    seen: set[Path] = set()
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.json")):
            real = path.resolve()
            if real in seen:
                continue
            seen.add(real)
            if path.name.startswith("."):  # a write in progress (or one a crash cut short)
                continue
            if is_generation(path):
                previous.append(path)
                continue
            result = read_result(path)
            if result is None:
                not_results.append(path)
                continue
            key = (result.lesson, result.profile, result.seed)
            old = newest.get(key)
            if old is None or result.mtime > old.mtime:
                if old is not None:
                    superseded.append(old.path)
                newest[key] = result
            else:
                superseded.append(path)
    used = sorted(newest.values(), key=lambda r: (r.lesson, r.profile, r.seed))
    return Collection(tuple(used), tuple(superseded), tuple(previous), tuple(not_results))


# ----------------------------------------------------------------------------- notebooks
def notebook_claim_patterns(folder: Path) -> dict[str, list[re.Pattern[str]]]:
    """For each lesson notebook in ``folder``, the claim keys its code passes to
    ``lesson.claim(...)``, as patterns (an f-string key such as ``f"loss_gap_{key}"`` matches
    any word in place of the braces)."""
    return {lesson: [c.key for c in claims] for lesson, claims in lesson_claims(folder).items()}


def key_in_notebook(key: str, patterns: Iterable[re.Pattern[str]]) -> bool:
    """Whether ``key`` is one of the claim keys the notebook makes."""
    return any(p.fullmatch(key) for p in patterns)


# ----------------------------------------------------------------------------- judges
def _trained_on(n_run: float, n_data: float) -> str:
    return f"trained on {count(n_run)} of the {count(n_data)} training digits"


def figure_judge(
    lo: float, hi: float | None, measured: str, what: str
) -> Callable[[Mapping[str, Any]], Verdict]:
    """Judge an article's accuracy figure (``lo``–``hi``; ``hi=None`` for "at least lo")
    against the number ``measured``, with :data:`FIGURE_TOLERANCE`.

    Needs ``n_run`` (digits the model trained on) and ``n_data`` (the data block's n_train).
    With the full training set the figure holds or not. With less data a figure already
    exceeded does not hold (more data only raises accuracy), a lower bound already reached
    holds, and anything else depends on the data size.
    """
    band = f"{pct(lo)}–{pct(hi)}" if hi is not None and hi != lo else f"{pct(lo)}"
    band = f"≥ {band}" if hi is None else f"about {band}"

    def judge(n: Mapping[str, Any]) -> Verdict:
        v, n_run, n_data = float(n[measured]), n["n_run"], n["n_data"]
        tol = FIGURE_TOLERANCE
        above = hi is not None and v > hi + tol
        below = v < lo - tol
        said = f"{what} {pct(v)}, {_trained_on(n_run, n_data)}; article: {band} (±1 point)"
        if n_data >= 0.9 * FULL_MNIST_TRAIN:
            return Verdict(FAILS if above or below else HOLDS, said)
        if above:
            return Verdict(FAILS, f"{said}; already above it with less data than the article")
        if hi is None and not below:
            return Verdict(HOLDS, f"{said}; reached even with less data than the article")
        where = "below it" if below else "within it"
        return Verdict(
            DEPENDS,
            f"data size: {said}; {where} here, but the article's figure is for "
            f"{count(FULL_MNIST_TRAIN)} training digits, where a higher value is expected "
            f"{RUN_FULL}",
        )

    return judge


def _sorted_by_size(d: Mapping[str, float]) -> list[tuple[float, float]]:
    return sorted((float(k), float(v)) for k, v in d.items())


def _augmentation(n: Mapping[str, Any]) -> Verdict:
    gains = _sorted_by_size(n["gains"])
    (small, g_small), (large, g_large) = gains[0], gains[-1]
    each = ", ".join(f"{count(s)} digits {pts(g)}" for s, g in gains)
    best = max(g for _, g in gains)
    size = "more than the article's 5" if best > 6 else "within the article's 5"
    if g_small >= 0.5 and g_large >= 0.5:
        return Verdict(HOLDS, f"helps at every size ({each} points; best {size})")
    if g_small >= 0.5:
        return Verdict(
            DEPENDS,
            f"helps with {count(small)} training digits ({pts(g_small)} points, {size}) but not "
            f"with {count(large)} ({pts(g_large)}); all sizes: {each}",
        )
    return Verdict(FAILS, f"no gain even with {count(small)} training digits ({each} points)")


def _over_augmentation(n: Mapping[str, Any]) -> Verdict:
    d = n["difference"]
    said = (
        f"rotations up to ±180° score {pts(-d)} points against moderate augmentation "
        f"({pct(n['rotate_180'])} vs {pct(n['moderate'])}); 6/9 mix-ups "
        f"{n['six_nine_180']:.0f} vs {n['six_nine_moderate']:.0f}"
    )
    return Verdict(HOLDS if d >= 2 else FAILS, said)


def _glorot_fix(n: Mapping[str, Any]) -> Verdict:
    if n["identical"] is True and n["same_training"] is True:
        return Verdict(
            FAILS,
            "GlorotUniform is already Keras's default for Dense layers: writing it explicitly "
            f"gave bit-identical initial weights ({n['arrays']:.0f} weight arrays) and, trained "
            "the same way, the same history epoch by epoch: it changes nothing",
        )
    if n["identical"] is True:
        return Verdict(
            DEPENDS,
            "the initial weights were identical but the two trainings differed: training was "
            "not deterministic here, so compare the two runs' accuracies over several seeds",
        )
    return Verdict(
        DEPENDS,
        "the default initializer differed from an explicit GlorotUniform in this Keras "
        "version; compare the two runs' accuracies",
    )


def _initialisation(n: Mapping[str, Any]) -> Verdict:
    worst = max(n["zeros"], n["small"])
    said = (
        f"all-zero start {pct(n['zeros'])}, stddev 0.01 {pct(n['small'])}, stddev 1.0 "
        f"{pts(-100 * n['large_gap'])} points vs Glorot's {pct(n['glorot'])}"
    )
    return Verdict(HOLDS if n["glorot"] - worst >= 0.30 else FAILS, said)


def _elu(n: Mapping[str, Any]) -> Verdict:
    diff = n["elu"] - n["relu"]
    said = (
        f"in the {n['depth']:.0f}-layer MLP ELU leaves {pct(n['elu_dead'])} dead units vs "
        f"ReLU's {pct(n['relu_dead'])}, validation {pct(n['elu'])} vs {pct(n['relu'])} "
        f"({pts(100 * diff)} points)"
    )
    if diff >= 0.01:
        return Verdict(HOLDS, said)
    return Verdict(FAILS, f"{said}: fewer dead units but no accuracy gain")


def _relu_vs_sigmoid(n: Mapping[str, Any]) -> Verdict:
    said = (
        f"{n['depth']:.0f}-layer MLP: ReLU {pct(n['relu'])} vs sigmoid {pct(n['sigmoid'])}; "
        f"sigmoid's first layer gets {n['sigmoid_grad']:.1e} of the output layer's gradient"
    )
    return Verdict(HOLDS if n["relu"] - n["sigmoid"] >= 0.10 else FAILS, said)


def _dropout(n: Mapping[str, Any]) -> Verdict:
    gain = max(n["d_02"], n["d_05"])
    said = (
        f"with {count(n['n_run'])} training digits, dropout 0.2/0.5 change validation accuracy "
        f"by {pts(100 * n['d_02'])}/{pts(100 * n['d_05'])} points; the accuracy gap goes from "
        f"{100 * n['base_gap']:.1f} to {100 * n['gap']:.1f} points (dropout 0.5)"
    )
    if gain >= 0.02:
        return Verdict(HOLDS, said)
    return Verdict(FAILS, f"{said}: less than 2 points, not a significant improvement")


def _early_stopping(n: Mapping[str, Any]) -> Verdict:
    dval = n["val"] - n["base_val"]
    loss_better = n["base_loss_gap"] - n["loss_gap"] >= 0.03
    said = (
        f"loss gap {n['base_loss_gap']:.2f} → {n['loss_gap']:.2f}, validation accuracy "
        f"{pct(n['base_val'])} → {pct(n['val'])} ({pts(100 * dval)} points), "
        f"{n['saved']:.0f} epochs saved"
    )
    if loss_better and dval >= 0.005:
        return Verdict(HOLDS, said)
    if loss_better:
        return Verdict(
            DEPENDS, f"metric: less memorising by the loss, not better accuracy — {said}"
        )
    return Verdict(FAILS, said)


def _learning_rate(n: Mapping[str, Any]) -> Verdict:
    curve = _sorted_by_size(n["lr_val"])
    (lo, acc_lo), (hi, acc_hi) = curve[0], curve[-1]
    best_lr, best = max(curve, key=lambda t: t[1])
    said = (
        f"lr {lo:g}: {pct(acc_lo)}, best lr {best_lr:g}: {pct(best)}, lr {hi:g}: {pct(acc_hi)} "
        f"after {n['epochs']:.0f} epochs"
    )
    return Verdict(HOLDS if min(best - acc_lo, best - acc_hi) >= 0.05 else FAILS, said)


def _batch_size(n: Mapping[str, Any]) -> Verdict:
    curve = _sorted_by_size(n["batch_val"])
    (small, acc_small), (big, acc_big) = curve[0], curve[-1]
    drop = acc_small - acc_big
    said = (
        f"after {n['epochs']:.0f} epochs batch {big:.0f} reaches {pct(acc_big)} vs "
        f"{pct(acc_small)} for batch {small:.0f} ({n['speed']:.1f}× the samples/s)"
    )
    if drop < 0.015:
        return Verdict(FAILS, f"{said}: within 1.5 points")
    if acc_small - n["scaled"] <= 0.01:
        return Verdict(
            DEPENDS,
            f"learning rate: {said}; with the learning rate scaled to the batch it recovers "
            f"{pct(n['scaled'])}",
        )
    return Verdict(HOLDS, said)


def _adam_default(n: Mapping[str, Any]) -> Verdict:
    accs = n["optimizers"]
    best = max(accs, key=accs.get)
    each = ", ".join(f"{k} {pct(v)}" for k, v in sorted(accs.items(), key=lambda t: -t[1]))
    ok = accs["adam"] >= accs[best] - 0.01
    return Verdict(HOLDS if ok else FAILS, f"Adam within 1 point of the best? {each}")


def _imbalance(n: Mapping[str, Any]) -> Verdict:
    drop = n["rare_bal"] - n["rare_imb"]
    rare = "/".join(str(d) for d in n["rare_classes"])
    said = (
        f"digits {rare} kept at {pct(n['keep'])}: their recall {pct(n['rare_bal'])} → "
        f"{pct(n['rare_imb'])}, while accuracy on the training mix moves "
        f"{pts(n['mix_change'])} points"
    )
    return Verdict(HOLDS if drop >= 0.10 else FAILS, said)


def _mse_loss(n: Mapping[str, Any]) -> Verdict:
    sgd, adam = n["sgd_ce"] - n["sgd_mse"], n["adam_ce"] - n["adam_mse"]
    said = (
        f"plain SGD: cross-entropy {pct(n['sgd_ce'])} vs MSE {pct(n['sgd_mse'])}; Adam: "
        f"{pct(n['adam_ce'])} vs {pct(n['adam_mse'])}"
    )
    if sgd >= 0.10 and adam >= 0.02:
        return Verdict(HOLDS, said)
    if sgd >= 0.10 or adam >= 0.02:
        return Verdict(DEPENDS, f"optimizer: {said}")
    return Verdict(FAILS, said)


def _scaling(n: Mapping[str, Any]) -> Verdict:
    sgd, adam = n["scaled"] - n["raw"], n["adam_scaled"] - n["adam_raw"]
    said = (
        f"SGD + momentum: scaled {pct(n['scaled'])} vs raw 0–255 {pct(n['raw'])}; Adam: "
        f"{pct(n['adam_scaled'])} vs {pct(n['adam_raw'])}"
    )
    if sgd >= 0.01 and adam >= 0.01:
        return Verdict(HOLDS, said)
    if sgd >= 0.01 or adam >= 0.01:
        return Verdict(DEPENDS, f"optimizer: {said}")
    return Verdict(FAILS, said)


def _few_epochs(n: Mapping[str, Any]) -> Verdict:
    said = (
        f"MLP after {n['few']:.0f} epoch {pct(n['few_val'])} (diagnosed "
        f"{'underfit' if n['underfit'] else 'not underfit'}) vs {pct(n['mlp_val'])} after "
        f"{n['epochs']:.0f}"
    )
    return Verdict(HOLDS if n["underfit"] and n["mlp_val"] - n["few_val"] >= 0.02 else FAILS, said)


def _memorises(n: Mapping[str, Any]) -> Verdict:
    said = (
        f"2x512 MLP: training {pct(n['train'])}, validation {pct(n['train'] - n['gap'])} "
        f"(gap {100 * n['gap']:.1f} points), diagnosis '{n['verdict']}'"
    )
    return Verdict(HOLDS if n["train"] >= 0.99 and n["gap"] >= 0.02 else FAILS, said)


def _gap_vs_data(n: Mapping[str, Any]) -> Verdict:
    gaps = _sorted_by_size(n["gaps"])
    each = ", ".join(f"{count(s)}: {100 * g:.1f}" for s, g in gaps)
    said = f"train−validation gap in points by training-set size: {each}"
    return Verdict(HOLDS if gaps[0][1] - gaps[-1][1] >= 0.03 else FAILS, said)


def _linear_underfits(n: Mapping[str, Any]) -> Verdict:
    behind = n["cnn"] - n["linear_best"]
    said = (
        f"linear {pct(n['linear_best'])} at its best epoch vs MLP {pct(n['mlp'])} and CNN "
        f"{pct(n['cnn'])}; diagnosed {'underfit' if n['underfit'] else 'not underfit'}"
    )
    return Verdict(HOLDS if behind >= 0.02 else FAILS, said)


def _cnn_beats_dense(n: Mapping[str, Any]) -> Verdict:
    said = (
        f"same epochs: CNN {pct(n['cnn'])}, MLP {pct(n['mlp'])}, linear {pct(n['linear'])} "
        f"({pts(100 * (n['cnn'] - n['mlp']))} points over the MLP)"
    )
    return Verdict(HOLDS if n["cnn"] - n["mlp"] >= 0.01 else FAILS, said)


def _test_as_validation(n: Mapping[str, Any]) -> Verdict:
    said = (
        f"the model picked on the data it was scored on loses {n['optimism']:.2f} points on "
        f"fresh data (average over random cuts; lower in {pct(n['share'])} of them, "
        f"{n['models']:.0f} candidates)"
    )
    return Verdict(FAILS if n["optimism"] >= 0.2 else HOLDS, said)


def _lookalikes(n: Mapping[str, Any]) -> Verdict:
    errors = round((1 - n["test_acc"]) * n["n_test"])
    top = ", ".join(f"{a}↔{b} ({c})" for a, b, c in n["pairs"][:3])
    said = (
        f"{pct(n['share'])} of the capstone's {errors} test mistakes are look-alike pairs; "
        f"most frequent: {top}"
    )
    return Verdict(HOLDS if n["share"] >= 0.5 else FAILS, said)


def _search_gain(n: Mapping[str, Any]) -> Verdict:
    gain = n["tuned"] - n["default"]
    said = (
        f"the tuner's pick ({n['units']:.0f} units, lr {n['lr']:.2g}) {pct(n['tuned'])} vs "
        f"Adam's default settings {pct(n['default'])} ({pts(100 * gain)} points)"
    )
    return Verdict(HOLDS if gain >= 0.01 else FAILS, said)


def _too_many_epochs(n: Mapping[str, Any]) -> Verdict:
    said = (
        f"the 2x512 MLP's validation loss is lowest at epoch {n['min_epoch']:.0f} of "
        f"{n['epochs']:.0f} and ends {100 * (n['ratio'] - 1):.0f}% above that minimum"
    )
    ok = n["ratio"] >= 1.10 and n["min_epoch"] <= n["epochs"] / 2
    return Verdict(HOLDS if ok else FAILS, said)


def _n(name: str, *path: str | int, label: str = "", fmt: str = "pct") -> Number:
    return Number(name, tuple(path), label, fmt)


_DATA = _n("n_data", "data", "n_train")


# ----------------------------------------------------------------------------- the registry
ARTICLE_CLAIMS: tuple[ArticleClaim, ...] = (
    ArticleClaim(
        "A01",
        "linear model accuracy (80–90%)",
        "A single softmax layer on flattened pixels scores only about 80–90% on MNIST.",
        ("002",),
        "01_underfitting",
        (
            _n("linear_best", "claims", "linear_band", "linear_best_val", label="linear, val"),
            _n("n_run", "runs", "linear", "n_train"),
            _DATA,
        ),
        figure_judge(0.80, 0.90, "linear_best", "validation accuracy at its best epoch"),
    ),
    ArticleClaim(
        "A02",
        "linear model accuracy (90–92%)",
        "A single dense softmax layer reaches roughly 90–92% test accuracy.",
        ("001",),
        "01_underfitting",
        (
            _n("linear_best", "claims", "linear_band", "linear_best_val", label="linear, val"),
            _n("n_run", "runs", "linear", "n_train"),
            _DATA,
        ),
        figure_judge(0.90, 0.92, "linear_best", "validation accuracy at its best epoch"),
    ),
    ArticleClaim(
        "A03",
        "linear model underfits",
        "A linear model is too simple for digits: it underfits and stays well below models "
        "with hidden layers or convolutions.",
        ("001", "002"),
        "01_underfitting",
        (
            _n("linear_best", "claims", "linear_below_cnn", "linear_best_val", label="linear"),
            _n("cnn", "claims", "linear_below_cnn", "cnn_val", label="CNN"),
            _n("mlp", "claims", "capacity_order", "mlp_val"),
            _n("underfit", "claims", "linear_equal_epochs_underfit", "holds"),
        ),
        _linear_underfits,
    ),
    ArticleClaim(
        "A04",
        "2x512 MLP accuracy (~95%)",
        "A two-layer 512-unit MLP without regularisation lands around 95% on the test set.",
        ("001",),
        "02_overfitting",
        (
            _n("test", "claims", "article_about_95", "test_acc", label="test"),
            _n("val", "claims", "article_about_95", "val_acc", label="val"),
            _n("n_run", "runs", "MLP 2x512", "n_train"),
            _DATA,
        ),
        figure_judge(0.95, 0.95, "test", "test accuracy"),
    ),
    ArticleClaim(
        "A05",
        "big MLP memorises",
        "Such a large MLP fits its training digits almost perfectly (99%+) while doing clearly "
        "worse on unseen digits.",
        ("001", "002"),
        "02_overfitting",
        (
            _n("train", "claims", "mlp_memorises", "train_acc", label="train"),
            _n("gap", "claims", "mlp_memorises", "gap", label="gap", fmt="dpts"),
            _n("verdict", "claims", "mlp_verdict_overfitting", "verdict"),
        ),
        _memorises,
    ),
    ArticleClaim(
        "A06",
        "small CNN accuracy (98–99%)",
        "A small two-convolution CNN reaches about 98–99% test accuracy.",
        ("002",),
        "01_underfitting",
        (
            _n("cnn", "claims", "capacity_order", "cnn_val", label="CNN, val"),
            _n("n_run", "runs", "cnn", "n_train"),
            _DATA,
        ),
        figure_judge(0.98, 0.99, "cnn", "validation accuracy"),
    ),
    ArticleClaim(
        "A07",
        "CNN with dropout ≥ 98%",
        "A CNN regularised with dropout approaches or passes 98% on the test set.",
        ("001",),
        "07_capstone",
        (
            _n("test", "claims", "capstone_test_accuracy", "test_acc", label="capstone, test"),
            _n("n_run", "data", "n_train"),
            _DATA,
        ),
        figure_judge(0.98, None, "test", "capstone test accuracy"),
    ),
    ArticleClaim(
        "A08",
        "convolutions beat dense layers",
        "Convolutional layers, which use the spatial layout of the strokes, beat networks that "
        "treat every pixel independently.",
        ("001", "002"),
        "01_underfitting",
        (
            _n("cnn", "claims", "capacity_order", "cnn_val", label="CNN"),
            _n("mlp", "claims", "capacity_order", "mlp_val", label="MLP"),
            _n("linear", "claims", "capacity_order", "linear_val"),
        ),
        _cnn_beats_dense,
    ),
    ArticleClaim(
        "A09",
        "augmentation gives up to 5%",
        "Rotating, shifting and distorting the training digits improves accuracy by up to about "
        "5 points, above all when training data are limited.",
        ("003", "000"),
        "03_augmentation",
        (_n("gains", "extra", "gain_points_by_size", label="gain by size", fmt="pts"),),
        _augmentation,
    ),
    ArticleClaim(
        "A10",
        "over-augmentation hurts",
        "Too much augmentation introduces artefacts that make generalisation worse.",
        ("000",),
        "03_augmentation",
        (
            _n("difference", "claims", "rotate_180_hurts", "difference_points", fmt="pts"),
            _n("rotate_180", "claims", "rotate_180_hurts", "rotate_180_val", label="±180°"),
            _n("moderate", "claims", "rotate_180_hurts", "moderate_val", label="moderate"),
            _n("six_nine_180", "claims", "rotate_180_confuses_6_and_9", "six_nine_rotate_180"),
            _n("six_nine_moderate", "claims", "rotate_180_confuses_6_and_9", "six_nine_moderate"),
        ),
        _over_augmentation,
    ),
    ArticleClaim(
        "A11",
        "GlorotUniform fixes the default init",
        "Setting kernel_initializer=GlorotUniform() is a big improvement over Keras's default "
        "initializer, which can make ReLU training slow or unstable.",
        ("004",),
        "05_initialization",
        (
            _n(
                "identical",
                "claims",
                "glorot_uniform_is_the_default",
                "identical_weights",
                label="identical weights",
                fmt="text",
            ),
            _n(
                "same_training",
                "claims",
                "glorot_uniform_is_the_default",
                "identical_history",
                label="identical training",
                fmt="text",
            ),
            _n("arrays", "claims", "glorot_uniform_is_the_default", "n_weight_arrays"),
        ),
        _glorot_fix,
    ),
    ArticleClaim(
        "A12",
        "poor initialisation stalls training",
        "A poorly chosen weight initialisation can keep a network from learning at all.",
        ("004", "001"),
        "05_initialization",
        (
            _n("zeros", "claims", "zeros_never_learn", "val_acc", label="zeros"),
            _n("small", "claims", "small_init_vanishes", "val_acc", label="stddev 0.01"),
            _n("large_gap", "claims", "large_init_explodes", "gap_to_glorot"),
            _n("glorot", "claims", "glorot_and_he_train", "glorot", label="Glorot"),
        ),
        _initialisation,
    ),
    ArticleClaim(
        "A13",
        "ELU beats ReLU",
        "Swapping ReLU for ELU avoids dead units and so lets the network learn better.",
        ("004",),
        "05_initialization",
        (
            _n("elu", "claims", "relu_elu_beat_sigmoid_when_deep", "elu", label="ELU"),
            _n("relu", "claims", "relu_elu_beat_sigmoid_when_deep", "relu", label="ReLU"),
            _n("elu_dead", "claims", "dead_relus", "elu"),
            _n("relu_dead", "claims", "dead_relus", "healthy"),
            _n("depth", "settings", "depth"),
        ),
        _elu,
    ),
    ArticleClaim(
        "A14",
        "ReLU avoids vanishing gradients",
        "ReLU is preferred because, unlike saturating activations, it keeps gradients from "
        "vanishing in deeper networks.",
        ("003", "004"),
        "05_initialization",
        (
            _n("relu", "claims", "relu_elu_beat_sigmoid_when_deep", "relu", label="ReLU"),
            _n("sigmoid", "claims", "relu_elu_beat_sigmoid_when_deep", "sigmoid", label="sigmoid"),
            _n(
                "sigmoid_grad",
                "claims",
                "sigmoid_vanishes_at_init",
                "sigmoid_grad_first_over_output",
            ),
            _n("depth", "settings", "depth"),
        ),
        _relu_vs_sigmoid,
    ),
    ArticleClaim(
        "A15",
        "dropout significantly improves generalisation",
        "Adding a dropout layer markedly improves accuracy on unseen digits.",
        ("004", "003"),
        "06_regularization",
        (
            _n(
                "d_02",
                "claims",
                "dropout_not_significant",
                "d_val_0.2",
                label="Δval 0.2",
                fmt="dpts",
            ),
            _n(
                "d_05",
                "claims",
                "dropout_not_significant",
                "d_val_0.5",
                label="Δval 0.5",
                fmt="dpts",
            ),
            _n("gap", "runs", "dropout 0.5", "gap"),
            _n("base_gap", "runs", "baseline", "gap"),
            _n("n_run", "runs", "baseline", "n_train"),
        ),
        _dropout,
    ),
    ArticleClaim(
        "A16",
        "early stopping prevents memorising",
        "Early stopping keeps the model from memorising the training set, so it generalises "
        "better.",
        ("003",),
        "06_regularization",
        (
            _n("loss_gap", "claims", "loss_gap_early_stopping", "loss_gap"),
            _n("base_loss_gap", "claims", "loss_gap_early_stopping", "baseline_loss_gap"),
            _n("val", "claims", "loss_gap_early_stopping", "val_acc", label="early stop"),
            _n(
                "base_val",
                "claims",
                "loss_gap_early_stopping",
                "baseline_val_acc",
                label="baseline",
            ),
            _n("saved", "claims", "early_stopping_saves_epochs", "epochs_saved"),
        ),
        _early_stopping,
    ),
    ArticleClaim(
        "A17",
        "learning rate too high / too low",
        "A learning rate that is too high oscillates or diverges; one that is too low learns "
        "slowly or stalls.",
        ("000", "001", "002", "003"),
        "04_tuning",
        (
            _n("lr_val", "extra", "lr_val_acc", label="val by lr"),
            _n("epochs", "settings", "epochs"),
        ),
        _learning_rate,
    ),
    ArticleClaim(
        "A18",
        "batch size matters",
        "A badly chosen batch size hurts the result.",
        ("000", "003"),
        "04_tuning",
        (
            _n("batch_val", "extra", "batch_val_acc", label="val by batch"),
            _n("scaled", "extra", "scaled_lr_big_batch_val_acc", label="big batch, scaled lr"),
            _n("speed", "claims", "big_batch_faster", "ratio"),
            _n("epochs", "settings", "epochs"),
        ),
        _batch_size,
    ),
    ArticleClaim(
        "A19",
        "Adam is a good default",
        "Adam is a sound first choice of optimizer for MNIST.",
        ("003",),
        "04_tuning",
        (_n("optimizers", "extra", "optimizer_val_acc", label="val by optimizer"),),
        _adam_default,
    ),
    ArticleClaim(
        "A20",
        "tuning on the test split",
        "A hyperparameter search may use the test split as its validation data and still "
        "report an honest score (implied by the tuner example, which validates on x_test).",
        ("003",),
        "04_tuning",
        (
            _n(
                "optimism",
                "claims",
                "leakage_optimism",
                "optimism_points",
                label="optimism (points)",
                fmt="num",
            ),
            _n("share", "claims", "leakage_optimism", "share_of_cuts_lower"),
            _n("models", "claims", "leakage_optimism", "n_models"),
        ),
        _test_as_validation,
    ),
    ArticleClaim(
        "A21",
        "class imbalance biases the model",
        "If some digits are under-represented in training, the model does worse on exactly "
        "those digits.",
        ("001",),
        "08_class_imbalance",
        (
            _n(
                "rare_bal",
                "claims",
                "accuracy_hides_rare_collapse",
                "rare_recall_balanced",
                label="rare recall, balanced",
            ),
            _n(
                "rare_imb",
                "claims",
                "accuracy_hides_rare_collapse",
                "rare_recall_imbalanced",
                label="rare recall, imbalanced",
            ),
            _n("mix_change", "claims", "accuracy_hides_rare_collapse", "mix_acc_change_pts"),
            _n("rare_classes", "settings", "rare_classes"),
            _n("keep", "settings", "keep_fraction"),
        ),
        _imbalance,
    ),
    ArticleClaim(
        "A22",
        "MSE instead of cross-entropy",
        "Training a classifier with mean squared error instead of categorical cross-entropy "
        "hampers learning.",
        ("000",),
        "01_underfitting",
        (
            _n("sgd_ce", "claims", "ce_beats_mse_sgd", "ce_val", label="SGD CE"),
            _n("sgd_mse", "claims", "ce_beats_mse_sgd", "mse_val", label="SGD MSE"),
            _n("adam_ce", "claims", "mse_adam_close", "ce_val", label="Adam CE"),
            _n("adam_mse", "claims", "mse_adam_close", "mse_val", label="Adam MSE"),
        ),
        _mse_loss,
    ),
    ArticleClaim(
        "A23",
        "scale inputs to [0, 1]",
        "Scaling pixel values to [0, 1] is essential; unscaled inputs make learning poor.",
        ("000", "003"),
        "00_data_and_baseline",
        (
            _n("scaled", "claims", "scaling_beats_raw", "scaled_val_acc", label="scaled"),
            _n("raw", "claims", "scaling_beats_raw", "raw_val_acc", label="raw"),
            _n("adam_scaled", "extra", "adam_scaled_val_acc"),
            _n("adam_raw", "extra", "adam_raw_val_acc"),
        ),
        _scaling,
    ),
    ArticleClaim(
        "A24",
        "too few epochs underfit",
        "Training for too few epochs leaves the model underfit.",
        ("000", "002", "003"),
        "01_underfitting",
        (
            _n("few_val", "claims", "few_epochs_underfit", "val_acc", label="few epochs"),
            _n("underfit", "claims", "few_epochs_underfit", "holds"),
            _n("mlp_val", "claims", "capacity_order", "mlp_val", label="full epochs"),
            _n("few", "settings", "few_epochs"),
            _n("epochs", "settings", "epochs"),
        ),
        _few_epochs,
    ),
    ArticleClaim(
        "A25",
        "little data, bigger overfitting gap",
        "With too little training data a model fits its training set but generalises poorly.",
        ("001",),
        "02_overfitting",
        (_n("gaps", "extra", "gap_by_size", label="gap by size", fmt="dpts"),),
        _gap_vs_data,
    ),
    ArticleClaim(
        "A26",
        "errors are look-alike digits",
        "Most mistakes are between digits that look alike, such as 4/9, 3/8 and 7/1.",
        ("000", "002"),
        "07_capstone",
        (
            _n("share", "extra", "share_lookalike", label="share of mistakes"),
            _n("pairs", "extra", "top_pairs"),
            _n("test_acc", "claims", "capstone_test_accuracy", "test_acc"),
            _n("n_test", "data", "n_test"),
        ),
        _lookalikes,
    ),
    ArticleClaim(
        "A27",
        "hyperparameter search is crucial",
        "A systematic hyperparameter search finds clearly better settings than the defaults.",
        ("000", "003"),
        "04_tuning",
        (
            _n("tuned", "claims", "tuner_pick_good", "tuner_val_acc", label="tuner's pick"),
            _n("units", "claims", "tuner_pick_good", "units"),
            _n("lr", "claims", "tuner_pick_good", "learning_rate"),
            _n("default", "extra", "lr_val_acc", "0.001", label="Adam defaults"),
        ),
        _search_gain,
    ),
    ArticleClaim(
        "A28",
        "too many epochs overfit",
        "Training for too many epochs makes the model overfit.",
        ("002", "003"),
        "02_overfitting",
        (
            _n(
                "min_epoch",
                "claims",
                "val_loss_turns_up",
                "min_epoch",
                label="best epoch",
                fmt="int",
            ),
            _n("epochs", "claims", "val_loss_turns_up", "epochs"),
            _n(
                "ratio",
                "claims",
                "val_loss_turns_up",
                "ratio",
                label="last/min val loss",
                fmt="ratio",
            ),
        ),
        _too_many_epochs,
    ),
)
