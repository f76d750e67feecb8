"""The files of a training run's folder that the model file does not cover (written by `ferkit train`, read by
evaluate, compare and tune); the model file itself belongs to `ferkit.models.checkpoint`."""

from __future__ import annotations

HISTORY_FILE = "history.csv"  # one row per epoch
RUN_CONFIG_FILE = "config.json"  # the resolved TrainConfig
RUN_METRICS_FILE = "metrics.json"  # best-epoch metrics, written when the run ends
