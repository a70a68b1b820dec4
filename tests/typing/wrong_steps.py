"""Steps declared wrongly, each on purpose: mypy must refuse every line marked ``# error: <code>``, and only those.

Never imported or run; test_step_types.py type-checks it. Each mistake is one a newcomer could make
when adding or changing a step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autotuner_core.documents.cost import StageTimings
from autotuner_core.documents.outcome import RecordEvent
from autotuner_core.documents.task import AdmittedTarget, ChosenTask, TargetEntry
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import handler, step

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


# The declared input document is not the one run takes.
@step(TargetEntry)  # error: arg-type
def wrong_document(task: ChosenTask, clients: Clients, settings: Settings) -> AdmittedTarget:
    raise NotImplementedError


# run without the settings the middleware passes.
@step(TargetEntry)  # error: arg-type
def missing_settings(entry: TargetEntry, clients: Clients) -> AdmittedTarget:
    raise NotImplementedError


# The arguments in the wrong order.
@step(TargetEntry)  # error: arg-type
def swapped(entry: TargetEntry, settings: Settings, clients: Clients) -> AdmittedTarget:
    raise NotImplementedError


# Declared to take the Lambda context, but run does not.
@step(TargetEntry, context=True)  # error: arg-type
def no_context(entry: TargetEntry, clients: Clients, settings: Settings) -> AdmittedTarget:
    raise NotImplementedError


# run takes the Lambda context, but the declaration does not say so: it would never be passed.
@step(TargetEntry)  # error: arg-type
def undeclared_context(
    entry: TargetEntry, clients: Clients, settings: Settings, context: LambdaContext
) -> AdmittedTarget:
    raise NotImplementedError


# The output is not a document: the middleware dumps it as the state's output.
@step(TargetEntry)  # error: type-var
def not_a_document(entry: TargetEntry, clients: Clients, settings: Settings) -> dict[str, str]:
    raise NotImplementedError


# A stage StageTimings has no method for.
@step(TargetEntry, timing=StageTimings.chosen)  # error: attr-defined
def unknown_stage(entry: TargetEntry, clients: Clients, settings: Settings) -> AdmittedTarget:
    raise NotImplementedError


# A handler made from a plain function, not a declared step.
def undeclared(entry: TargetEntry, clients: Clients, settings: Settings) -> AdmittedTarget:
    raise NotImplementedError


lambda_handler = handler(undeclared)  # error: arg-type


# A recorded document's field, misspelt.
def recommended_size(event: RecordEvent) -> int | None:
    return event.recomendation.memory_size if event.recomendation else None  # error: attr-defined
