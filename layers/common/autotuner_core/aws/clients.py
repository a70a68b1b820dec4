"""boto3 clients with the retry budget the error policy is sized for.

Standard retry mode with 3 attempts in all: the state machine retries transient errors
again, and SDK attempts multiply with state-machine attempts (docs/reliability.md).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

SDK_MAX_ATTEMPTS = 3


def aws_client(service: str) -> Any:
    """A shared client for ``service`` in the function's region; created on first use."""
    return _client(service, os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))


@cache
def _client(service: str, region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": SDK_MAX_ATTEMPTS},
        connect_timeout=3,
        read_timeout=15,
        user_agent_extra="lambda-autotuner",
    )
    if service == "s3":
        # Presigned links (report_store.py) with SigV4, the only signature S3 accepts in every region;
        # without it botocore may presign with the legacy query-string signature.
        config = config.merge(Config(signature_version="s3v4"))
    # The stubs type client() per literal service name; this one factory serves them all.
    client = boto3.session.Session().client(service, region_name=region, config=config)  # type: ignore[call-overload]
    if service == "lambda":
        from autotuner_core.aws import pacing

        pacing.install(client)
    return client
