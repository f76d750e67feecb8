"""`ferkit evaluate` end to end: a tiny 7-class model file on a 3-class synthetic .npz data set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ferkit.apps.cli import main
from ferkit.constants import EMOTIONS
from ferkit.data import DataConfig, load_split
from ferkit.errors import ConfigError
from ferkit.evaluate.run import EvalConfig, evaluate
from ferkit.models.checkpoint import load_model
from ferkit.transforms.preprocess import to_model_input

from .conftest import DATA_CLASSES, save_tiny_model, write_history


def _expected_accuracy(model_file: Path, data: Path, classes: tuple[str, ...]) -> float:
    """Accuracy computed without ferkit.evaluate: softmax over the model's 7 outputs, keep `classes`' columns."""
    model, meta = load_model(model_file)
    faces = load_split(DataConfig(path=data, classes=meta.classes), "val")
    keep = np.isin(np.array(faces.classes)[faces.labels], classes)
    with torch.no_grad():
        probs = model(to_model_input(torch.from_numpy(faces.images[keep]))).softmax(1).numpy()
    columns = [meta.classes.index(c) for c in classes]
    predicted = np.array(classes)[probs[:, columns].argmax(1)]
    return float((predicted == np.array(faces.classes)[faces.labels[keep]]).mean())


def test_cli_writes_report_for_the_classes_present(tiny_model_file, faces_npz, tmp_path, capsys):
    out = tmp_path / "report"
    rc = main(["evaluate", "--checkpoint", str(tiny_model_file), "--data", str(faces_npz), "--split", "val",
               "--device", "cpu", "--out-dir", str(out), "--mistakes", "5", "--gradcam-per-class", "2"])
    assert rc == 0
    saved = json.loads((out / "evaluation.json").read_text())
    assert saved["split"] == "val" and saved["classes"] == list(DATA_CLASSES)
    assert saved["model_classes"] == list(EMOTIONS) and saved["num_faces"] == 15
    assert saved["accuracy"] == pytest.approx(_expected_accuracy(tiny_model_file, faces_npz, DATA_CLASSES))
    assert {p.name for p in out.glob("*.png")} == {"confusion.png", "pr_roc.png", "reliability.png", "mistakes.png",
                                                  "gradcam.png"}
    assert "[val]" in (out / "report.html").read_text()
    printed = capsys.readouterr().out
    assert "test_tiny on faces.npz [val]: 15 faces" in printed and f"report: {out / 'report.html'}" in printed


def test_class_subset_and_unknown_class(tiny_model_file, faces_npz, tmp_path, capsys):
    report = evaluate(EvalConfig(model=str(tiny_model_file), data=faces_npz, classes=("Happiness", "sad"),
                                 device="cpu", out_dir=tmp_path / "two"))
    assert report.metrics.classes == ("happy", "sad") and report.metrics.num_faces == 10
    assert report.metrics.accuracy == pytest.approx(_expected_accuracy(tiny_model_file, faces_npz, ("happy", "sad")))

    assert main(["evaluate", "--checkpoint", str(tiny_model_file), "--data", str(faces_npz),
                 "--classes", "happy,contempt", "--device", "cpu", "--out-dir", str(tmp_path / "x")]) == 2
    assert "contempt" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_run_dir_defaults_history_and_numbering(faces_npz, tmp_path):
    run = tmp_path / "run"
    save_tiny_model(run / "model.pt", train_config={"data": str(faces_npz), "val_fraction": 0.2, "seed": 3})
    write_history(run, [0.2, 0.3])
    cfg = EvalConfig(model=str(run), device="cpu", tta="flip", gradcam_per_class=0, mistakes=0)
    first, second = evaluate(cfg), evaluate(cfg)
    assert first.out_dir == run / "eval-val" and second.out_dir == run / "eval-val-2"
    assert first.data == faces_npz  # taken from the model's training config
    assert first.metrics.num_faces == 30  # val_fraction 0.2 of the training config, not the default 0.1
    assert (first.out_dir / "training_curves.png").is_file()
    assert not (first.out_dir / "gradcam.png").exists() and not (first.out_dir / "mistakes.png").exists()
    assert json.loads(second.metrics_path.read_text())["tta"] == "flip"


def test_bare_model_file_goes_beside_it_and_needs_data(tiny_model_file, faces_npz):
    report = evaluate(EvalConfig(model=str(tiny_model_file), data=faces_npz, split="train", device="cpu",
                                 gradcam_per_class=0, mistakes=0))
    assert report.out_dir == tiny_model_file.parent / "tiny-eval-train"
    assert report.history is None and report.metrics.num_faces == 135
    with pytest.raises(ConfigError, match="pass --data"):
        evaluate(EvalConfig(model=str(tiny_model_file), device="cpu"))


def test_an_onnx_file_scores_as_its_pytorch_model_and_skips_grad_cam(tiny_onnx, faces_npz, tmp_path):
    kwargs = dict(data=faces_npz, split="train", device="cpu", mistakes=0)
    onnx = evaluate(EvalConfig(model=str(tiny_onnx), out_dir=tmp_path / "onnx", **kwargs))
    torch_ = evaluate(EvalConfig(model=str(tiny_onnx.with_suffix(".pt")), out_dir=tmp_path / "pt", **kwargs))
    assert onnx.metrics.accuracy == torch_.metrics.accuracy and onnx.metrics.num_faces == torch_.metrics.num_faces
    assert abs(onnx.metrics.macro_f1 - torch_.metrics.macro_f1) < 1e-9
    assert onnx.saliency == () and len(torch_.saliency) > 0 and onnx.num_params > 0
    assert (tmp_path / "onnx" / "report.html").is_file()


def test_a_bundled_model_scores_a_folder_without_splits_whole(tmp_path, capsys, monkeypatch):
    import cv2

    from ferkit.inference import sample_image_path

    face = cv2.resize(cv2.imread(str(sample_image_path()), cv2.IMREAD_GRAYSCALE)[40:200, 145:300], (48, 48))
    for label, count in (("happy", 6), ("sad", 4), ("neutral", 3)):
        (tmp_path / "faces" / label).mkdir(parents=True)
        for i in range(count):
            cv2.imwrite(str(tmp_path / "faces" / label / f"{i}.png"), np.roll(face, i, axis=1))
    monkeypatch.chdir(tmp_path)  # the default report folder: runs/evaluate/small-all
    assert main(["evaluate", "--model", "small", "--data", "faces", "--split", "all", "--mistakes", "0"]) == 0
    metrics = json.loads((tmp_path / "runs" / "evaluate" / "small-all" / "evaluation.json").read_text())
    assert metrics["num_faces"] == 13 and metrics["model_name"] == "small"
    assert "accuracy" in capsys.readouterr().out


QUICKSTART = """
import sys
for name in ("torch", "lightning", "onnx", "sklearn"):
    sys.modules[name] = None  # the inference-only install has none of them
