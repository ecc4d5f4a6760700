"""Root conftest: applies to nbval's notebook collection as well as to tests/."""

from __future__ import annotations


def pytest_collectstart(collector):
    # nbval compares stdout and stderr separately; stderr carries library notices whose text
    # changes between versions, so only stdout and rich outputs are compared.
    if collector.path is not None and collector.path.suffix == ".ipynb":
        skip = getattr(collector, "skip_compare", None)
        if skip is not None and "stderr" not in skip:
            collector.skip_compare = (*skip, "stderr")
