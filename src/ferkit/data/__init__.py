"""Facial-expression data sets as uint8 face arrays: readers, cache, class selection and splits.

`load_dataset(DataConfig(path=...))` (owned by `load.py`) reads a fer2013.csv, a Kaggle-layout folder, any
class-per-folder set, a `.npz` face-array file or FER+'s votes, and returns train/val/test `FaceArrays`;
`load_split` returns one split. Readers: `fer2013.py`, `folders.py`, `ferplus.py`; the cache: `cache.py`.

Example:
    >>> splits = load_dataset(DataConfig(path=Path("data/fer2013"), cache_dir=Path.home() / ".cache/ferkit/data"))
    >>> splits.description
    'train=fer2013 train/ Training_* (28,709), val=fer2013 test/ PublicTest_* (3,589)'
"""

from ferkit.data.arrays import FaceArrays
from ferkit.data.config import DataConfig
from ferkit.data.load import DatasetSplits, describe, load_dataset, load_split, split_key

__all__ = ["DataConfig", "DatasetSplits", "FaceArrays", "describe", "load_dataset", "load_split", "split_key"]
