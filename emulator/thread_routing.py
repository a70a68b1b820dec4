"""What one process shares, routed per thread so that each execution environment has its own.

stdout and stderr (``OutputRouting``: to the invocation's log), ``os.environ``
(``ThreadRoutedEnviron``: the environment's variables) and the state Powertools keeps in
process-wide singletons (``PerEnvironmentState``). runtime.py says what is per environment and why.
"""

from __future__ import annotations

import copy
import io
import logging
import os
import sys
import threading
import weakref
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any


class _ThreadRoutedStream(io.TextIOBase):
    """sys.stdout while the embedded AWS runs: a function's output goes to its invocation log."""

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback
        self.local = threading.local()

    def write(self, text: str) -> int:
        buffer = getattr(self.local, "buffer", None)
        if buffer is not None:
            return buffer.write(text)
        return self.fallback.write(text)

    def flush(self) -> None:
        if getattr(self.local, "buffer", None) is None:
            self.fallback.flush()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.fallback, "encoding", "utf-8")


class _CurrentStdout(io.TextIOBase):
    """Whatever sys.stdout is when written to, as a process's stdout is for Lambda's log."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


_CURRENT_STDOUT = _CurrentStdout()


class OutputRouting:
    """sys.stdout and sys.stderr replaced once; Lambda sends both to the function's log."""

    stdout: _ThreadRoutedStream | None = None
    stderr: _ThreadRoutedStream | None = None

    @classmethod
    def install(cls) -> None:
        if cls.stdout is None or sys.stdout is not cls.stdout:
            cls.stdout = _ThreadRoutedStream(sys.stdout)
            sys.stdout = cls.stdout
        if cls.stderr is None or sys.stderr is not cls.stderr:
            cls.stderr = _ThreadRoutedStream(sys.stderr)
            sys.stderr = cls.stderr
        cls._route_powertools_loggers()

    @classmethod
    def _route_powertools_loggers(cls) -> None:
        # A Powertools Logger writes to the sys.stdout of the moment it was made: one made before
        # (a test importing the shared package) would write past the invocation's log, where Lambda
        # would have it in the function's log like any other output. It now writes to sys.stdout as
        # it is at each write (the router during an invocation).
        from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

        loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        for logger in loggers:
            for handler in getattr(logger, "handlers", []):
                powertools = isinstance(handler.formatter, LambdaPowertoolsFormatter)
                if type(handler) is logging.StreamHandler and powertools and handler.stream is not _CURRENT_STDOUT:
                    handler.setStream(_CURRENT_STDOUT)

    @classmethod
    def capture(cls, buffer: io.StringIO | None) -> None:
        cls.install()
        assert cls.stdout is not None and cls.stderr is not None
        cls.stdout.local.buffer = buffer
        cls.stderr.local.buffer = buffer


class ThreadRoutedEnviron(MutableMapping):
    """``os.environ`` while the embedded AWS runs: each invocation's thread sees its environment's variables.

    Outside an invocation it is the process's environment (reads and writes go to the original
    ``os.environ``, so ``putenv`` still happens there). ``os.getenv`` reads ``os.environ``, so it
    is routed too.
    """

    def __init__(self, base: MutableMapping) -> None:
        self.base = base
        self.local = threading.local()

    def _current(self) -> MutableMapping:
        variables = getattr(self.local, "variables", None)
        return self.base if variables is None else variables

    @contextmanager
    def routed(self, variables: dict[str, str]) -> Iterator[None]:
        """This thread sees ``variables`` (and only them) as its environment, until the block ends."""
        previous = getattr(self.local, "variables", None)
        self.local.variables = variables
        try:
            yield
        finally:
            self.local.variables = previous

    def __getitem__(self, key: str) -> str:
        return self._current()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._current()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def copy(self) -> dict[str, str]:
        return dict(self._current())

    def __repr__(self) -> str:
        return f"ThreadRoutedEnviron({dict(self._current())!r})"

    @classmethod
    def install(cls) -> ThreadRoutedEnviron:
        """Replace ``os.environ`` once for the process; idempotent."""
        if not isinstance(os.environ, cls):
            # Not a clear: the original mapping stays underneath as ``base``.
            os.environ = cls(os.environ)  # type: ignore[assignment]  # noqa: B003
        return os.environ  # type: ignore[return-value]


class PerEnvironmentState:
    """A data descriptor: an attribute of a library object that each execution environment sees its own copy of.

    Outside an invocation (imports, unit tests, threads a handler starts) the object's own
    attribute is used; inside one, the environment's copy, taken from the object's own on first use.
    """

    _local = threading.local()

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    @contextmanager
    def scope(cls, state: weakref.WeakKeyDictionary) -> Iterator[None]:
        previous = getattr(cls._local, "state", None)
        cls._local.state = state
        try:
            yield
        finally:
            cls._local.state = previous

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        own = obj.__dict__
        state = getattr(self._local, "state", None)
        if state is None:
            if self.name not in own:
                raise AttributeError(self.name)
            return own[self.name]
        mine = state.setdefault(obj, {})
        if self.name not in mine:
            if self.name not in own:  # an object created inside this invocation sets its own first
                raise AttributeError(self.name)
            mine[self.name] = copy.deepcopy(own[self.name])
        return mine[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        state = getattr(self._local, "state", None)
        if state is None:
            obj.__dict__[self.name] = value
        else:
            state.setdefault(obj, {})[self.name] = value

    @classmethod
    def install(cls) -> None:
        """Route the Powertools attributes named in the module docstring; once per process."""
        from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

        routed = {
            LambdaPowertoolsFormatter: ("log_format",),
            AmazonCloudWatchEMFProvider: (
                "metric_set",
                "dimension_set",
                "dimension_sets",
                "metadata_set",
                "timestamp",
            ),
        }
        for owner, names in routed.items():
            for name in names:
                if not isinstance(owner.__dict__.get(name), cls):
                    setattr(owner, name, cls(name))
