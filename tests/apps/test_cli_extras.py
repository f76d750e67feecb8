"""The quickstart install (no torch, onnx, fastapi, ...): every command works or names its extra in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ferkit.apps.cli import EXTRAS

# Runs the CLI with every optional module unimportable, as after `bash scripts/setup.sh`.
SCRIPT = f"""
import sys
for name in {sorted(EXTRAS)!r}:
    sys.modules[name] = None
from ferkit.apps.cli import main
sys.exit(main(sys.argv[1:]))
"""


def quickstart_cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, *argv], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


@pytest.mark.parametrize(("argv", "extra"), [
    (("serve",), "api"),
    (("train", "--data", "faces"), "train"),
    (("train", "--help"), "train"),
    (("tune",), "train"),
    (("export", "run", "--onnx", "model.onnx"), "train"),
    (("compare", "run_a", "run_b"), "train"),
])
def test_a_command_that_needs_an_extra_names_it_in_one_line(argv: tuple[str, ...], extra: str, tmp_path: Path):
    done = quickstart_cli(*argv, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"pip install 'ferkit[{extra}]'" in done.stderr


def test_every_extra_named_is_one_of_pyproject() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert set(EXTRAS.values()) <= set(pyproject["project"]["optional-dependencies"])


def test_an_unknown_missing_module_still_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from ferkit.apps import cli

    def missing(*_: object) -> None:
        raise ModuleNotFoundError("No module named 'nonesuch'", name="nonesuch")

    monkeypatch.setattr(cli, "build_parser", missing)
    with pytest.raises(ModuleNotFoundError):
        cli.main(["models"])
