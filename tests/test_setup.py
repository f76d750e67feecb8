"""The project's own setup: packaging metadata setuptools takes without a deprecation, and tests that keep out of
the user's files."""

from __future__ import annotations

from pathlib import Path

import tomllib

from ferkit import env

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_license_is_an_spdx_expression_and_setuptools_is_new_enough_for_it():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"  # a table ({text = ...}) is deprecated: a banner per build
    assert "setuptools>=77" in project["build-system"]["requires"]


def test_tests_write_ferkits_cache_only_under_a_temporary_folder(tmp_path: Path):
    assert env.cache_dir().parent == tmp_path.parent  # both in pytest's base temporary folder
    assert Path.home() / ".cache" not in env.cache_dir().parents
