"""Live requests served at candidate sizes: a Power-Tuning-style flow beside ours, same account, same traffic.

``python -m benchmarks livetraffic [--account FILE] [--targets a,b] [--json]``

Both flows run on the embedded AWS, each on a fresh copy of the same simulated account, while the
account's functions receive their ``liveTraffic`` (emulator/live_traffic.py): each
request runs whatever its qualifier points at and records the memory size it ran at. The count
printed is ``liveInvocationsAtCandidateSizes``: live requests that ran at a size other than the
function's original one or the one the flow finally left.

The Power-Tuning-style flow, modelled from reading AWS Lambda Power Tuning's ``lambda/initializer.js``,
``publisher.js``, ``executor.js``, ``cleaner.js`` and ``utils.js`` (github.com/alexcasalboni/
aws-lambda-power-tuning; no code copied), made of real calls on the embedded Lambda API:

1. initializer: ``GetFunctionConfiguration`` of ``$LATEST`` (its memory and description); the
   configurations are one per power value, then one more that restores the original memory;
2. publisher, once per configuration, in order (updates must not overlap):
   ``UpdateFunctionConfiguration`` of ``$LATEST`` (MemorySize, Description); its
   ``functionUpdated`` waiter (``GetFunctionConfiguration`` at once, then every second of the
   embedded clock, the waiter's ``minDelay``, until ``LastUpdateStatus`` is ``Successful``);
   ``PublishVersion``; ``GetAlias`` ``RAM<size>``, then ``CreateAlias`` or ``UpdateAlias`` (the
   restoring configuration publishes a version and makes no alias);
3. executor: each alias invoked ``num`` times, one after another (``parallelInvocation`` false);
4. cleaner: each alias and the version it points at deleted.

``$LATEST`` therefore holds candidate sizes from the first update until the restoring one has
settled; every unqualified live request in that window runs at a candidate size. Not modelled:
the Step Functions transitions between the publisher's iterations (in AWS they widen the window),
``onlyColdStarts`` (one configuration per invocation: a window ``num`` times longer), the analyzer.
As in Power Tuning, the version published by the restoring step has no alias and is left behind.

Ours: one execution of the real state machine (a dry run measuring the same range, same ``num``).
Today a target whose ``$LATEST`` is live ends in ``LiveTrafficError`` at discovery (nothing is
changed, so nothing runs at a candidate size); once shadows are allowed, the same column counts
a real measuring run. The outcome is printed beside the count so the two cases are told apart.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._goals import Result, judge
from benchmarks._table import text_table
from benchmarks.power_tuning import NUM, POWER_VALUES
from emulator.account import SimulatedAccount, load_account
from emulator.cloud import EmbeddedAws
from emulator.live_traffic import LiveTraffic

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ACCOUNT = PROJECT_ROOT / "benchmarks" / "data" / "live-traffic-account.json"
WAITER_MIN_DELAY_S = 1.0  # functionUpdated waiter's minDelay in Power Tuning's utils.waitForFunctionUpdate
WAITER_MAX_POLLS = 300


@dataclass
class FlowResult:
    """What one flow left production with: live requests per target and size, and those at candidate sizes."""

    flow: str
    served: dict[str, dict[int | None, int]]
    at_candidate_sizes: dict[str, int]
    live_errors: dict[str, int]  # live requests that failed (e.g. out of memory at a small size)
    outcomes: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_at_candidate_sizes(self) -> int:
        return sum(self.at_candidate_sizes.values())


def _per_target(live: LiveTraffic, original: dict[str, int], final: dict[str, int]) -> tuple[dict, dict, dict]:
    served = live.by_memory_size()
    at_candidates: dict[str, int] = {}
    errors: dict[str, int] = {}
    for record in list(live.invocations):
        name = record.function
        at_candidates.setdefault(name, 0)
        errors.setdefault(name, 0)
        if record.memory_size not in (original.get(name), final.get(name)):
            at_candidates[name] += 1
        if record.error:
            errors[name] += 1
    return served, at_candidates, errors


def _memory_sizes(aws: EmbeddedAws, names: Sequence[str]) -> dict[str, int]:
    return {name: int(aws.function_configuration(name)["MemorySize"]) for name in names}


def _wait_function_updated(aws: EmbeddedAws, lam: Any, name: str) -> None:
    for _ in range(WAITER_MAX_POLLS):
        if lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus") == "Successful":
            return
        aws.clock.sleep(WAITER_MIN_DELAY_S, "pacing")
    raise TimeoutError(f"{name}: functionUpdated waiter gave up after {WAITER_MAX_POLLS} polls")


def power_tuning_flow(aws: EmbeddedAws, name: str, power_values: Sequence[int], num: int, payload: bytes) -> None:
    """One Power-Tuning-style tuning of ``name`` on the embedded Lambda API (see the module docstring)."""
    lam = aws.client("lambda")
    latest = lam.get_function_configuration(FunctionName=name, Qualifier="$LATEST")
    original, description = int(latest["MemorySize"]), latest.get("Description") or ""
    configurations: list[tuple[int, str | None]] = [(size, f"RAM{size}") for size in power_values]
    configurations.append((original, None))  # restores $LATEST: a version, no alias
    for size, alias in configurations:
        lam.update_function_configuration(FunctionName=name, MemorySize=size, Description=description)
        _wait_function_updated(aws, lam, name)
        version = lam.publish_version(FunctionName=name)["Version"]
        if alias is None:
            continue
        try:
            lam.get_alias(FunctionName=name, Name=alias)
            lam.update_alias(FunctionName=name, Name=alias, FunctionVersion=version)
        except lam.exceptions.ResourceNotFoundException:
            lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    aliases = [alias for _, alias in configurations if alias is not None]
    for alias in aliases:
        for _ in range(num):
            lam.invoke(FunctionName=name, Qualifier=alias, Payload=payload, LogType="Tail")
    for alias in aliases:
        version = lam.get_alias(FunctionName=name, Name=alias)["FunctionVersion"]
        lam.delete_alias(FunctionName=name, Name=alias)
        lam.delete_function(FunctionName=name, Qualifier=version)


def run_power_tuning_style(
    account: SimulatedAccount, targets: Sequence[str], power_values: Sequence[int] = POWER_VALUES, num: int = NUM
) -> FlowResult:
    """Each target tuned in turn by the Power-Tuning-style flow, with the account's live traffic running."""
    started = time.monotonic()
    with EmbeddedAws(account) as aws:
        live = LiveTraffic(
            list(account.functions), client=lambda: aws.client("lambda"), aws_second=account.retry_time_scale
        )
        names = [function.name for function in live.functions]
        original = _memory_sizes(aws, names)
        with live:
            for name in targets:
                power_tuning_flow(aws, name, power_values, num, b"{}")
        final = _memory_sizes(aws, names)
    served, at_candidates, errors = _per_target(live, original, final)
    outcomes = dict.fromkeys(targets, "tuned")
    return FlowResult("power-tuning-style", served, at_candidates, errors, outcomes, time.monotonic() - started)


