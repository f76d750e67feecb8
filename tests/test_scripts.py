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


# Stands in for the device's python3: logs each call; a training writes its run folder (with a model file
# unless its name is in FAIL_RUN, which fails it as a crashed run would).
FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$LOG"
[ "$1" = -m ] || exit 0
run=; name=
while [ $# -gt 0 ]; do [ "$1" = --run-dir ] && { run=$2; name=$(basename "$2"); }; shift; done
mkdir -p "$run/checkpoints"
echo ckpt > "$run/checkpoints/last.ckpt"
[ "$name" = "${FAIL_RUN:-}" ] && exit 1
echo model > "$run/model.pt"
echo "epoch" > "$run/history.csv"
"""


def test_device_script_trains_every_run_and_packs_each_for_the_way_back(tmp_path: Path) -> None:
    exe = tmp_path / "python3"
    exe.write_text(FAKE_PYTHON)
    exe.chmod(0o755)
    pack, out = tmp_path / "pack", tmp_path / "out"
    pack.mkdir()
    (tmp_path / "fer2013").mkdir()
    subprocess.run(["tar", "czf", str(pack / "fer2013.tar.gz"), "-C", str(tmp_path), "fer2013"], check=True)
    out.mkdir()
    env = {**os.environ, "PY": str(exe), "LOG": str(tmp_path / "calls.log"), "PACK": str(pack), "OUT": str(out),
           "WORK": str(tmp_path / "work"), "FAIL_RUN": "width-0.6"}
    proc = subprocess.run(["bash", str(SCRIPTS / "device_base.sh")], env=env, capture_output=True, text=True,
                          timeout=60, cwd=SCRIPTS.parent)
    assert proc.returncode == 0, proc.stderr
    calls = {c.split("--run-dir ")[1].split()[0].rsplit("/", 1)[1]: c
             for c in (tmp_path / "calls.log").read_text().splitlines()}  # only trainings: no labelling beforehand
    data = tmp_path / "work" / "data" / "fer2013"
    assert sorted(calls) == ["base-distill", "vgg-long", "vgg-long-distill", "width-0.6", "width-0.75"]
    assert all(f"--data {data} " in c and "--accelerator cuda" in c for c in calls.values())
    assert "--recipe base_distill --epochs 30" in calls["base-distill"]
    assert calls["width-0.75"].endswith("--recipe base_distill --epochs 30 --width 0.75 --prune")
    assert "--recipe base --epochs 100 --teacher large" in calls["vgg-long-distill"]
    packed = {p.name: subprocess.run(["tar", "tzf", str(p)], capture_output=True, text=True).stdout.split()
              for p in out.iterdir()}
    assert set(packed) == {f"{name}.tar.gz" for name in calls}
    assert "base-distill/model.pt" in packed["base-distill.tar.gz"]
    assert not any("checkpoints" in f for files in packed.values() for f in files)  # too big to come back
    failed = packed["width-0.6.tar.gz"]  # a failed run still brings back its log, saying how it ended
    assert "width-0.6/width-0.6.log" in failed and "width-0.6/model.pt" not in failed


def test_the_test_script_sets_up_a_fresh_clone_then_only_after_a_change(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "test.sh").write_text((SCRIPTS / "test.sh").read_text())
    for name, venv in (("setup.sh", True), ("install_browser.sh", False)):  # stand-ins that log their call
        make = "mkdir -p .venv/bin; for t in python ruff lint-imports; do printf '#!/bin/sh\\n' > .venv/bin/$t; " \
               "chmod +x .venv/bin/$t; done\n" if venv else ""
        (tmp_path / "scripts" / name).write_text(f"{make}echo {name} >> calls.log\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")

    def calls() -> list[str]:
        subprocess.run(["bash", "scripts/test.sh"], cwd=tmp_path, check=True, capture_output=True, timeout=30)
        log = tmp_path / "calls.log"
        found = log.read_text().split() if log.exists() else []
        log.unlink(missing_ok=True)
        return found

    assert calls() == ["setup.sh", "install_browser.sh"]  # a fresh clone: no .venv
    assert calls() == []  # set up, nothing changed
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert calls() == ["setup.sh", "install_browser.sh"]
