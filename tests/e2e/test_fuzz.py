"""Property-based fuzzing of the whole API over HTTP (schemathesis), bounded: no 5xx, no schema breaks."""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.openapi import document

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

schema = schemathesis.openapi.from_dict(document())


def test_the_served_description_is_the_document(stack):
    assert requests.get(f"{stack.base_url}/openapi.json", timeout=10).json() == document()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_answer_matches_the_description(case, stack):
    response = case.call(base_url=stack.base_url, headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=60)
    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
