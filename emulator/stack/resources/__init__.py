"""The resource types the embedded deployer creates, one module per resource family.

Each module maps the CloudFormation types it emulates to a creator in its CREATORS: a function of
(deployer, logical id, resolved properties, the template's resource entry) that creates the resource
through the service APIs (`deployer.call`) and returns its physical id (what Ref gives) and its
attributes (what Fn::GetAtt gives). To emulate a new type, add its creator to its family's module,
or add a module and list it below. A type listed nowhere is deployed as skipped.
"""

from __future__ import annotations

from emulator.stack.resources import (
    cloudwatch,
    dynamodb,
    eventbridge,
    iam,
    lambda_functions,
    s3,
    sqs_sns,
    stepfunctions,
)

CREATORS = {
    **iam.CREATORS,
    **lambda_functions.CREATORS,
    **cloudwatch.CREATORS,
    **dynamodb.CREATORS,
    **s3.CREATORS,
    **sqs_sns.CREATORS,
    **eventbridge.CREATORS,
    **stepfunctions.CREATORS,
}
