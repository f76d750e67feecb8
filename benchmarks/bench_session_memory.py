"""Peak memory of an ONNX Runtime session per session option, for each bundled model (issue #12: which options
cut `ferkit predict`'s memory). Each setting runs in a fresh process that creates the session, classifies one
face and reports its peak resident memory (VmHWM); a bare process with the same imports is the baseline.
Writes benchmarks/results/session_memory.json with the hardware and date.

    .venv/bin/python benchmarks/bench_session_memory.py [--models large small]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import onnxruntime
from machine import hardware, now_utc, write_results

from ferkit.inference.classify import bundled_model_path, bundled_models

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

CHILD = """
import sys
import numpy as np, onnxruntime as ort
path, arena, pattern, level = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1", sys.argv[4]
if path:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.enable_cpu_mem_arena, options.enable_mem_pattern = arena, pattern
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    session.run(None, {session.get_inputs()[0].name: np.random.rand(1, 1, 48, 48).astype(np.float32)})
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""


def peak_mib(path: str, arena: bool, pattern: bool, level: str) -> float:
    done = subprocess.run([sys.executable, "-c", CHILD, path, str(int(arena)), str(int(pattern)), level],
                          capture_output=True, text=True, check=True)
    return round(int(done.stdout.split()[-1]) / 1024, 1)  # KiB -> MiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=sorted(bundled_models()))
    args = parser.parse_args()
    results: dict = {"baseline_no_session_mib": peak_mib("", True, True, "ORT_ENABLE_ALL"), "models": {}}
    for name in args.models:
        path = str(bundled_model_path(name))
        results["models"][name] = {label: peak_mib(path, arena, pattern, level)
                                   for label, arena, pattern, level in SETTINGS}
        print(name, results["models"][name], flush=True)
    write_results(RESULT, {
        "benchmark": "peak resident memory (VmHWM) of a fresh process: import numpy + onnxruntime, create one "
                     "session, classify one face (batch 1, 2 threads)",
        "date": now_utc(), "command": "python benchmarks/bench_session_memory.py",
        "hardware": hardware(onnxruntime=onnxruntime.__version__), **results})


if __name__ == "__main__":
    main()
