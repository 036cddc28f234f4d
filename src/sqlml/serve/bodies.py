"""The JSON bodies of the API (pydantic models, from which the OpenAPI document is generated),
and reading a request's body as one of them."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

MAX_INSTANCES = 10_000


class InstancesRequest(BaseModel):
    """Rows to score: one JSON object per row, keyed by column name."""

    instances: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_INSTANCES)


class PredictRequest(InstancesRequest):
    """Rows to score; by default only the model's outputs come back, with ``echo_inputs`` also
    each row's input columns (ML.PREDICT's whole rows)."""

    echo_inputs: bool = Field(default=False, description="Also return each instance's input columns after the outputs, as ML.PREDICT does.")


class ExplainRequest(InstancesRequest):
    """Rows to explain, and how many attributions to return per row."""

    top_k_features: int = Field(default=5, ge=1, le=10_000)


class ForecastRequest(BaseModel):
    """ML.FORECAST's settings, optionally the series wanted (default: every series) and, for an
    ARIMA_PLUS_XREG model, its regressors' future values."""

    horizon: int | None = Field(default=None, ge=1, description="Steps per series; ML.FORECAST's default 3, at most the model's horizon.")
    confidence_level: float = Field(default=0.95, ge=0, lt=1)
    ids: list[dict[str, str | int | float | bool | None]] | None = Field(
        default=None, min_length=1, max_length=MAX_INSTANCES, description="The series wanted, each as {id column: value}."
    )
    instances: list[dict[str, Any]] | None = Field(
        default=None, min_length=1, max_length=MAX_INSTANCES, description="ARIMA_PLUS_XREG: the regressors' future values."
    )


class ForecastResponse(BaseModel):
    """ML.FORECAST's rows, and the model version that answered."""

    forecasts: list[dict[str, Any]]
    model: str
    model_version: int
    request_id: str


Key = str | int | float | bool | None


class RecommendRequest(BaseModel):
    """Whom and what to score: users and/or items (each default: every one of training), or
    pairs; and optionally only each user's best ``top_k`` items (each item's best users when
    only items are given)."""

    users: list[Key] | None = Field(default=None, min_length=1, max_length=MAX_INSTANCES, description="User column values.")
    items: list[Key] | None = Field(default=None, min_length=1, max_length=MAX_INSTANCES, description="Item column values.")
    pairs: list[dict[str, Any]] | None = Field(
        default=None, min_length=1, max_length=MAX_INSTANCES, description="(user, item) objects keyed by the columns; other fields pass through."
    )
    top_k: int | None = Field(default=None, ge=1, le=MAX_INSTANCES, description="Rows per user, best first.")


class RecommendResponse(BaseModel):
    """ML.RECOMMEND's rows, and the model version that answered."""

    recommendations: list[dict[str, Any]]
    model: str
    model_version: int
    request_id: str


class PredictResponse(BaseModel):
    """ML.PREDICT's (or ML.EXPLAIN_PREDICT's) rows, and the model version that answered."""

    predictions: list[dict[str, Any]]
    model: str
    model_version: int
    request_id: str


class ErrorResponse(BaseModel):
    """What went wrong and how to fix it."""

    error: str
    hint: str | None = None


#: What to send, per route, when a body is not valid.
BODY_HINTS = {
    "forecast": 'Send {"horizon": n, "confidence_level": c} (both optional) with Content-Type: application/json.',
    "predict": 'Send {"instances": [{"column": value, …}]} with Content-Type: application/json.',
    "recommend": 'Send {"users": […], "items": […], "top_k": k} (each optional) or {"pairs": [{"<user column>": u, "<item column>": i}, …]} '
    "with Content-Type: application/json.",
}


def parse_body(schema: type[BaseModel], body: bytes, content_type: str | None) -> Any:
    """The body as ``schema``, or the RequestValidationError FastAPI would raise for it.

    Raises:
        RequestValidationError: the body is not JSON, or not the documented object.
    """
    if not is_json(content_type):
        raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",), "msg": "Input should be a JSON object", "input": None}])
    try:
        return schema.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]) from None


def is_json(content_type: str | None) -> bool:
    """Whether ``content_type`` is a JSON media type."""
    # As FastAPI's strict content type: only a JSON media type is read as JSON, so a plain HTML
    # form cannot post to the server from another site.
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
