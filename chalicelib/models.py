"""Pydantic models at the API edge: requests are validated here, once.

Unknown fields are rejected (a typo such as ``maxclips`` must not be silently
ignored), numbers must be numbers (``"3"`` is a client bug worth reporting) and
NaN/inf never get through.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib.errors import BadRequest

AspectRatio = Literal["9:16", "1:1", "16:9"]
Id = Annotated[str, Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9_\-]+$")]
Seconds = Annotated[float, Field(strict=True, ge=5, le=180, allow_inf_nan=False)]

MAX_INSTRUCTIONS_CHARS = 4000


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreateProject(_Request):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    accountId: Id


class UploadForm(_Request):
    account_id: Id
    project_id: Id
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class CreateUpload(_Request):
    accountId: Id
    projectId: Id
    filename: Annotated[str, Field(min_length=1, max_length=1024)]
    sizeBytes: Annotated[int, Field(strict=True, gt=0)]
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class SubmitJob(_Request):
    videoId: Id
    maxClips: Annotated[int, Field(strict=True, ge=1, le=10)] = 3
    minDuration: Seconds = 30
    maxDuration: Seconds = 60
    aspectRatio: AspectRatio = "9:16"
    customInstructions: Annotated[str, Field(max_length=MAX_INSTRUCTIONS_CHARS)] | None = None
    captions: Annotated[bool, Field(strict=True)] = True
    reframe: Literal["auto", "center"] = "auto"

    @model_validator(mode="after")
    def _durations_ordered(self) -> "SubmitJob":
        if self.minDuration > self.maxDuration:
            raise ValueError(
                f"minDuration ({self.minDuration:g}) must not exceed maxDuration ({self.maxDuration:g})"
            )
        return self


def describe_validation_error(err: ValidationError) -> str:
    """One readable sentence per problem, each naming the field."""
    parts = []
    for item in err.errors()[:5]:
        field = ".".join(str(p) for p in item["loc"]) or "body"
        if item["type"] == "extra_forbidden":
            parts.append(f"{field}: unknown field")
        elif item["type"] == "missing":
            parts.append(f"{field}: is required")
        elif not item["loc"]:
            parts.append(item["msg"].removeprefix("Value error, "))
        else:
            parts.append(f"{field}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def parse(model: type[BaseModel], data: object):
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise BadRequest(describe_validation_error(err)) from None
