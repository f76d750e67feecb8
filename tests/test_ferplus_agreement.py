"""benchmarks/ferplus_agreement.py (issue #21): FER+ PNGs matched to FER2013 JPEGs by pixels, and the agreement of
FER2013's labels with the annotators' plurality, on a tiny synthetic pair of data sets written here."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
VOTES = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")


@pytest.fixture
def ferplus_agreement(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The script as a module; its sibling import (machine) resolves as when it runs."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("ferplus_agreement")


def _face(rng: np.random.Generator) -> np.ndarray:
    """A smooth random 48x48 face, so that JPEG changes it by about a grey level, like FER2013's."""
    return cv2.resize(rng.integers(0, 256, (6, 6)).astype(np.uint8), (48, 48), interpolation=cv2.INTER_CUBIC)


def _votes(**counts: int) -> list[int]:
    return [counts.get(name, 0) for name in VOTES]


def _write_sets(root: Path) -> None:
    """FER2013 (Kaggle JPEG folders) and FER+ (PNGs in another order, label.csv) of the same faces.

    Training: 0 happy (FER+ agrees), 1 angry (no annotator says angry), 2 fear (fear ties with surprise, which
    comes first in FER+'s columns), 3 sad (left out of FER+), 4 and 5 one image twice, both neutral (one copy
    mostly unknown in FER+); FER+ adds a face FER2013 lacks. PublicTest: 6 disgust (contempt in FER+),
    7 surprise (agrees)."""
    rng = np.random.default_rng(0)
    faces = [_face(rng) for _ in range(8)]
    faces[5] = faces[4].copy()
    fer = [("train", "Training", "happy"), ("train", "Training", "angry"), ("train", "Training", "fear"),
           ("train", "Training", "sad"), ("train", "Training", "neutral"), ("train", "Training", "neutral"),
           ("test", "PublicTest", "disgust"), ("test", "PublicTest", "surprise")]
    for i, (folder, prefix, label) in enumerate(fer):
        path = root / "fer2013" / folder / label / f"{prefix}_{100 + i}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), faces[i])
    plus = {"FER2013Train": [(5, _votes(unknown=6, neutral=4)), (2, _votes(fear=4, surprise=4, sadness=2)),
                             (-1, _votes(happiness=10)), (0, _votes(happiness=8, neutral=2)),
                             (4, _votes(neutral=10)), (1, _votes(neutral=6, sadness=4))],
            "FER2013Valid": [(7, _votes(surprise=9, fear=1)), (6, _votes(contempt=5, disgust=3, anger=2))]}
    for folder, rows in plus.items():
        (root / "ferplus" / folder).mkdir(parents=True)
        lines = []
        for n, (i, votes) in enumerate(rows):
            name = f"fer{n:07d}.png"
            assert cv2.imwrite(str(root / "ferplus" / folder / name), faces[i] if i >= 0 else _face(rng))
            lines.append(f'{name},"(0, 0, 48, 48)",{",".join(map(str, votes))}\n')
        (root / "ferplus" / folder / "label.csv").write_text("".join(lines))


def test_faces_are_matched_by_pixels_and_agreement_is_counted_per_class(ferplus_agreement: ModuleType,
                                                                          tmp_path: Path) -> None:
    _write_sets(tmp_path)
    sides = ferplus_agreement.load_sides(tmp_path)
    fer, plus = sides["Training"]
    matches = ferplus_agreement.match_faces(plus.images, fer.images, fer.labels)
    fer_names = [Path(fer.sources[i]).name if i >= 0 else None for i in matches.index]
    assert fer_names[1:4] == ["Training_102.jpg", None, "Training_100.jpg"]
    assert fer_names[5] == "Training_101.jpg"
    assert {fer_names[0], fer_names[4]} == {"Training_104.jpg", "Training_105.jpg"}  # one copy each
    assert matches.ambiguous.tolist() == [True, False, False, False, True, False]
    assert not matches.conflicting.any() and matches.mad[matches.index >= 0].max() < 3 and matches.mad[2] > 20

    training = ferplus_agreement.compare_split(fer, plus)
    overall = training["overall"]
    assert (overall["faces"], overall["matched"]) == (6, 5)
    assert overall["agree"] == 0.4  # happy and one neutral copy
    assert overall["zero_votes"] == 0.2  # angry
    assert overall["tied"] == 0.2 and overall["label_among_tied_top"] == 0.6  # fear ties surprise
    assert overall["plurality_unknown_nf"] == 0.2
    per_class = training["per_class"]
    assert per_class["fear"]["agree"] == 0.0 and per_class["fear"]["plurality_counts"] == {"surprise": 1}
    assert per_class["sad"]["matched"] == 0 and per_class["sad"]["agree"] is None
    assert per_class["neutral"]["agree"] == 0.5 and per_class["happy"]["agree"] == 1.0
    matching = training["matching"]
    assert (matching["unmatched"], matching["ambiguous"], matching["fer2013_faces_not_matched"]) == (1, 2, 1)
    assert matching["fer2013_faces_matched_more_than_once"] == 0

    public = ferplus_agreement.compare_split(*sides["PublicTest"])
    assert public["overall"]["agree"] == 0.5 and public["overall"]["plurality_contempt"] == 0.5
    assert public["per_class"]["disgust"]["agree"] == 0.0 and public["per_class"]["surprise"]["agree"] == 1.0


def test_the_report_is_written_with_its_table(ferplus_agreement: ModuleType, tmp_path: Path) -> None:
    _write_sets(tmp_path / "data")
    out = tmp_path / "ferplus_agreement.json"
    ferplus_agreement.main(["--data", str(tmp_path / "data"), "--out", str(out)])
    assert '"Training"' in out.read_text() and '"hardware"' in out.read_text()
    table = out.with_suffix(".md").read_text()
    assert "| happy | 1 | 1 | 100.0% |" in table and "## PublicTest" in table
