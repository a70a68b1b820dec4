"""One botocore data loader for every SDK session in the process.

In Lambda an execution environment reads the service models once, at its cold start. The embedded
AWS makes many environments in one process (each concurrent invocation gets its own, and each
module's clients with it), and reading the same JSON models again was a fifth of a run's time.
The models are read-only once loaded, so one loader for all of them changes nothing a caller can
observe: each session still builds its own clients, with its own configuration and credentials.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from emulator import moto_adapter

_LOADERS: dict[Any, Any] = {}
_LOCK = threading.Lock()


class _SearchPaths(list):
    """boto3 appends its own data path to the loader of every new session: keep it once."""

    def append(self, path: Any) -> None:
        if path not in self:
            super().append(path)


def install() -> Callable[[], None]:
    """Share the data loader across sessions until the returned undo is called."""
    session_module = moto_adapter.resolve("botocore_session")
    original = session_module.create_loader

    def create_loader(search_path_string: Any = None) -> Any:
        with _LOCK:
            loader = _LOADERS.get(search_path_string)
            if loader is None:
                loader = original(search_path_string)
                loader._search_paths = _SearchPaths(loader.search_paths)
                _LOADERS[search_path_string] = loader
            return loader

    return moto_adapter.patch(session_module, "create_loader", create_loader)
