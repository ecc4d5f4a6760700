"""The three parameters every lesson notebook takes, checked before and after papermill.

``check_parameters`` runs twice: in the runner before a kernel starts (names papermill would
only warn about) and in the notebook's first cell (values a learner typed). No TensorFlow here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from coursetools.profiles import PROFILES

MAX_SEED = 2**31 - 1  # numpy seeds must be < 2**32, and lessons add offsets (SEED + 1000 * k)
PARAMETERS: dict[str, str] = {
    "PROFILE": "one of " + ", ".join(PROFILES),
    "SEED": f"an int from 0 to {MAX_SEED}",
    "DATA_SOURCE": "None (the profile's default), 'embedded', 'keras', 'auto' or a path",
}


class ParameterError(ValueError):
    """A notebook parameter is unknown, missing or of the wrong type."""


def _allowed() -> str:
    return "; ".join(f"{k} ({v})" for k, v in PARAMETERS.items())


# Stored in the notebook's namespace by the first successful check: the ALL-CAPS names that
# existed then. When a learner re-runs the notebook from the top in the same kernel, names
# that appeared since (BATCH_SIZE, RARE, ... from later cells) are lesson constants, unless
# they look like a misspelt parameter (SEEED, PROFLE): those are still errors.
_NAMES_AT_START = "__course_names_at_start__"
_MISSPELT = 0.8  # difflib similarity from which a new name is taken for a misspelt parameter


def check_parameters(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the notebook's parameters as papermill left them in ``namespace``.

    An ALL-CAPS name that is not a known parameter is a misspelling (papermill only warns about
    those and injects them anyway), so it is an error that suggests the closest name. When the
    notebook is re-run in the same kernel, names defined after the first check are the lesson's
    own constants unless they closely resemble a parameter name.
    """
    caps = [k for k in namespace if re.fullmatch(r"[A-Z][A-Z0-9_]+", k)]
    at_start = namespace.get(_NAMES_AT_START)
    if isinstance(at_start, frozenset):
        caps = [
            k
            for k in caps
            if k in at_start or difflib.get_close_matches(k, PARAMETERS, n=1, cutoff=_MISSPELT)
        ]
    unknown = [k for k in caps if k not in PARAMETERS]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, PARAMETERS, n=1)
            hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        live_kernel = "In" in namespace  # IPython keeps the cell history there
        raise ParameterError(
            f"Unknown parameter {', '.join(hints)}. This notebook takes: {_allowed()}."
            + (
                " If you already removed it from the parameters cell, it is still defined in "
                f"this kernel: restart the kernel (or run `del {unknown[0]}`) and run again."
                if live_kernel
                else ""
            )
        )
    missing = [k for k in PARAMETERS if k not in namespace]
    if missing:
        raise ParameterError(
            f"Parameter(s) {', '.join(missing)} not defined: run the 'parameters' cell first."
        )
    profile, seed, source = namespace["PROFILE"], namespace["SEED"], namespace["DATA_SOURCE"]
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ParameterError(
            f"PROFILE must be one of {', '.join(PROFILES)}; got {profile!r}. "
            "Example: papermill -p PROFILE smoke ..."
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ParameterError(
            f"SEED must be an int from 0 to {MAX_SEED}; got {seed!r} ({type(seed).__name__}). "
            "Example: papermill -p SEED 3 ..."
        )
    if source is not None and not isinstance(source, str):
        raise ParameterError(
            f"DATA_SOURCE must be None or a string ({PARAMETERS['DATA_SOURCE']}); got "
            f"{source!r} ({type(source).__name__})."
        )
    if isinstance(namespace, MutableMapping) and _NAMES_AT_START not in namespace:
        namespace[_NAMES_AT_START] = frozenset(caps)
    return {"PROFILE": profile, "SEED": seed, "DATA_SOURCE": source}
