"""Label normalisation and the choice of output classes."""

from __future__ import annotations

import pytest

from ferkit.constants import EMOTIONS
from ferkit.data.labels import normalise_label, resolve_classes
from ferkit.errors import DataError


@pytest.mark.parametrize(("given", "canonical"), [
    ("anger", "angry"), ("Angry", "angry"), ("disgusted", "disgust"), ("fearful", "fear"), ("scared", "fear"),
    ("happiness", "happy"), ("Joy", "happy"), ("sadness", "sad"), ("surprised", "surprise"),
    ("neutrality", "neutral"), (" neutral ", "neutral"),
])
def test_aliases_map_to_canonical_names(given, canonical):
    assert normalise_label(given) == canonical


def test_unknown_names_come_back_cleaned():
    assert normalise_label("Contempt") == "contempt"
    assert normalise_label("Very Happy") == "very_happy"


def test_default_is_the_canonical_seven():
    assert resolve_classes((), ()) == EMOTIONS


def test_subset_keeps_given_order_and_normalises():
    assert resolve_classes(("happiness", "sadness", "neutral"), ()) == ("happy", "sad", "neutral")


def test_extra_classes_are_appended():
    assert resolve_classes((), ("Contempt",)) == (*EMOTIONS, "contempt")
    assert resolve_classes(("happy", "contempt"), ("contempt",)) == ("happy", "contempt")


def test_unknown_class_is_refused_with_accepted_names():
    with pytest.raises(DataError, match=r"unknown class 'contempt'.*happy \(happiness/joy/joyful\)"):
        resolve_classes(("happy", "contempt"), ())


def test_duplicate_after_normalising_is_refused():
    with pytest.raises(DataError, match=r"class listed twice.*happy"):
        resolve_classes(("happy", "happiness"), ())
