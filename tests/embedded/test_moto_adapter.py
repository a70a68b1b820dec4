"""The one door to moto's and botocore's internals: pinned versions, lazy imports, reversible patches."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import tomllib
import types
from pathlib import Path

import pytest
from moto import mock_aws
from packaging.requirements import Requirement

from emulator import moto_adapter
from emulator.moto_adapter import (
    INTERNALS,
    PINNED,
    InternalChangedError,
    Patches,
    VersionMismatchError,
    add,
    check_versions,
    installed_versions,
    mock_is_active,
    patch,
    patched,
    resolve,
    unresolvable_internals,
)

ROOT = Path(__file__).resolve().parents[2]

# Modules that still import moto/botocore internals directly; each is converted by importing the
# same names from moto_adapter (add any missing to INTERNALS), then removed from this list.
NOT_YET_CONVERTED: set[str] = set()
# Public API: what moto and botocore document for users.
PUBLIC_MODULES = {"moto", "botocore.exceptions", "botocore.config", "botocore.session", "botocore.stub"}


# ---------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------


def test_a_version_mismatch_is_refused_with_one_message_naming_each_difference() -> None:
    # Given a newer moto and botocore than the pinned ones, and the pinned boto3
    installed = {"moto": "5.3.0", "botocore": "1.44.2", "boto3": "1.43.108"}
    # When the versions are checked, Then one error names both differences and what to do
    with pytest.raises(VersionMismatchError) as refused:
        check_versions(installed)
    message = str(refused.value)
    assert "moto 5.3.0 is installed (pinned: 5.2.5)" in message
    assert "botocore 1.44.2 is installed (pinned: 1.43.127)" in message
    assert "boto3 1.43.108" not in message
    assert "moto_adapter.py" in message and "PINNED" in message


def test_a_missing_moto_is_named_and_a_look_alike_minor_line_is_not_taken_for_the_pinned_one() -> None:
    # Given no moto at all, and a botocore whose version only starts like the pinned line
    installed = {"moto": None, "botocore": "1.430.0", "boto3": "1.43.1"}
    # When the versions are checked, Then both are refused
    with pytest.raises(VersionMismatchError, match=r"moto is not installed \(pinned: 5\.2\.5\).*botocore 1\.430\.0"):
        check_versions(installed)


def test_the_installed_versions_are_the_pinned_ones() -> None:
    # Given this virtualenv (built by make venv), When its versions are checked, Then they pass
    check_versions()
    assert installed_versions()["moto"] == PINNED["moto"]


def test_importing_the_stack_with_another_moto_fails_loudly_at_import() -> None:
    # Given a process where moto reports version 5.3.0
    script = textwrap.dedent(
        """
        import importlib.metadata as metadata
        real = metadata.version
        metadata.version = lambda name: "5.3.0" if name == "moto" else real(name)
        import emulator.stack
        """
    )
    # When it imports the embedded stack deployer
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    # Then the import fails with the adapter's message, before anything else runs
    assert result.returncode != 0
    assert "VersionMismatchError" in result.stderr
    assert "moto 5.3.0 is installed (pinned: 5.2.5)" in result.stderr


def test_the_pins_agree_with_pyproject() -> None:
    # Given the requirements pyproject.toml declares (runtime and dev)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(text) for text in project["dependencies"] + project["optional-dependencies"]["dev"]]
    declared = {requirement.name: requirement for requirement in requirements}
    # Then each pinned distribution pyproject names is pinned the same (exact) or within its range
    assert "moto" in declared and "boto3" in declared
    for name, pin in PINNED.items():
        if name not in declared:
            continue  # botocore comes with boto3
        specifier = declared[name].specifier
        exact = [spec.version for spec in specifier if spec.operator == "=="]
        if exact:
            assert exact == [pin], f"pyproject pins {name}{specifier}, moto_adapter.PINNED says {pin}"
        else:
            assert specifier.contains(pin.replace("*", "0")), f"pyproject's {name}{specifier} excludes {pin}"


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------


def test_every_internal_resolves_with_the_pinned_versions() -> None:
    # Given the pinned moto and botocore, When every internal the embedded AWS uses is resolved
    # Then none is missing, and each is what the adapter hands out as an attribute
    assert unresolvable_internals() == {}
    for name in INTERNALS:
        assert getattr(moto_adapter, name) is resolve(name), name


def test_an_internal_is_the_object_moto_defines() -> None:
    # Given moto's own Lambda backend class
    from moto.awslambda.models import LambdaBackend as from_moto

    # When it is imported from the adapter, Then it is the same class (patching one patches the other)
    from emulator.moto_adapter import LambdaBackend

    assert LambdaBackend is from_moto


def test_a_moved_internal_fails_loudly_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given internals that a moto upgrade removed: a class and a whole module
    monkeypatch.setitem(INTERNALS, "GoneClass", "moto.iam.models:NoSuchClass")
    monkeypatch.setitem(INTERNALS, "gone_module", "moto.no_such_module")
    # When they are used, Then the error names the entry, where it pointed and the versions
    with pytest.raises(InternalChangedError, match=r"moto_adapter\.GoneClass: moto\.iam\.models has no NoSuchClass"):
        moto_adapter.GoneClass  # noqa: B018
    with pytest.raises(InternalChangedError, match=r"moto_adapter\.gone_module: module moto\.no_such_module"):
        resolve("gone_module")
    assert set(unresolvable_internals()) == {"GoneClass", "gone_module"}
    # And a name the adapter does not list is an ordinary AttributeError
    with pytest.raises(AttributeError, match="NotListed"):
        moto_adapter.NotListed  # noqa: B018


def test_mock_is_active_only_inside_mock_aws() -> None:
    # Given no mock, Then none is active; When inside mock_aws, Then one is
    assert mock_is_active() is False
    with mock_aws():
        assert mock_is_active() is True
    assert mock_is_active() is False


def test_no_embedded_module_imports_moto_or_botocore_internals_but_the_adapter() -> None:
    # Given every module of the embedded AWS and the CLI
    offenders = []
    for path in sorted((ROOT / "autotuner").rglob("*.py")):
        if path.name == "moto_adapter.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                internal = module.split(".")[0] in ("moto", "botocore") and module not in PUBLIC_MODULES
                if internal and path.name not in NOT_YET_CONVERTED:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
    # Then only the adapter imports internals (add the name to INTERNALS and import it from there)
    assert offenders == []


# ---------------------------------------------------------------------------------------------
# Patches
# ---------------------------------------------------------------------------------------------


class _Base:
    def inherited(self) -> str:
        return "base"


class _Owner(_Base):
    def method(self) -> str:
        return "original"

    @staticmethod
    def static() -> str:
        return "static"


def test_patch_and_undo_put_back_exactly_what_was_there() -> None:
    # Given a class with its own method, a staticmethod, an inherited method, and a module attribute
    module = types.ModuleType("clock")
    module.time = "real clock"  # type: ignore[attr-defined]
    own_static = vars(_Owner)["static"]
    # When each is patched
    undos = [
        patch(_Owner, "method", lambda self: "patched"),
        patch(_Owner, "static", staticmethod(lambda: "patched")),
        patch(_Owner, "inherited", lambda self: "patched"),
        patch(module, "time", "scaled clock"),
    ]
    # Then the replacements are in effect
    assert (_Owner().method(), _Owner.static(), _Owner().inherited(), module.time) == ("patched",) * 3 + (
        "scaled clock",
    )
    # When they are undone (twice: the second time does nothing)
    for undo in reversed(undos):
        undo()
        undo()
    # Then the originals are back, the staticmethod as the same object, the inherited one inherited again
    assert (_Owner().method(), _Owner.static(), _Owner().inherited(), module.time) == (
        "original",
        "static",
        "base",
        "real clock",
    )
    assert vars(_Owner)["static"] is own_static
    assert "inherited" not in vars(_Owner)


def test_patching_an_attribute_that_is_gone_changes_nothing() -> None:
    # Given a class without the attribute a patch expects
    # When it is patched, Then the error names the class and the attribute, and nothing was set
    with pytest.raises(InternalChangedError, match=r"_Owner\.renamed does not exist"):
        patch(_Owner, "renamed", lambda self: "patched")
    assert not hasattr(_Owner, "renamed")
    with pytest.raises(InternalChangedError, match=r"_Owner\.renamed"), patched(_Owner, "renamed", None):
        pass
    assert not hasattr(_Owner, "renamed")


def test_patched_yields_the_original_and_restores_it_after_an_error() -> None:
    # Given a patch for the duration of a block that fails
    with pytest.raises(ZeroDivisionError), patched(_Owner, "method", lambda self: "patched") as original:
        # Then inside it the original is at hand and the replacement is in effect
        assert original(_Owner()) == "original"
        assert _Owner().method() == "patched"
        _ = 1 / 0
    # And after it the original is back
    assert _Owner().method() == "original"


def test_patches_are_undone_last_first() -> None:
    # Given the same method patched twice, the second wrapping the first
    patches = Patches()
    first = patches.patch(_Owner, "method", lambda self: "first")
    second = patches.patch(_Owner, "method", lambda self: "second:" + first(self))
    # And an attribute added among them
    patches.add(_Owner, "extra", "added")
    # Then each patch was handed what it replaced
    assert _Owner().method() == "second:original"
    assert second(_Owner()) == "first"
    assert len(patches) == 3
    # When all are undone, Then the original is back (undone in the other order, "first" would remain)
    patches.undo()
    assert _Owner().method() == "original"
    assert not hasattr(_Owner, "extra")
    assert len(patches) == 0


def test_add_gives_what_moto_lacks_and_refuses_once_moto_has_it() -> None:
    # Given a class without an action, When the emulator adds it, Then it is there until undone
    undo = add(_Owner, "simulate", lambda self: "added")
    assert _Owner().simulate() == "added"  # type: ignore[attr-defined]
    # And adding it again (as if moto now had its own) is refused, keeping what is there
    with pytest.raises(InternalChangedError, match=r"_Owner\.simulate exists.*moto provides it now"):
        add(_Owner, "simulate", lambda self: "again")
    assert _Owner().simulate() == "added"  # type: ignore[attr-defined]
    undo()
    undo()
    assert not hasattr(_Owner, "simulate")
    # And an attribute the class inherits counts as present
    with pytest.raises(InternalChangedError, match=r"_Owner\.inherited exists"):
        add(_Owner, "inherited", None)
