"""Where moto's ASL parser refuses definitions AWS accepts, hand it an equivalent spelling.

moto 5.2.5 carries LocalStack's ANTLR grammar of the Amazon States Language. Its lexer reads a
JSON integer as INT and only a number with a fraction or exponent as NUMBER, and the grammar
takes ``ToleratedFailurePercentage`` only as NUMBER: ``"ToleratedFailurePercentage": 100`` (the
integer AWS's own ASL schema asks for, npm ``amazon-states-language-service``) fails
CreateStateMachine with ``ASLParserException``, while ``100.0`` passes. AWS accepts both.

:func:`install` wraps ``AmazonStateLanguageParser.parse`` so that the parser sees whole-number
percentages spelled with a fraction. Only the text handed to the parser changes: the definition
moto stores and returns (DescribeStateMachine) is the one the caller sent, and line and column
numbers in parser errors stay those of the caller's text.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import sys
from types import ModuleType
from typing import Any

from emulator.moto_adapter import INTERNALS  # importing the adapter checks moto's version

# The grammar this works around is moto 5.2.5's (moto_adapter.PINNED); check it again on an upgrade.
PARSER_MODULE = INTERNALS["asl_parser"]

# The key as a JSON member name (not inside a string, where its quotes would be escaped), then an
# integer value ending at the member's end.
_WHOLE_PERCENTAGE = re.compile(r'(?<!\\)("ToleratedFailurePercentage"\s*:\s*)(-?\d+)(?=\s*[,}])')


def spell_for_moto(definition: str) -> str:
    """The definition with each integer ``ToleratedFailurePercentage`` written as ``N.0``."""
    return _WHOLE_PERCENTAGE.sub(r"\1\2.0", definition)


# Parse trees of definitions already parsed: moto parses the whole definition again for every
# execution (and each Distributed Map child), a quarter of a second each. The tree is only read
# afterwards; each call still gets its own evaluation components, built from the tree afresh.
_TREES: dict[str, Any] = {}
_TREES_LIMIT = 64


def _patch(module: ModuleType) -> None:
    parser = module.AmazonStateLanguageParser
    if getattr(parser.parse, "_autotuner_compat", False):
        return
    original = parser.parse

    def parse(definition: str) -> Any:
        spelled = spell_for_moto(definition)
        tree = _TREES.get(spelled)
        if tree is not None:
            return module.Preprocessor().visit(tree), tree
        program, tree = original(spelled)
        if len(_TREES) >= _TREES_LIMIT:
            _TREES.clear()
        _TREES[spelled] = tree
        return program, tree

    parse._autotuner_compat = True  # type: ignore[attr-defined]
    parser.parse = staticmethod(parse)


class _PatchWhenImported(importlib.abc.MetaPathFinder):
    """Patches moto's parser module right after it is first imported (it takes seconds to import)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != PARSER_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original_exec(module)
            _patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_FINDER = _PatchWhenImported()


def install() -> None:
    """Make moto's ASL parser accept what AWS accepts (idempotent, for the whole process)."""
    module = sys.modules.get(PARSER_MODULE)
    if module is not None:
        _patch(module)
    elif _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
