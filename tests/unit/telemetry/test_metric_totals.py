"""The lookback's metric totals, as CloudWatch's daily statistics add up."""

from datetime import UTC, datetime, timedelta

from autotuner_core.telemetry.reading import _totals

DAY = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_average_duration_weighs_each_day_by_its_invocations() -> None:
    # Given a quiet day (1 invocation of 100 ms) and a busy one (9 invocations averaging 1,000 ms)
    busy, quiet = DAY, DAY - timedelta(days=1)
    series = {
        "invocations": [(busy, 9.0), (quiet, 1.0)],
        "duration": [(busy, 1000.0), (quiet, 100.0)],
        "errors": [],
        "throttles": [],
        "concurrency": [(busy, 3.0)],
    }
    # When the totals are read
    totals = _totals(series)
    # Then the average is over the 10 invocations (910 ms), not the mean of the two days (550 ms)
    assert totals.duration_avg_ms == 910.0
    assert (totals.invocations, totals.days_with_invocations, totals.concurrent_executions_max) == (10.0, 2, 3.0)
