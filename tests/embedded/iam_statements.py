"""Policy documents for the IAM tests, written as AWS shows them: a document, its Allow and Deny statements."""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"
FN = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders"
PROD_FN = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:prod-payments"
TAG_KEY = "aws:ResourceTag/autotune"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}
