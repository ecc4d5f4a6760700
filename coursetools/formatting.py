"""How the course writes numbers: one formatter per kind, so tables, claims, the ledger, the
doctor and the handouts agree. Standard library only: the coursetools commands and helpers
both load it, without TensorFlow."""

from __future__ import annotations

from typing import Any

MINUS = "−"  # U+2212: a signed number's minus, as the prose writes it


def number(value: Any) -> str:
    """A measured value as claim lines and evidence ranges print it: 0.918749 → '0.9187'."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def pct(fraction: float, digits: int = 1) -> str:
    """A fraction as a percentage: 0.884 → '88.4%'."""
    return f"{100 * fraction:.{digits}f}%"


def signed_points(points: float, digits: int = 1) -> str:
    """A difference already in percentage points, signed: 6.875 → '+6.9', -0.25 → '−0.3'."""
    return f"{points:+.{digits}f}".replace("-", MINUS)


def count(value: float) -> str:
    """A count with thousands separators: 3200 → '3,200'."""
    return f"{value:,.0f}"


def duration(seconds: Any, missing: str = "—") -> str:
    """Whole seconds under a minute, then minutes and seconds: 7.4 → '7 s', 125 → '2 min 05 s';
    ``missing`` for None or a non-number (a time is never made up)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return missing
    whole = round(float(seconds))
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"
