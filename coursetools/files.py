"""Write the course's output files without ever losing an earlier one.

A re-run must not silently drop the results, models or notebooks of the run before it, and a
write that fails half-way must leave the current file as it was. So a new file is written
beside the old one first, the old one is kept under a time-stamped ``*.prev`` name (every
generation, never overwritten), and only then does the new one take its place.
``python -m coursetools.prune`` (``make prune``) deletes old generations when asked.

Imports nothing heavy (no TensorFlow): the lessons (helpers.lesson, helpers.results) load it too.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
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


def keep_previous(path: Path, move: bool = False) -> Path | None:
    """Keep the existing ``path`` (file or folder) as a new generation; None if there is none.

    A file is hard-linked (copied where links are not possible), so ``path`` itself stays in
    place until the caller atomically replaces it with a new file; with ``move`` (for a file
    that will be rewritten in place) and for a folder, it is renamed. An existing generation
    is never overwritten, even by another process choosing the same name.
    """
    path = Path(path)
    if not path.exists():
        return None
    while True:
        kept = generation_name(path)
        try:
            if move or path.is_dir():
                if kept.exists():  # rename would replace a file on POSIX: never do that
                    continue
                path.rename(kept)
            else:
                _link_or_copy(path, kept)
            return kept
        except FileExistsError:  # another writer took the name between check and create
            continue


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network or FAT file systems)
        with open(source, "rb") as src, open(target, "xb") as dst:
            shutil.copyfileobj(src, dst)
        shutil.copystat(source, target)


_REASONS = {
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the disk is full",
    errno.ENOTDIR: "a file is in the way where a folder should be",
    errno.EEXIST: "a file is in the way where a folder should be",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def ensure_writable(
    folder: Path,
    what: str = "results",
    fix: str = "set COURSE_BUILD_DIR (or COURSE_OUTPUT_DIR for one run) to a writable folder",
    before_work: bool = True,
) -> Path:
    """Create ``folder`` if needed and prove a file can be written there. Raises
    :class:`OutputNotWritable` naming the folder, the reason and ``fix``; ``before_work``
    says whether anything has run yet (the message tells the user what is at stake)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        reason = _REASONS.get(exc.errno, exc.strerror or str(exc))
        at_stake = (
            "Nothing has run yet, so nothing is lost."
            if before_work
            else "What this kernel computed is still in memory: fix this, then run the cell again."
        )
        raise OutputNotWritable(
            f"Cannot write {what} to {folder} ({reason}). {at_stake} Make the folder writable "
            f"(or free space), or {fix}."
        ) from exc
    return folder


def write_keeping_previous(
    path: Path, write: Callable[[Path], None], keep: bool = True
) -> Path | None:
    """Write ``path`` through ``write(tmp_path)``; keep an existing ``path`` as a generation.

    ``write`` writes the complete new file at the temporary path it is given (same folder,
    same suffix, a hidden name). If it raises or makes something other than a file, the
    current file and its generations are untouched and the temporary path is removed.
    Returns the kept generation's path, if there was a file. ``keep=False`` only replaces
    the file atomically, for committed files whose history git keeps (evidence, reference
    timings).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
    # created through os.open so the user's umask applies (mkstemp would make it 0600)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    kept = None
    try:
        write(tmp)
        if not tmp.is_file():
            raise TypeError(f"write({tmp}) must create a file, not {_kind(tmp)}.")
        kept = keep_previous(path) if keep else None
        os.replace(tmp, path)
    except BaseException:
        if kept is not None and kept.is_dir() and not path.exists():
            kept.rename(path)  # a folder moved aside for this file: put it back
        elif kept is not None and path.is_file():
            kept.unlink()  # the current file is still in place: drop its duplicate link
        shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink(missing_ok=True)
        raise
    return kept


def write_text_keeping_previous(path: Path, text: str, keep: bool = True) -> Path | None:
    """:func:`write_keeping_previous` for text (UTF-8)."""
    return write_keeping_previous(
        path, lambda tmp: tmp.write_text(text, encoding="utf-8"), keep=keep
    )


def is_generation(path: Path) -> bool:
    """Whether ``path`` is a kept generation (``<stem>.<stamp>.prev<suffix>``)."""
    return _GENERATION.match(Path(path).name) is not None


def _kind(path: Path) -> str:
    return "a folder" if path.is_dir() else "nothing" if not path.exists() else "a special file"


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
    """Every kept generation under ``folder`` (recursively, but not inside a kept folder: it
    goes as a whole), grouped by the file or folder it kept."""
    groups: set[Path] = set()
    for candidate in Path(folder).rglob("*.prev*"):
        match = _GENERATION.match(candidate.name)
        inside_kept = any(
            _GENERATION.match(p.name) for p in candidate.relative_to(folder).parents if p.name
        )
        if match and not inside_kept:
            groups.add(candidate.with_name(match["stem"] + match["suffix"]))
    return {current: generations(current) for current in sorted(groups)}


def prune_generations(folder: Path, keep: int, dry_run: bool = True) -> list[Path]:
    """Delete all but the newest ``keep`` generations of every file or folder under ``folder``.

    Current files are never touched; a kept run folder goes with everything in it. With
    ``dry_run`` (the default) nothing is deleted; the list says what would be. Returns the
    generations deleted (or to delete).
    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise ValueError(f"keep must be a non-negative int (generations to keep), got {keep!r}.")
    doomed = []
    for gens in all_generations(folder).values():
        doomed.extend(gens[: max(len(gens) - keep, 0)])
    if not dry_run:
        for path in doomed:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    return doomed
