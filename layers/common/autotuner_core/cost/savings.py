"""What a decision saves, in dollars: one definition for the run record, the event and every CLI surface.

A decision's saving is its projected change of cost per million invocations (the recommendation's,
from the measured sizes), turned into dollars a month by the function's own traffic where it is
known: the invocations CloudWatch counted in the 24 hours before the run (discovery's
``liveTraffic.dailyInvocations``). Where the traffic is not known, the saving stays per million
invocations and says so; such savings are never added up, since a million invocations of one
function and of another are not the same money.

A month is :data:`DAYS_PER_MONTH` days: 730 hours, the month of AWS's own pricing pages and
calculator (365 x 24 / 12), so 30.42 days.

The document, ``projectedSavings`` in a run record and a ``Tuning Completed`` event::

    {"basis": "traffic", "perMillionUsd": 7.99, "dailyInvocations": 432000, "perMonthUsd": 104.99}
    {"basis": "perMillion", "perMillionUsd": 7.99}

Positive saves money; negative costs more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

HOURS_PER_MONTH = 730
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
TRAFFIC = "traffic"
PER_MILLION = "perMillion"
# Outcomes that carry a decision: a size applied, recommended (dry run) or kept.
DECIDED = frozenset({"APPLIED", "RECOMMENDED", "UNCHANGED"})


def per_month(per_million_usd: float, daily_invocations: float) -> float:
    """Dollars a month of a change per million invocations, at this many invocations a day."""
    return per_million_usd * daily_invocations / 1_000_000 * DAYS_PER_MONTH


def projected_savings(
    outcome: str | None, recommendation: dict[str, Any] | None, daily_invocations: float | None
) -> dict[str, Any] | None:
    """The ``projectedSavings`` document of one decision, or None when nothing was measured to price.

    ``recommendation`` is the recommendation's JSON (camelCase); a kept current size saves
    nothing. ``daily_invocations`` (None: unknown) prices the change per month.
    """
    if outcome not in DECIDED or not recommendation:
        return None
    change = recommendation.get("projectedChangePerMillionUsd")
    if recommendation.get("keptCurrent"):
        per_million = 0.0
    elif change is None:
        return None
    else:
        per_million = -float(change)
    document: dict[str, Any] = {"basis": PER_MILLION, "perMillionUsd": round(per_million, 6)}
    if daily_invocations is not None and math.isfinite(float(daily_invocations)):
        daily = float(daily_invocations)
        document.update(
            basis=TRAFFIC,
            dailyInvocations=int(daily),
            perMonthUsd=round(per_month(per_million, daily), 6),
        )
    return document


def from_finding(range_: Any) -> dict[str, Any]:
    """The ``projectedSavings`` of a telemetry finding (documents/telemetry.py SavingsRange), with its range."""
    return {
        "basis": TRAFFIC,
        "perMillionUsd": range_.per_million_usd,
        "dailyInvocations": int(range_.daily_invocations),
        "perMonthUsd": range_.per_month_usd,
        "lowPerMonthUsd": range_.low_per_month_usd,
        "highPerMonthUsd": range_.high_per_month_usd,
    }


def savings_of(document: dict[str, Any]) -> dict[str, Any] | None:
    """The ``projectedSavings`` of a run record or a run summary's outcome (plain JSON), stored or worked out.

    Records written before the field existed are priced the same way from what they kept.
    """
    stored = document.get("projectedSavings")
    if isinstance(stored, dict):
        # A stored record's numbers are DynamoDB's Decimals: plain numbers for JSON and arithmetic.
        return {
            key: value if key == "basis" else int(value) if key == "dailyInvocations" else float(value)
            for key, value in stored.items()
        }
    daily = document.get("dailyInvocations")
    if daily is None:
        daily = (document.get("liveTraffic") or {}).get("dailyInvocations")
    return projected_savings(document.get("outcome"), document.get("recommendation"), daily)


def usd(amount: float) -> str:
    """``$1,234.56``, ``$0.42``, ``$0.0031`` (two significant figures below a cent), ``-$3.10``."""
    sign, value = ("-" if amount < 0 else ""), abs(amount)
    if value == 0:
        return "$0.00"
    if value >= 0.01:
        return f"{sign}${value:,.2f}"
    decimals = min(10, 1 - math.floor(math.log10(value)))
    return f"{sign}${value:.{decimals}f}"


def savings_text(savings: dict[str, Any] | None, outcome: str | None = None) -> str:
    """One decision's saving for a person: a month's dollars at its traffic, or per million invocations.

    ``saves $104.99 a month at 432,000 invocations a day ($7.99 per million)``;
    ``saves $7.99 per million invocations (traffic unknown: not priced per month)``.
    """
    if savings is None:
        return "not priced: nothing was measured"
    would = "would " if outcome == "RECOMMENDED" else ""
    per_million = float(savings["perMillionUsd"])
    if outcome == "UNCHANGED" or per_million == 0:
        return "$0.00 a month: the size does not change"
    verb = f"{would}{'save' if would else 'saves'}" if per_million > 0 else f"{would}{'cost' if would else 'costs'}"
    if savings.get("basis") == TRAFFIC and not savings["dailyInvocations"]:
        # An idle function saves nothing a month; per million says what the change is worth once it runs.
        return f"$0.00 a month: no invocations in the last 24 h ({verb} {usd(abs(per_million))} per million)"
    if savings.get("basis") == TRAFFIC:
        monthly, daily = float(savings["perMonthUsd"]), int(savings["dailyInvocations"])
        more = "" if per_million > 0 else " more"
        return (
            f"{verb} {usd(abs(monthly))} a month{more} at {daily:,} invocations a day "
            f"({usd(abs(per_million))} per million)"
        )
    more = "" if per_million > 0 else " more"
    return f"{verb} {usd(abs(per_million))}{more} per million invocations (traffic unknown: not priced per month)"


def short_text(savings: dict[str, Any] | None) -> str:
    """A table cell: ``$104.93/month``, or ``$7.99/1M`` where the traffic is unknown; ``-`` for none."""
    if savings is None:
        return "-"
    if savings.get("basis") == TRAFFIC and not savings["dailyInvocations"]:
        return f"$0.00/month (idle; {usd(float(savings['perMillionUsd']))}/1M)"
    if savings.get("basis") == TRAFFIC:
        return f"{usd(float(savings['perMonthUsd']))}/month"
    return f"{usd(float(savings['perMillionUsd']))}/1M"


@dataclass(frozen=True)
class FunctionSaving:
    """One function's decision, priced: its name, outcome and ``projectedSavings``."""

    name: str
    outcome: str
    savings: dict[str, Any]

    @property
    def per_month(self) -> float | None:
        return float(self.savings["perMonthUsd"]) if self.savings.get("basis") == TRAFFIC else None


