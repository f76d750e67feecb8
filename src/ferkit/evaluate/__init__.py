"""Evaluation of trained models: `ferkit evaluate` and `ferkit compare`.

Modules, in the order data flows through them:
- `metrics`: accuracy, per-class P/R/F1, confusion matrix, ROC/PR curves, calibration (numpy only);
- `predict`: batched class probabilities with test-time augmentation; `gradcam`: saliency maps;
- `figures` and `report`: the PNG figures, evaluation.json and the self-contained HTML report;
- `run`: `evaluate(EvalConfig) -> EvalReport`; `compare`: `compare_runs(CompareConfig)`;
- `rundir`: reading a training run's folder (history.csv) and picking fresh output folders.

Nothing is imported here, so `ferkit.evaluate.metrics` stays usable without torch.
"""
