"""Our IAM evaluator against an independent one: npm @cloud-copilot/iam-simulate (test-time only).

Two sets of requests, each decided by both evaluators in one run of tests/tools/iam-simulate.js:

* the generic cases of iam_differential_cases.yaml (precedence, wildcards, NotAction/NotResource,
  every condition operator family, IfExists, ForAnyValue/ForAllValues, policy variables, boundaries);
* every (role, action, resource) the template grants, as deployed into the embedded AWS from the
  SAM translation of template.yaml, asked of every role of the stack (and of a workload holding
  the managed policy the template creates for callers), with and without the
  statements' condition keys, so both the grants and the refusals are compared.

A disagreement fails the test, except the documented divergences listed in the data file, where
the npm tool departs from AWS's documentation: there ours must give AWS's answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from emulator.iam_evaluation import evaluate
from emulator.stack import deploy_stack

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parents[1]
ACCOUNT, REGION = "123456789012", "us-east-1"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/differential"
DATA = yaml.safe_load((TOOLS / "iam_differential_cases.yaml").read_text(encoding="utf-8"))
DIVERGENCES: dict[str, dict[str, str]] = DATA["known_divergences"]


def _policy(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def _generic_requests() -> list[dict[str, Any]]:
    defaults = DATA["defaults"]
    requests = []
    for case in DATA["cases"]:
        requests.append(
            {
                "id": case["id"],
                "principal": PRINCIPAL,
                "action": case.get("action", defaults["action"]),
                "resource": case.get("resource", defaults["resource"]),
                "accountId": ACCOUNT,
                "context": case.get("context", {}),
                "policies": case.get("policies") or [_policy(case["statements"])],
                "boundary": _policy(case["boundary"]) if case.get("boundary") else None,
            }
        )
    return requests


def _ours(request: dict[str, Any]) -> str:
    return evaluate(
        request["policies"], request["action"], request["resource"], request["context"], request["boundary"]
    ).decision


def _decide(run_node: Any, requests: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Request id -> (our decision, iam-simulate's decision)."""
    npm = {r["id"]: r for r in run_node("iam-simulate.js", stdin=json.dumps(requests))}
    assert sorted(npm) == sorted(r["id"] for r in requests)
    errors = {key: r["errors"] for key, r in npm.items() if r["decision"] == "error"}
    assert not errors, f"iam-simulate refused these requests as malformed: {errors}"
    return {r["id"]: (_ours(r), npm[r["id"]]["decision"]) for r in requests}


