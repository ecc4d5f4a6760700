"""The workshop schedules (coursetools/schedule.py): every lesson once, blocks that fit each
notebook's measured run time, days that end in the afternoon."""

from __future__ import annotations

import pytest

from coursetools import schedule
from coursetools.paths import lesson_notebooks

LESSONS = [p.stem for p in lesson_notebooks()]


def test_every_lesson_has_a_planned_time():
    assert list(schedule.PLAN_MINUTES) == LESSONS
    assert [x for day in schedule.TWO_DAYS for x in day] == LESSONS


@pytest.mark.parametrize("days", [1, 2])
def test_each_lesson_once_with_room_for_its_run_time_and_breaks(days):
    seconds = schedule.run_times()
    plan = schedule.workshop(days, LESSONS, seconds)
    slots = [s for day in plan for s in day]
    assert [s.lesson for s in slots if s.lesson] == LESSONS
    for s in slots:
        if s.lesson:
            assert s.end - s.start >= seconds[s.lesson] / 60 + schedule.MIN_TALK_MINUTES
    for day in plan:
        assert sum(s.what == "lunch" for s in day) <= 1
        assert all(a.end == b.start for a, b in zip(day, day[1:], strict=False))
        assert day[-1].end <= 17 * 60 + 30, schedule.clock(day[-1].end)


def test_a_slow_lesson_gets_a_longer_block_and_an_unplanned_one_is_named():
    slow = {lesson: 3600.0 for lesson in LESSONS}  # an hour of running per notebook
    assert schedule.block_minutes("00_data_and_baseline", 1, slow) == 60 + 10
    with pytest.raises(ValueError, match="'09_new' has no planned time"):
        schedule.block_minutes("09_new", 1, slow)


def test_the_page_prints_the_measured_run_times():
    page = schedule.page({"07_capstone": 102.1}, ["07_capstone"])
    assert "| 09:00–09:50 | 07_capstone | 1 min 42 s |" in page
    assert "Two-day workshop" in page and "not a measurement" in page
