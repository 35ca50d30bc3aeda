"""Scorecard figures (pure) against hand-computed values, including the edges: no jobs,
missing times, equal ranks, month boundaries in local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.appraisal.figures import (
    JobFacts,
    StepFacts,
    month_bounds,
    month_of,
    previous_months,
    ranked,
    scorecard,
)

T0 = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)


def facts(i: int, *, accept: int | None = 5, arrive: int | None = 30, resolve: int = 60,
          arrive_by: int | None = 45, complete_by: int = 180, rating: int | None = None,
          reopen_after: int | None = None, returned: int = 0) -> JobFacts:
    at = lambda m: None if m is None else T0 + timedelta(minutes=m)  # noqa: E731
    resolved = T0 + timedelta(minutes=resolve)
    return JobFacts(id=f"j{i}", code=f"J{i}", kind="fault_repair", station_id="s1",
                    assignee_id="u1", dispatched_at=T0, accepted_at=at(accept),
                    arrived_at=at(arrive), resolved_at=resolved, arrive_by=at(arrive_by),
                    complete_by=at(complete_by), rating=rating,
                    reopened_at=() if reopen_after is None else (
                        resolved + timedelta(minutes=reopen_after),),
                    returned=returned)


def test_no_jobs_gives_no_figures_not_zeros() -> None:
    card = scorecard("user:u1", "2026-10", [])
    assert card.handled == 0
    assert {k: f.value for k, f in card.figures.items()} == {
        "handled": 0.0, "accept_min": None, "arrive_min": None, "arrive_on_time": None,
        "finish_h": None, "conformity": None, "first_fix": None, "satisfaction": None,
        "response_rate": None, "returned": 0.0, "app_steps_on_time": None}


def test_missing_times_leave_a_job_out_of_that_figure_only() -> None:
    card = scorecard("u", "2026-10", [facts(1, accept=None), facts(2, accept=9)])
    assert (card.figures["accept_min"].value, card.figures["accept_min"].n) == (9.0, 1)
    assert card.figures["handled"].n == 2


def test_a_job_without_an_arrival_commitment_is_judged_on_completion_only() -> None:
    late_finish = facts(1, arrive_by=None, resolve=200)
    fine = facts(2, arrive_by=None)
    card = scorecard("u", "2026-10", [late_finish, fine])
    assert card.figures["arrive_on_time"].value is None
    assert (card.figures["conformity"].value, card.figures["conformity"].job_ids) == (
        50.0, ("j1",))


def test_a_reopen_after_seven_days_is_still_a_first_time_fix() -> None:
    card = scorecard("u", "2026-10", [facts(1, reopen_after=7 * 24 * 60 + 1),
                                      facts(2, reopen_after=60)])
    assert (card.figures["first_fix"].value, card.figures["first_fix"].job_ids) == (
        50.0, ("j2",))


def test_ranking_shares_ranks_for_equal_figures_and_puts_the_empty_last() -> None:
    a = scorecard("a", "m", [facts(1)])
    b = scorecard("b", "m", [facts(2), facts(3)])
    c = scorecard("c", "m", [facts(4, arrive=50)])
    empty = scorecard("d", "m", [])
    order = [(rank, card.subject) for rank, card in ranked([c, empty, a, b], "conformity")]
    assert order == [(1, "b"), (1, "a"), (3, "c"), (4, "d")]
    assert [card.subject for _, card in ranked([a, c], "arrive_min")] == ["a", "c"]


def test_months_are_local_time() -> None:
    assert month_of(datetime(2026, 10, 31, 15, 59, tzinfo=UTC)) == "2026-10"
    assert month_of(datetime(2026, 10, 31, 16, 0, tzinfo=UTC)) == "2026-11"
    start, end = month_bounds("2026-12")
    assert (start.isoformat(), end.isoformat()) == ("2026-12-01T00:00:00+08:00",
                                                    "2027-01-01T00:00:00+08:00")
    assert previous_months("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]


def test_application_steps_on_time_counts_those_with_a_deadline() -> None:
    def step(i: int, ended_after_due_min: int | None, job: str | None = None) -> StepFacts:
        due = None if ended_after_due_min is None else T0
        ended = T0 + timedelta(minutes=ended_after_due_min or 0)
        return StepFacts(application_id=f"a{i}", code=f"A{i}", step="acceptance",
                         station_id="s1", ended_by="u1", ended_at=ended, due_at=due,
                         work_order_id=job)

    steps = [step(1, -30), step(2, 0), step(3, 90, job="wo3"), step(4, None)]
    fig = scorecard("u", "2026-10", [], steps).figures["app_steps_on_time"]
    # three had a deadline; one ended 90 min after it (its survey job is the drill-down)
    assert (fig.value, fig.n, fig.job_ids) == (66.7, 3, ("wo3",))
