from __future__ import annotations

import torch

from ferkit.train.augment import AugmentConfig, augment_batch, mix_batch


def _faces(n: int = 16, size: int = 48) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, size, size), dtype=torch.uint8, generator=g)


def test_shapes_dtype_and_range() -> None:
    out = augment_batch(_faces(), AugmentConfig(mixup=0.4))
    assert out.shape == (16, 1, 48, 48)
    assert out.dtype == torch.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_none_is_identity() -> None:
    faces = _faces()
    out = augment_batch(faces, AugmentConfig.none())
    torch.testing.assert_close(out[:, 0], faces.float() / 255)


def test_certain_flip_mirrors_exactly() -> None:
    faces = _faces()
    cfg = AugmentConfig(**{**vars(AugmentConfig.none()), "flip": 1.0})
    out = augment_batch(faces, cfg)
    torch.testing.assert_close(out[:, 0], faces.flip(-1).float() / 255, atol=1e-5, rtol=0)


def test_rotation_changes_pixels_but_keeps_mean_roughly() -> None:
    faces = _faces()
    cfg = AugmentConfig(**{**vars(AugmentConfig.none()), "rotate": 30.0})
    out = augment_batch(faces, cfg, generator=torch.Generator().manual_seed(1))
    base = faces.float() / 255
    assert (out[:, 0] - base).abs().mean() > 0.05
    assert abs(float(out.mean()) - float(base.mean())) < 0.02


def test_erasing_replaces_one_bounded_rectangle() -> None:
    faces = torch.zeros(64, 48, 48, dtype=torch.uint8)
    cfg = AugmentConfig(**{**vars(AugmentConfig.none()), "erase": 1.0, "erase_area": (0.1, 0.2)})
    out = augment_batch(faces, cfg, generator=torch.Generator().manual_seed(2))
    share = (out > 0).float().mean(dim=(1, 2, 3))
    assert float(share.min()) > 0.05 and float(share.max()) <= 0.2 + 0.05


def test_seeded_generator_is_reproducible() -> None:
    faces = _faces()
    a = augment_batch(faces, AugmentConfig(erase=0.5), generator=torch.Generator().manual_seed(3))
    b = augment_batch(faces, AugmentConfig(erase=0.5), generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)


def test_mix_keeps_labels_and_reports_both_targets() -> None:
    x = augment_batch(_faces(), AugmentConfig.none())
    y = torch.arange(16) % 7
    for cfg in (AugmentConfig(mixup=0.4), AugmentConfig(cutmix=1.0)):
        mixed_x, targets = mix_batch(x, y, cfg)
        assert mixed_x.shape == x.shape
        assert targets is not None and torch.equal(targets.y_a, y)
        assert sorted(targets.y_b.tolist()) == sorted(y.tolist())  # a permutation of the same labels
        assert 0.0 <= targets.lam <= 1.0
    assert mix_batch(x, y, AugmentConfig())[1] is None
