"""SummarizeRun: the step in autotuner_core/steps/summarize_run.py, run by steps/handler.py."""

from autotuner_core.steps import summarize_run
from autotuner_core.steps.handler import handler

lambda_handler = handler(summarize_run.run)
