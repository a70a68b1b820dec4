"""Reading a simulated-account file: a mistake is reported with the file and the field at fault."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.account import SimulatedAccount, load_account


def _write(tmp_path: Path, content: Any, name: str = "account.json") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _fault(**fields: Any) -> dict[str, Any]:
    return {"service": "lambda", "action": "UpdateFunctionConfiguration", "code": "TooManyRequestsException", **fields}


@pytest.mark.parametrize(
    ("content", "field", "detail"),
    [
        pytest.param(
            {"functions": [{"name": "orders-api"}, {"name": "orders-api", "memorySize": 256}]},
            "functions",
            "duplicate names ['orders-api']",
            id="duplicate function names",
        ),
        pytest.param(
            {"faults": [_fault(times=2, probability=0.5)]},
            "faults.0",
            "exactly one of 'times' or 'probability'",
            id="fault with both times and probability",
        ),
        pytest.param(
            {"faults": [_fault()]},
            "faults.0",
            "exactly one of 'times' or 'probability'",
            id="fault with neither times nor probability",
        ),
        pytest.param(
            {"functions": [{"name": "orders-api", "memorySize": 99}]},
            "functions.0.memorySize",
            "greater than or equal to 128",
            id="memory 99",
        ),
        pytest.param(
            {"functions": [{"name": "orders-api", "memory": 1024}]},
            "functions.0.memory",
            "Extra inputs are not permitted",
            id="unknown field in a function",
        ),
        pytest.param(
            {"functions": [{"name": "orders-api", "snapStart": "Always"}]},
            "functions.0.snapStart",
            "'PublishedVersions' or 'None'",
            id="unknown SnapStart setting",
        ),
        pytest.param(
            {"functions": [{"name": "orders-api", "pendingVersionSeconds": 5}]},
            "functions.0",
            "pendingVersionSeconds is how long a SnapStart snapshot takes: it needs snapStart PublishedVersions",
            id="pending versions without SnapStart",
        ),
        pytest.param(
            {"functions": [{"name": "orders-api", "snapStart": "PublishedVersions", "pendingVersionSeconds": -1}]},
            "functions.0.pendingVersionSeconds",
            "greater than or equal to 0",
            id="negative pending seconds",
        ),
        pytest.param(
            {"functions": [{"name": "orders-api", "snapStart": "PublishedVersions", "runtime": "nodejs22.x"}]},
            "functions.0",
            "Lambda offers SnapStart for",
            id="SnapStart on a runtime without it",
        ),
        pytest.param(
            {"functions": [{"name": "orders-api", "capacityProvider": "fleet-a"}]},
            "functions.0.capacityProvider",
            "String should match pattern",
            id="capacity provider that is not an ARN",
        ),
        pytest.param(
            {"region": "us-east-1", "accountID": "123456789012"},
            "accountID",
            "Extra inputs are not permitted",
            id="unknown top-level field",
        ),
    ],
)
def test_bad_account_file_names_the_file_and_the_field(tmp_path: Path, content: Any, field: str, detail: str) -> None:
    # Given an account file with one mistake
    path = _write(tmp_path, content, name="bad-account.json")
    # When it is loaded
    with pytest.raises(ValueError) as raised:
        load_account(path)
    # Then the error names the file, the field and what is wrong with it
    message = str(raised.value)
    assert str(path) in message, message
    assert f"{field}: " in message, message
    assert detail in message, message


def test_unreadable_account_file_names_the_file(tmp_path: Path) -> None:
    # Given a file that is not JSON
    path = _write(tmp_path, '{"functions": [', name="truncated.json")
    # When it is loaded
    with pytest.raises(ValueError) as raised:
        load_account(path)
    # Then the error names the file
    assert str(path) in str(raised.value)
    assert "cannot read simulated account" in str(raised.value)


def test_empty_account_file_gives_the_documented_defaults(tmp_path: Path) -> None:
    # Given an account file with no fields
    path = _write(tmp_path, {})
    # When it is loaded
    account = load_account(path)
    # Then every field has its default (docs/simulated-account.md lists the same values)
    assert account == SimulatedAccount()
    assert (account.region, account.account_id, account.stack_name) == ("us-east-1", "123456789012", "lambda-autotuner")
    assert (account.memory_quota_mb, account.update_seconds, account.retry_time_scale) == (3008, 0.1, 0.01)
    assert account.parameters == {"StatusPollIntervalMs": "20", "MaxStatusWaitSeconds": "5"}
    assert (account.functions, account.revoke, account.faults) == ([], [], [])
