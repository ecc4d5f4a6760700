"""coursetools, the course's tooling package: importing any of it never starts TensorFlow (nor
the lesson package), and ``python -m coursetools`` lists exactly the commands it has."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import coursetools
from coursetools.__main__ import main as coursetools_main

MODULES = sorted(m.name for m in pkgutil.iter_modules(coursetools.__path__))


def test_importing_every_tooling_module_starts_no_tensorflow():
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module('coursetools.' + name)\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'helpers') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_every_command_is_listed_and_every_listed_command_runs_main():
    runnable = {
        name
        for name in MODULES
        if not name.startswith("_")
        and hasattr(importlib.import_module(f"coursetools.{name}"), "main")
    }
    assert set(coursetools.COMMANDS) == runnable


def test_help_lists_the_commands_and_an_unknown_one_is_refused(capsys):
    assert coursetools_main(["--help"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in coursetools.COMMANDS)
    assert coursetools_main(["reprot"]) == 2
    assert "Unknown command 'reprot'" in capsys.readouterr().err


def test_every_command_answers_help_and_does_nothing_else(capsys):
    """`python -m coursetools.<command> --help` must print the options, never run the command
    (one once rewrote requirements.lock when asked for help)."""
    for name in coursetools.COMMANDS:
        module = importlib.import_module(f"coursetools.{name}")
        try:
            module.main(["--help"])
        except SystemExit as exc:
            assert exc.code == 0, name
        else:
            raise AssertionError(f"{name}: --help did not stop at the usage text")
        assert f"python -m coursetools.{name}" in capsys.readouterr().out, name


def test_kept_generations_are_not_lessons(tmp_path):
    from coursetools.paths import lesson_notebooks

    for name in ("01_underfitting.ipynb", "01_underfitting.20261129-101010.prev.ipynb", "x.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in lesson_notebooks(tmp_path)] == ["01_underfitting.ipynb"]
