"""Write the course's output files without ever losing an earlier one.

A re-run must not silently drop the results, models or notebooks of the run before it, and a
write that fails half-way must leave the current file as it was. So a new file is written
beside the old one first, the old one is kept under a time-stamped ``*.prev`` name (every
generation, never overwritten), and only then does the new one take its place.
``python scripts/prune_results.py`` (``make prune``) deletes old generations when asked.

Imports nothing heavy (no TensorFlow): course tooling loads it too.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

# "<stem>.<YYYYmmdd-HHMMSS>[-N].prev<suffix>": sorts by age, and ends in ".prev<suffix>" so
# that tools which skip backups (the claims ledger skips "*.prev.json") keep skipping them.
_STAMP = "%Y%m%d-%H%M%S"
_GENERATION = re.compile(
    r"^(?P<stem>.+)\.(?P<stamp>\d{8}-\d{6})(?:-(?P<n>\d+))?\.prev(?P<suffix>.*)$"
)


class OutputNotWritable(PermissionError):
    """A folder the course must write to cannot be written; the message says how to fix it."""


def _umask_mode(mode: int = 0o666) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def stamped_name(path: Path, stamp_from: Path | None = None, marker: str = ".prev") -> Path:
    """A free ``<stem>.<stamp>[-N]<marker><suffix>`` name beside ``path``, stamped with the
    modification time of ``stamp_from`` (default ``path``)."""
    path = Path(path)
    mtime = Path(stamp_from or path).stat().st_mtime
    stamp = datetime.fromtimestamp(mtime).strftime(_STAMP)
    candidate = path.with_name(f"{path.stem}.{stamp}{marker}{path.suffix}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}.{stamp}-{n}{marker}{path.suffix}")
    return candidate


def generation_name(path: Path) -> Path:
    """A free ``<stem>.<stamp>.prev<suffix>`` name beside ``path``, stamped with its mtime."""
    return stamped_name(path)


def keep_previous(path: Path) -> Path | None:
    """Keep the existing ``path`` (file or folder) as a new generation; None if there is none.

    A file is hard-linked (copied where links are not possible), so ``path`` itself stays in
    place until the caller atomically replaces it; a folder is renamed.
    """
    path = Path(path)
    if not path.exists():
        return None
    kept = generation_name(path)
    if path.is_dir():
        path.rename(kept)
    else:
        try:
            os.link(path, kept)
        except OSError:
            shutil.copy2(path, kept)
    return kept


def ensure_writable(folder: Path, what: str = "results") -> Path:
    """Create ``folder`` if needed and prove a file can be written there, before any work
    depends on it. Raises :class:`OutputNotWritable` naming the folder and the fix."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise OutputNotWritable(
            f"Cannot write {what} to {folder} ({exc.strerror or exc}). Nothing has run yet, so "
            "nothing is lost. Make the folder writable (e.g. `chmod u+w` on it), or send the "
            "output elsewhere: set COURSE_BUILD_DIR (or COURSE_OUTPUT_DIR for one run) to a "
            "writable folder, then run again."
        ) from exc
    return folder


def write_keeping_previous(path: Path, write: Callable[[Path], None]) -> Path | None:
    """Write ``path`` through ``write(tmp_path)``; keep an existing ``path`` as a generation.

    ``write`` writes the complete new content to the temporary path it is given (same folder,
    same suffix). If it raises, the current file and its generations are untouched and the
    temporary file is removed. Returns the kept generation's path, if there was a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _umask_mode())  # mkstemp makes 0600; results are ordinary files
        kept = keep_previous(path)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return kept


def write_text_keeping_previous(path: Path, text: str) -> Path | None:
    """:func:`write_keeping_previous` for text (UTF-8)."""
    return write_keeping_previous(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def generations(path: Path) -> list[Path]:
    """The kept generations of ``path``, oldest first."""
    path = Path(path)
    found = []
    for candidate in path.parent.glob(f"{path.stem}.*.prev{path.suffix}"):
        match = _GENERATION.match(candidate.name)
        if match and match["stem"] == path.stem and match["suffix"] == path.suffix:
            found.append((match["stamp"], int(match["n"] or 1), candidate))
    return [p for *_, p in sorted(found)]


def all_generations(folder: Path) -> dict[Path, list[Path]]:
    """Every kept generation under ``folder`` (recursively), grouped by the file it kept."""
    groups: dict[Path, list[Path]] = {}
    for candidate in Path(folder).rglob("*.prev*"):
        match = _GENERATION.match(candidate.name)
        if match:
            current = candidate.with_name(match["stem"] + match["suffix"])
            groups.setdefault(current, [])
    return {current: generations(current) for current in sorted(groups)}


def prune_generations(folder: Path, keep: int, dry_run: bool = True) -> list[Path]:
    """Delete all but the newest ``keep`` generations of every file under ``folder``.

    Current files are never touched. With ``dry_run`` (the default) nothing is deleted; the
    list says what would be. Returns the generations deleted (or to delete).
    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise ValueError(f"keep must be a non-negative int (generations to keep), got {keep!r}.")
    doomed = []
    for gens in all_generations(folder).values():
        doomed.extend(gens[: max(len(gens) - keep, 0)])
    if not dry_run:
        for path in doomed:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return doomed
