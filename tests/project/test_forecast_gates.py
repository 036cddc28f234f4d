"""A gate on a forecasting model's accuracy in a SQL project: ML.EVALUATE on held-back rows decides
whether a retrained ARIMA_PLUS model becomes current."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqlml.project.gates import check_metric_gate
from sqlml.project.runner import Runner, RunOptions
from sqlml.store.records import ModelRef

SALES = "store,day,sales\n" + "".join(
    f"{store},{day.date()},{level + 0.5 * d + 4 * np.sin(2 * np.pi * d / 7) + (d * 37 % 11) / 5:.4f}\n"
    for store, level in (("north", 40), ("south", 80))
    for d, day in enumerate(pd.date_range("2024-01-01", periods=62, freq="D"))
)
# auto_arima_max_order=1: a gate reads the fitted model's metrics whatever orders the search tried,
# and the smaller search trains in a quarter of the default's time.
MODEL = """
{{{{ config({config}) }}}}
CREATE MODEL {{{{ this }}}} OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', time_series_data_col='sales',
                                   time_series_id_col='store', horizon=7, auto_arima_max_order=1)
AS SELECT store, day, sales FROM {{{{ ref('sales') }}}} WHERE day < DATE '2024-02-24'
"""
FILES = {
    "seeds/sales.csv": SALES,
    "holdout.sql": "SELECT store, day, sales FROM {{ ref('sales') }} WHERE day >= DATE '2024-02-24'",
}


def _forecaster(gate: str) -> str:
    return MODEL.format(config=f"gate={gate}")


def _mape_gate(limit: float) -> str:
    return f"{{'data': ref('holdout'), 'conditions': 'mean_absolute_percentage_error < {limit}'}}"


def test_a_mape_gate_on_held_back_days_decides_which_version_is_current(make_project, tmp_path):
    runner = make_project({**FILES, "forecaster.sql": _forecaster(_mape_gate(50))})
    first = {o.node: o for o in runner.run(RunOptions())}["forecaster"]
    assert first.status == "success" and first.message.startswith("gate passed (mean_absolute_error=")
    worst = max(row[0] for row in runner.connection.query(
        "SELECT mean_absolute_percentage_error FROM ML.EVALUATE(MODEL shop.forecaster, TABLE shop.holdout)"
    ).fetchall())  # fmt: skip
    # without data, a gate reads ML.EVALUATE's deprecated form: the fitted models' AIC and variance
    passed, message = check_metric_gate(runner.connection, "shop.forecaster", ["variance > 0", "non_seasonal_d <= 2"])
    assert passed and message.startswith("gate passed (log_likelihood=")
    runner.close()

    # The same model against a limit just under its worse series' MAPE: the retrain misses the gate.
    (tmp_path / "forecaster.sql").write_text(_forecaster(_mape_gate(worst * 0.999)))
    second = Runner(tmp_path)
    outcome = {o.node: o for o in second.run(RunOptions())}["forecaster"]
    assert outcome.status == "gate_failed"
    assert outcome.message.startswith(f"gate failed: mean_absolute_percentage_error < {worst * 0.999} in 1 of 2 rows (")
    assert outcome.message.endswith("; version 1 stays current")
    assert second.connection.models.resolve(ModelRef("shop", "forecaster")).version == 1
    second.close()

    (tmp_path / "forecaster.sql").write_text(_forecaster(_mape_gate(worst * 1.001)))
    third = Runner(tmp_path)
    assert {o.node: o for o in third.run(RunOptions())}["forecaster"].status == "success"
    assert third.connection.models.resolve(ModelRef("shop", "forecaster")).version == 3
    third.close()


def test_a_gate_dict_without_data_is_a_clear_error(make_project):
    runner = make_project({**FILES, "forecaster.sql": _forecaster("{'conditions': 'mean_absolute_error < 1'}")})
    outcome = {o.node: o for o in runner.run(RunOptions())}["forecaster"]
    assert outcome.status == "error"
    assert "The gate of shop.forecaster needs 'data' and 'conditions' when it is a dict; it has 'conditions'." in outcome.error


def test_a_skew_gate_on_a_forecasting_model_is_refused_rather_than_passing_vacuously(make_project):
    runner = make_project({**FILES, "forecaster.sql": MODEL.format(config="skew={'data': ref('holdout')}")})
    outcome = {o.node: o for o in runner.run(RunOptions())}["forecaster"]
    assert outcome.status == "error"
    assert (
        "The skew gate of shop.forecaster cannot check a ARIMA_PLUS model: time-series models keep no training statistics to compare with."
        in outcome.error
    )
