"""The reproduction scripts call ferkit in the right order, resume interrupted stages and stop at a failure."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

# Stands in for the ferkit CLI: logs each call; `train` marks its run folder finished unless told to fail.
FAKE_FERKIT = """#!/usr/bin/env bash
echo "$*" >> "$LOG"
if [ "$1" = train ]; then
    [ -n "${FAIL_TRAIN:-}" ] && exit 3
    while [ $# -gt 0 ]; do [ "$1" = --run-dir ] && { mkdir -p "$2"; echo {} > "$2/train_metrics.json"; }; shift; done
fi
"""


@pytest.fixture
def fake(tmp_path: Path) -> dict[str, str]:
    exe = tmp_path / "ferkit"
    exe.write_text(FAKE_FERKIT)
    exe.chmod(0o755)
    return {**os.environ, "FERKIT": str(exe), "LOG": str(tmp_path / "calls.log")}


def run_small(tmp_path: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    proc = subprocess.run(["bash", str(SCRIPTS / "train_small.sh"), "DATA", str(tmp_path / "out")], env=env,
                          capture_output=True, text=True, timeout=30)
    log = Path(env["LOG"])
    return proc.returncode, log.read_text().splitlines() if log.exists() else []


def test_train_small_runs_both_stages_then_exports(tmp_path: Path, fake: dict[str, str]) -> None:
    rc, calls = run_small(tmp_path, fake)
    out = tmp_path / "out"
    assert rc == 0
    assert calls == [
        f"train --recipe small --data DATA --run-dir {out}/stage1",
        f"train --recipe small_views --init-from {out}/stage1 --data DATA --run-dir {out}/stage2",
        f"export {out}/stage2 --onnx {out}/small.onnx",
        f"evaluate --checkpoint {out}/stage2 --data DATA --split val",
    ]


def test_train_small_skips_finished_stage_and_resumes_interrupted_one(tmp_path: Path, fake: dict[str, str]) -> None:
    out = tmp_path / "out"
    (out / "stage1").mkdir(parents=True)
    (out / "stage1" / "train_metrics.json").write_text("{}")
    (out / "stage2" / "checkpoints").mkdir(parents=True)
    (out / "stage2" / "checkpoints" / "last.ckpt").write_bytes(b"")
    rc, calls = run_small(tmp_path, fake)
    assert rc == 0
    assert calls == [
        f"train --recipe small_views --init-from {out}/stage1 --data DATA --run-dir {out}/stage2 --resume",
        f"export {out}/stage2 --onnx {out}/small.onnx",
        f"evaluate --checkpoint {out}/stage2 --data DATA --split val",
    ]


def test_train_small_stops_at_a_failed_stage(tmp_path: Path, fake: dict[str, str]) -> None:
    rc, calls = run_small(tmp_path, {**fake, "FAIL_TRAIN": "1"})
    assert rc == 3
    assert calls == [f"train --recipe small --data DATA --run-dir {tmp_path}/out/stage1"]
