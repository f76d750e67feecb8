"""Every named recipe runs end to end through `ferkit train --recipe NAME` (one epoch on tiny data), so a
recipe that names an unknown model, a bad value or a missing teacher fails here, not hours into a GPU run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferkit.apps.cli import main
from ferkit.errors import ConfigError
from ferkit.models.checkpoint import load_model
from ferkit.train.recipes import RECIPES, get_recipe


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_trains_one_epoch_on_tiny_data(name: str, make_faces, tmp_path: Path) -> None:
    data = make_faces(70).save(tmp_path / "faces.npz")
    run_dir = tmp_path / "run"
    argv = ["train", "--recipe", name, "--data", str(data), "--epochs", "1", "--run-dir", str(run_dir),
            "--accelerator", "cpu", "--no-progress", "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    _, meta = load_model(run_dir)
    assert meta.model_name == RECIPES[name]["model"]
    assert meta.train_config["epochs"] == 1  # the command line overrides the recipe


def test_unknown_recipe_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known: base"):
        get_recipe("huge")
