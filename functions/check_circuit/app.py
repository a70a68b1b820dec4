"""CheckCircuit: the step in autotuner_core/steps/check_circuit.py, run by steps/handler.py."""

from autotuner_core.steps import check_circuit
from autotuner_core.steps.handler import handler

lambda_handler = handler(check_circuit.run)
