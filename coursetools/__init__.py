"""The course's tooling: everything a maintainer or instructor runs that is not a lesson.

Run a command as ``python -m coursetools.<command>`` (``python -m coursetools`` lists them);
the Makefile targets call exactly these. Importing this package, or any module in it, never
starts TensorFlow: commands that train (``doctor``'s speed check, ``bench``) import the lesson
package :mod:`helpers` only when they run. The lessons, in turn, import the few modules here
that hold course-wide facts without TensorFlow: :mod:`coursetools.profiles` (settings),
:mod:`coursetools.parameters`, :mod:`coursetools.paths`, :mod:`coursetools.files`,
:mod:`coursetools.formatting` and :mod:`coursetools.evidence`.
"""

# command -> (Makefile target, what it does); `python -m coursetools` prints this table
COMMANDS: dict[str, tuple[str, str]] = {
    "run_lessons": ("make lessons", "run the lessons with papermill into build/lessons/"),
    "doctor": ("make doctor", "check this machine: versions, cores, data, kernel, lesson times"),
    "handouts": ("make handouts", "HTML/PDF handouts of executed lessons"),
    "site": ("make site", "the course website: lessons, search, ledger, offline"),
    "schedule": ("make site", "one- and two-day workshop schedules around measured run times"),
    "student": ("make student", "student copies: solutions blanked, outputs cleared"),
    "report": ("make report", "the claims ledger from the committed evidence"),
    "prune": ("make prune", "list or delete older kept generations of results"),
    "record_evidence": ("make evidence", "record lesson results as committed evidence"),
    "bench": ("make bench", "lesson wall times, peak memory, training throughput"),
    "refresh_outputs": ("make outputs", "re-execute the committed notebooks in place"),
    "clean_notebooks": ("pre-commit", "drop run metadata from lesson notebooks"),
    "calibrate": ("", "one lesson at several seeds (a sweep): each claim's numbers per seed"),
    "sweep": ("make sweep", "lessons x seeds x profiles as tasks on Dask (local or a cluster)"),
    "write_lock": ("make lock", "rewrite requirements.lock from .venv"),
}
