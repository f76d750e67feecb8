"""ONNX Runtime sessions set up once, the same way for every model ferkit runs (classifier and detector)."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort

from ferkit.errors import ModelError

_default_threads: int | None = None
_use_gpu = False


def set_default_threads(threads: int | None) -> None:
    """Cores each session of this process uses when not told otherwise (None: all). The workers of `ferkit.jobs`
    set it, and OpenCV's, so that workers x threads equals the machine's cores instead of oversubscribing them."""
    global _default_threads
    _default_threads = threads
    import cv2

    cv2.setNumThreads(threads or -1)


def use_gpu(enabled: bool) -> None:
    """Run this process's later sessions on CUDA where ONNX Runtime has it (onnxruntime-gpu), else on the CPU.
    Ray actors given a GPU set it; everything else stays on the CPU, whose figures ferkit measures."""
    global _use_gpu
    _use_gpu = enabled


def _providers() -> list[str]:
    if _use_gpu and "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def create_session(path: Path, threads: int | None = None) -> ort.InferenceSession:
    """A session using `threads` cores (default: `set_default_threads`, else all) and every graph optimisation,
    on the CPU (or on CUDA after `use_gpu(True)`).

    Raises:
        ModelError: the file is missing or is not a model ONNX Runtime can load.
    """
    if not path.is_file():
        raise ModelError(f"{path}: no such ONNX model file")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or _default_threads or os.cpu_count() or 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads must not spin: they would steal the cores that the other model (or OpenCV) needs
    # between calls; measured, spinning made detection + classification 2x slower than detection alone.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=_providers())
    except Exception as exc:  # onnxruntime raises its own untyped errors for foreign or corrupt files
        raise ModelError(f"{path}: not a model ONNX Runtime can load ({exc})") from exc
