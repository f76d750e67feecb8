"""Structured pruning: a trained VGG-style network's most important channels, copied into a narrower one.

A student started from a pruned trained network (`ferkit train --model vgg_slim --init-from large:0 --prune`)
keeps learned filters instead of starting from noise. A channel's importance is its BatchNorm's effective scale,
|gamma| / sqrt(running_var + eps) (the "network slimming" criterion of Liu et al., 2017): a channel that its
BatchNorm scales down contributes little to the next layer. Halving every layer leaves a network that must be
trained again (its BatchNorm statistics no longer fit its inputs), which training in batch mode does from the
first step; docs/MODEL_CARD.md has what the pruned start gained over a random one.
"""

from __future__ import annotations

import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.models.vgg import Vgg

_BN = (nn.BatchNorm1d, nn.BatchNorm2d)


@torch.no_grad()
def prune_into(source: nn.Module, target: nn.Module) -> nn.Module:
    """Fill `target` with `source`'s most important channels, layer by layer, and return it.

    Both must be `Vgg` networks of the same layout (stages, convs per stage, dense layers and classes); each of
    `target`'s layers may be narrower, never wider. The kept channels stay in their original order.

    Raises:
        ModelError: the two are not VGG-style networks of one layout, or `target` is wider somewhere.
    """
    pairs, target_pairs, (fc, target_fc) = _layers(source), _layers(target), (source.head.fc, target.head.fc)
    if [type(layer) for layer, _ in pairs] != [type(layer) for layer, _ in target_pairs] or \
            fc.out_features != target_fc.out_features:
        raise ModelError(f"cannot prune {_describe(source)} into {_describe(target)}: not one layout "
                         "(prune between VGG-style networks with the same stages, depth, dense layers and classes)")
    kept_inputs: torch.Tensor | None = None
    for (layer, bn), (new_layer, new_bn) in zip(pairs, target_pairs, strict=True):
        weight = layer.weight if kept_inputs is None else layer.weight[:, kept_inputs]
        width = new_layer.weight.shape[0]
        if width > weight.shape[0] or weight.shape[1:] != new_layer.weight.shape[1:]:
            raise ModelError(f"cannot prune {_describe(source)} into {_describe(target)}: a layer of "
                             f"{tuple(weight.shape)} does not narrow to {tuple(new_layer.weight.shape)}")
        importance = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).abs()
        kept = importance.argsort(descending=True)[:width].sort().values
        new_layer.weight.copy_(weight[kept])
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(new_bn, name).copy_(getattr(bn, name)[kept])
        kept_inputs = kept
    target_fc.weight.copy_(fc.weight[:, kept_inputs])
    target_fc.bias.copy_(fc.bias)
    return target


def _layers(model: nn.Module) -> list[tuple[nn.Module, nn.Module]]:
    """The (conv or dense layer, its BatchNorm) pairs of a `Vgg`, input to output, without the output layer."""
    if not isinstance(model, Vgg):
        raise ModelError(f"cannot prune {_describe(model)}: only VGG-style networks (vgg, vgg_slim, cnn, dcnn) "
                         "are pruned; residual networks would need their shortcuts pruned alike")
    modules = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear, *_BN)) and m is not model.head.fc]
    return list(zip(modules[::2], modules[1::2], strict=True))


def _describe(model: nn.Module) -> str:
    return getattr(model, "model_name", type(model).__name__)
