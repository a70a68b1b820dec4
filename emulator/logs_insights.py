"""CloudWatch Logs Insights, as strict as AWS for the queries the tuner sends (telemetry/queries.py).

moto runs a small subset of the query language and accepts what AWS refuses. This answers
StartQuery and GetQueryResults itself:

- StartQuery needs exactly one of logGroupName, logGroupNames, logGroupIdentifiers (at most 50
  groups), every group must exist (ResourceNotFoundException), startTime ≤ endTime, a query of at
  most 10,000 characters, and at most 30 queries running at once (LimitExceededException).
- The query language accepted: ``filter FIELD = "TEXT"`` then ``| stats AGG as NAME, … by FIELD``, with
  AGG one of count(*), count(F), pct(F, N), avg(F), min(F), max(F), sum(F), sum(strcontains(F, "TEXT")).
  Anything else is a MalformedQueryException, as AWS answers a query it cannot parse.
- Fields: a text log's REPORT line gives @type "REPORT", @requestId, @duration, @billedDuration,
  @initDuration (cold starts only), @memorySize and @maxMemoryUsed (bytes: MB x 1,000,000); every event
  has @message and @timestamp; a JSON event's keys are fields by their dotted path (record.metrics.durationMs).
- Scanned: every event of the groups within the time range, its message's UTF-8 bytes
  (statistics.bytesScanned, what Logs Insights bills); recordsMatched: the events the filter kept.
- A query is Running at its first GetQueryResults and Complete from the second on; an unknown queryId
  is refused.
"""

from __future__ import annotations

import json
import math
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from emulator import moto_adapter

MAX_LOG_GROUPS = 50
MAX_CONCURRENT_QUERIES = 30
MAX_QUERY_LIMIT = 10_000  # StartQuery's limit parameter: 1 to 10,000 rows
MAX_QUERY_CHARACTERS = 10_000
_FIELD = r"@?[A-Za-z_][\w.]*"
_FILTER = re.compile(rf'^filter\s+(?P<field>{_FIELD})\s*=\s*"(?P<value>[^"]*)"$')
_STATS = re.compile(rf"^stats\s+(?P<aggregates>.+?)\s+by\s+(?P<by>{_FIELD})$", re.S)
_AGGREGATE = re.compile(
    rf"^(?P<fn>count|pct|avg|min|max|sum)\((?P<arg>\*|{_FIELD}|strcontains\(\s*(?P<sfield>{_FIELD})\s*,\s*"
    rf'"(?P<text>[^"]*)"\s*\))(?:\s*,\s*(?P<pct>\d+(?:\.\d+)?))?\)\s+as\s+(?P<name>[A-Za-z_]\w*)$'
)
_REPORT_FIELDS = {
    "Duration": ("@duration", 1.0),
    "Billed Duration": ("@billedDuration", 1.0),
    "Init Duration": ("@initDuration", 1.0),
    "Memory Size": ("@memorySize", 1_000_000.0),
    "Max Memory Used": ("@maxMemoryUsed", 1_000_000.0),
}
_REPORT_FIELD = re.compile(r"(Billed Duration|Init Duration|Max Memory Used|Memory Size|Duration): ([\d.]+) (?:ms|MB)")


class _Error:
    @staticmethod
    def make(code: str, message: str) -> Exception:
        error = moto_adapter.LogsClientError(code, message)
        error.code = 400
        return error  # type: ignore[no-any-return]


def parse(query: str) -> tuple[tuple[str, str], list[dict[str, Any]], str]:
    """(filter field and value, aggregates, group-by field) of a query in the accepted grammar."""
    parts = [part.strip() for part in query.strip().split("|")]
    if len(parts) != 2:
        raise _Error.make("MalformedQueryException", f"unexpected commands in query: {query[:200]!r}")
    where, stats = _FILTER.match(parts[0]), _STATS.match(parts[1])
    if where is None or stats is None:
        raise _Error.make("MalformedQueryException", f"cannot parse query: {query[:200]!r}")
    aggregates = []
    for text in _split(stats["aggregates"]):
        match = _AGGREGATE.match(text.strip())
        if match is None or (match["fn"] == "pct") != (match["pct"] is not None):
            raise _Error.make("MalformedQueryException", f"unsupported aggregate {text.strip()[:100]!r}")
        if match["sfield"] is not None and match["fn"] != "sum":
            raise _Error.make("MalformedQueryException", f"unsupported aggregate {text.strip()[:100]!r}")
        aggregates.append(match.groupdict())
    return (where["field"], where["value"]), aggregates, stats["by"]


def _split(text: str) -> list[str]:
    """Split on the commas between aggregates, not those inside their parentheses or quotes."""
    items, depth, quoted, current = [], 0, False, ""
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            items.append(current)
            current = ""
            continue
        current += char
    return [*items, current]


def fields_of(message: str) -> dict[str, Any]:
    """The fields Logs Insights discovers in one Lambda log event."""
    found: dict[str, Any] = {"@message": message}
    text = message.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return found
        _flatten(document, "", found)
        return found
    if text.startswith("REPORT RequestId:"):
        found["@type"] = "REPORT"
        found["@requestId"] = text.split()[2]
        for key, value in _REPORT_FIELD.findall(text):
            name, scale = _REPORT_FIELDS[key]
            found[name] = float(value) * scale
    elif text.startswith(("START RequestId:", "END RequestId:")):
        found["@type"] = text.split()[0]
    return found


def _flatten(value: Any, prefix: str, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}{key}.", into)
    elif prefix:
        into[prefix[:-1]] = value


