"""Step Functions adapter: start the clip-generation execution and read its state."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.aws_errors import transient_failures


@transient_failures("Step Functions")
class Workflow:
    def __init__(self, client: Any, state_machine_arn: str):
        self._client = client
        self.state_machine_arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start an execution named ``name`` (the callId, so operators can find it); returns its ARN."""
        resp = self._client.start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
        )
        return resp["executionArn"]

    def describe(self, execution_arn: str) -> dict[str, Any]:
        resp = self._client.describe_execution(executionArn=execution_arn)
        return {
            "status": resp["status"],
            "error": resp.get("error"),
            "cause": resp.get("cause"),
            "startDate": resp.get("startDate"),
            "stopDate": resp.get("stopDate"),
        }