def priced(documents: Iterable[dict[str, Any]], name_of: Any) -> list[FunctionSaving]:
    """Every decision that changes a size (applied or recommended), largest saving first.

    Those priced by traffic come first, by dollars a month; then those known per million only.
    """
    rows = []
    for document in documents:
        savings = savings_of(document)
        outcome = str(document.get("outcome") or "")
        if savings is None or outcome not in ("APPLIED", "RECOMMENDED") or float(savings["perMillionUsd"]) == 0:
            continue
        rows.append(FunctionSaving(name_of(document), outcome, savings))
    return sorted(
        rows,
        key=lambda row: (row.per_month is None, -(row.per_month or 0.0), -float(row.savings["perMillionUsd"])),
    )


def money_summary(rows: list[FunctionSaving], *, top: int = 3) -> str:
    """The run's saving in one sentence: a month's total over the functions priced by traffic, the biggest ones.

    ``would save $132.40 a month across 3 functions; biggest: orders-api $104.93, report-builder $20.11``
    """
    if not rows:
        return "no size changes: nothing to save"
    by_traffic = [row for row in rows if row.per_month is not None and row.savings["dailyInvocations"]]
    idle = [row for row in rows if row.per_month is not None and not row.savings["dailyInvocations"]]
    per_million = [row for row in rows if row.per_month is None]
    parts = []
    if by_traffic:
        total = sum(row.per_month or 0.0 for row in by_traffic)
        applied = all(row.outcome == "APPLIED" for row in by_traffic)
        verb = ("saves" if applied else "would save") if total >= 0 else ("costs" if applied else "would cost")
        count = f"{len(by_traffic)} function{'s' if len(by_traffic) != 1 else ''}"
        parts.append(f"{verb} {usd(abs(total))} a month{'' if total >= 0 else ' more'} across {count}")
        biggest = [row for row in by_traffic if (row.per_month or 0.0) > 0][:top]
        if biggest:
            parts.append("biggest: " + ", ".join(f"{row.name} {usd(row.per_month or 0.0)}" for row in biggest))
    for group, label in ((idle, "no invocations in the last 24 h"), (per_million, "traffic unknown")):
        if group:
            listed = ", ".join(f"{row.name} {usd(float(row.savings['perMillionUsd']))}" for row in group[:top])
            more = f" and {len(group) - top} more" if len(group) > top else ""
            parts.append(f"{label}, per million invocations: {listed}{more}")
    return "; ".join(parts)
