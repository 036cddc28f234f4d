"""Schemathesis generates requests from the OpenAPI document; none may get a 5xx."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from sqlml.serve.app import create_app  # noqa: E402
from sqlml.serve.models import ModelSet  # noqa: E402


@pytest.mark.slow
def test_no_generated_request_makes_the_server_fail(shared_store):
    con, _ = shared_store
    models = ModelSet(con.models, ["ds.m"], refresh_seconds=60)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(models, con.models))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/models/{name}:predict", "/v1/models/{name}:explain", "/v1/models"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case):
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()
    models.close()
