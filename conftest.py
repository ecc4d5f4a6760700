"""Root conftest: applies to nbval's notebook collection as well as to tests/."""

from __future__ import annotations


def pytest_collectstart(collector):
    # nbval compares stdout and stderr separately; stderr carries library notices whose text
    # changes between versions, so only stdout and rich outputs are compared.
    if collector.path is not None and collector.path.suffix == ".ipynb":
        skip = getattr(collector, "skip_compare", None)
        if skip is not None and "stderr" not in skip:
            collector.skip_compare = (*skip, "stderr")


def _reference_seconds() -> dict[str, float]:
    import json

    from coursetools.paths import REFERENCE_TIMINGS  # no TensorFlow

    try:
        return json.loads(REFERENCE_TIMINGS.read_text())["seconds"]["workshop"]
    except (OSError, KeyError, ValueError):
        return {}


def pytest_collection_modifyitems(session, config, items):
    # nbval in two workers: start the longest notebooks first, so the capstone does not begin
    # last while the other worker idles (about 15% of the nbval stage on 2 cores). Needs
    # --no-loadscope-reorder (xdist otherwise orders notebooks by their number of cells).
    seconds = _reference_seconds()
    if not seconds or not any(item.path.suffix == ".ipynb" for item in items):
        return
    items.sort(
        key=lambda item: -seconds.get(item.path.stem, 0.0) if item.path.suffix == ".ipynb" else 0.0
    )
