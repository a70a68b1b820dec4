"""Read an invocation's measurements from the log tail that ``Invoke(LogType="Tail")`` returns.

The tail is the last 4 KB of the invocation's log, base64-encoded. Lambda ends it with the
platform's REPORT: a text line in the default log format, a ``platform.report`` JSON record in
the JSON log format. The tail can begin mid-line (and mid-character), so a line counts only if
it is a whole REPORT; the function's own output before it is ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from autotuner_core.documents.target import InvocationSample

_REPORT_PREFIX = "REPORT RequestId:"
_TEXT_KEYS = {
    "Billed Restore Duration": "billed_restore",
    "Restore Duration": None,  # SnapStart's restore: named so that it is not read as Duration
    "Billed Duration": "billed",
    "Init Duration": "init",
    "Max Memory Used": "max_memory",
    "Memory Size": "memory",
    "Duration": "duration",
}
# One "Key: value unit" field of a text REPORT line. Fields are tab-separated, but the keys are
# matched by name (longest first) so that spaces instead of tabs, or fields that newer runtimes
# add (Status, Restore Duration), do not shift what is read.
_FIELD = re.compile(
    r"(?<![A-Za-z])(?P<key>" + "|".join(map(re.escape, _TEXT_KEYS)) + r"):\s*(?P<value>\d+(?:\.\d+)?)\s*(?:ms|MB)\b"
)
_JSON_KEYS = {
    "durationMs": "duration",
    "billedDurationMs": "billed",
    "memorySizeMB": "memory",
    "maxMemoryUsedMB": "max_memory",
    "initDurationMs": "init",
    "billedRestoreDurationMs": "billed_restore",
}


def decode_log_result(b64: str | None) -> str:
    """Decode Invoke's ``LogResult``; an absent or empty one decodes to ``""``.

    Undecodable bytes are replaced rather than raised: the 4 KB cut can split a UTF-8
    character at the start, and only the REPORT at the end matters.
    """
    if not b64:
        return ""
    try:
        raw = base64.b64decode(b64, validate=True)
    except binascii.Error as error:
        raise ValueError(f"LogResult is not base64: {error}") from None
    return raw.decode("utf-8", errors="replace")


def parse_report(log_tail: str) -> InvocationSample | None:
    """The measurements of the last REPORT in a decoded log tail, or None if there is none.

    Reads both log formats. With SnapStart, Billed Restore Duration is added to the billed
    duration (it is charged at the same rate); Restore Duration is not a cold start's Init
    Duration and leaves ``init_duration_ms`` None. ``error`` is left None: the function's
    errorType is in the Invoke response, not in the REPORT.
    """
    for line in reversed(log_tail.splitlines()):
        line = line.strip()
        if line.startswith(_REPORT_PREFIX):
            values = _text_values(line)
        elif line.startswith("{") and '"platform.report"' in line:
            values = _json_values(line)
        else:
            continue
        sample = _sample(values)
        if sample is not None:
            return sample
    return None


def _text_values(line: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for match in _FIELD.finditer(line):
        name = _TEXT_KEYS[match["key"]]
        if name is not None and name not in values:
            values[name] = float(match["value"])
    return values


def _json_values(line: str) -> dict[str, float]:
    try:
        document = json.loads(line)
    except ValueError:
        return {}  # a cut-off record, or a function's own log line that only looks like one
    if not isinstance(document, dict) or document.get("type") != "platform.report":
        return {}
    record = document.get("record")
    metrics: Any = record.get("metrics") if isinstance(record, dict) else None
    if not isinstance(metrics, dict):
        return {}
    values: dict[str, float] = {}
    for key, name in _JSON_KEYS.items():
        value = metrics.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[name] = float(value)
    return values


def _sample(values: dict[str, float]) -> InvocationSample | None:
    # Duration, Billed Duration and Memory Size are in every REPORT; without them the line was
    # cut or is not Lambda's.
    if not {"duration", "billed", "memory"} <= values.keys():
        return None
    max_memory = values.get("max_memory")
    return InvocationSample(
        duration_ms=values["duration"],
        billed_duration_ms=values["billed"] + values.get("billed_restore", 0.0),
        memory_size_mb=int(values["memory"]),
        max_memory_used_mb=int(max_memory) if max_memory is not None else None,
        init_duration_ms=values.get("init"),
    )
