"""How often FER2013's original label equals the FER+ annotators' plurality, per class (issue #21).

FER2013 (Kaggle JPEGs, `fer2013/train|test/<class>/`) and FER+ (`ferplus/FER2013Train|FER2013Valid/`, lossless
PNGs and ten votes per face) share no file names, so each FER+ face is matched to its FER2013 face by pixels,
within the same split (Training; PublicTest = FER2013Valid):
1. a 64-dim key per face, the means of its 8x8 blocks of 6x6 pixels; the `CANDIDATES` nearest FER2013 keys of each
   FER+ key (chunked numpy);
2. confirmed on the full 48x48 face: the mean absolute pixel difference (MAD, 0-255 scale) to each candidate; the
   nearest is the match when its MAD is at most `--threshold`. A face whose candidates all fail is searched again
   against every FER2013 face of the split on full pixels. A match is ambiguous when a second FER2013 face is also
   within the threshold (FER2013 holds duplicated images); it still counts, each FER2013 copy taken by one FER+
   face where there are enough copies, and the report says how many ambiguous faces have candidates with
   different labels (which of those labels is the face's own cannot be told from pixels).

Plurality: the emotion with the most of the ten votes. Raw counts (no outlier removal); ties between emotions are
broken as the reference code (microsoft/FERPlus, `np.argmax`) and ferkit's reader break them, by the first in vote
column order (neutral, happiness, surprise, sadness, anger, disgust, fear, contempt), and counted separately
(`tied`, with `label_among_tied`, the share whose FER2013 label is one of the tied emotions). A face whose
unknown or not-a-face votes outnumber every emotion has no emotion plurality: counted as `plurality_unknown_nf`
and as a disagreement. Contempt has no FER2013 class: a contempt plurality is a disagreement, also counted apart.

Writes benchmarks/results/ferplus_agreement.json and .md.

    nice -n 15 python benchmarks/ferplus_agreement.py [--data ../shared/data] [--threshold 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from machine import hardware, now_utc, write_results

from ferkit.constants import EMOTIONS
from ferkit.data import DataConfig, FaceArrays, load_dataset
from ferkit.data.ferplus import VOTE_CLASSES, read_ferplus_folders
from ferkit.transforms.preprocess import PreprocessConfig

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "benchmarks" / "results" / "ferplus_agreement.json"
SPLITS = {"Training": "train", "PublicTest": "val"}  # FER2013's name -> the split key of both loaders
CANDIDATES = 4  # nearest keys confirmed on full pixels
THRESHOLD = 8.0  # largest mean absolute pixel difference (0-255) of a match
MAD_BINS = (0, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 256)
_EMOTION_VOTES = 8  # FER+'s first eight vote columns are emotions, then unknown and NF
_CHUNK = 1024


def default_data() -> Path:
    return Path(os.environ.get("FERKIT_DATA", REPO.parent / "shared" / "data"))


def block_keys(images: np.ndarray, blocks: int = 8) -> np.ndarray:
    """float32 `[N, blocks*blocks]`: the mean of each block of the square faces `images` (uint8 `[N, S, S]`)."""
    n, size = len(images), images.shape[1]
    step = size // blocks
    cropped = images[:, : step * blocks, : step * blocks].astype(np.float32)
    return cropped.reshape(n, blocks, step, blocks, step).mean(axis=(2, 4)).reshape(n, blocks * blocks)


def nearest_keys(query: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """int `[N, k]`: the indices of the `k` reference keys nearest (Euclidean) each query key, nearest first.
    Chunked float32 numpy: scipy's cKDTree measured 2-3x slower on these 64-dim keys here."""
    k = min(k, len(reference))
    reference = reference.astype(np.float32)
    ref_sq = (reference**2).sum(axis=1)
    out = np.empty((len(query), k), dtype=np.int64)
    for start in range(0, len(query), 512):
        q = query[start : start + 512].astype(np.float32)
        dist = ref_sq[None, :] - 2.0 * (q @ reference.T)
        part = np.argpartition(dist, k - 1, axis=1)[:, :k] if k < len(reference) else np.tile(np.arange(k), (len(q), 1))
        order = np.take_along_axis(dist, part, axis=1).argsort(axis=1, kind="stable")
        out[start : start + len(q)] = np.take_along_axis(part, order, axis=1)
    return out


