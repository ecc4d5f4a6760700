"""Record lesson results as committed evidence: evidence/<profile>/<lesson>/seed<N>.json.

Usage: python -m coursetools.record_evidence RESULTS_DIR [RESULTS_DIR ...]
       (``make evidence PROFILE=workshop SEEDS="0 1 2 3 4"`` runs the lessons, then this)

       python -m coursetools.record_evidence --rejudge   (``make rejudge``)

Reads every ``<lesson>.json`` in the folders (``*.prev.json`` generations are skipped) and
writes its trimmed copy (see coursetools/evidence.py) over the evidence of the same lesson,
profile and seed. Smoke runs and unverified data are refused with the reason. Prints one line
per file with the claims that held; review the diff and commit it.

``--rejudge`` runs no lesson: it judges the committed evidence again by the notebooks' current
rules (and statements), at each file's profile. A changed threshold is re-checked against the
numbers already measured; a claim whose measured values changed needs ``make evidence``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from coursetools.evidence import EvidenceError, evidence_dir, write
from coursetools.files import is_generation
from coursetools.paths import repo_root
from coursetools.rules import declared, judge, lesson_claims

ROOT = repo_root()


def result_files(folder: Path, only: list[str] | None = None) -> list[Path]:
    """The lesson results files directly in ``folder`` (no generations, no timings); with
    ``only``, those of the lessons whose number prefixes it lists (e.g. ``["07"]``)."""
    return sorted(
        p
        for p in folder.glob("[0-9][0-9]_*.json")
        if not is_generation(p)
        and not p.name.startswith(".")
        and (only is None or p.name[:2] in only)
    )


def rejudge(root: Path, notebooks: Path) -> tuple[int, list[str]]:
    """Judge every committed evidence file under ``root`` by the rules of the notebooks in
    ``notebooks``; rewrite the files whose rule, statement or verdict changed. Returns how many
    files changed and the claims no notebook declares any more."""
    declared_by_lesson = lesson_claims(notebooks)
    changed, unknown = 0, []
    for path in sorted(root.glob("*/*/seed*.json")):
        payload = json.loads(path.read_text())
        profile, lesson = payload["profile"], payload["lesson"]
        claims, edits = [], []
        for claim in payload["claims"]:
            found = declared(declared_by_lesson.get(lesson, []), claim["key"])
            if found is None:
                unknown.append(f"{lesson} {claim['key']} ({path.relative_to(root)})")
                claims.append(claim)
                continue
            new = dict(claim, rule=found.rule_at(profile))
            new["statement"] = found.statement_at(profile) or claim["statement"]
            new["holds"] = judge(new["rule"], claim["measured"])
            if new != claim:
                was = "holds" if claim["holds"] else "fails"
                now = "holds" if new["holds"] else "fails"
                edits.append(f"{claim['key']} ({was} -> {now})" if was != now else claim["key"])
            claims.append(new)
        if edits:
            write({**payload, "claims": claims}, root)
            print(f"{path.relative_to(root.parent)}: re-judged {', '.join(edits)}")
            changed += 1
    return changed, unknown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("folders", nargs="*", type=Path, help="folders of lesson results")
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NN",
        help="record only these lessons (number prefixes, e.g. 07): a folder also holds the "
        "results of earlier runs of the others",
    )
    parser.add_argument(
        "--rejudge",
        action="store_true",
        help="judge the committed evidence again by the notebooks' current rules (no training)",
    )
    args = parser.parse_args(argv)
    root = evidence_dir()
    if args.rejudge == bool(args.folders):
        parser.error("give folders of lesson results, or --rejudge alone")
    if args.rejudge:
        changed, unknown = rejudge(root, ROOT / "notebooks")
        for item in unknown:
            print(f"no notebook declares the claim {item}", file=sys.stderr)
        print(f"{changed} evidence file(s) re-judged under {root}; review: `git diff evidence/`.")
        return 1 if unknown else 0
    problems, written = [], 0
    for folder in args.folders:
        files = result_files(folder, args.only)
        if not folder.is_dir() or not files:
            problems.append(f"{folder}: no lesson results here (run the lessons first)")
            continue
        for path in files:
            try:
                payload = json.loads(path.read_text())
                out = write(payload, root)
            except (EvidenceError, json.JSONDecodeError, OSError) as exc:
                problems.append(f"{path}: {exc}")
                continue
            claims = payload["claims"]
            held = sum(bool(c["holds"]) for c in claims)
            failed = [c["key"] for c in claims if not c["holds"]]
            note = f"; did not hold: {', '.join(failed)}" if failed else ""
            print(f"{out.relative_to(root.parent)}: {held}/{len(claims)} claims held{note}")
            written += 1
    for problem in problems:
        print(f"not recorded: {problem}", file=sys.stderr)
    print(f"{written} evidence file(s) written under {root}; review with `git diff evidence/`.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
