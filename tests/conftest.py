"""The process environment every test starts from: what the template gives each function.

Powertools reads its metric namespace once, when the shared ``metrics`` object is created at the
first import of ``autotuner_core.observability``. A test that imports a handler in-process must
find the template's value there, as a deployed function does, whichever test imports it first.
"""

import os

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "lambda-autotuner")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LambdaAutotuner")
