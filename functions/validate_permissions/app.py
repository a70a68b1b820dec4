"""ValidatePermissions: the step in autotuner_core/steps/validate_permissions.py, run by steps/handler.py."""

from autotuner_core.steps import validate_permissions
from autotuner_core.steps.handler import handler

lambda_handler = handler(validate_permissions.run)
