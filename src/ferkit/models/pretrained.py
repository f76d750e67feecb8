"""`load_pretrained(source)`: the trainable torch network behind any name a user gives `--init-from` or `export`.

One precedence rule: a bundled name (`small`, `large:0`; `models.bundled`) first, then a path: an exported
`.onnx` file (`FILE.onnx:K` for one member of an ensemble), else a ferkit model file or run folder. ONNX weights are
rebuilt by `models.onnx_import`; a bundled int8 file is replaced by the float network its metadata names in
`fine_tune_from`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from ferkit.errors import ModelError
from ferkit.models.bundled import (
    bundled_metadata,
    bundled_model_path,
    fine_tune_source,
    is_trainable,
    single_network_names,
    split_member,
)
from ferkit.models.checkpoint import load_model, resolve_model_path
from ferkit.models.meta import ModelMeta
from ferkit.models.onnx_import import model_from_onnx


@dataclass(frozen=True)
class Pretrained:
    """A trained network in eval mode, its metadata, and the ONNX file it was rebuilt from (None for a model
    file: its BatchNorms keep their own statistics)."""

    model: nn.Module
    meta: ModelMeta
    onnx_file: Path | None


def source_file(source: str | Path) -> Path:
    """The file `load_pretrained(source)` reads, so that a command can check its outputs against it."""
    name, member = split_member(str(source))
    bundled = bundled_model_path(name)
    if bundled is not None:
        redirect = fine_tune_source(name) if member is None else None
        return source_file(redirect) if redirect else bundled
    return Path(name) if name.endswith(".onnx") else resolve_model_path(source)


def load_pretrained(source: str | Path) -> Pretrained:
    """The network `source` names (see the module docstring).

    Raises:
        ModelError: nothing of that name or path, an ensemble named without a member, or an unreadable file.
    """
    name, member = split_member(str(source))
    bundled = bundled_model_path(name)
    if bundled is not None:
        meta = bundled_metadata(name)
        redirect = fine_tune_source(name) if member is None else None
        if redirect:
            return load_pretrained(redirect)
        if member is None and not is_trainable(meta) and meta.get("model_name") != "ensemble":
            raise ModelError(f"{name} ships as an {meta['quantization'].split(',')[0]} file, whose weights cannot be "
                             f"trained; fine-tune from one of {', '.join(single_network_names())} or large:K instead")
        onnx_file = bundled
    elif name.endswith(".onnx"):
        onnx_file = Path(name)
        if not onnx_file.is_file():
            raise ModelError(f"{onnx_file}: no such file")
    else:
        model, meta = load_model(source)
        return Pretrained(model, meta, None)
    model, meta = model_from_onnx(onnx_file, member=member)
    return Pretrained(model, ModelMeta.from_dict(meta), onnx_file)