def _mad(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference over the last two axes of uint8 arrays (broadcast)."""
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).mean(axis=(-2, -1))


@dataclass(frozen=True)
class Matches:
    """Per query face: `index` of its reference face (-1 when unmatched), `mad` to it (to the nearest candidate
    when unmatched), `second_mad` to the next-nearest distinct reference face among those compared, `ambiguous`
    (that one is within the threshold too) and `conflicting` (ambiguous between faces of different labels)."""

    index: np.ndarray
    mad: np.ndarray
    second_mad: np.ndarray
    ambiguous: np.ndarray
    conflicting: np.ndarray
    searched_fully: int  # query faces whose candidates all failed, searched again against every reference face


def match_faces(query: np.ndarray, reference: np.ndarray, reference_labels: np.ndarray,
                threshold: float = THRESHOLD, candidates: int = CANDIDATES, max_full_search: int = 1000) -> Matches:
    """Match each face of `query` (uint8 `[N, S, S]`) to the same face in `reference` (uint8 `[M, S, S]`)."""
    n = len(query)
    index = np.full(n, -1, dtype=np.int64)
    mad = np.full(n, np.inf)
    second = np.full(n, np.inf)
    ambiguous = np.zeros(n, dtype=bool)
    conflicting = np.zeros(n, dtype=bool)
    if n == 0 or len(reference) == 0:
        return Matches(index, mad, second, ambiguous, conflicting, 0)
    near = nearest_keys(block_keys(query), block_keys(reference), candidates)
    cand_mad = np.empty(near.shape)
    for start in range(0, n, _CHUNK):
        stop = start + _CHUNK
        cand_mad[start:stop] = _mad(query[start:stop, None], reference[near[start:stop]])
    order = cand_mad.argsort(axis=1, kind="stable")
    near = np.take_along_axis(near, order, axis=1)
    cand_mad = np.take_along_axis(cand_mad, order, axis=1)
    mad[:] = cand_mad[:, 0]
    if near.shape[1] > 1:
        second[:] = cand_mad[:, 1]
    failed = np.flatnonzero(mad > threshold)[:max_full_search]
    for i in failed:  # the block key missed it (or it is not there): every reference face, on full pixels
        full = np.concatenate([_mad(query[i], reference[s : s + 4096]) for s in range(0, len(reference), 4096)])
        best = np.argsort(full, kind="stable")[:2]
        near[i, : len(best)] = best
        cand_mad[i, : len(best)] = full[best]
        mad[i] = full[best[0]]
        second[i] = full[best[1]] if len(best) > 1 else np.inf
    ok = mad <= threshold
    taken: set[int] = set()
    for i in np.flatnonzero(ok)[np.argsort(mad[ok], kind="stable")]:  # duplicated images: one FER2013 copy each
        free = [int(j) for j, m in zip(near[i], cand_mad[i], strict=True) if m <= threshold and int(j) not in taken]
        index[i] = free[0] if free else near[i, 0]
        taken.add(int(index[i]))
    ambiguous[:] = ok & (second <= threshold)
    for i in np.flatnonzero(ambiguous):
        within = near[i][cand_mad[i] <= threshold]
        conflicting[i] = len(set(reference_labels[within].tolist())) > 1
    return Matches(index, mad, second, ambiguous, conflicting, len(failed))


def agreement(labels: np.ndarray, classes: tuple[str, ...], votes: np.ndarray) -> dict[str, np.ndarray]:
    """Per face, booleans comparing its FER2013 label (`labels` indexing `classes`) with its ten FER+ `votes`
    (`VOTE_CLASSES` order): `agree` (label == plurality), `zero_votes` (no annotator chose the label), `tied`,
    `label_among_tied`, `plurality_unknown_nf`, `plurality_contempt`; and `plurality`, the plurality's name."""
    votes = np.asarray(votes, dtype=np.float64).reshape(-1, len(VOTE_CLASSES))
    emotions = votes[:, :_EMOTION_VOTES]
    top = emotions.max(axis=1)
    plurality = emotions.argmax(axis=1)  # first in column order on ties, as the reference's np.argmax
    unknown_nf = votes[:, _EMOTION_VOTES:].max(axis=1) > top  # an emotion tied with unknown/NF wins, as argmax
    column = np.array([VOTE_CLASSES.index(classes[int(label)]) for label in labels], dtype=np.int64)
    label_votes = votes[np.arange(len(votes)), column] if len(votes) else np.zeros(0)
    at_top = emotions == top[:, None]
    names = np.array(VOTE_CLASSES[:_EMOTION_VOTES], dtype=object)[plurality]
    return {
        "agree": (plurality == column) & ~unknown_nf,
        "zero_votes": label_votes == 0,
        "tied": (at_top.sum(axis=1) > 1) & ~unknown_nf,
        "label_among_tied": (label_votes == top) & (top > 0) & ~unknown_nf,
        "plurality_unknown_nf": unknown_nf,
        "plurality_contempt": (names == "contempt") & ~unknown_nf,
        "plurality": np.where(unknown_nf, "unknown/NF", names),
    }


def _share(mask: np.ndarray) -> float | None:
    return round(float(mask.mean()), 4) if len(mask) else None


def _figures(faces: int, rows: dict[str, np.ndarray]) -> dict:
    matched = len(rows["agree"])
    return {
        "faces": faces,
        "matched": matched,
        "agree": _share(rows["agree"]),
        "zero_votes": _share(rows["zero_votes"]),
        "label_among_tied_top": _share(rows["label_among_tied"]),
        "tied": _share(rows["tied"]),
        "plurality_unknown_nf": _share(rows["plurality_unknown_nf"]),
        "plurality_contempt": _share(rows["plurality_contempt"]),
    }


def compare_split(fer: FaceArrays, plus: FaceArrays, threshold: float = THRESHOLD) -> dict:
    """Match `plus` (FER+ faces with raw votes) to `fer` (FER2013 faces of the same split) and measure agreement."""
    matches = match_faces(plus.images, fer.images, fer.labels, threshold)
    matched = matches.index >= 0
    ref = matches.index[matched]
    labels = fer.labels[ref]
    rows = agreement(labels, fer.classes, plus.votes[matched])
    per_class = {}
    fer_counts = fer.class_counts()
    for c, name in enumerate(fer.classes):
        of_class = labels == c
        figures = _figures(int(fer_counts[c]), {k: v[of_class] for k, v in rows.items()})
        plural = rows["plurality"][of_class]
        figures["plurality_counts"] = {p: int((plural == p).sum()) for p in (*VOTE_CLASSES[:8], "unknown/NF")
                                       if (plural == p).any()}
        per_class[name] = figures
    _, reuse = np.unique(ref, return_counts=True)
    finite = matches.mad[np.isfinite(matches.mad)]
    second = matches.second_mad[matched & np.isfinite(matches.second_mad)]
    return {
        "overall": _figures(len(fer), rows),
        "per_class": per_class,
        "matching": {
            "ferplus_faces": len(plus),
            "matched": int(matched.sum()),
            "unmatched": int((~matched).sum()),
            "ambiguous": int(matches.ambiguous.sum()),
            "ambiguous_with_different_labels": int(matches.conflicting.sum()),
            "fer2013_faces_matched_more_than_once": int((reuse > 1).sum()),
            "fer2013_faces_not_matched": int(len(fer) - len(set(ref.tolist()))),
            "searched_on_full_pixels": matches.searched_fully,
            "threshold_mad": threshold,
            "mad_of_matches": _quantiles(matches.mad[matched]),
            "mad_to_next_nearest_of_matches": _quantiles(second),
            "mad_histogram": {"bins": list(MAD_BINS),
                              "counts": np.histogram(np.clip(finite, 0, 255), bins=MAD_BINS)[0].tolist()},
            "unmatched_examples": [{"ferplus": Path(plus.sources[i]).name,
                                    "nearest_mad": round(float(matches.mad[i]), 2)}
                                   for i in np.flatnonzero(~matched)[:10]],
        },
    }


def _quantiles(values: np.ndarray) -> dict:
    if not len(values):
        return {}
    qs = np.quantile(values, [0, 0.5, 0.9, 0.99, 0.999, 1])
    return dict(zip(("min", "median", "p90", "p99", "p99.9", "max"), (round(float(q), 3) for q in qs), strict=True))


def load_sides(data: Path) -> dict[str, tuple[FaceArrays, FaceArrays]]:
    """FER2013 name -> (FER2013 faces, FER+ faces with raw votes) for Training and PublicTest."""
    fer = load_dataset(DataConfig(path=data / "fer2013"))
    plus = read_ferplus_folders(data / "ferplus", PreprocessConfig())
    return {name: (getattr(fer, split), plus.splits[split]) for name, split in SPLITS.items() if split in plus.splits}


def measure(data: Path, threshold: float = THRESHOLD) -> dict:
    report = {}
    for name, (fer, plus) in load_sides(data).items():
        start = time.perf_counter()
        report[name] = compare_split(fer, plus, threshold)
        report[name]["matching"]["seconds"] = round(time.perf_counter() - start, 1)
    return report


def markdown(report: dict) -> str:
    lines = ["# FER2013 labels against the FER+ annotators' plurality", "",
             f"Measured {report['date']} on {report['hardware']['cpu']} ({report['hardware']['cores']} cores), "
             f"{report['seconds']:.0f} s. Command: `{report['command']}`.",
             "Data: `benchmarks/results/ferplus_agreement.json`. Plurality: most of the ten raw votes, ties broken "
             "by FER+'s column order as the reference does; unknown/NF plurality and contempt count as disagreement.",
             ""]
    for split, result in report["splits"].items():
        m = result["matching"]
        lines += [f"## {split}", "",
                  f"{m['ferplus_faces']:,} FER+ faces, {m['matched']:,} matched (MAD <= {m['threshold_mad']}; median "
                  f"{m['mad_of_matches'].get('median')}, max {m['mad_of_matches'].get('max')}), {m['unmatched']} "
                  f"unmatched, {m['ambiguous']} ambiguous ({m['ambiguous_with_different_labels']} between different "
                  f"labels).", "",
                  "| FER2013 class | faces | matched | label = plurality | zero votes for label | label among tied top "
                  "| plurality unknown/NF | plurality contempt |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, f in [*result["per_class"].items(), ("**overall**", result["overall"])]:
            lines.append(f"| {name} | {f['faces']:,} | {f['matched']:,} | {_pct(f['agree'])} | {_pct(f['zero_votes'])} "
                         f"| {_pct(f['label_among_tied_top'])} | {_pct(f['plurality_unknown_nf'])} "
                         f"| {_pct(f['plurality_contempt'])} |")
        lines.append("")
    return "\n".join(lines)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data(), help="folder holding fer2013/ and ferplus/")
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help="largest MAD (0-255) of a match")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    splits = measure(args.data, args.threshold)
    versions = {"numpy": np.__version__}
    report = {"date": now_utc(), "command": "nice -n 15 python " + " ".join(["benchmarks/ferplus_agreement.py",
                                                                              *(argv or sys.argv[1:])]),
              "seconds": round(time.perf_counter() - start, 1), "hardware": hardware(**versions),
              "fer2013_classes": list(EMOTIONS), "splits": splits}
    write_results(args.out, report)
    args.out.with_suffix(".md").write_text(markdown(report) + "\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
