"""Inference must work where torch is not installed: import ferkit and run a Recognizer with torch blocked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
sys.modules["torch"] = None  # any `import torch` now raises ImportError
import ferkit
from ferkit.inference import sample_image_path
faces = ferkit.Recognizer(sys.argv[1], "haar").predict(sample_image_path())
print(json.dumps([f.to_dict() for f in faces]))
"""


def test_recognizer_runs_with_torch_blocked(tiny_onnx: Path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tiny_onnx)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (face,) = json.loads(done.stdout)
    assert len(face["probabilities"]) == 7
