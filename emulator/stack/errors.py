"""The one error the embedded deployer raises for a template it cannot deploy as written."""

from __future__ import annotations


class TemplateError(ValueError):
    """The template (or a parameter value) cannot be deployed as written."""
