from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ferkit.errors import ModelError
from ferkit.models import create_model, list_models
from ferkit.models.checkpoint import load_model, save_model
from ferkit.models.ensemble import build_ensemble
from ferkit.models.meta import ModelMeta


def _member(path: Path, seed: int, classes=("angry", "happy", "sad")) -> Path:
    torch.manual_seed(seed)
    model = create_model("test_tiny", num_classes=len(classes)).eval()
    return save_model(path, model, ModelMeta("test_tiny", model.model_args, tuple(classes)))


def test_ensemble_averages_member_probabilities_over_flips(tmp_path: Path) -> None:
    files = [_member(tmp_path / f"m{i}.pt", seed=i) for i in range(2)]
    ens, meta = build_ensemble(files, flip_tta=True)
    members = [load_model(f)[0] for f in files]
    x = torch.rand(4, 1, 48, 48)
    with torch.inference_mode():
        expected = torch.stack([m(v).softmax(1) for m in members for v in (x, x.flip(-1))]).mean(0)
        got = ens(x).softmax(1)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)
    assert meta.classes == ("angry", "happy", "sad")


def test_ensemble_model_file_round_trip_and_not_listed(tmp_path: Path) -> None:
    files = [_member(tmp_path / f"m{i}.pt", seed=i) for i in range(2)]
    ens, meta = build_ensemble(files, flip_tta=False)
    save_model(tmp_path / "ens.pt", ens, meta)
    loaded, loaded_meta = load_model(tmp_path / "ens.pt")
    x = torch.rand(3, 1, 48, 48)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), ens(x))
    assert loaded_meta.model_name == "ensemble"
    assert "ensemble" not in list_models(include_test=True)  # a combination of trained models, not an architecture


def test_members_must_agree_on_classes(tmp_path: Path) -> None:
    a = _member(tmp_path / "a.pt", 0)
    b = _member(tmp_path / "b.pt", 1, classes=("angry", "happy", "neutral"))
    with pytest.raises(ModelError, match="classes"):
        build_ensemble([a, b])


def test_export_command_writes_one_onnx_for_several_checkpoints(tmp_path: Path) -> None:
    import numpy as np
    import onnxruntime as ort

    from ferkit.apps.cli import main

    files = [_member(tmp_path / f"m{i}.pt", seed=i) for i in range(2)]
    out = tmp_path / "ens.onnx"
    assert main(["export", str(files[0]), str(files[1]), "--flip-tta", "--onnx", str(out)]) == 0
    assert not list(tmp_path.glob("*.data")) and not list(tmp_path.glob("*.tmp*"))  # one self-contained file
    members = [load_model(f)[0] for f in files]
    x = torch.rand(5, 1, 48, 48)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x.numpy()})
    with torch.inference_mode():  # both members, each on the face and its mirror image
        expected = torch.stack([m(v).softmax(1) for m in members for v in (x, x.flip(-1))]).mean(0)
    np.testing.assert_allclose(torch.from_numpy(got).softmax(1).numpy(), expected.numpy(), atol=1e-5)
