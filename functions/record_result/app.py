"""RecordResult: the step in autotuner_core/steps/record_result.py, run by steps/handler.py."""

from autotuner_core.steps import record_result
from autotuner_core.steps.handler import handler

lambda_handler = handler(record_result.run)
