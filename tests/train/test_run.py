"""Training end to end on synthetic faces: loss goes down, the run folder describes itself, a killed
run resumes exactly, fine-tuning rebuilds the head for new classes, and a student learns from a teacher."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ferkit.apps.cli import main
from ferkit.config_fields import from_flat
from ferkit.errors import ConfigError
from ferkit.models.checkpoint import load_model, save_model
from ferkit.train.config import TrainConfig
from ferkit.train.run import train


def _cfg(data: Path, run_dir: Path, **kw) -> TrainConfig:
    """A tiny run; `kw` are option names (`limit`, `aug_rotate`, ...), as on the command line."""
    return from_flat(TrainConfig, {
        "data": data, "model": "test_tiny", "epochs": 4, "batch_size": 32, "lr": 1e-2, "optimizer": "adam",
        "scheduler": "cosine", "accelerator": "cpu", "run_dir": run_dir, "progress": False,
        "early_stop_patience": 0, "aug_rotate": 5.0, "aug_shift": 0.0, "aug_scale": 0.0, "aug_erase": 0.0, **kw})


def _history(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "history.csv").open() as f:
        return list(csv.DictReader(f))


def test_short_training_lowers_loss_and_writes_run_folder(synthetic_npz: Path, tmp_path: Path) -> None:
    result = train(_cfg(synthetic_npz, tmp_path / "run", epochs=6))
    rows = _history(result.run_dir)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"]) * 0.8
    assert result.metrics["val_acc"] > 0.3  # 7 classes: chance is 0.14
    for name in ("config.json", "train_metrics.json", "model.pt", "checkpoints/last.ckpt"):
        assert (result.run_dir / name).is_file(), name
    model, meta = load_model(result.run_dir)
    assert meta.model_name == "test_tiny" and len(meta.classes) == 7
    assert meta.metrics["epoch"] == result.metrics["best_epoch"]
    assert model(torch.rand(2, 1, 48, 48)).shape == (2, 7)


def test_existing_run_dir_is_never_overwritten(synthetic_npz: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "keep.txt").write_text("earlier results")
    with pytest.raises(ConfigError, match="not empty"):
        train(_cfg(synthetic_npz, run_dir))
    with pytest.raises(ConfigError, match=r"last\.ckpt"):
        train(_cfg(synthetic_npz, tmp_path / "nothing-here", resume=True))


_KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import lightning as L
    from ferkit.train.config import TrainConfig
    from ferkit.train.run import train

    class KillAtEpoch(L.Callback):
        # SIGKILL the process as epoch 3 starts: epochs 1-2 are checkpointed, nothing gets to clean up.
        def on_train_epoch_start(self, trainer, pl_module):
            if trainer.current_epoch == 2:
                os.kill(os.getpid(), signal.SIGKILL)

    cfg = TrainConfig.from_dict(eval(sys.argv[1]))
    train(cfg, callbacks=[KillAtEpoch()])
""")


def test_killed_run_resumes_exactly(synthetic_npz: Path, tmp_path: Path) -> None:
    full = train(_cfg(synthetic_npz, tmp_path / "full"))

    cfg = _cfg(synthetic_npz, tmp_path / "killed")
    proc = subprocess.run([sys.executable, "-c", _KILLER, repr(cfg.to_dict())], capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, timeout=240)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert len(_history(cfg.run_dir)) == 2

    resumed = train(replace(cfg, resume=True))
    assert [int(r["epoch"]) for r in _history(resumed.run_dir)] == [1, 2, 3, 4]
    a = torch.load(full.run_dir / "checkpoints/last.ckpt", weights_only=True)["state_dict"]
    b = torch.load(resumed.run_dir / "checkpoints/last.ckpt", weights_only=True)["state_dict"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=f"{key} differs after resume")


def test_the_last_checkpoint_is_every_epochs_even_when_the_score_does_not_improve(synthetic_npz: Path,
                                                                                    tmp_path: Path) -> None:
    """--resume continues from the last epoch, not from the best one: with a learning rate of 1e-12 the score
    never improves after epoch 1, and last.ckpt must still hold epoch 3."""
    result = train(_cfg(synthetic_npz, tmp_path / "run", epochs=3, lr=1e-12))
    last = torch.load(result.run_dir / "checkpoints/last.ckpt", weights_only=False)
    best = torch.load(result.run_dir / "checkpoints/best.ckpt", weights_only=False)
    assert (last["epoch"], best["epoch"]) == (2, 0)  # Lightning counts epochs from 0


