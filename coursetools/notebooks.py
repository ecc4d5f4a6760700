"""The course's one papermill runner: check a lesson's parameters, then execute it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coursetools.parameters import check_parameters


def check_papermill_parameters(notebook: Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Reject parameters the notebook does not declare (papermill itself only warns) and
    values of the wrong type, naming the allowed ones. Returns the merged parameters."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    namespace = {name: None for name in declared}
    namespace.update({"PROFILE": "workshop", "SEED": 0})
    namespace.update(parameters)
    check_parameters(namespace)  # unknown names, missing names, types
    return dict(parameters)


def execute_lesson(
    notebook: Path, output: Path, parameters: Mapping[str, Any], cwd: Path | None = None
) -> Any:
    """Execute ``notebook`` with papermill into ``output`` the way the course always does: the
    course's ``python3`` kernel, no progress bar, and the kernel started in ``cwd`` (default:
    the notebook's own folder, as in JupyterLab and nbval). Returns the executed notebook;
    a failing cell raises ``papermill.PapermillExecutionError``."""
    import papermill

    return papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters=dict(parameters),
        cwd=str(cwd or Path(notebook).parent),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        # the kernel's own start-up log (e.g. "running over TCP without encryption", which
        # papermill's local kernels always are) is not the learner's business; cell errors
        # and the notebook's outputs are unaffected
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
