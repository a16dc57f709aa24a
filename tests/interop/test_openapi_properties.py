"""Property-based API test: schemathesis drives every operation of the local server's
published OpenAPI document with generated requests, over HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err

from quri_parts_oqtopus.local import LocalServer


@pytest.fixture(scope="module")
def openapi_server() -> Iterator[LocalServer]:
    # A server of its own: generated requests must not disturb the other tests' jobs.
    with LocalServer() as local:
        yield local


def test_no_generated_request_makes_the_server_fail(openapi_server: LocalServer) -> None:
    # Driven by hand rather than by schemathesis' pytest plugin, which pytest 9 breaks.
    schema = schemathesis.openapi.from_url(f"{openapi_server.url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"the published OpenAPI document is invalid: {result.err()}")
        operations.append(result.ok())
    assert len(operations) >= 10, [op.label for op in operations]
    headers = {"q-api-token": openapi_server.token}
    calls: list[int] = []
    for operation in operations:

        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def exercise(case: schemathesis.Case[Any]) -> None:
            response = case.call(headers=headers, timeout=30)
            calls.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])
            if response.status_code >= 400:
                body = response.json()
                assert isinstance(body.get("message"), str), (case.method, case.path, body)

        exercise()
    assert len(calls) >= 5 * len(operations)  # the generated requests did go out
    print(f"\n{len(calls)} generated requests over {len(operations)} operations")
