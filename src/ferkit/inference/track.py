"""Follow faces from frame to frame: greedy IoU matching, plus optional smoothing of each face's probabilities.

Pure frame-by-frame logic with no I/O, so it is tested on scripted box sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ferkit.errors import ConfigError
from ferkit.inference.types import Box, FacePrediction


@dataclass
class _Track:
    track_id: int
    box: Box
    probabilities: dict[str, float]
    missed: int = 0


@dataclass
class IoUTracker:
    """Give each face a track id that stays with the same person across frames.

    A face continues the live track whose last box overlaps it most (IoU at least `iou_threshold`),
    strongest overlaps first; other faces start new tracks. A track survives `max_missed` frames
    without a match (a blink of the detector) before its id is retired for good.

    `smoothing` in [0, 1) is the weight an exponential moving average gives a track's past
    probabilities: 0 reports each frame as is, 0.8 steadies labels over roughly five frames.
    """

    iou_threshold: float = 0.3
    max_missed: int = 10
    smoothing: float = 0.0
    _tracks: list[_Track] = field(default_factory=list, init=False, repr=False)
    _next_id: int = field(default=1, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.smoothing < 1.0:
            raise ConfigError(f"smoothing must be in [0, 1), got {self.smoothing}")
        if not 0.0 < self.iou_threshold <= 1.0:
            raise ConfigError(f"iou_threshold must be in (0, 1], got {self.iou_threshold}")
        if self.max_missed < 0:
            raise ConfigError(f"max_missed must be >= 0, got {self.max_missed}")

    def update(self, faces: list[FacePrediction]) -> list[FacePrediction]:
        """The faces of one frame, each with a `track_id` (and smoothed probabilities), in the same order."""
        pairs = sorted(
            ((faces[i].box.iou(t.box), i, t) for i in range(len(faces)) for t in self._tracks),
            key=lambda p: p[0], reverse=True,
        )
        assigned: dict[int, _Track] = {}
        used: set[int] = set()
        for iou, i, track in pairs:
            if iou < self.iou_threshold:
                break
            if i in assigned or track.track_id in used:
                continue
            assigned[i] = track
            used.add(track.track_id)
        for track in self._tracks:
            track.missed = 0 if track.track_id in used else track.missed + 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]

        out = []
        for i, face in enumerate(faces):
            track = assigned.get(i)
            if track is None:
                track = _Track(self._next_id, face.box, face.probabilities)
                self._next_id += 1
                self._tracks.append(track)
            else:
                track.box = face.box
                track.probabilities = {k: self.smoothing * track.probabilities.get(k, 0.0) + (1 - self.smoothing) * p
                                       for k, p in face.probabilities.items()}
            out.append(face.with_track(track.track_id, track.probabilities))
        return out
