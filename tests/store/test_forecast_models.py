"""A forecasting model (ARIMA_PLUS) in the registry: versions, aliases, ALTER MODEL, DROP, and
EXPORT MODEL refused as BigQuery refuses it."""

from __future__ import annotations

import pytest

import sqlml

CREATE = (
    "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', "
    "time_series_data_col='v', horizon={horizon}) AS SELECT day, v * {scale} AS v FROM ds.s"
)
FORECAST = "SELECT forecast_timestamp, forecast_value FROM ML.FORECAST(MODEL {name}, STRUCT(5 AS horizon)) ORDER BY 1"


@pytest.fixture
def reg(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.s AS SELECT DATE '2024-01-01' + CAST(i AS INTEGER) AS day, "
            "20 + 0.3 * i + 4 * SIN(i * 2 * PI() / 7) + (i * 37 % 11) / 10.0 AS v FROM range(50) AS t(i)"
        )
        yield con


def test_versions_aliases_and_alter_model_work_for_a_forecasting_model(reg):
    reg.query(CREATE.format(horizon=10, scale=1))
    first = reg.query(FORECAST.format(name="ds.m")).fetchall()
    reg.query(CREATE.format(horizon=12, scale=2))
    second = reg.query(FORECAST.format(name="ds.m")).fetchall()
    assert [v for _, v in second] == pytest.approx([2 * v for _, v in first], rel=1e-6)  # a new version answers
    versions = reg.query("SELECT version, model_type, aliases FROM ML.VERSIONS(MODEL ds.m) ORDER BY version").fetchall()
    assert versions == [(1, "ARIMA_PLUS", []), (2, "ARIMA_PLUS", ["default"])]

    reg.query("ALTER MODEL `ds.m@1` SET OPTIONS(version_aliases=['production'])")
    assert reg.query(FORECAST.format(name="`ds.m@production`")).fetchall() == first
    assert reg.query(FORECAST.format(name="`ds.m@1`")).fetchall() == first
    with pytest.raises(sqlml.InvalidOptionError, match=r"ML.FORECAST's horizon must be between 1 and the model's horizon \(10\)\. Got 11 instead\."):
        reg.query("SELECT * FROM ML.FORECAST(MODEL `ds.m@production`, STRUCT(11 AS horizon))")
    assert len(reg.query("SELECT * FROM ML.FORECAST(MODEL ds.m, STRUCT(12 AS horizon))").fetchall()) == 12

    reg.query("ALTER MODEL ds.m SET OPTIONS(description='daily sales', labels=[('owner', 'ana')])")
    assert [(m.name, m.description) for m in reg.models.models()] == [("m", "daily sales")]
    reg.query("ALTER MODEL `ds.m@1` SET OPTIONS(version_aliases=['default'])")  # roll back to version 1
    assert reg.query(FORECAST.format(name="ds.m")).fetchall() == first
    reg.query("DROP MODEL `ds.m@2`")
    assert [v.version for v in reg.models.versions("ds", "m")] == [1]
    assert reg.query(FORECAST.format(name="ds.m")).fetchall() == first


def test_export_model_refuses_a_forecasting_model_and_points_to_forecast_and_serve(reg, tmp_path):
    reg.query(CREATE.format(horizon=10, scale=1))
    with pytest.raises(sqlml.ModelError, match=(
        r"EXPORT MODEL cannot export ds.m: it is a ARIMA_PLUS model, and time-series models cannot be exported\."
    )) as info:  # fmt: skip
        reg.query(f"EXPORT MODEL ds.m OPTIONS(uri='{tmp_path / 'out'}')")
    assert "ML.FORECAST(MODEL ds.m)" in info.value.hint and "sqlml serve --model ds.m" in info.value.hint
    assert not (tmp_path / "out").exists()
