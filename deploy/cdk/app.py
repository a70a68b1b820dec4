"""A CDK app with one stack holding the tuner: `npx aws-cdk@2 deploy` in this folder (docs/deploy.md).

AUTOTUNER_TEMPLATE: the template to deploy (default: the one `sam build` wrote at the project root).
Template parameters are set at deploy time: `cdk deploy --parameters NamePrefix=acme-`.
"""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk
from autotuner_cdk import LambdaAutotuner

ROOT = Path(__file__).resolve().parents[2]

app = cdk.App()
stack = cdk.Stack(app, os.environ.get("AUTOTUNER_STACK_NAME", "lambda-autotuner"))
LambdaAutotuner(
    stack,
    "Autotuner",
    template_file=os.environ.get("AUTOTUNER_TEMPLATE", str(ROOT / ".aws-sam" / "build" / "template.yaml")),
)
app.synth()
