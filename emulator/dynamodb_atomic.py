"""DynamoDB's conditional writes are atomic per item; moto's are not.

moto evaluates a write's ConditionExpression and then stores the item, with no lock between the
two. With the tuner's invocations running concurrently, two executions could both pass
``attribute_not_exists(pk) OR leaseExpiresAt < :now`` and both hold one target's lease, and then
both tune it: something DynamoDB never allows. Every item write (put, update, delete, their
transactions and batches) is serialised here; reads stay concurrent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

from emulator import moto_adapter

_WRITES = threading.RLock()  # re-entrant: the backend's write calls the table's
_BACKEND_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_TABLE_WRITES = ("put_item", "delete_item")  # what batch writes call


def _serialised(original: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(original)
    def write(*args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return original(*args, **kwargs)

    return write


def install() -> Callable[[], None]:
    """Serialise moto's DynamoDB item writes until the returned undo is called."""
    patches = moto_adapter.Patches()
    for owner, names in (
        (moto_adapter.DynamoDBBackend, _BACKEND_WRITES),
        (moto_adapter.DynamoDBTable, _TABLE_WRITES),
    ):
        for name in names:
            patches.patch(owner, name, _serialised(getattr(owner, name)))
    return patches.undo
