"""Map the label names data sets use (anger, happiness, fearful, ...) onto ferkit's canonical seven.

Data sets disagree on spelling (CK+48 says `anger`, `sadness`; others `happiness`, `surprised`), so every
reader passes folder and label names through `normalise_label`, and `resolve_classes` decides which
classes a run keeps: a name outside the canonical seven is kept only when the user asks for it.
"""

from __future__ import annotations

from ferkit.constants import EMOTIONS
from ferkit.errors import DataError

_ALIASES: dict[str, tuple[str, ...]] = {
    "angry": ("anger", "angered"),
    "disgust": ("disgusted", "disgusting"),
    "fear": ("fearful", "afraid", "scared"),
    "happy": ("happiness", "joy", "joyful"),
    "sad": ("sadness", "unhappy", "sorrow"),
    "surprise": ("surprised", "surprising"),
    "neutral": ("neutrality",),
}
ALIASES: dict[str, str] = {alias: name for name, aliases in _ALIASES.items() for alias in (name, *aliases)}


def _clean(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def normalise_label(name: str) -> str:
    """The canonical name for `name` (`"Anger"` -> `"angry"`); other names come back cleaned but unchanged."""
    cleaned = _clean(name)
    return ALIASES.get(cleaned, cleaned)


def is_canonical(name: str) -> bool:
    return normalise_label(name) in EMOTIONS


def accepted_names() -> str:
    """The label spellings ferkit understands, for error messages."""
    return ", ".join(f"{name} ({'/'.join(aliases)})" for name, aliases in _ALIASES.items())


def resolve_classes(classes: tuple[str, ...], extra_classes: tuple[str, ...]) -> tuple[str, ...]:
    """The output class order of a run: `classes` (or the canonical seven) then `extra_classes`.

    Raises:
        DataError: a name in `classes` is neither canonical nor listed in `extra_classes`, or a class repeats.
    """
    extras = tuple(normalise_label(c) for c in extra_classes)
    chosen = tuple(normalise_label(c) for c in classes) or EMOTIONS
    for name, given in zip(chosen, classes or EMOTIONS, strict=True):
        if name not in EMOTIONS and name not in extras:
            raise DataError(f"unknown class '{given}' in classes; accepted names: {accepted_names()}; "
                            f"list other classes in extra_classes to keep them")
    out = chosen + tuple(c for c in extras if c not in chosen)
    duplicates = sorted({c for c in out if out.count(c) > 1})
    if duplicates:
        raise DataError(f"class listed twice (after normalising names): {', '.join(duplicates)}")
    return out
