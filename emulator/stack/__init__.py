"""Deploy template.yaml into the embedded AWS (moto) the way CloudFormation would.

The SAM template is translated with the real SAM translator, its intrinsic functions are resolved
here, and every resource is created through the service APIs (boto3 against moto's backends), in
dependency order. Going through the APIs rather than moto's own CloudFormation matters: moto keeps
CloudFormation-created state machines in a backend that cannot execute them, and the APIs validate
what we send the way AWS would.

Usage (a moto mock must be active)::

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        stack = deploy_stack(Path("template.yaml"))
        stack.functions["RecordResultFunction"].environment["RUN_HISTORY_TABLE"]

Where each part lives:

- ``translation``: the SAM translator, offline; local code folders and definition files.
- ``parameters``: parameter values checked like CloudFormation (AllowedValues, patterns, ranges).
- ``rules``: the template's Rules, asserted on the parameter values before anything is created.
- ``intrinsics``: Ref, Fn::GetAtt, Fn::Sub and the other intrinsic functions, and conditions.
- ``names``: generated physical names and the AWS:: pseudo parameters.
- ``deployer``: creation order, the deployment loop, Outputs and ``deploy_stack``.
- ``resources``: one module per resource family (IAM, Lambda, DynamoDB, S3, SQS/SNS,
  EventBridge/Scheduler, CloudWatch/Logs, Step Functions), each listing the types it creates.
- ``deployed``: what a deployment reports (``DeployedStack``, ``DeployedFunction``).
- ``registration``: the deployed stack made known to CloudFormation, so DescribeStacks finds it.
"""

from emulator.stack.deployed import DeployedFunction, DeployedStack
from emulator.stack.deployer import deploy_stack
from emulator.stack.errors import TemplateError
from emulator.stack.intrinsics import NO_VALUE, IntrinsicResolver
from emulator.stack.names import physical_name, pseudo_parameters
from emulator.stack.parameters import resolve_parameters
from emulator.stack.registration import register_stack
from emulator.stack.translation import ARTIFACT_BUCKET, ASSET_PATH_KEY, translate_template

__all__ = [
    "ARTIFACT_BUCKET",
    "ASSET_PATH_KEY",
    "NO_VALUE",
    "DeployedFunction",
    "DeployedStack",
    "IntrinsicResolver",
    "TemplateError",
    "deploy_stack",
    "physical_name",
    "pseudo_parameters",
    "register_stack",
    "resolve_parameters",
    "translate_template",
]
