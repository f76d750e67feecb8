"""Preprocessing shared by training and inference, and batch augmentation for training."""

from ferkit.transforms.preprocess import (
    PreprocessConfig,
    prepare_face,
    prepare_faces,
    resize_faces,
    to_gray,
    to_model_input,
)

__all__ = ["PreprocessConfig", "prepare_face", "prepare_faces", "resize_faces", "to_gray", "to_model_input"]
