"""Multi-process training through torchrun, as a multi-GPU/multi-node job would run, with 2 CPU processes."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ferkit.models.checkpoint import load_model


@pytest.mark.timeout(300)
def test_torchrun_ddp_two_cpu_processes(synthetic_npz: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517",
        "-m", "ferkit.apps.cli", "train", "--data", str(synthetic_npz), "--model", "test_tiny",
        "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp", "--epochs", "2", "--batch-size", "32",
        "--lr", "0.01", "--run-dir", str(run_dir), "--cache-dir", str(tmp_path / "cache"), "--no-progress",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=280, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "world_size: 2" in proc.stderr or "GLOBAL_RANK: 1" in proc.stderr, proc.stderr[-3000:]
    with (run_dir / "history.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]  # written once (rank 0), not once per process
    model, meta = load_model(run_dir)
    assert meta.model_name == "test_tiny" and model.num_classes == 7
