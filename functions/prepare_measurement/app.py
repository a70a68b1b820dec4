"""PrepareMeasurement: the step in autotuner_core/steps/prepare_measurement.py, run by steps/handler.py."""

from autotuner_core.steps import prepare_measurement
from autotuner_core.steps.handler import handler

lambda_handler = handler(prepare_measurement.run)
