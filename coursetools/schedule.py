"""Workshop schedules for one day and for two days, around the lessons' measured run times.

Usage: python -m coursetools.schedule [--days 1 2]

How long each notebook's cells run is measured (``coursetools/reference_timings.json``, written
by ``make bench``; ``make doctor`` rescales it to your machine). The time around it is a plan,
not a measurement: introducing the symptom, reading the outputs together, the exercises and
questions. :data:`PLAN_MINUTES` holds that plan per lesson; a block is never shorter than the
notebook's run time plus :data:`MIN_TALK_MINUTES`, so a slow lesson cannot be squeezed into a
slot it does not fit. The website shows both schedules (``make site``).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from coursetools import formatting
from coursetools.paths import reference_seconds

#: Planned minutes per lesson (teaching, running, discussing, exercises): one-day, two-day.
PLAN_MINUTES: dict[str, tuple[int, int]] = {
    "00_data_and_baseline": (30, 50),
    "01_underfitting": (45, 70),
    "02_overfitting": (45, 70),
    "03_augmentation": (40, 60),
    "04_tuning": (45, 80),
    "05_initialization": (40, 60),
    "06_regularization": (40, 65),
    "07_capstone": (50, 80),
    "08_class_imbalance": (30, 50),
}
#: Which lessons each day of the two-day workshop covers.
TWO_DAYS = (
    ("00_data_and_baseline", "01_underfitting", "02_overfitting", "03_augmentation", "04_tuning"),
    ("05_initialization", "06_regularization", "07_capstone", "08_class_imbalance"),
)
MIN_TALK_MINUTES = 10  # at least this long around a notebook's own run time
DAY_START = 9 * 60  # 09:00, in minutes after midnight
BREAK, LUNCH = 15, 60
BREAK_AFTER = 75  # a break before the next lesson once this many minutes ran without one,
MAX_STRETCH = 120  # or when the next lesson would make the stretch longer than this
LUNCH_FROM = 11 * 60 + 45  # lunch before the first lesson that starts after 11:45
LUNCH_BY = 13 * 60  # or that would end after 13:00


@dataclass(frozen=True)
class Slot:
    """One row of a day: a lesson or a break, from ``start`` to ``end`` (minutes after
    midnight)."""

    start: int
    end: int
    what: str
    lesson: str | None = None
    run_seconds: float | None = None


def run_times(path: Path | None = None) -> dict[str, float]:
    """The reference machine's workshop run time of each lesson, in seconds."""
    return reference_seconds("workshop", path)


def block_minutes(lesson: str, days: int, seconds: Mapping[str, float]) -> int:
    """The planned minutes of ``lesson`` in a ``days``-day workshop, at least its run time
    (rounded up) plus :data:`MIN_TALK_MINUTES`."""
    if lesson not in PLAN_MINUTES:
        raise ValueError(
            f"{lesson!r} has no planned time; add it to PLAN_MINUTES in {__name__} "
            f"(lessons planned: {', '.join(PLAN_MINUTES)})"
        )
    planned = PLAN_MINUTES[lesson][0 if days == 1 else 1]
    run = seconds.get(lesson)
    floor = math.ceil(run / 60) + MIN_TALK_MINUTES if run else 0
    return max(planned, floor)


def day_plan(lessons: Sequence[str], days: int, seconds: Mapping[str, float]) -> list[Slot]:
    """The lessons of one day in order, with lunch around midday and a short break between
    lessons about every hour and a half (see the constants above)."""
    slots, clock, since_break, lunched = [], DAY_START, 0, False
    for lesson in lessons:
        minutes = block_minutes(lesson, days, seconds)
        if not lunched and (clock >= LUNCH_FROM or clock + minutes > LUNCH_BY):
            slots.append(Slot(clock, clock + LUNCH, "lunch"))
            clock, since_break, lunched = clock + LUNCH, 0, True
        elif since_break >= BREAK_AFTER or since_break + minutes > MAX_STRETCH:
            slots.append(Slot(clock, clock + BREAK, "break"))
            clock, since_break = clock + BREAK, 0
        slots.append(Slot(clock, clock + minutes, lesson, lesson, seconds.get(lesson)))
        clock += minutes
        since_break += minutes
    return slots


def workshop(days: int, lessons: Sequence[str], seconds: Mapping[str, float]) -> list[list[Slot]]:
    """Every day of a one- or two-day workshop over ``lessons``."""
    if days == 1:
        return [day_plan(lessons, 1, seconds)]
    if days == 2:
        days_lessons = [[x for x in day if x in lessons] for day in TWO_DAYS]
        return [day_plan(day, 2, seconds) for day in days_lessons if day]
    raise ValueError(f"days must be 1 or 2, got {days!r}")


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def markdown(days: int, lessons: Sequence[str], seconds: Mapping[str, float]) -> str:
    """The schedule as Markdown tables, one per day."""
    title = "One-day workshop" if days == 1 else "Two-day workshop"
    out = [f"## {title}", ""]
    for number, day in enumerate(workshop(days, lessons, seconds), start=1):
        if days > 1:
            out += [f"### Day {number}", ""]
        out += [
            "| time | lesson | its cells run (reference machine, measured) |",
            "|---|---|---|",
        ]
        for slot in day:
            when = f"{clock(slot.start)}–{clock(slot.end)}"
            if slot.lesson is None:
                out.append(f"| {when} | *{slot.what}* | |")
            else:
                out.append(f"| {when} | {slot.lesson} | {formatting.duration(slot.run_seconds)} |")
        taught = sum(s.end - s.start for s in day if s.lesson)
        out += [
            "",
            f"{taught // 60} h {taught % 60:02d} min of lessons; ends {clock(day[-1].end)}.",
            "",
        ]
    return "\n".join(out)


def page(seconds: Mapping[str, float] | None = None, lessons: Sequence[str] | None = None) -> str:
    """The website's schedule page."""
    seconds = run_times() if seconds is None else seconds
    lessons = list(PLAN_MINUTES) if lessons is None else list(lessons)
    return "\n".join(
        [
            "# Workshop schedule",
            "",
            "Two plans for teaching the nine lessons at the workshop profile. The third column is",
            "measured: how long the notebook's cells run on the reference machine (2 cores; `make",
            "doctor` rescales it to yours). The rest of each block is a plan, not a measurement:",
            "introducing the symptom, reading the outputs together, the exercises. Each lesson's",
            "*instructor notes* (the quoted notes in its page) say where to pause while a model",
            "trains. Learners who run the lessons themselves need about the same time again on a",
            "slower laptop: start the long cells (the capstone first) before the discussion.",
            "Generated by `make site` from `coursetools/schedule.py` (`python -m",
            "coursetools.schedule` prints it).",
            "",
            markdown(1, lessons, seconds),
            markdown(2, lessons, seconds),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--days", type=int, nargs="+", default=[1, 2], choices=(1, 2))
    args = parser.parse_args(argv)
    seconds = run_times()
    for days in args.days:
        print(markdown(days, list(PLAN_MINUTES), seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
