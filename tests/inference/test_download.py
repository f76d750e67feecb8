"""The YuNet download against a local HTTP server serving the real file: success and cache, wrong checksum,
interrupted transfer, no network (fallback to Haar)."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ferkit.errors import ModelError
from ferkit.inference import Recognizer, detect
from ferkit.inference.detect import HaarDetector, YuNetDetector, create_detector
from ferkit.inference.download import YUNET, RemoteFile, fetch


class _Server:
    """Serves `payload` at /model.onnx, and its first half (then hangs up) at /truncated.onnx."""

    def __init__(self, payload: bytes) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path not in ("/model.onnx", "/truncated.onnx"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                body = payload if self.path == "/model.onnx" else payload[: len(payload) // 2]
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server(yunet_path: Path) -> Iterator[_Server]:
    s = _Server(yunet_path.read_bytes())
    yield s
    s.close()


def _remote(server: _Server, path: str = "/model.onnx", sha256: str = YUNET.sha256) -> RemoteFile:
    return RemoteFile(server.url + path, sha256, YUNET.filename)


def test_yunet_file_in_shared_matches_the_pinned_checksum(yunet_path: Path):
    assert hashlib.sha256(yunet_path.read_bytes()).hexdigest() == YUNET.sha256


def test_download_verifies_caches_and_reuses(server: _Server, tmp_path: Path):
    path = fetch(_remote(server), tmp_path / "cache")
    assert path == tmp_path / "cache" / YUNET.filename and path.stat().st_size == 229_738
    assert fetch(_remote(server), tmp_path / "cache") == path
    assert server.requests == ["/model.onnx"]  # the second call used the cache
    assert sorted(p.name for p in path.parent.iterdir()) == [YUNET.filename]


def test_wrong_checksum_leaves_nothing_behind(server: _Server, tmp_path: Path):
    with pytest.raises(ModelError, match="checksum"):
        fetch(_remote(server, sha256="0" * 64), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_download_leaves_nothing_behind(server: _Server, tmp_path: Path):
    with pytest.raises(ModelError, match="cannot download"):
        fetch(_remote(server, "/truncated.onnx"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_cached_file_is_replaced(server: _Server, tmp_path: Path):
    (tmp_path / YUNET.filename).write_bytes(b"half a model")
    path = fetch(_remote(server), tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == YUNET.sha256


def test_no_cache_and_download_disabled(tmp_path: Path):
    with pytest.raises(ModelError, match="downloading is disabled"):
        fetch(YUNET, tmp_path, download=False)


def test_auto_detector_downloads_yunet(server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(detect, "YUNET", _remote(server))
    assert isinstance(create_detector("auto", cache_dir=tmp_path), YuNetDetector)


def test_offline_auto_falls_back_to_haar_with_one_warning(server: _Server, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture):
    server.close()  # nothing listens there any more: a refused connection, as offline
    monkeypatch.setattr(detect, "YUNET", _remote(server))
    monkeypatch.delenv("FERKIT_YUNET", raising=False)
    with caplog.at_level(logging.WARNING):
        detector = create_detector("auto", cache_dir=tmp_path)
    assert isinstance(detector, HaarDetector)
    assert len([r for r in caplog.records if "falling back to the Haar cascade" in r.message]) == 1
    with pytest.raises(ModelError, match="cannot download"):
        create_detector("yunet", cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_downloads_go_to_ferkit_cache(server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FERKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FERKIT_YUNET", raising=False)
    monkeypatch.setattr(detect, "YUNET", _remote(server))
    assert isinstance(create_detector("auto"), YuNetDetector)
    assert (tmp_path / "cache" / YUNET.filename).is_file()


def test_the_python_api_honours_ferkit_yunet_offline(server: _Server, tiny_onnx: Path, yunet_path: Path,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """As the CLI always did: with FERKIT_YUNET set and no network, `Recognizer()` runs YuNet, not Haar."""
    server.close()
    monkeypatch.setattr(detect, "YUNET", _remote(server))
    monkeypatch.setenv("FERKIT_CACHE", str(tmp_path))  # empty: nothing cached
    monkeypatch.setenv("FERKIT_YUNET", str(yunet_path))
    assert Recognizer(tiny_onnx).detector.name == "yunet-ort"
    monkeypatch.delenv("FERKIT_YUNET")
    assert Recognizer(tiny_onnx).detector.name == "haar"


def test_a_failed_download_names_the_offline_options_and_is_not_retried(server: _Server, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        caplog: pytest.LogCaptureFixture):
    import dataclasses

    monkeypatch.setattr(detect, "YUNET", dataclasses.replace(YUNET, url=server.url + "/missing.onnx"))
    monkeypatch.delenv("FERKIT_YUNET", raising=False)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):  # as each worker, image or frame of one process asks for a detector
            assert isinstance(create_detector("auto", cache_dir=tmp_path), HaarDetector)
    assert server.requests == ["/missing.onnx"]
    assert "--yunet-path (or FERKIT_YUNET)" in caplog.records[0].message
    with pytest.raises(ModelError, match=r"cannot download .*--yunet-path"):
        create_detector("yunet", cache_dir=tmp_path)
