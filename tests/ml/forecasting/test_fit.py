"""The trend model: BigQuery's candidates fitted by statsforecast, and its state kept as data."""

import json
from pathlib import Path

import numpy as np
import pytest
from statsforecast.arima import Arima, arima, auto_arima_f, forecast_arima, myarima

from sqlml.ml.forecasting.fit import candidate_orders, fit_trend
from sqlml.ml.forecasting.state import pack, unpack

CO2 = Path(__file__).parents[2] / "fixtures" / "co2_weekly.csv"


@pytest.fixture(scope="module")
def co2() -> np.ndarray:
    """The last 300 weeks of Mauna Loa CO2 after its last missing value (a regular series)."""
    values = np.genfromtxt(CO2, delimiter=",", skip_header=1, usecols=1)
    last_missing = np.flatnonzero(np.isnan(values))[-1]
    return values[last_missing + 1 :][:300]


AUTO = {"auto_arima": True, "auto_arima_max_order": 2, "auto_arima_min_order": 0}


def test_auto_arima_chooses_what_statsforecast_chooses(co2):
    chosen = fit_trend(co2, AUTO).best
    direct = auto_arima_f(co2, seasonal=False, stepwise=False, ic="aic", max_order=2, max_p=2, max_q=2, approximation=False)
    assert (chosen.order[0], chosen.order[1], chosen.order[2]) == (direct["arma"][0], direct["arma"][5], direct["arma"][1])
    assert chosen.coef_names == list(direct["coef"])
    assert chosen.aic == pytest.approx(direct["aic"], rel=1e-9)


def test_candidates_are_bigquerys_counts():
    # max order 1 → 3 models, 2 → 6, 3 → 10; doubled with drift when d = 1 (KPSS picks d = 1 for a walk)
    walk = np.cumsum(np.random.default_rng(0).normal(size=200))
    white = np.random.default_rng(1).normal(size=200)
    counts = [len(candidate_orders(white, {**AUTO, "auto_arima_max_order": k})) for k in (1, 2, 3)]
    assert counts == [3, 6, 10]
    assert len(candidate_orders(walk, AUTO)) == 12
    assert all(p + q >= 2 for (p, _, q), _ in candidate_orders(white, {**AUTO, "auto_arima_min_order": 2}))


def test_forecast_and_intervals_equal_statsforecasts(co2):
    fit = fit_trend(co2, {"auto_arima": False, "non_seasonal_order": (1, 1, 1), "include_drift": True})
    direct = forecast_arima(Arima(co2, order=(1, 1, 1), include_drift=True, method="CSS-ML"), h=10, level=[90])
    mean, se = fit.best.forecast(10)
    np.testing.assert_allclose(mean, direct["mean"], rtol=1e-12)
    np.testing.assert_allclose(mean + 1.6448536269514722 * se, direct["upper"]["90%"], rtol=1e-12)
    assert fit.best.has_drift and len(fit.candidates) == 1


def test_a_packed_state_forecasts_the_same_numbers(co2):
    states = [fit_trend(co2[:n], AUTO).best for n in (30, 120, 300)]
    described, arrays = pack(states)
    restored = unpack(json.loads(json.dumps(described)), {k: v.copy() for k, v in arrays.items()})
    for state, again in zip(states, restored):
        for a, b in zip(state.forecast(7), again.forecast(7)):
            np.testing.assert_array_equal(a, b)


def test_short_and_constant_series():
    assert fit_trend(np.array([1.0, 2.0]), AUTO).error == "The time series has 2 point(s); ARIMA_PLUS needs at least 3."
    mean, se = fit_trend(np.full(10, 4.0), AUTO).best.forecast(3)
    np.testing.assert_array_equal(mean, [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(se, [0.0, 0.0, 0.0])


def test_long_series_use_auto_arimas_approximation(co2):
    co2 = co2[:200]
    # above 150 points: every candidate by CSS, ranked by auto_arima_f's approximate AIC (its
    # offset from an exact ARIMA(0, d, 0)), the best refitted by CSS-ML
    fit = fit_trend(co2, AUTO)
    direct = auto_arima_f(co2, seasonal=False, stepwise=False, ic="aic", max_order=2, max_p=2, max_q=2, approximation=True)
    assert (fit.best.order, fit.best.has_drift) == (((direct["arma"][0], direct["arma"][5], direct["arma"][1])), "drift" in direct["coef"])
    assert fit.best.aic == pytest.approx(direct["aic"], rel=1e-9)
    exact = Arima(co2, order=fit.best.order, include_drift=fit.best.has_drift, method="CSS-ML")
    assert fit.best.log_likelihood == pytest.approx(exact["loglik"], rel=1e-9)
    d = fit.best.order[1]
    zero = arima(co2, order=(0, d, 0))
    offset = -2 * zero["loglik"] - len(co2) * np.log(zero["sigma2"])
    assert len(fit.candidates) == len(candidate_orders(co2, AUTO))
    approximations = [myarima(co2, order=s.order, constant=s.has_drift, approximation=True, offset=offset) for s in fit.candidates]
    assert [state.aic for state in fit.candidates[1:]] == pytest.approx([css["aic"] for css in approximations[1:]], rel=1e-9)
    ranks = [css["ic"] for css in approximations]  # the chosen ranked first (inf: statsforecast's near-unit-root rule)
    assert ranks[0] == min(ranks) and ranks[1:] == sorted(ranks[1:])
    short = fit_trend(co2[:100], AUTO)  # up to 150 points: every candidate by CSS-ML
    assert all(s.aic == pytest.approx(Arima(co2[:100], order=s.order, include_mean=s.order[1] == 0, include_drift=s.has_drift,
                                            method="CSS-ML")["aic"], rel=1e-9) for s in short.candidates)  # fmt: skip
