"""ValidatePermissions: parse the execution input, select the targets, simulate every permission the run needs.

The work is run/validation.py's; the target list is stored in S3 for the Distributed Map to read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autotuner_core.documents.cost import StageTimings
from autotuner_core.documents.target import PreflightResult, ValidateEvent
from autotuner_core.run.validation import validate_run
from autotuner_core.settings import Settings
from autotuner_core.steps.clients import Clients
from autotuner_core.steps.handler import step

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


# The Lambda context names the function itself: its account and region are the run's (selection, payloads).
@step(ValidateEvent, paced=True, timing=StageTimings.validated, metric="PermissionCheckDuration", context=True)
def run(envelope: ValidateEvent, clients: Clients, settings: Settings, context: LambdaContext) -> PreflightResult:
    return validate_run(envelope, clients, settings, function_arn=context.invoked_function_arn)
