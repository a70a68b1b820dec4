"""Revoking granted actions from the stack's roles: the account file's ``revoke`` and ``EmbeddedAws.revoked``.

An action is taken out of a role's inline policies as if the template had never granted it.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.account import RevokedPermission
from emulator.interceptor import unlogged

__all__ = ["apply_revocations", "restore"]


def apply_revocations(
    iam: Any, roles: dict[str, str], revocations: list[RevokedPermission]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Remove each entry's actions from its principal's role (``roles``: principal -> role ARN).

    Every problem is named by its field before any policy changes. Returns the changed policies'
    original documents, by role and policy name (``restore`` puts them back).
    """
    problems: list[str] = []
    originals: dict[str, dict[str, dict[str, Any]]] = {}
    current: dict[str, dict[str, dict[str, Any]]] = {}  # role -> policy -> document, as revoked so far
    with unlogged():
        for index, revoked in enumerate(revocations):
            role_arn = roles.get(revoked.function)
            if role_arn is None:
                problems.append(
                    f"revoke[{index}].function: {revoked.function!r} is not a function of the stack "
                    f"nor its state machine (one of {sorted(roles)})"
                )
                continue
            role_name = role_arn.rsplit("/", 1)[-1]
            if role_name not in current:
                current[role_name] = {}
                for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
                    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
                    current[role_name][policy_name] = json.loads(document) if isinstance(document, str) else document
            documents = current[role_name]
            for position, action in enumerate(revoked.actions):
                if not any(_grants(document, action) for document in documents.values()):
                    problems.append(
                        f"revoke[{index}].actions[{position}]: {action!r} is not granted to {revoked.function} "
                        "by an inline policy of its role (revoke takes actions out of the template's policies)"
                    )
            for policy_name, document in list(documents.items()):
                remaining, removed = _without_actions(document, set(revoked.actions))
                if removed:
                    originals.setdefault(role_name, {}).setdefault(policy_name, document)
                    documents[policy_name] = remaining
        if problems:
            raise ValueError("; ".join(problems))
        for role_name, policies in originals.items():
            for policy_name in policies:
                document = current[role_name][policy_name]
                if not document["Statement"]:  # IAM holds no policy without statements
                    iam.delete_role_policy(RoleName=role_name, PolicyName=policy_name)
                else:
                    iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
    return originals


def restore(iam: Any, originals: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Put back the policy documents ``apply_revocations`` changed."""
    with unlogged():
        for role_name, policies in originals.items():
            for policy_name, document in policies.items():
                iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(document))


def _statement_list(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _grants(document: dict[str, Any], action: str) -> bool:
    """Whether an Allow statement of ``document`` lists ``action`` itself (as revoke can remove it)."""
    for statement in _statement_list(document):
        listed = statement.get("Action", [])
        listed = listed if isinstance(listed, list) else [listed]
        if statement.get("Effect") == "Allow" and action.lower() in {item.lower() for item in listed}:
            return True
    return False


def _without_actions(document: dict[str, Any], actions: set[str]) -> tuple[dict[str, Any], int]:
    """``document`` without ``actions``; a statement left with none is dropped. Returns it and the count."""
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    kept, removed = [], 0
    wanted = {action.lower() for action in actions}
    for statement in statements:
        listed = statement.get("Action", [])
        listed = listed if isinstance(listed, list) else [listed]
        remaining = [action for action in listed if action.lower() not in wanted]
        removed += len(listed) - len(remaining)
        if remaining or "Action" not in statement:
            kept.append({**statement, "Action": remaining} if "Action" in statement else statement)
    return {**document, "Statement": kept}, removed
