"""The middleware every tuner function runs its step in: ``lambda_handler = handler(<step>.run)``.

Our own rather than Powertools' ``lambda_handler_decorator``: that factory wraps a handler and keeps
its Lambda signature ``(event, context)``, untyped; this one turns a typed
``run(document, clients, settings)`` into that handler, and reads the settings once per execution
environment (when the function's ``app.py`` is imported), as a module global would.

Per invocation, around the step's ``run``:

- the Powertools decorators: the logger's Lambda context, the tracer's segment, and for steps
  that add metrics the metrics flush (``log_metrics`` warns when it has none to flush);
- the input parsed into the step's document (a malformed one is ``InvalidInputError``, permanent);
- the execution as the correlation id of every log line;
- for steps that call the Lambda control plane, this worker's share of the account's buckets
  (pacing.py; ValidatePermissions' document says 1 worker: it runs before the targets are shared out);
- the target's name as the trace's ``target`` annotation, where the document names one;
- the step's duration: in ``timings`` and as a metric where the step declares them, and, for the
  per-target steps whose time the run's cost counts, added to the output's ``spend`` with its
  control-plane calls and the target time it waited for (run_cost.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, cast, overload

from aws_lambda_powertools.metrics import MetricUnit

from autotuner_core.aws import pacing
from autotuner_core.documents.base import Document, parse_event
from autotuner_core.documents.cost import StageTimings, TuningSpend
from autotuner_core.documents.target import ExecutionRef
from autotuner_core.observability import bind_execution, logger, metrics, tracer
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

D = TypeVar("D", bound=Document)
Out = TypeVar("Out", bound=Document)
D_contra = TypeVar("D_contra", bound=Document, contravariant=True)
Out_co = TypeVar("Out_co", bound=Document, covariant=True)

LambdaHandler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]
# A stage's timing: its StageTimings method, e.g. StageTimings.discovered (a misnamed stage is a type error).
Timing = Callable[[StageTimings, float], StageTimings]

_bill = threading.local()


class Run(Protocol[D_contra, Out_co]):
    """A step's ``run``: its input document first, so ``@step(X)`` on a ``run`` of another document is a type error."""

    def __call__(self, document: D_contra, clients: Clients, settings: Settings, /) -> Out_co: ...


class RunInContext(Protocol[D_contra, Out_co]):
    """A ``run`` declared with ``context=True``: it takes the Lambda context as a fourth argument."""

    def __call__(
        self, document: D_contra, clients: Clients, settings: Settings, context: LambdaContext, /
    ) -> Out_co: ...


class _OfAnExecution(Protocol):
    execution: ExecutionRef


class _Timed(Protocol):
    timings: StageTimings


class _Charged(Protocol):
    spend: TuningSpend | None


@dataclass(frozen=True)
class Step(Generic[D, Out]):
    """A state's step: its input document, its ``run``, and what the middleware does around it."""

    document: type[D] | Callable[[Any], D]  # its input model, or a function that parses its input
    run: Run[D, Out] | RunInContext[D, Out]
    paced: bool = False  # it calls the Lambda control plane
    charged: bool = False  # its busy time is added to its output's ``spend``
    timing: Timing | None = None  # the ``StageTimings`` method that records its milliseconds
    metric: str | None = None  # a Milliseconds metric of its duration
    metrics: bool = False  # it adds metrics: flush them when it returns
    annotate: bool = True  # annotate the trace with the target its document names
    context: bool = False  # ``run`` takes the Lambda context as a fourth argument

    def __call__(self, document: D, clients: Clients, settings: Settings, context: LambdaContext | None = None) -> Out:
        """``run`` on ``document``; with the Lambda context if it takes one."""
        if self.context:
            return cast("RunInContext[D, Out]", self.run)(document, clients, settings, cast("LambdaContext", context))
        return cast("Run[D, Out]", self.run)(document, clients, settings)


# Two signatures: whether ``run`` takes the Lambda context is part of its type, so a ``run`` with the
# wrong arguments for its declaration is a type error (tests/typing/wrong_steps.py).
@overload
def step(
    document: type[D] | Callable[[Any], D],
    *,
    paced: bool = ...,
    charged: bool = ...,
    timing: Timing | None = ...,
    metric: str | None = ...,
    metrics: bool = ...,
    annotate: bool = ...,
    context: Literal[False] = ...,
) -> Callable[[Run[D, Out]], Step[D, Out]]: ...


@overload
def step(
    document: type[D] | Callable[[Any], D],
    *,
    paced: bool = ...,
    charged: bool = ...,
    timing: Timing | None = ...,
    metric: str | None = ...,
    metrics: bool = ...,
    annotate: bool = ...,
    context: Literal[True],
) -> Callable[[RunInContext[D, Out]], Step[D, Out]]: ...


def step(
    document: type[D] | Callable[[Any], D],
    *,
    paced: bool = False,
    charged: bool = False,
    timing: Timing | None = None,
    metric: str | None = None,
    metrics: bool = False,
    annotate: bool = True,
    context: bool = False,
) -> Callable[[Any], Step[D, Out]]:
    """Declare a step's ``run`` (see :class:`Step` for the options)."""

    def declare(run: Run[D, Out] | RunInContext[D, Out]) -> Step[D, Out]:
        return Step(document, run, paced, charged, timing, metric, metrics or metric is not None, annotate, context)

    return declare


def waited_for_targets(milliseconds: float) -> None:
    """Tell the middleware how long this invocation waited for target invocations: it is billed at least that."""
    _bill.waited_ms = milliseconds


def handler(
    declared: Step[D, Out], *, settings: Settings | None = None, clients: Callable[[], Clients] = Clients
) -> LambdaHandler:
    """The Lambda handler of ``declared``; ``settings`` default to the environment's, read now."""
    settings = settings if settings is not None else Settings.from_env()

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        started = time.monotonic()
        parse = declared.document
        document = parse_event(parse, event) if isinstance(parse, type) else parse(event)
        execution = cast(_OfAnExecution, document).execution  # every state's document carries its execution
        bind_execution(execution.arn)
        if declared.paced:
            pacing.pace(execution.workers, settings)
        name = _target_name(document) if declared.annotate else None
        if name:
            tracer.put_annotation("target", name)
        reach = clients()
        _bill.waited_ms = 0.0
        output = declared(document, reach, settings, context)
        elapsed_ms = (time.monotonic() - started) * 1000
        if declared.metric:
            metrics.add_metric(name=declared.metric, unit=MetricUnit.Milliseconds, value=elapsed_ms)
        # A step declared with a timing returns a document with timings, a charged one a document with
        # spend (Out is any Document: one without would fail here, in its step's handler tests).
        if declared.timing:
            timed = cast(_Timed, output)
            timed.timings = declared.timing(timed.timings, elapsed_ms)
        charged = cast(_Charged, output)
        if declared.charged and charged.spend is not None:
            from autotuner_core.cost import run_cost

            spend = run_cost.charge(
                charged.spend, busy_s=elapsed_ms / 1000, waited_ms=_bill.waited_ms, calls=reach.control_plane_calls()
            )
            charged.spend = spend
        return output.dump()

    inner = metrics.log_metrics(lambda_handler) if declared.metrics else lambda_handler
    return logger.inject_lambda_context(tracer.capture_lambda_handler(inner))


def _target_name(document: Any) -> str | None:
    """The function a per-target document names: its discovered target if it has that field, else its reference."""
    if "target" in type(document).model_fields:
        target = document.target
        return target.ref.name if target is not None else None
    ref = getattr(document, "ref", None)
    return ref.name if ref is not None else None