def test_fine_tune_to_three_classes_keeps_shared_head_rows(synthetic_npz: Path, tmp_path: Path) -> None:
    source = train(_cfg(synthetic_npz, tmp_path / "source", epochs=2))
    src_model, src_meta = load_model(source.model_path)
    cfg = _cfg(synthetic_npz, tmp_path / "tuned", epochs=1, init_from=source.model_path, freeze_backbone=True,
               classes=("happy", "sad", "neutral"), lr=1e-9)
    tuned = train(cfg)
    model, meta = load_model(tuned.model_path)
    assert meta.classes == ("happy", "sad", "neutral")
    assert model.head.fc.out_features == 3
    rows = [src_meta.classes.index(c) for c in meta.classes]
    torch.testing.assert_close(model.head.fc.weight, src_model.head.fc.weight[rows], atol=1e-6, rtol=0)
    for (name, p), q in zip(src_model.named_parameters(), model.parameters(), strict=True):
        if not name.startswith("head."):
            torch.testing.assert_close(p, q, msg=f"frozen {name} changed")


@pytest.mark.parametrize("views", [1, 3])
def test_student_learns_from_the_teacher_alone(synthetic_npz: Path, tmp_path: Path, views: int) -> None:
    teacher = train(_cfg(synthetic_npz, tmp_path / "teacher", epochs=6))
    assert teacher.metrics["val_acc"] > 0.5
    # With distill_weight=1 the hard labels carry no weight: whatever the student gets right, it got from
    # the teacher's soft labels (with 3 views: labels of the rotated copies the teacher was shown).
    student = train(_cfg(synthetic_npz, tmp_path / "student", epochs=6, teacher=str(teacher.model_path),
                         distill_weight=1.0, distill_temperature=2.0, distill_views=views,
                         cache_dir=tmp_path / "cache", seed=1))
    assert student.metrics["val_acc"] > 0.4  # 7 classes: chance is 0.14
    assert len(list((tmp_path / "cache" / "teacher").glob("model-*.npy"))) == views


def test_a_student_taught_by_an_untrained_teacher_learns_nothing(synthetic_npz: Path, tmp_path: Path,
                                                                tiny_onnx: Path) -> None:
    # The control for the test above: the same student run, taught by an untrained network.
    student = train(_cfg(synthetic_npz, tmp_path / "student", epochs=6, seed=1, teacher=str(tiny_onnx),
                         distill_weight=1.0, distill_temperature=2.0))
    assert student.metrics["val_acc"] < 0.3


def test_cli_recipe_precedence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--recipe", "base", "--epochs", "3", "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["model"] == "vgg" and cfg["optimizer"] == "sgd"  # from the recipe
    assert cfg["epochs"] == 3  # the command line wins
    assert cfg["batch_size"] == 256


def test_cli_rejects_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--optimizer", "rmsprop"])
    assert "invalid choice" in capsys.readouterr().err
    assert main(["train", "--teacher", "large", "--aug-mixup", "0.2", "--print-config"]) == 2
    assert "cannot be combined with mixup" in capsys.readouterr().err


@pytest.fixture
def finished_run(synthetic_npz: Path, tmp_path: Path) -> Path:
    return train(_cfg(synthetic_npz, tmp_path / "run", epochs=2)).run_dir


def _record(run_dir: Path) -> dict[str, bytes]:
    return {name: (run_dir / name).read_bytes() for name in ("config.json", "history.csv", "checkpoints/last.ckpt")}


def test_checkpoints_record_the_loss_and_optimiser_settings(finished_run: Path) -> None:
    saved = torch.load(finished_run / "checkpoints" / "last.ckpt", weights_only=True)["hyper_parameters"]
    assert saved["optim"]["lr"] == 1e-2 and saved["optim"]["scheduler"] == "cosine"
    assert saved["loss"]["label_smoothing"] == 0.0 and saved["loss"]["class_weights"] is None
    assert not (finished_run / "logs" / "hparams.yaml").exists()  # recorded, not logged: the folder is unchanged


