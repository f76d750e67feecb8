"""The models shipped inside the package (`ferkit/weights/<name>.onnx` + `<name>.json`), found by name.

Torch-free: inference looks a name up here, and so do training (`--init-from`), export and evaluation, so a name
means the same file everywhere. A name may carry a member index, `large:1`, for one network of a shipped ensemble
(`split_member`). A shipped int8 file cannot be trained; its metadata's `fine_tune_from` names the float network
that `--init-from NAME` rebuilds instead (a network of a shipped ensemble, `large:0`), or a float copy shipped under
`weights/float/` (`fine_tune_source`; `base`, distilled from `large`, ships its network so, in fp16).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path


def bundled_models() -> dict[str, Path]:
    """Models shipped inside the package, by name."""
    folder = resources.files("ferkit") / "weights"
    if not folder.is_dir():
        return {}
    return {Path(f.name).stem: Path(str(f)) for f in folder.iterdir() if f.name.endswith(".onnx")}


def bundled_model_path(name: str) -> Path | None:
    """The file of bundled model `name`, or None when no such model is shipped."""
    return bundled_models().get(name)


def bundled_names() -> list[str]:
    """The names of the shipped models, for help texts and error messages."""
    return sorted(bundled_models())


def single_network_names() -> list[str]:
    """The shipped models that `--init-from NAME` fine-tunes whole: one network, in float or with the float network
    it came from named (`fine_tune_from`); an ensemble's networks are taken one at a time, `large:K`."""
    return [name for name in bundled_names() if is_trainable(bundled_metadata(name))]


def is_trainable(meta: dict) -> bool:
    """Whether the float weights of a shipped model's single network can be had (see `single_network_names`)."""
    return meta.get("model_name") != "ensemble" and ("quantization" not in meta or "fine_tune_from" in meta)


def fine_tune_source(name: str) -> str | None:
    """What `--init-from NAME` rebuilds for shipped model `name` (its metadata's `fine_tune_from`): a shipped network
    such as `large:0`, or a float file shipped under `weights/float/` (a network trained on its own, whose float
    weights are nowhere else), as its path; None when the file itself is trainable."""
    redirect = bundled_metadata(name).get("fine_tune_from")
    if redirect is not None and redirect.endswith(".onnx"):
        return str(bundled_models()[name].parent / redirect)
    return redirect


def bundled_metadata(name: str) -> dict:
    """The sidecar metadata (`<name>.json`) of bundled model `name`."""
    path = bundled_model_path(name)
    if path is None:
        raise KeyError(name)
    return json.loads(path.with_suffix(".json").read_text())


# Architectures renamed so that no architecture is called like a shipped model (`ferkit train --model small` once
# meant the MobileNet while `--model small` everywhere else meant the shipped weights). Model files, ONNX metadata
# and run configs written with an old name still load: `architecture_name` maps it.
RENAMED_ARCHITECTURES = {"small": "mobilenet_small"}


def architecture_name(name: str) -> str:
    """The current name of architecture `name` (itself, unless renamed since a file recorded it)."""
    return RENAMED_ARCHITECTURES.get(name, name)


def split_member(source: str) -> tuple[str, int | None]:
    """`"large:1"` -> `("large", 1)`; a source without a `:K` suffix (a Windows drive, say) is returned whole."""
    name, _, index = source.rpartition(":")
    return (name, int(index)) if name and index.isdigit() else (source, None)
