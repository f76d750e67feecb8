"""Model metadata: one reader for model files and ONNX metadata, and probabilities by output kind."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ferkit.errors import ModelError
from ferkit.models.meta import ModelMeta

BASE = {"model_name": "small", "model_args": {"num_classes": 3}, "classes": ["happy", "sad", "neutral"]}


def test_logits_get_one_softmax_and_log_probabilities_an_exp():
    outputs = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, 0.0]])
    p = ModelMeta.from_dict(BASE).probabilities(outputs)
    assert np.allclose(p.sum(1), 1) and p[0].argmax() == 2 and p[1, 0] == pytest.approx(1.0)
    log_probs = np.log(np.array([[0.2, 0.3, 0.5]]))
    q = ModelMeta.from_dict({**BASE, "output_kind": "log_probs"}).probabilities(log_probs)
    assert np.allclose(q, [[0.2, 0.3, 0.5]])


def test_the_kind_is_read_from_a_model_file_an_onnx_export_or_the_architecture():
    assert ModelMeta.from_dict({**BASE, "output": {"name": "logits", "kind": "log_probs"}}).output_kind == "log_probs"
    assert ModelMeta.from_dict({**BASE, "model_name": "ensemble"}).output_kind == "log_probs"  # files before kinds
    assert ModelMeta.from_dict(ModelMeta.from_dict(BASE).to_dict()).output_kind == "logits"
    with pytest.raises(ModelError, match="unknown model output kind 'probs'"):
        ModelMeta.from_dict({**BASE, "output_kind": "probs"})


def test_the_metadata_module_needs_no_torch():
    code = "import sys; sys.modules['torch'] = None; from ferkit.models.meta import ModelMeta; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
