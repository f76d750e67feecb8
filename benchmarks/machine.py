"""What every benchmark result records about the machine it ran on."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path


def hardware(**versions: str) -> dict:
    """CPU model, cores, memory, OS, Python, load average when measured, plus the library `versions` given."""
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                    if line.startswith("model name")), cpu)
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    info = {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory_gib, 1), "platform": platform.platform(),
            "python": platform.python_version(), **versions}
    if hasattr(os, "getloadavg"):  # other work on the machine lowers every figure; this records how much there was
        info["load_average_1m"] = round(os.getloadavg()[0], 2)
    return info


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_results(path: Path, report: dict) -> None:
    """Write a benchmark's results file (JSON) and say where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {path}")
