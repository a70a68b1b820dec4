"""Step Functions state machines, created through the API so that the executing backend has them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from emulator.stack.errors import TemplateError
from emulator.stack.intrinsics import SUB_VARIABLE, scalar_str

if TYPE_CHECKING:
    from emulator.stack.deployer import Creator, Deployer


def _substitute_definition(text: str, substitutions: Mapping[str, Any], logical_id: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in substitutions:
            return scalar_str(substitutions[name], f"DefinitionSubstitutions {name}")
        return match.group(0)

    resolved = SUB_VARIABLE.sub(replace, text)
    # A placeholder left over would reach the interpreter as a literal ARN: refuse it here instead.
    unresolved = sorted(set(re.findall(r"\$\{([A-Za-z0-9_.:-]+)\}", resolved)))
    if unresolved:
        raise TemplateError(f"{logical_id}: definition placeholders without DefinitionSubstitutions: {unresolved}")
    return resolved


def _create_state_machine(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    # CloudFormation names state machines {LogicalId}-{suffix}, without the stack name.
    name = deployer.name_for(logical_id, props.get("StateMachineName"), 80, with_stack=False)
    if "DefinitionString" in props:
        text = scalar_str(props["DefinitionString"], "DefinitionString")
    elif "Definition" in props:
        text = json.dumps(props["Definition"], indent=2)
    else:
        raise TemplateError(f"{logical_id}: no definition (S3 definitions are not emulated)")
    text = _substitute_definition(text, props.get("DefinitionSubstitutions", {}), logical_id)
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as e:
        raise TemplateError(f"{logical_id}: the definition with substitutions is not valid JSON: {e}") from e
    logging = props.get("LoggingConfiguration")
    tracing = props.get("TracingConfiguration")
    encryption = props.get("EncryptionConfiguration")
    state_machine_arn = deployer.call(
        "stepfunctions",
        "create_state_machine",
        name=name,
        definition=text,
        roleArn=props["RoleArn"],
        type=props.get("StateMachineType", "STANDARD"),
        loggingConfiguration=(
            {
                "level": logging.get("Level", "OFF"),
                "includeExecutionData": logging.get("IncludeExecutionData", False),
                "destinations": [
                    {"cloudWatchLogsLogGroup": {"logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
                    for d in logging.get("Destinations", [])
                ],
            }
            if logging
            else None
        ),
        tracingConfiguration={"enabled": tracing.get("Enabled", False)} if tracing else None,
        encryptionConfiguration=(
            {
                key[0].lower() + key[1:]: value
                for key, value in encryption.items()  # KmsKeyId -> kmsKeyId, Type -> type, ...
            }
            if encryption
            else None
        ),
        tags=[{"key": tag["Key"], "value": scalar_str(tag["Value"])} for tag in props.get("Tags", [])] or None,
    )["stateMachineArn"]
    deployer.state_machines[logical_id] = (state_machine_arn, definition)
    return state_machine_arn, {"Arn": state_machine_arn, "Name": name}


CREATORS: dict[str, Creator] = {
    "AWS::StepFunctions::StateMachine": _create_state_machine,
}