def test_resume_takes_the_runs_saved_config(finished_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--resume", "--run-dir", str(finished_run), "--no-progress", "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["model"] == "test_tiny" and cfg["epochs"] == 2 and cfg["lr"] == 1e-2  # not the defaults (cnn, 30)
    assert cfg["resume"] is True and cfg["progress"] is False  # how it runs may change


@pytest.mark.parametrize("option, value", [("--model", "cnn"), ("--data", "other.npz"), ("--recipe", "small")])
def test_resume_refuses_options_that_change_model_or_data_and_writes_nothing(
        finished_run: Path, capsys: pytest.CaptureFixture[str], option: str, value: str) -> None:
    before = _record(finished_run)
    assert main(["train", "--resume", "--run-dir", str(finished_run), option, value]) == 2
    err = capsys.readouterr().err
    flag = option if option != "--recipe" else "--model"  # the recipe's model differs from the run's
    assert f"{flag} (run: " in err and "Traceback" not in err
    assert _record(finished_run) == before


def test_resume_through_the_library_refuses_a_changed_config(finished_run: Path) -> None:
    saved = TrainConfig.from_dict(json.loads((finished_run / "config.json").read_text()))
    before = _record(finished_run)
    with pytest.raises(ConfigError, match=r"--batch-size \(run: 32, given: 64\)"):
        train(replace(saved, resume=True, batch_size=64))
    assert _record(finished_run) == before


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_last_checkpoint_is_named_before_anything_is_written(
        finished_run: Path, capsys: pytest.CaptureFixture[str], damage: str) -> None:
    ckpt = finished_run / "checkpoints" / "last.ckpt"
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"not a checkpoint at all")
    before = _record(finished_run)
    assert main(["train", "--resume", "--run-dir", str(finished_run), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{ckpt}: not a readable checkpoint" in err and "Traceback" not in err
    assert _record(finished_run) == before


def test_skip_bad_reaches_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import cv2
    import numpy as np

    for label in ("happy", "sad"):
        folder = tmp_path / "faces" / label
        folder.mkdir(parents=True)
        for i in range(6):
            cv2.imwrite(str(folder / f"{i}.png"), np.random.default_rng(i).integers(0, 255, (48, 48), np.uint8))
    (tmp_path / "faces" / "sad" / "broken.png").write_bytes(b"\x89PNG broken")
    args = ["train", "--data", str(tmp_path / "faces"), "--model", "test_tiny", "--epochs", "1", "--accelerator",
            "cpu", "--no-progress", "--cache-dir", str(tmp_path / "cache"), "--val-fraction", "0.25"]
    assert main([*args, "--run-dir", str(tmp_path / "strict")]) == 2
    assert "broken.png" in capsys.readouterr().err
    assert main([*args, "--run-dir", str(tmp_path / "lenient"), "--skip-bad"]) == 0


def _faces_folder(root: Path, classes: tuple[str, ...], per_class: int = 8) -> Path:
    import cv2
    import numpy as np

    for k, label in enumerate(classes):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            face = np.random.default_rng(100 * k + i).integers(0, 255, (48, 48), np.uint8)
            cv2.imwrite(str(root / label / f"{i}.png"), face)
    return root


@pytest.mark.parametrize("classes, extra", [(("happy", "sad", "neutral"), ()), (("happy", "sad"), ("contempt",))],
                         ids=["three of the seven", "a new class: contempt"])
def test_the_shipped_small_fine_tunes_by_name_to_another_class_list(tmp_path: Path, classes: tuple[str, ...],
                                                                    extra: tuple[str, ...]) -> None:
    import onnx
    from onnx import numpy_helper

    from ferkit.constants import EMOTIONS
    from ferkit.models.bundled import bundled_model_path

    data = _faces_folder(tmp_path / "faces", classes + extra)
    argv = ["train", "--init-from", "small", "--data", str(data), "--classes", ",".join(classes), "--epochs", "1",
            "--freeze-backbone", "--lr", "1e-9", "--batch-size", "8", "--accelerator", "cpu", "--no-progress",
            "--cache-dir", str(tmp_path / "cache"), "--val-fraction", "0.25", "--run-dir", str(tmp_path / "run")]
    if extra:
        argv += ["--extra-classes", ",".join(extra)]
    assert main(argv) == 0
    model, meta = load_model(tmp_path / "run")
    assert meta.model_name == "mobilenet_small" and meta.classes == classes + extra
    shipped = {t.name: numpy_helper.to_array(t)
               for t in onnx.load(str(bundled_model_path("small"))).graph.initializer}
    for i, name in enumerate(classes):  # the shared classes keep the shipped model's output rows
        row = torch.from_numpy(shipped["head.fc.weight"][EMOTIONS.index(name)])
        torch.testing.assert_close(model.head.fc.weight[i], row)
    assert model.head.fc.out_features == len(classes + extra)


def test_the_ensemble_cannot_be_fine_tuned_whole_and_says_what_can(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    data = _faces_folder(tmp_path / "faces", ("happy", "sad"))
    assert main(["train", "--init-from", "large", "--data", str(data), "--epochs", "1", "--accelerator", "cpu",
                 "--cache-dir", str(tmp_path / "cache"), "--run-dir", str(tmp_path / "run")]) == 2
    assert "ensemble of 3 networks cannot be fine-tuned as one; name one of them (large:0 ... large:2)" in \
        capsys.readouterr().err


def test_one_network_of_the_shipped_large_fine_tunes_by_name(tmp_path: Path) -> None:
    import onnx
    from onnx import numpy_helper

    from ferkit.constants import EMOTIONS
    from ferkit.models.bundled import bundled_model_path

    classes = ("happy", "sad", "neutral")
    data = _faces_folder(tmp_path / "faces", classes)
    assert main(["train", "--init-from", "large:1", "--data", str(data), "--classes", ",".join(classes),
                 "--epochs", "1", "--freeze-backbone", "--lr", "1e-9", "--batch-size", "8", "--accelerator", "cpu",
                 "--no-progress", "--cache-dir", str(tmp_path / "cache"), "--val-fraction", "0.25",
                 "--run-dir", str(tmp_path / "run")]) == 0
    model, meta = load_model(tmp_path / "run")
    assert meta.model_name == "vgg" and meta.classes == classes
    shipped = {t.name.removesuffix("_fp16"): numpy_helper.to_array(t)
               for t in onnx.load(str(bundled_model_path("large"))).graph.initializer}
    for i, name in enumerate(classes):  # the second VGG's output rows, not the first's
        row = torch.from_numpy(shipped["members.1.head.fc.weight"][EMOTIONS.index(name)]).float()
        torch.testing.assert_close(model.head.fc.weight[i], row)


@pytest.mark.parametrize("narrow, first_conv, last_hidden", [
    (["--model", "vgg_slim"], 32, 128),
    (["--model", "vgg", "--width", "0.75"], 48, 192),  # the same architecture, a quarter fewer channels
])
def test_prune_starts_a_narrower_network_from_a_trained_one(tmp_path: Path, narrow: list[str], first_conv: int,
                                                            last_hidden: int) -> None:
    from ferkit.models import create_model
    from ferkit.models.meta import ModelMeta

    classes = ("happy", "sad")
    wide = create_model("vgg", num_classes=2).eval()
    source = save_model(tmp_path / "vgg.pt", wide, ModelMeta("vgg", wide.model_args, classes))
    data = _faces_folder(tmp_path / "faces", classes)
    assert main(["train", *narrow, "--init-from", str(source), "--prune", "--data", str(data),
                 "--classes", "happy,sad", "--epochs", "1", "--lr", "1e-9", "--batch-size", "8",
                 "--accelerator", "cpu", "--no-progress", "--cache-dir", str(tmp_path / "cache"),
                 "--val-fraction", "0.25", "--run-dir", str(tmp_path / "run")]) == 0
    model, meta = load_model(tmp_path / "run")  # rebuilt from the model file's own record of its layout
    assert meta.model_name == narrow[1] and meta.classes == classes
    first = model.stages[0].convs[0][0].weight.detach().flatten(1)
    assert len(first) == first_conv and model.head.fc.in_features == last_hidden
    # each kept filter is one of the trained network's (lr 1e-9 leaves it in place), not a fresh one
    source_filters = wide.stages[0].convs[0][0].weight.detach().flatten(1)
    distance = torch.cdist(first, source_filters, compute_mode="donot_use_mm_for_euclid_dist")
    assert distance.min(1).values.max() < 1e-5  # distinct filters lie about 0.5-1.2 apart


@pytest.mark.parametrize("options, message", [
    (["--model", "vgg_slim", "--prune"], "--prune needs an --init-from network"),
    (["--model", "vgg", "--width", "0.5", "--init-from", "large:0"], "--width with --init-from needs --prune"),
    (["--model", "vgg", "--width", "0"], "width (--width) must be in (0, inf)"),
    (["--model", "resnet18", "--width", "0.5"], "model 'resnet18' cannot be built with ['drop_rate', 'width']"),
])
def test_pruning_and_width_mistakes_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture, options: list[str],
                                                message: str) -> None:
    data = _faces_folder(tmp_path / "faces", ("happy", "sad"))
    assert main(["train", *options, "--data", str(data), "--epochs", "1", "--accelerator", "cpu", "--no-progress",
                 "--cache-dir", str(tmp_path / "cache"), "--run-dir", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("channels_last", [True, False])
def test_channels_last_applies_on_the_cpu_too(synthetic_npz: Path, tmp_path: Path, channels_last: bool) -> None:
    from ferkit.train.run import _build_model

    cfg = TrainConfig(data=replace(TrainConfig().data, path=synthetic_npz), model="vgg", accelerator="cpu",
                      channels_last=channels_last, run_dir=tmp_path / "run")
    conv = [m for m in _build_model(cfg, ("a", "b"), None).modules() if isinstance(m, torch.nn.Conv2d)][-1]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) == channels_last
