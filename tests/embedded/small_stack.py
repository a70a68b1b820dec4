"""A small template of our own, covering what the real template.yaml does not: every emulated type,
conditions, parameters of each constraint, resource types the emulator skips.
"""

from __future__ import annotations

import json
from pathlib import Path

SMALL_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  BatchSize:
    Type: Number
    Default: 5
    MinValue: 1
    MaxValue: 10
  Prefix:
    Type: String
    Default: app
    AllowedPattern: "^[a-z]*$"
    ConstraintDescription: lower-case letters only
  Zones:
    Type: CommaDelimitedList
    Default: "za,zb,zc"
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
Globals:
  Function:
    Runtime: python3.13
    Handler: app.lambda_handler
    Timeout: 10
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        STAGE: !Ref Stage
        BATCH: !Ref BatchSize
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/worker/
      MemorySize: 256
      Environment:
        Variables:
          TABLE: !Ref Table
          STREAM: !GetAtt Table.StreamArn
          TOPIC: !Ref Topic
          ZONE: !Select [1, !Ref Zones]
          JOINED: !Join ["-", [!Ref Prefix, !Ref Stage]]
          PROD_ONLY: !If [IsProd, "yes", !Ref AWS::NoValue]
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Table}
      Events:
        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
  ProdOnlyFunction:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      CodeUri: src/worker/
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "${Prefix} alerts"
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref WorkerFunction}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: !Ref BatchSize
      ComparisonOperator: GreaterThanThreshold
      AlarmActions: [!Ref Topic]
  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: !Sub '{"widgets": [{"type": "text", "properties": {"markdown": "${WorkerFunction}"}}]}'
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 7
  ExtraPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref WorkerFunctionRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: sns:Publish
            Resource: !Ref Topic
  Machine:
    Type: AWS::Serverless::StateMachine
    DependsOn: Logs
    Properties:
      DefinitionUri: machine.asl.json
      DefinitionSubstitutions:
        WorkerArn: !GetAtt WorkerFunction.Arn
        WaitSeconds: !Ref BatchSize
      Policies:
        - LambdaInvokePolicy: {FunctionName: !Ref WorkerFunction}
      Events:
        Hourly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
Outputs:
  WorkerName:
    Value: !Ref WorkerFunction
  ProdName:
    Condition: IsProd
    Value: !Ref ProdOnlyFunction
  Label:
    Value: !Sub "${Prefix}-${AWS::Region}-${!Literal}"
  Zones:
    Value: !Join [",", !Ref Zones]
"""

SMALL_ASL = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": "${WaitSeconds}", "Next": "Work"},
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${WorkerArn}", "Payload.$": "$"},
            "End": True,
        },
    },
}


def write_small_template(folder: Path) -> Path:
    """The small template, its code folders and its state machine definition, written into ``folder``."""
    (folder / "layer").mkdir()
    (folder / "src" / "worker").mkdir(parents=True)
    (folder / "src" / "worker" / "app.py").write_text("def lambda_handler(event, context):\n    return event\n")
    # "Seconds": ${WaitSeconds} unquoted: substitutions are text, so a number can be substituted.
    asl = json.dumps(SMALL_ASL, indent=2).replace('"${WaitSeconds}"', "${WaitSeconds}")
    (folder / "machine.asl.json").write_text(asl)
    template = folder / "template.yaml"
    template.write_text(SMALL_TEMPLATE)
    return template