from ferkit.apps.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_an_onnx_model_is_evaluated_without_torch(tiny_onnx, faces_npz, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-c", QUICKSTART, "evaluate", "--model", str(tiny_onnx), "--data",
                           str(faces_npz), "--split", "train", "--out-dir", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "evaluation.json").read_text())["num_faces"] == 135
    assert "Grad-CAM left out" in done.stderr and not (out / "gradcam.png").exists()


def test_a_file_that_is_no_model_file_is_refused_in_one_line(faces_npz, tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not a model")
    assert main(["evaluate", "--model", str(photo), "--data", str(faces_npz), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "photo.jpg: not a ferkit model file" in err and "weights_only" not in err


def test_a_folder_with_a_class_the_model_lacks_is_scored_on_the_classes_shared(tiny_onnx, tmp_path, caplog):
    """CK+'s contempt beside Kaggle test/ names: the shared classes are scored, contempt is counted and left out."""
    import cv2

    rng = np.random.default_rng(0)
    for label, count in (("happy", 4), ("sad", 3), ("contempt", 2)):
        (tmp_path / "faces" / label).mkdir(parents=True)
        for i in range(count):
            cv2.imwrite(str(tmp_path / "faces" / label / f"PublicTest_{i}.png"), rng.integers(0, 256, (48, 48)))
    with caplog.at_level("WARNING", logger="ferkit.data"):
        report = evaluate(EvalConfig(model=str(tiny_onnx), data=tmp_path / "faces", split="all", mistakes=0,
                                     out_dir=tmp_path / "report"))
    assert report.metrics.num_faces == 7 and report.metrics.classes == ("happy", "sad")
    assert "left out 2 face(s) (contempt 2)" in caplog.text


def test_cache_dir_help_says_where_the_cache_goes(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "~/.cache/ferkit/data" in help_text and "unset = read the source" not in help_text
