"""pyproject.toml lists every package the project installs: a package left out is missing from an install."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    # Given the packages pyproject.toml names and the folders they map to
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    found = set()
    for top, folder in setuptools["package-dir"].items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            relative = init.parent.relative_to(base).parts
            found.add(".".join((top, *relative)))
    # Then every folder with an __init__.py is a listed package, and every listed package exists
    assert found == listed
