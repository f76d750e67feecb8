"""Evaluation of trained models: `ferkit evaluate` and `ferkit compare`.

Modules, in the order data flows through them:
- `metrics`: accuracy, per-class P/R/F1, confusion matrix, ROC/PR curves, calibration (numpy only);
- `votes`: agreement with FER+'s annotators (majority accuracy, probability given to the votes);
- `predict`: batched class probabilities with test-time augmentation, in numpy over any `Classifier`;
  `torch_model`: a PyTorch run or model file as one; `gradcam`: saliency maps (torch);
- `figures` and `report`: the PNG figures, evaluation.json and the self-contained HTML report;
- `run`: `evaluate(EvalConfig) -> EvalReport`; `compare`: `compare_runs(CompareConfig)`, over runs'
  histories (read through `ferkit.train.rundir`) and evaluations.

Nothing is imported here, so `ferkit.evaluate.metrics` stays usable without torch.
"""
