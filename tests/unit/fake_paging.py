"""``get_paginator`` for the fakes: botocore's own Paginator over the fake's method.

A fake answers one page per call, as AWS does; botocore follows the tokens with the service's
pagination model, as it does for a boto3 client.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.paginate import Paginator


@cache
def _models(service: str) -> tuple[Any, Any]:
    session = botocore.session.get_session()
    return session.get_service_model(service), session.get_paginator_model(service)


class Paginated:
    """Mixin: ``SERVICE`` is botocore's name of the service the fake stands for."""

    SERVICE: str

    def get_paginator(self, operation: str) -> Paginator:
        model, pagination = _models(self.SERVICE)
        name = next(name for name in model.operation_names if xform_name(name) == operation)
        return Paginator(getattr(self, operation), pagination.get_paginator(name), model.operation_model(name))
