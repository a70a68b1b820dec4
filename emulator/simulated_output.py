"""What a simulated invocation returns: its payload, and its log with the REPORT line (text or JSON).

The log follows Lambda's formats: the text REPORT line, or the platform.* events of the JSON
log format (docs: telemetry-schema-reference), so the tuner parses them as it would parse AWS's.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from emulator.account import FunctionProfile

if TYPE_CHECKING:
    from emulator.simulated_function import SimulatedInvocation

OUT_OF_MEMORY = "Runtime.OutOfMemory"
TIMED_OUT = "Sandbox.Timedout"


def payload(record: SimulatedInvocation, fn: Any, profile: FunctionProfile, timeout_s: float) -> dict[str, Any]:
    if record.error_type == OUT_OF_MEMORY:
        message = f"RequestId: {record.request_id} Error: Runtime exited with error: signal: killed"
        return {"errorType": OUT_OF_MEMORY, "errorMessage": message, "simulated": True}
    if record.error_type == TIMED_OUT:
        message = f"RequestId: {record.request_id} Error: Task timed out after {timeout_s:.2f} seconds"
        return {"errorType": TIMED_OUT, "errorMessage": message, "simulated": True}
    if record.error_type is not None:
        return {
            "errorMessage": _error_message(profile),
            "errorType": record.error_type,
            "requestId": record.request_id,
            "stackTrace": [],
            "simulated": True,
        }
    return {"simulated": True, "function": fn.function_name, "version": record.version, "memoryMB": record.memory_size}


def _error_message(profile: FunctionProfile) -> str:
    return f"simulated failure ({profile.error_rate:.0%} of invocations fail)"


def log(record: SimulatedInvocation, fn: Any, profile: FunctionProfile, timeout_s: float) -> str:
    if profile.log_format == "JSON":
        return _json_log(record, fn, profile)
    return _text_log(record, fn, profile, timeout_s)


def _runtime_version(fn: Any) -> tuple[str, str]:
    runtime = str(getattr(fn, "run_time", None) or "python3.13")
    match = re.fullmatch(r"([a-z]+)(.*?)(\.x)?", runtime)
    name, number = (match.group(1), match.group(2)) if match else (runtime, "")
    digest = hashlib.sha256(runtime.encode("utf-8")).hexdigest()
    partition = getattr(fn, "partition", None) or "aws"
    region = getattr(fn, "region", None) or "us-east-1"
    return f"{name}:{number}.v1", f"arn:{partition}:lambda:{region}::runtime:{digest}"


def _text_log(record: SimulatedInvocation, fn: Any, profile: FunctionProfile, timeout_s: float) -> str:
    request_id = record.request_id
    lines: list[str] = []
    if record.init_duration_ms is not None:
        version, arn = _runtime_version(fn)
        lines.append(f"INIT_START Runtime Version: {version}\tRuntime Version ARN: {arn}")
    lines.append(f"START RequestId: {request_id} Version: {record.version}")
    if record.error_type == OUT_OF_MEMORY:
        lines.append(f"RequestId: {request_id} Error: Runtime exited with error: signal: killed")
        lines.append(OUT_OF_MEMORY)
    elif record.error_type == TIMED_OUT:
        lines.append(f"{_now()} {request_id} Task timed out after {timeout_s:.2f} seconds")
    elif record.error_type is not None:
        lines.append(f"[ERROR] {record.error_type}: {_error_message(profile)}")
    lines.append(f"END RequestId: {request_id}")
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {record.duration_ms:.2f} ms",
        f"Billed Duration: {record.billed_duration_ms} ms",
        f"Memory Size: {record.memory_size} MB",
        f"Max Memory Used: {record.max_memory_used_mb} MB",
    ]
    if record.init_duration_ms is not None:
        fields.append(f"Init Duration: {record.init_duration_ms:.2f} ms")
    if record.status == "timeout":
        fields.append("Status: timeout")
    elif record.error_type == OUT_OF_MEMORY:
        fields += ["Status: error", f"Error Type: {OUT_OF_MEMORY}"]
    lines.append("\t".join(fields) + "\t")
    return "\n".join(lines) + "\n"


def _json_log(record: SimulatedInvocation, fn: Any, profile: FunctionProfile) -> str:
    events: list[dict[str, Any]] = []
    if record.init_duration_ms is not None:
        version, arn = _runtime_version(fn)
        init = {
            "initializationType": "on-demand",
            "phase": "init",
            "runtimeVersion": version,
            "runtimeVersionArn": arn,
            "functionName": fn.function_name,
            "functionVersion": record.version,
        }
        events.append({"time": _now(), "type": "platform.initStart", "record": init})
    events.append(
        {
            "time": _now(),
            "type": "platform.start",
            "record": {"requestId": record.request_id, "version": record.version},
        }
    )
    if record.status == "failure":
        events.append(
            {
                "timestamp": _now(),
                "level": "ERROR",
                "message": _error_message(profile),
                "errorType": record.error_type,
                "requestId": record.request_id,
                "stackTrace": [],
            }
        )
    metrics: dict[str, Any] = {
        "durationMs": record.duration_ms,
        "billedDurationMs": record.billed_duration_ms,
        "memorySizeMB": record.memory_size,
        "maxMemoryUsedMB": record.max_memory_used_mb,
    }
    if record.init_duration_ms is not None:
        metrics["initDurationMs"] = record.init_duration_ms
    report: dict[str, Any] = {"requestId": record.request_id, "metrics": metrics, "status": record.status}
    if record.status in ("failure", "error"):
        report["errorType"] = record.error_type
    events.append({"time": _now(), "type": "platform.report", "record": report})
    return "".join(json.dumps(event) + "\n" for event in events)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
