"""SQS queues and queue policies, SNS topics and subscriptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from emulator.stack.api_parameters import json_text
from emulator.stack.intrinsics import scalar_str
from emulator.stack.names import physical_name

if TYPE_CHECKING:
    from emulator.stack.deployer import Creator, Deployer


def _attribute_texts(props: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, str]:
    """SNS and SQS attributes are strings: documents as JSON text, scalars as text."""
    return {
        key: json_text(props[key]) if isinstance(props[key], (dict, list)) else scalar_str(props[key])
        for key in keys
        if key in props
    }


def _create_queue(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    fifo = scalar_str(props.get("FifoQueue", False)) == "true"
    name = props.get("QueueName") or physical_name(deployer.stack_name, logical_id, 75 if fifo else 80)
    attributes = _attribute_texts(
        props, ("MessageRetentionPeriod", "SqsManagedSseEnabled", "VisibilityTimeout", "FifoQueue")
    )
    url = deployer.call("sqs", "create_queue", QueueName=name, Attributes=attributes or None)["QueueUrl"]
    arn = deployer.arn("sqs", name)
    return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}


def _create_queue_policy(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    for url in props["Queues"]:
        deployer.call(
            "sqs",
            "set_queue_attributes",
            QueueUrl=scalar_str(url),
            Attributes={"Policy": json_text(props["PolicyDocument"])},
        )
    return logical_id, {}


def _create_topic(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    fifo = scalar_str(props.get("FifoTopic", False)) == "true"
    name = props.get("TopicName") or physical_name(deployer.stack_name, logical_id, 251 if fifo else 256)
    if fifo and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = _attribute_texts(
        props,
        (
            "DisplayName",
            "FifoTopic",
            "KmsMasterKeyId",
            "ContentBasedDeduplication",
            "SignatureVersion",
            "TracingConfig",
            "ArchivePolicy",
        ),
    )
    topic_arn = deployer.call(
        "sns",
        "create_topic",
        Name=name,
        Attributes=attributes or None,
        Tags=props.get("Tags") or None,
        DataProtectionPolicy=json_text(props["DataProtectionPolicy"]) if "DataProtectionPolicy" in props else None,
    )["TopicArn"]
    for subscription in props.get("Subscription", []):
        deployer.call(
            "sns",
            "subscribe",
            TopicArn=topic_arn,
            Protocol=subscription["Protocol"],
            Endpoint=subscription["Endpoint"],
        )
    return topic_arn, {"TopicArn": topic_arn, "TopicName": name}


def _create_subscription(deployer: Deployer, logical_id: str, props: dict, resource: dict) -> tuple[str, dict]:
    attributes = _attribute_texts(props, ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy"))
    subscription_arn = deployer.call(
        "sns",
        "subscribe",
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props.get("Endpoint"),
        Attributes=attributes or None,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return subscription_arn, {"Arn": subscription_arn}


CREATORS: dict[str, Creator] = {
    "AWS::SQS::Queue": _create_queue,
    "AWS::SQS::QueuePolicy": _create_queue_policy,
    "AWS::SNS::Topic": _create_topic,
    "AWS::SNS::Subscription": _create_subscription,
}
