"""PlanMeasurements: the step in autotuner_core/steps/plan_measurements.py, run by steps/handler.py."""

from autotuner_core.steps import plan_measurements
from autotuner_core.steps.handler import handler

lambda_handler = handler(plan_measurements.run)
