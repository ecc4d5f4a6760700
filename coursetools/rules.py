"""A claim's rule: its verdict as a Python expression over the numbers it records.

A lesson declares each claim with a rule such as ``"train_acc >= 0.99 and gap >= 0.04"`` and
the measured values the rule names. The verdict is computed from those recorded values alone,
so anyone can recompute it from the committed evidence, and a test can break the values (what a
broken model would measure) and check that the claim then fails.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The only functions a rule may call.
RULE_FUNCTIONS: dict[str, Any] = {
    "abs": abs,
    "all": all,
    "any": any,
    "len": len,
    "max": max,
    "min": min,
    "set": set,
}


class RuleError(ValueError):
    """A claim's rule cannot be evaluated on its measured values."""


def judge(rule: str, measured: Mapping[str, Any]) -> bool:
    """Whether ``rule`` holds for ``measured`` (name -> value).

    A missing number (``None``, as JSON stores NaN) counts as NaN, so every comparison with it
    is false. Raises :class:`RuleError` naming the rule and the recorded names when the rule
    is not valid Python or uses a name that is neither measured nor in :data:`RULE_FUNCTIONS`.
    """
    try:
        code = compile(rule, "<claim rule>", "eval")
    except SyntaxError as exc:
        raise RuleError(f"claim rule {rule!r} is not a Python expression: {exc.msg}") from None
    values = {k: (math.nan if v is None else v) for k, v in measured.items()}
    try:
        return bool(eval(code, {"__builtins__": {}, **RULE_FUNCTIONS}, values))
    except NameError as exc:
        raise RuleError(
            f"claim rule {rule!r}: {exc}; it may use the measured values "
            f"({', '.join(sorted(measured)) or 'none'}) and {', '.join(RULE_FUNCTIONS)}"
        ) from None


@dataclass(frozen=True)
class DeclaredClaim:
    """A ``lesson.claim(...)`` call as written in a notebook: its key (a pattern, since a key
    written as an f-string such as ``f"loss_gap_{key}"`` stands for several claims), its rule
    and the names of the values it records."""

    key: re.Pattern[str]
    rule: str
    measured: tuple[str, ...]
    #: the statement when written as a plain string (an f-string is only known when it runs)
    statement: str | None = None
    #: what the full profile asserts instead (``full=(statement, rule)``), if anything
    full_statement: str | None = None
    full_rule: str | None = None

    def rule_at(self, profile: str) -> str:
        """The rule this claim is judged by at ``profile``."""
        return self.full_rule if profile == "full" and self.full_rule is not None else self.rule

    def statement_at(self, profile: str) -> str | None:
        """The statement this claim makes at ``profile`` (None: not a plain string)."""
        if profile == "full" and self.full_statement is not None:
            return self.full_statement
        return self.statement


def _key_pattern(node: ast.expr) -> re.Pattern[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.compile(re.escape(node.value))
    if isinstance(node, ast.JoinedStr):  # each {...} stands for one word
        parts = [re.escape(v.value) if isinstance(v, ast.Constant) else r"\w+" for v in node.values]
        return re.compile("".join(parts))
    raise RuleError(f"a claim key must be a string or an f-string, got {ast.unparse(node)}")


def _literal_text(node: ast.expr) -> str | None:
    # adjacent string literals are already one Constant in the AST
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def notebook_claims(path: Path) -> list[DeclaredClaim]:
    """Every ``lesson.claim(key, statement, rule, [full=(statement, rule),] **measured)`` call
    in the notebook at ``path``, read from its code without running it. A rule that is not a
    plain string literal is a :class:`RuleError`: the rule must be readable (and re-checkable)
    as written."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "lesson.claim(" not in cell.source:
            continue
        code = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line
            for line in cell.source.splitlines()
        )
        for node in ast.walk(ast.parse(code)):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "claim"
                and ast.unparse(node.func.value) == "lesson"
            ):
                continue
            key = _key_pattern(node.args[0])
            rule = node.args[2] if len(node.args) > 2 else None
            if not (isinstance(rule, ast.Constant) and isinstance(rule.value, str)):
                raise RuleError(
                    f"{path.name}: the rule of claim {key.pattern!r} must be a string literal "
                    f"(an expression over the measured values), got "
                    f"{ast.unparse(rule) if rule else 'nothing'}"
                )
            names = tuple(k.arg for k in node.keywords if k.arg not in (None, "full"))
            full = next((k.value for k in node.keywords if k.arg == "full"), None)
            full_statement = full_rule = None
            if full is not None:
                if not (
                    isinstance(full, ast.Tuple)
                    and len(full.elts) == 2
                    and all(
                        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in full.elts
                    )
                ):
                    raise RuleError(
                        f"{path.name}: full= of claim {key.pattern!r} must be a pair of string "
                        f"literals (statement, rule), got {ast.unparse(full)}"
                    )
                full_statement, full_rule = (e.value for e in full.elts)
            statement = _literal_text(node.args[1]) if len(node.args) > 1 else None
            found.append(
                DeclaredClaim(key, rule.value, names, statement, full_statement, full_rule)
            )
    return found


def lesson_claims(folder: Path) -> dict[str, list[DeclaredClaim]]:
    """:func:`notebook_claims` of every lesson notebook (``NN_name.ipynb``) in ``folder``."""
    return {p.stem: notebook_claims(p) for p in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))}


def declared(claims: list[DeclaredClaim], key: str) -> DeclaredClaim | None:
    """The declaration in ``claims`` that makes the claim ``key``, if any."""
    return next((c for c in claims if c.key.fullmatch(key)), None)
