"""The in-process runtime's execution environments: concurrent invocations each get their own, as in Lambda.

A small handler written for the test holds its invocation until the test releases it, so two
invocations are certainly in flight together; what each saw and wrote is read back.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from emulator.runtime import InProcessRuntime
from emulator.stack import DeployedFunction

HANDLER = textwrap.dedent(
    """
    import os

    import embedded_runtime_probe as probe
    from aws_lambda_powertools import Metrics

    LOADS = probe.count_load()  # module-level state: once per environment
    INVOCATIONS = 0
    metrics = Metrics(namespace="Probe", service="probe")


    @metrics.log_metrics
    def handler(event, context):
        global INVOCATIONS
        INVOCATIONS += 1
        metrics.add_dimension(name="caller", value=event["name"])
        metrics.add_metric(name=f"Seen{event['name']}", unit="Count", value=1)
        seen = os.environ.get("PROBE_WRITTEN")
        os.environ["PROBE_WRITTEN"] = event["name"]
        if event.get("hold"):
            probe.arrive()
        return {
            "loads": LOADS,
            "invocations": INVOCATIONS,
            "sawWritten": seen,
            "stage": os.environ.get("STAGE"),
            "stream": context.log_stream_name,
        }
    """
)


@pytest.fixture
def probe() -> types.ModuleType:
    """The module the handler reports to: counts its loads, holds invocations at a barrier."""
    module = types.ModuleType("embedded_runtime_probe")
    lock = threading.Lock()
    module.loads = 0

    def count_load() -> int:
        with lock:
            module.loads += 1
            return module.loads

    module.count_load = count_load
    module.barrier = threading.Barrier(2, timeout=30)
    module.arrive = module.barrier.wait
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


@pytest.fixture
def function(tmp_path: Path) -> DeployedFunction:
    (tmp_path / "app.py").write_text(HANDLER, encoding="utf-8")
    return DeployedFunction(
        logical_id="ProbeFunction",
        name="probe",
        arn="arn:aws:lambda:us-east-1:123456789012:function:probe",
        code_dir=tmp_path,
        handler="app.handler",
        environment={"STAGE": "test", "POWERTOOLS_METRICS_NAMESPACE": "Probe"},
        role_arn="arn:aws:iam::123456789012:role/probe",
        memory_size=256,
        timeout=30,
    )


def emf_metric_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            names |= {metric["Name"] for d in document["_aws"]["CloudWatchMetrics"] for metric in d["Metrics"]}
    return names


def test_two_invocations_at_once_run_in_two_environments_each_with_its_own_state(probe, function):
    # Given the runtime, and no PROBE_WRITTEN in the process's environment
    runtime = InProcessRuntime("us-east-1", "123456789012")
    os.environ.pop("PROBE_WRITTEN", None)
    # When two invocations are in flight together (each waits for the other inside the handler)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda name: runtime.invoke(function, {"name": name, "hold": True}), ["A", "B"]))
    answers = [json.loads(result.payload) for result in results]
    # Then each ran in a new environment: its own module load, its own first invocation
    assert [result.error_type for result in results] == [None, None]
    assert sorted(answer["loads"] for answer in answers) == [1, 2]
    assert [answer["invocations"] for answer in answers] == [1, 1]
    assert answers[0]["stream"] != answers[1]["stream"]
    assert runtime.environments("ProbeFunction") == 2
    assert runtime.peak_concurrency["ProbeFunction"] == 2
    # And each saw its function's variables, and neither saw the other's write, nor did the process
    assert [answer["stage"] for answer in answers] == ["test", "test"]
    assert [answer["sawWritten"] for answer in answers] == [None, None]
    assert "PROBE_WRITTEN" not in os.environ
    # And each invocation's EMF document holds its own metric only (Powertools state is per environment)
    logs = {log.request_id: log for log in runtime.logs}
    assert [emf_metric_names(logs[r.log.split("RequestId: ")[1].split()[0]].text) for r in results] == [
        {"SeenA"},
        {"SeenB"},
    ]
    assert all(log.cold for log in runtime.logs)


def test_a_later_invocation_reuses_a_warm_environment_and_keeps_its_state(probe, function):
    # Given one invocation that ended
    runtime = InProcessRuntime("us-east-1", "123456789012")
    first = json.loads(runtime.invoke(function, {"name": "A"}).payload)
    # When the next one comes
    second = json.loads(runtime.invoke(function, {"name": "B"}).payload)
    # Then it ran warm in the same environment: the module was not loaded again, its state stayed
    assert (first["loads"], first["invocations"]) == (second["loads"], 1)
    assert second["invocations"] == 2
    assert second["sawWritten"] == "A"  # what a handler sets in os.environ stays in its environment
    assert second["stream"] == first["stream"]
    assert [log.cold for log in runtime.logs] == [True, False]
    assert "Init Duration" in runtime.logs[0].text and "Init Duration" not in runtime.logs[1].text
    assert runtime.environments("ProbeFunction") == 1


def test_the_shared_packages_logger_logs_to_the_invocation_even_if_made_before_the_embedded_aws() -> None:
    # Given the tuner's Powertools logger, made (imported) earlier and writing somewhere else
    import io
    import logging

    from autotuner_core import observability
    from emulator.account import SimulatedAccount, SimulatedFunction
    from emulator.cloud import EmbeddedAws

    elsewhere = io.StringIO()
    handlers = [h for h in logging.getLogger(observability.logger.service).handlers if type(h) is logging.StreamHandler]
    assert handlers
    for handler in handlers:
        handler.setStream(elsewhere)
    function = SimulatedFunction(name="orders-api", memory_size=512, tags={"autotune": "enabled"})
    with EmbeddedAws(SimulatedAccount(functions=[function])) as aws:
        # When a run records its result
        aws.run({"targets": ["orders-api"], "memorySize": 1024, "apply": True})
        recorder = "".join(log.text for log in aws.runtime.logs if log.function == "RecordResultFunction")
    # Then the recorder's log lines are in its invocation's log, as Lambda keeps a function's output
    assert '"message":"recorded"' in recorder
    assert '"message":"recorded"' not in elsewhere.getvalue()
