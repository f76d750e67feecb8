"""ServeConfig: validation, environment variables, and the `ferkit serve` options built from it."""

from __future__ import annotations

import pytest

from ferkit.apps.cli import build_parser
from ferkit.apps.config_args import config_from_args
from ferkit.apps.service.config import ServeConfig, config_values_from_env
from ferkit.config_fields import from_flat
from ferkit.errors import ConfigError
from ferkit.inference.config import RecognizerConfig


@pytest.mark.parametrize("values", [{"workers": 0}, {"max_upload_bytes": 0}, {"queue_size": -1},
                                    {"request_timeout_s": 0}, {"score_threshold": 1.5},
                                    {"max_batch_pixels": 0}, {"max_batch_pixels": 10, "max_pixels": 11},
                                    {"max_connections_per_client": 0}, {"idle_timeout_s": 0},
                                    {"header_timeout_s": -1.0}, {"cors_origins": ("*",), "api_key": "k"}])
def test_invalid_settings_are_refused(values):
    with pytest.raises(ConfigError, match=next(iter(values)) if "api_key" not in values else "origins"):
        from_flat(ServeConfig, values)


def test_environment_supplies_key_and_origins_and_leaves_paths_to_the_recognizer(monkeypatch: pytest.MonkeyPatch):
    for name, value in {"FERKIT_API_KEY": "k", "FERKIT_CORS_ORIGINS": "https://a.example, https://b.example",
                        "FERKIT_YUNET": "/models/yunet.onnx"}.items():
        monkeypatch.setenv(name, value)
    assert config_values_from_env() == {"api_key": "k", "cors_origins": ("https://a.example", "https://b.example")}
    monkeypatch.setenv("FERKIT_API_KEY", "")
    monkeypatch.delenv("FERKIT_CORS_ORIGINS")
    assert config_values_from_env() == {}


def test_the_recognizer_options_are_the_shared_ones_with_the_one_default_model():
    args = build_parser("serve").parse_args(["serve", "--score-threshold", "0.5", "--min-face", "40"])
    config = config_from_args(ServeConfig, args)
    assert config.recognizer == RecognizerConfig(model="base", score_threshold=0.5, min_face=40)
    assert RecognizerConfig().model == "base"


def test_serve_options_come_from_the_config_and_hide_the_api_key():
    parser = build_parser("serve")
    args = parser.parse_args(["serve", "--port", "9000", "--workers", "4", "--no-align", "--cors-origins", "https://a,https://b"])
    assert (args.port, args.workers, args.align, args.cors_origins) == (9000, 4, False, ("https://a", "https://b"))
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--api-key", "visible-in-ps"])


def test_connection_and_batch_limits_are_serve_options():
    args = build_parser("serve").parse_args(["serve", "--max-batch-pixels", "60000000", "--max-connections-per-client",
                                              "4", "--idle-timeout-s", "2.5", "--header-timeout-s", "3"])
    assert (args.max_batch_pixels, args.max_connections_per_client, args.idle_timeout_s, args.header_timeout_s) == (
        60_000_000, 4, 2.5, 3.0)