def _disagreements(decisions: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    return {case_id: pair for case_id, pair in decisions.items() if pair[0] != pair[1]}


# ---------------------------------------------------------------------------------------------
# Generic cases


def test_the_generic_cases_cover_at_least_100_requests_and_every_feature() -> None:
    # Given the data file
    requests = _generic_requests()
    text = json.dumps([r["policies"] + [r["boundary"]] for r in requests])
    # Then it holds at least 100 requests with unique ids
    assert len(requests) >= 100
    assert len({r["id"] for r in requests}) == len(requests)
    # And every feature the evaluator implements is exercised
    features = [
        '"Deny"', "NotAction", "NotResource", "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike", "NumericLessThan", "NumericLessThanEquals",
        "NumericGreaterThan", "NumericGreaterThanEquals", "NumericEquals", "NumericNotEquals", "DateLessThan",
        "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "DateEquals", "DateNotEquals",
        '"Bool"', '"IpAddress"', "NotIpAddress", '"ArnLike"', '"ArnEquals"', "ArnNotEquals", "ArnNotLike",
        '"Null"', "IfExists", "ForAnyValue:", "ForAllValues:", "${aws:", '"2008-10-17"',
    ]  # fmt: skip
    assert [feature for feature in features if feature not in text] == []
    assert any(r["boundary"] for r in requests)
    # And each documented divergence names a case
    assert set(DIVERGENCES) <= {r["id"] for r in requests}


def test_generic_cases_are_decided_alike_except_the_documented_divergences(run_node: Any) -> None:
    # Given the generic requests
    requests = _generic_requests()
    # When both evaluators decide them
    disagreements = _disagreements(_decide(run_node, requests))
    # Then they agree everywhere but where the npm tool departs from AWS's documentation,
    # and there ours gives AWS's answer (and the tool still gives its own: a change is noticed)
    expected = {case_id: (d["aws"], d["npm"]) for case_id, d in DIVERGENCES.items()}
    assert disagreements == expected


# ---------------------------------------------------------------------------------------------
# The template's roles


def _sample(resource: str) -> str:
    """A concrete resource a pattern matches: each wildcard stands for a plausible name part."""
    if resource == "*":
        return resource
    if ":states:" in resource and ":execution:" in resource and resource.endswith("/*"):
        # A Distributed Map child: execution:<state machine>/<map run label>:<execution id>
        return resource[:-1] + "map-run-label:execution-id"
    return resource.replace("*", "sample").replace("?", "x")


def _contexts(statement: dict[str, Any]) -> list[dict[str, str]]:
    """No context, then the statement's condition keys with a value it names and with another."""
    keys: dict[str, str] = {}
    for clauses in (statement.get("Condition") or {}).values():
        for key, values in clauses.items():
            keys[key] = str(values[0] if isinstance(values, list) else values)
    if not keys:
        return [{}]
    return [{}, dict(keys), {key: f"{value}-other" for key, value in keys.items()}]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _document(iam: Any, policy_arn: str) -> dict[str, Any]:
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
    return json.loads(document) if isinstance(document, str) else document


def _deployed_principals() -> Iterator[tuple[str, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]]:
    """(principal ARN, its policy documents, the template's own statements in them, boundary).

    Every role of the stack, and for each managed policy the template creates without attaching it
    (StartTuningPolicy, for the workloads that start the tuner) a workload role holding just it.
    """
    iam = boto3.client("iam", region_name=REGION)
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        own = [
            iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
            for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
        ]
        own = [json.loads(d) if isinstance(d, str) else d for d in own]
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        # The template's own managed policies grant what it wrote; AWS's are context only.
        own += [_document(iam, a["PolicyArn"]) for a in attached if ":iam::aws:" not in a["PolicyArn"]]
        managed = [_document(iam, a["PolicyArn"]) for a in attached if ":iam::aws:" in a["PolicyArn"]]
        boundary = None
        if "PermissionsBoundary" in role:
            boundary = _document(iam, role["PermissionsBoundary"]["PermissionsBoundaryArn"])
        statements = [s for d in own for s in _as_list(d["Statement"])]
        yield role["Arn"], own + managed, statements, boundary
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        if policy["AttachmentCount"] == 0:
            document = _document(iam, policy["Arn"])
            principal = f"arn:aws:iam::{ACCOUNT}:role/workload-with-{policy['PolicyName']}"
            yield principal, [document], _as_list(document["Statement"]), None


@pytest.fixture(scope="module")
def template_requests() -> list[dict[str, Any]]:
    """Every granted (action, resource) of the template, asked of every principal of the stack."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        deploy_stack(ROOT / "template.yaml", region=REGION, account_id=ACCOUNT)
        principals = list(_deployed_principals())
    grants = {
        (action, _sample(resource), json.dumps(context, sort_keys=True))
        for _, _, statements, _ in principals
        for statement in statements
        if statement["Effect"] == "Allow"
        for action in _as_list(statement.get("Action", []))
        for resource in _as_list(statement.get("Resource", []))
        for context in _contexts(statement)
    }
    requests = []
    for principal, documents, _, boundary in principals:
        for number, (action, resource, context) in enumerate(sorted(grants)):
            requests.append(
                {
                    "id": f"{principal.rsplit('/', 1)[1]}#{number}",
                    "principal": principal,
                    "action": action,
                    "resource": resource,
                    "accountId": ACCOUNT,
                    "context": json.loads(context),
                    "policies": documents,
                    "boundary": boundary,
                }
            )
    return requests


def test_every_role_of_the_template_is_decided_alike_on_every_granted_action(
    run_node: Any, template_requests: list[dict[str, Any]]
) -> None:
    # Given every principal of the deployed stack, asked for every (action, resource) the template grants
    # any role, with and without the condition keys the granting statement tests
    # When both evaluators decide each request
    decisions = _decide(run_node, template_requests)
    # Then they agree on every one
    assert _disagreements(decisions) == {}
    # And the requests include both grants and refusals
    assert {"allowed", "implicitDeny"} <= {ours for ours, _ in decisions.values()}