def run_ours(
    account: SimulatedAccount, targets: Sequence[str], power_values: Sequence[int] = POWER_VALUES, num: int = NUM
) -> FlowResult:
    """One dry run of the tuner's state machine on the same targets, range and ``num``, with the same traffic.

    The execution drives the account's live traffic itself (EmbeddedAws.run); the counts are its report's.
    """
    started = time.monotonic()
    # The payload the Power-Tuning-style flow sends, given explicitly: a run of several targets
    # without one skips them (NoPayloadError), which would count 0 without measuring anything.
    document = {
        "targets": list(targets),
        "memorySizes": list(power_values),
        "invocations": num,
        "payload": {},
        "apply": False,
    }
    names = [function.name for function in account.functions if function.live_traffic is not None]
    with EmbeddedAws(account) as aws:
        original = _memory_sizes(aws, names)
        report = aws.run(document)
        final = _memory_sizes(aws, names)
    served = report.live_invocations
    at_candidates = {
        name: sum(n for size, n in served.get(name, {}).items() if size not in (original[name], final[name]))
        for name in names
    }
    outcomes = {}
    for record in report.records:
        name = record["target"].rsplit(":", 1)[-1]
        outcomes[name] = record["outcome"] + (f" {record['errorType']}" if record.get("errorType") else "")
    outcomes["(run report)"] = f"liveInvocationsAtCandidateSizes {report.live_invocations_at_candidate_sizes}"
    return FlowResult("ours", served, at_candidates, {}, outcomes, time.monotonic() - started)


def compare(
    account: SimulatedAccount, targets: Sequence[str], power_values: Sequence[int] = POWER_VALUES, num: int = NUM
) -> tuple[FlowResult, FlowResult]:
    """Both flows on fresh copies of ``account``: (Power-Tuning-style, ours)."""
    return run_power_tuning_style(account, targets, power_values, num), run_ours(account, targets, power_values, num)


def live_targets(account: SimulatedAccount) -> list[str]:
    """Functions that receive live traffic, the default targets."""
    return [function.name for function in account.functions if function.live_traffic is not None]


