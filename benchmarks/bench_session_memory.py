"""Peak memory and speed of an ONNX Runtime session per session option, for each bundled model or .onnx file
(issue #12: which options cut `ferkit predict`'s memory, and what they cost in speed). Each setting runs in a
fresh process that creates the session (timed), classifies one face and reports its peak resident memory
(VmHWM) at that point, then times batches of 64 faces (median over at least 2 s). A bare process with the same
imports is the baseline. One setting loads a copy of the model that ONNX Runtime optimised and saved beforehand
(extended level; the full level's layout transforms are machine-specific) with optimisation turned off.
Writes benchmarks/results/session_memory.json with the hardware, the load and the date.

    .venv/bin/python benchmarks/bench_session_memory.py [--models large small RUN/model.int8.onnx]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import onnxruntime
from machine import hardware, now_utc, write_results

from ferkit.models.bundled import bundled_model_path, bundled_models

RESULT = Path(__file__).resolve().parent / "results" / "session_memory.json"

# (name, cpu memory arena, memory pattern, graph optimisation level); the first row is ferkit's setting.
SETTINGS = [
    ("ferkit default: arena, pattern, all optimisations", True, True, "ORT_ENABLE_ALL"),
    ("no arena", False, True, "ORT_ENABLE_ALL"),
    ("no arena, no pattern", False, False, "ORT_ENABLE_ALL"),
    ("extended optimisations", True, True, "ORT_ENABLE_EXTENDED"),
    ("basic optimisations", True, True, "ORT_ENABLE_BASIC"),
    ("basic, no arena, no pattern", False, False, "ORT_ENABLE_BASIC"),
]
SAVED = "optimised model saved beforehand (extended), loaded with optimisations off"
BATCH = 64

CHILD = """
import statistics, sys, time
import numpy as np, onnxruntime as ort
path, arena, pattern, level, batch = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1", sys.argv[4], int(sys.argv[5])
load_s = faces_per_s = 0.0
if path:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.enable_cpu_mem_arena, options.enable_mem_pattern = arena, pattern
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    start = time.perf_counter()
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - start
    name = session.get_inputs()[0].name
    session.run(None, {name: np.random.rand(1, 1, 48, 48).astype(np.float32)})
peak_kib = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
if path and batch:
    faces = {name: np.random.rand(batch, 1, 48, 48).astype(np.float32)}
    session.run(None, faces)
    times, begin = [], time.perf_counter()
    while len(times) < 10 or time.perf_counter() - begin < 2.0:
        start = time.perf_counter()
        session.run(None, faces)
        times.append(time.perf_counter() - start)
    faces_per_s = batch / statistics.median(times)
print(peak_kib, load_s, faces_per_s)
"""


def measure(path: str, arena: bool, pattern: bool, level: str) -> dict:
    """Peak MiB after one face, session creation seconds, and faces/s at batch 64, from a fresh process."""
    done = subprocess.run([sys.executable, "-c", CHILD, path, str(int(arena)), str(int(pattern)), level,
                           str(BATCH)], capture_output=True, text=True, check=True)
    peak_kib, load_s, faces_per_s = done.stdout.split()[-3:]
    return {"peak_mib": round(int(peak_kib) / 1024, 1), "session_s": round(float(load_s), 3),
            "faces_per_s_batch64": round(float(faces_per_s))}


def saved_optimised(path: Path, folder: Path) -> Path:
    """`path` as ONNX Runtime's extended optimisation level leaves it, saved to `folder`."""
    out = folder / f"{path.stem}.optimised.onnx"
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(out)
    onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=sorted(bundled_models()),
                        help="bundled model names or .onnx files")
    args = parser.parse_args()
    results: dict = {"baseline_no_session_mib": measure("", True, True, "ORT_ENABLE_ALL")["peak_mib"], "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            path = Path(name) if name.endswith(".onnx") else bundled_model_path(name)
            rows = {label: measure(str(path), arena, pattern, level) for label, arena, pattern, level in SETTINGS}
            rows[SAVED] = measure(str(saved_optimised(path, Path(tmp))), True, True, "ORT_DISABLE_ALL")
            results["models"][name] = rows
            print(name, rows, flush=True)
    write_results(RESULT, {
        "benchmark": "per session setting, in a fresh process (import numpy + onnxruntime, 2 threads): peak "
                     "resident memory (VmHWM) after creating one session and classifying one face, the session's "
                     "creation time, then faces/s at batch 64 (median over at least 2 s)",
        "date": now_utc(), "command": "python benchmarks/bench_session_memory.py " + " ".join(sys.argv[1:]),
        "hardware": hardware(onnxruntime=onnxruntime.__version__), **results})


if __name__ == "__main__":
    main()
