"""Fetch model files on first use: download into a cache directory, verify the sha256, then rename into place.

The file only ever appears under its final name once it is complete and verified, so an interrupted or
corrupted download can never be picked up later. A download that failed is not tried again in the same process
(offline, every frame or image would otherwise wait for the network again); its error is raised at once.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ferkit import env
from ferkit.errors import ModelError
from ferkit.files import atomic_path

log = logging.getLogger(__name__)

_CHUNK = 1 << 16
_FAILED: dict[tuple[str, Path], ModelError] = {}  # (url, cache path) -> the error of its failed download


@dataclass(frozen=True)
class RemoteFile:
    """A file ferkit downloads: where from, what it must hash to, its name in the cache, and how to do without
    the download (said in every error)."""

    url: str
    sha256: str
    filename: str
    offline: str = ""


YUNET = RemoteFile(
    url="https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2026may.onnx",
    sha256="ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0",
    filename="face_detection_yunet_2026may.onnx",
    offline="to run offline, point --yunet-path (or FERKIT_YUNET) at a local copy of "
            "face_detection_yunet_2026may.onnx",
)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(remote: RemoteFile, cache_dir: str | Path | None = None, download: bool = True,
          timeout_s: float = 30.0) -> Path:
    """Path of `remote` in the cache, downloading it first when it is missing or does not match its checksum.

    Args:
        remote: the file to get.
        cache_dir: directory for downloads (created if needed); default
            `ferkit.env.cache_dir()` ($FERKIT_CACHE or ~/.cache/ferkit).
        download: when False, only a verified cached copy is accepted.
        timeout_s: socket timeout of the download.

    Raises:
        ModelError: the file is not cached and cannot be downloaded (now, or earlier in this process), or the
            download fails its checksum; the message ends with `remote.offline`.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else env.cache_dir()
    path = cache_dir / remote.filename
    if path.is_file():
        if sha256_of(path) == remote.sha256:
            return path
        log.warning("%s does not match its sha256; downloading it again", path)
    hint = f"; {remote.offline}" if remote.offline else ""
    if not download:
        raise ModelError(f"{remote.filename} is not in {cache_dir} and downloading is disabled{hint}")
    if (remote.url, path) in _FAILED:
        raise _FAILED[remote.url, path]
    try:
        return download_file(remote.url, path, remote.sha256, timeout_s)
    except ModelError as exc:
        _FAILED[remote.url, path] = ModelError(f"{exc}{hint}")
        raise _FAILED[remote.url, path] from exc


def download_file(url: str, path: Path, sha256: str, timeout_s: float = 30.0) -> Path:
    """Download `url` to `path` via a temporary file in the same directory, renamed only once verified.

    Raises:
        ModelError: network failure, interrupted transfer or checksum mismatch (the partial file is removed).
    """
    log.info("downloading %s to %s", url, path)
    with atomic_path(path) as tmp:  # a failed or corrupt download never takes the cached file's place
        try:
            digest = _stream(url, tmp.open("wb"), timeout_s)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError is an OSError
            raise ModelError(f"cannot download {url}: {exc}") from exc
        if digest != sha256:
            raise ModelError(f"download of {url} failed its checksum: expected sha256 {sha256}, got {digest}")
    return path


def _stream(url: str, out: BinaryIO, timeout_s: float) -> str:
    """Copy `url` into `out`; returns the sha256 of what was received."""
    h = hashlib.sha256()
    received = 0
    with out, urllib.request.urlopen(url, timeout=timeout_s) as response:
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            h.update(chunk)
            out.write(chunk)
            received += len(chunk)
        expected = response.headers.get("Content-Length")
    if expected is not None and received != int(expected):  # the server hung up early
        raise http.client.IncompleteRead(b"", int(expected) - received)
    return h.hexdigest()
