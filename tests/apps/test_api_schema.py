"""Property-based check of the API against its own OpenAPI schema (schemathesis, in-process, bounded).

Hypothesis drives schemathesis' strategies directly: schemathesis' pytest fixture integration does not
run under pytest 9. Every operation gets `MAX_EXAMPLES` generated requests (valid and invalid query
options, bodies of every declared media type) and each response is checked against the schema: status
code declared, body and headers conforming, no server error.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from ferkit.apps.service import ServeConfig

MAX_EXAMPLES = 40
OPERATIONS = ["GET /healthz", "GET /readyz", "GET /v1/models", "POST /v1/predict", "POST /v1/predict/batch"]
# Random bytes are valid `format: binary` bodies, yet are not images: the schema cannot promise success for them.
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture
def api_schema(make_client):
    client = make_client(ServeConfig(workers=2, queue_size=8, max_upload_bytes=256 * 1024, request_timeout_s=5.0))
    return schemathesis.openapi.from_asgi("/openapi.json", client.app)


def test_every_operation_is_covered(api_schema):
    labels = sorted(f"{op.ok().method.upper()} {op.ok().path}" for op in api_schema.get_all_operations())
    assert labels == sorted(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_conforms_to_the_schema(api_schema, label):
    method, path = label.split(" ")
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=2000, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case):
        case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)

    check()