def run(query: str, messages: list[str]) -> tuple[list[list[dict[str, str]]], int]:
    """The query's rows over these events' messages, and how many the filter matched."""
    (field, value), aggregates, by = parse(query)
    groups: dict[Any, list[dict[str, Any]]] = {}
    matched = 0
    for message in messages:
        fields = fields_of(message)
        if field not in fields or str(fields[field]) != value:  # a missing field matches nothing
            continue
        matched += 1
        groups.setdefault(fields.get(by), []).append(fields)
    rows = []
    for key, members in sorted(groups.items(), key=lambda item: (item[0] is None, str(item[0]))):
        row = [{"field": by, "value": _text(key)}] if key is not None else []
        for aggregate in aggregates:
            result = _aggregate(aggregate, members)
            if result is not None:
                row.append({"field": aggregate["name"], "value": _text(result)})
        rows.append(row)
    return rows, matched


def _aggregate(aggregate: dict[str, Any], members: list[dict[str, Any]]) -> float | None:
    fn, arg = aggregate["fn"], aggregate["arg"]
    if arg == "*":
        return float(len(members)) if fn == "count" else None
    if aggregate["sfield"] is not None:
        values = [
            1.0 if aggregate["text"] in str(member[aggregate["sfield"]]) else 0.0
            for member in members
            if member.get(aggregate["sfield"]) is not None
        ]
    else:
        values = [float(member[arg]) for member in members if isinstance(member.get(arg), int | float)]
    if fn == "count":
        return float(len(values))
    if not values:
        return None
    if fn == "sum":
        return sum(values)
    if fn == "avg":
        return sum(values) / len(values)
    if fn == "min":
        return min(values)
    if fn == "max":
        return max(values)
    ordered = sorted(values)  # pct: nearest rank
    rank = max(1, math.ceil(float(aggregate["pct"]) / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class LogsInsights:
    """Installs the strict StartQuery/GetQueryResults; ``bytes_scanned`` totals what every query scanned."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queries: dict[str, dict[str, Any]] = {}
        self.bytes_scanned = 0

    def install(self) -> Callable[[], None]:
        patches = moto_adapter.Patches()
        insights = self

        def start_query(response: Any) -> str:
            return json.dumps({"queryId": insights.start(response)})

        def get_query_results(response: Any) -> str:
            return json.dumps(insights.results(response._get_param("queryId")))

        patches.patch(moto_adapter.LogsResponse, "start_query", start_query)
        patches.patch(moto_adapter.LogsResponse, "get_query_results", get_query_results)
        return patches.undo

    def start(self, response: Any) -> str:
        given = {
            name: response._get_param(name)
            for name in ("logGroupName", "logGroupNames", "logGroupIdentifiers")
            if response._get_param(name)
        }
        if len(given) != 1:
            raise _Error.make(
                "InvalidParameterException",
                "A StartQuery operation must include exactly one of logGroupName, logGroupNames or logGroupIdentifiers",
            )
        ((kind, names),) = given.items()
        names = [names] if kind == "logGroupName" else list(names)
        if len(names) > MAX_LOG_GROUPS:
            raise _Error.make("InvalidParameterException", f"A query can include up to {MAX_LOG_GROUPS} log groups")
        limit = response._get_int_param("limit")
        if limit is not None and not 1 <= limit <= MAX_QUERY_LIMIT:
            raise _Error.make("InvalidParameterException", f"limit must be 1 to {MAX_QUERY_LIMIT}")
        start, end = response._get_int_param("startTime"), response._get_int_param("endTime")
        if start is None or end is None or start > end:
            raise _Error.make("InvalidParameterException", "startTime must be less than or equal to endTime")
        query = response._get_param("queryString") or ""
        if not query or len(query) > MAX_QUERY_CHARACTERS:
            raise _Error.make(
                "InvalidParameterException", f"queryString must be 1 to {MAX_QUERY_CHARACTERS} characters"
            )
        backend = moto_adapter.logs_backends[response.current_account][response.region]
        groups = []
        for name in names:
            # Only logGroupIdentifiers takes ARNs, and never one ending in *; the other two take names.
            if kind == "logGroupIdentifiers" and name.startswith("arn:"):
                if name.endswith("*"):
                    raise _Error.make("InvalidParameterException", f"{name}: a log group ARN here may not end in *")
                name = name.split(":log-group:")[-1]
            if name not in backend.groups:
                raise _Error.make("ResourceNotFoundException", f"Log group {name} does not exist")
            groups.append(backend.groups[name])
        messages = [
            event.message
            for group in groups
            for stream in group.streams.values()
            for event in stream.events
            if start * 1000 <= event.timestamp <= end * 1000
        ]
        rows, matched = run(query, messages)  # a malformed query is refused here, before it counts
        scanned = sum(len(message.encode("utf-8")) for message in messages)
        with self._lock:
            running = sum(1 for item in self._queries.values() if item["status"] == "Running")
            if running >= MAX_CONCURRENT_QUERIES:
                raise _Error.make("LimitExceededException", f"at most {MAX_CONCURRENT_QUERIES} concurrent queries")
            query_id = str(uuid.uuid4())
            self._queries[query_id] = {
                "status": "Running",
                "results": rows[: limit or 1000],
                "statistics": {
                    "recordsMatched": float(matched),
                    "recordsScanned": float(len(messages)),
                    "bytesScanned": float(scanned),
                },
            }
            self.bytes_scanned += scanned
        return query_id

    def results(self, query_id: str) -> dict[str, Any]:
        with self._lock:
            query = self._queries.get(query_id)
            if query is None:
                raise _Error.make("ResourceNotFoundException", f"Query {query_id} does not exist")
            if query["status"] == "Running":
                query["status"] = "Complete"
                return {"status": "Running", "results": [], "statistics": {}}
            return dict(query)
