"""`ferkit export CHECKPOINT --onnx model.onnx`: ONNX export with a PyTorch parity check, optionally int8.

Prints a JSON report: the files written, the largest torch-vs-ONNX logit difference and, with `--int8`
and `--eval-data`, the int8 model's accuracy change on the evaluation split (FER2013 PublicTest by default).
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferkit.apps.config_args import add_config_arguments, config_from_args
from ferkit.config_fields import check_bounds, option
from ferkit.files import check_output_file


@dataclass(frozen=True)
class ExportConfig:
    opset: int = option(18, "ONNX opset version", "[7, inf)")
    int8: bool = option(False, "also write an int8-quantised <name>.int8.onnx")
    calibration_data: Path | None = option(
        None, "data set whose training faces calibrate static int8 quantisation; unset = dynamic quantisation")
    calibration_faces: int = option(512, "training faces used for calibration", "[1, inf)")
    int8_full_range: bool = option(False, "static int8: full 8-bit weights instead of 7-bit ones, which ONNX "
                                          "Runtime's kernels cannot saturate on x86 CPUs without VNNI")
    eval_data: Path | None = option(None, "data set on which to report the int8 accuracy change "
                                          "(e.g. ../shared/data/fer2013)")
    eval_split: str = option("PublicTest", "split of --eval-data to evaluate on")
    fp16_weights: bool = option(False, "store weights as float16 (half the file; compute stays float32; "
                                       "re-measure accuracy)")
    parity_atol: float = option(1e-3, "largest tolerated torch-vs-ONNX logit difference", "(0, inf)")
    flip_tta: bool = option(False, "average each model over the face and its mirror image inside the exported graph")
    input_size: int | None = option(None, "export for faces resized to this side, pixels, instead of the size the "
                                          "model was trained on (same weights; costs accuracy: measure it with "
                                          "--eval-data, e.g. large:0 at 44 loses 0.1 point for 1.2x the speed)",
                                    "[8, inf)")

    def __post_init__(self) -> None:
        check_bounds(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=Path, nargs="+", metavar="CHECKPOINT",
                        help="ferkit model file or run directory, or one network of a shipped model (large:0); "
                             "several are exported as one averaging ensemble")
    parser.add_argument("--onnx", type=Path, required=True, help="the .onnx file to write (plus <name>.json)")
    add_config_arguments(parser, ExportConfig)


def run(args: argparse.Namespace) -> int:
    from ferkit.export.onnx import export_onnx  # imports torch: only when this command runs

    cfg = config_from_args(ExportConfig, args)
    for chatty in ("onnxscript", "onnx_ir"):  # the exporter's optimiser logs every pass at INFO
        logging.getLogger(chatty).setLevel(logging.WARNING)
    _check_outputs(args.onnx, args.checkpoint, ensemble=len(args.checkpoint) > 1 or cfg.flip_tta, int8=cfg.int8)
    model_file = args.checkpoint[0]
    if len(args.checkpoint) > 1 or cfg.flip_tta:
        model_file = _save_ensemble(args.checkpoint, args.onnx.with_suffix(".pt"), cfg.flip_tta)
    result = export_onnx(model_file, args.onnx, opset=cfg.opset, atol=cfg.parity_atol, fp16_weights=cfg.fp16_weights,
                         input_size=cfg.input_size)
    report: dict = {"onnx": str(result.onnx_path), "metadata": str(result.metadata_path),
                    "max_abs_diff": result.max_abs_diff}
    if cfg.int8:
        report["int8"] = _export_int8(result.onnx_path, cfg)
    print(json.dumps(report, indent=2))
    return 0


def _check_outputs(onnx: Path, checkpoints: list[Path], ensemble: bool, int8: bool) -> None:
    """Every file the export will write (the ONNX file, its metadata, the ensemble's model file, the int8 copy)
    is checked against the input model files before any work."""
    from ferkit.models.pretrained import source_file

    inputs = [source_file(c) for c in checkpoints]
    outputs = {"--onnx": onnx, "--onnx (its metadata)": onnx.with_suffix(".json")}
    if ensemble:
        outputs["--onnx (the ensemble's model file)"] = onnx.with_suffix(".pt")
    if int8:
        outputs["--onnx (the int8 copy)"] = onnx.with_suffix(".int8.onnx")
    for flag, path in outputs.items():
        check_output_file(path, flag, inputs)


def _save_ensemble(checkpoints: list[Path], out: Path, flip_tta: bool) -> Path:
    """Combine the checkpoints into one ensemble model file (kept beside the ONNX file, for evaluation)."""
    from ferkit.models.checkpoint import save_model
    from ferkit.models.ensemble import build_ensemble

    model, meta = build_ensemble(checkpoints, flip_tta=flip_tta)
    return save_model(out, model, meta)


def _export_int8(onnx_path: Path, cfg: ExportConfig) -> dict:
    from ferkit.export.quantize import compare_accuracy, quantize_int8

    calibration = None
    if cfg.calibration_data is not None:
        train = _load_faces(onnx_path, cfg.calibration_data, "train")
        pick = np.random.default_rng(0).permutation(len(train))[: cfg.calibration_faces]
        calibration = train.images[np.sort(pick)]
    int8_path = quantize_int8(onnx_path, onnx_path.with_suffix(".int8.onnx"), calibration,
                              reduce_range=not cfg.int8_full_range)
    out: dict = {"onnx": str(int8_path), "calibration_faces": 0 if calibration is None else len(calibration)}
    if cfg.eval_data is not None:
        faces = _load_faces(onnx_path, cfg.eval_data, cfg.eval_split)
        out[cfg.eval_split] = compare_accuracy(onnx_path, int8_path, faces)
    return out


def _load_faces(onnx_path: Path, data: Path, split: str):
    """One split of a data set, preprocessed as the exported model expects and limited to its classes."""
    from ferkit.data import DataConfig, load_split
    from ferkit.inference.classify import OnnxClassifier

    model = OnnxClassifier(onnx_path)
    return load_split(DataConfig.for_model(data, model.classes, model.preprocess), split)