def format_comparison(account: SimulatedAccount, pt: FlowResult, ours: FlowResult, targets: Sequence[str]) -> str:
    by_name = {function.name: function for function in account.functions}
    headers = [
        "target",
        "live traffic",
        "PT-style: live requests",
        "at candidate sizes",
        "failed",
        "ours: live requests",
        "at candidate sizes",
        "our outcome",
    ]
    rows = []
    for name in targets:
        spec = by_name[name].live_traffic
        traffic = f"{spec.requests_per_second:g}/s {spec.qualifier or '$LATEST'}" if spec else "idle"
        rows.append(
            [
                name,
                traffic,
                str(sum(pt.served.get(name, {}).values())),
                str(pt.at_candidate_sizes.get(name, 0)),
                str(pt.live_errors.get(name, 0)),
                str(sum(ours.served.get(name, {}).values())),
                str(ours.at_candidate_sizes.get(name, 0)),
                ours.outcomes.get(name, "-"),
            ]
        )
    rows.append(
        [
            "total",
            "",
            str(sum(sum(sizes.values()) for sizes in pt.served.values())),
            str(pt.total_at_candidate_sizes),
            str(sum(pt.live_errors.values())),
            str(sum(sum(sizes.values()) for sizes in ours.served.values())),
            str(ours.total_at_candidate_sizes),
            "",
        ]
    )
    lines = text_table([headers, *rows], right={2, 3, 4, 5, 6})
    lines.insert(-1, lines[1])
    sizes = {
        name: sorted(size for size in pt.served.get(name, {}) if size is not None) for name in targets if pt.served
    }
    lines.append("")
    lines.append("sizes live requests ran at under the PT-style flow: " + json.dumps(sizes))
    lines.append(f"our run: {ours.outcomes.get('(run report)', '-')}")
    return "\n".join(lines)


def summary_line(pt: FlowResult, ours: FlowResult) -> str:
    """The one line the demo prints."""
    return (
        f"Power Tuning's flow would have run {pt.total_at_candidate_sizes} live requests at candidate sizes; "
        f"this run: {ours.total_at_candidate_sizes}"
    )


def main(quick: bool = False, argv: list[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(prog="python -m benchmarks livetraffic", description=__doc__.split("\n")[0])
    parser.add_argument("--account", default=str(DEFAULT_ACCOUNT), help="simulated account file (with liveTraffic)")
    parser.add_argument("--targets", help="comma-separated function names (default: those with liveTraffic)")
    parser.add_argument("--num", type=int, default=NUM, help=f"invocations per size (default {NUM})")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON on the last line")
    args = parser.parse_args(argv or [])
    account = load_account(args.account)
    targets = args.targets.split(",") if args.targets else live_targets(account)
    known = {function.name for function in account.functions}
    unknown = sorted(set(targets) - known)
    if unknown:
        parser.error(f"--targets: {unknown} not functions of {args.account} ({sorted(known)})")
    if not targets:
        parser.error(f"--targets: no function of {args.account} has liveTraffic; name the targets")
    power_values = (256, 1024) if quick else POWER_VALUES
    num = min(args.num, 5) if quick else args.num
    pt, ours = compare(account, targets, power_values, num)
    print(f"account {args.account}; power values {list(power_values)}; num {num}")
    table = format_comparison(account, pt, ours, targets)
    print(table)
    print(summary_line(pt, ours))
    print(f"PT-style flow {pt.seconds:.0f} s, ours {ours.seconds:.0f} s (embedded AWS, wall clock)")
    if ours.total_at_candidate_sizes:
        print("FAIL: our run served live requests at candidate sizes; it must be 0")
    if args.json:
        print(json.dumps({"powerTuningStyle": asdict(pt), "ours": asdict(ours)}, default=str))
    goal = judge(
        "our run serves no live request at a candidate size",
        f"{ours.total_at_candidate_sizes} (Power-Tuning-style flow: {pt.total_at_candidate_sizes})",
        "0, while the Power-Tuning-style flow on the same traffic serves some (the setup can catch them)",
        not ours.total_at_candidate_sizes and pt.total_at_candidate_sizes > 0,
        f"{ours.total_at_candidate_sizes} live requests ran at candidate sizes"
        if ours.total_at_candidate_sizes
        else "the Power-Tuning-style flow served none either: the setup caught nothing",
    )
    return Result(
        goals=[goal], tables={"livetraffic": table}, data={"powerTuningStyle": asdict(pt), "ours": asdict(ours)}
    )


if __name__ == "__main__":
    from benchmarks.__main__ import standalone

    sys.exit(standalone("livetraffic"))
