"""A fitted ARIMA model as data: what statsforecast needs to forecast, as NumPy arrays and JSON.

statsforecast forecasts a fitted ARIMA (:func:`statsforecast.arima.forecast_arima`) from its
state-space form alone: the Kalman filter's last state ``a`` and covariance ``P``, the transition
``T``, the observation vector ``Z``, the innovation covariance ``V`` and ``h``, the residual
variance ``sigma2``, the orders ``arma`` and the named coefficients (intercept, drift). All of
these are plain arrays, so a stored model forecasts the same numbers as the model just fitted,
without refitting and without pickle: :meth:`ArimaState.forecast` rebuilds the dictionary
statsforecast's own fit returns and hands it to ``forecast_arima``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The state-space arrays statsforecast's Kalman forecast reads (``model["model"]``).
KALMAN = ("Z", "a", "P", "T", "V")


@dataclass
class ArimaState:
    """One fitted non-seasonal ARIMA(p, d, q) model of a series' trend.

    Attributes:
        order: ``(p, d, q)``.
        coef_names: statsforecast's coefficient names in its order (``ar1``…, ``ma1``…,
            ``intercept``, ``drift``).
        coef: the coefficients, in ``coef_names`` order.
        sigma2: the residual variance.
        kalman: the state-space arrays of :data:`KALMAN` after the last observation.
        h: the observation noise of the state-space form.
        nobs: the number of points fitted (drift continues from it).
        constant: the value of a constant series (statsforecast forecasts it flat, error 0),
            else None.
        log_likelihood, aic: the fit's log-likelihood and AIC.
        residuals: the in-sample one-step-ahead errors of the fit (kept for the history, not
            packed: forecasting does not need them); None for a state read back by :func:`unpack`.
    """

    order: tuple[int, int, int]
    coef_names: list[str]
    coef: np.ndarray
    sigma2: float
    kalman: dict[str, np.ndarray]
    h: float
    nobs: int
    constant: float | None
    log_likelihood: float
    aic: float
    residuals: np.ndarray | None = None

    @property
    def has_drift(self) -> bool:
        """The model has a drift term (only possible with d = 1)."""
        return "drift" in self.coef_names

    @classmethod
    def from_fit(cls, fitted: dict, values: np.ndarray) -> ArimaState:
        """The state of a model statsforecast's ``Arima`` returned for ``values``."""
        arma = fitted["arma"]
        space = fitted["model"]
        constant = float(values[0]) if np.all(values == values[0]) else None
        return cls(
            order=(int(arma[0]), int(arma[5]), int(arma[1])),
            coef_names=list(fitted["coef"]),
            coef=np.asarray(list(fitted["coef"].values()), dtype=np.float64),
            sigma2=float(fitted["sigma2"]),
            kalman={name: np.asarray(space[name], dtype=np.float64) for name in KALMAN},
            h=float(space["h"]),
            nobs=len(values),
            constant=constant,
            log_likelihood=float(fitted["loglik"]),
            aic=float(fitted["aic"]) if fitted["aic"] is not None else float("nan"),
            residuals=np.asarray(fitted["residuals"], dtype=np.float64),
        )

    def forecast(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``horizon`` values and their standard errors, by statsforecast's
        ``predict_arima`` on the stored state (what its ``forecast_arima`` calls, drift included)."""
        from statsforecast.arima import change_drift_name, predict_arima

        if self.constant is not None:  # as forecast_arima: a constant series is forecast flat
            return np.full(horizon, self.constant), np.zeros(horizon)
        p, d, q = self.order
        coef = dict(zip(self.coef_names, self.coef.tolist()))
        drift = None
        if self.has_drift:  # forecast_arima's drift: a regressor counting on from the last point
            drift = (self.nobs + np.arange(1, horizon + 1, dtype=np.float64)).reshape(-1, 1)
            coef = change_drift_name(coef, inverse=True)
        model = {"arma": (p, q, 0, 0, 1, d, 0), "coef": coef, "sigma2": self.sigma2, "model": {**self.kalman, "h": self.h}}
        mean, se = predict_arima(model, horizon, newxreg=drift)
        return np.asarray(mean, dtype=np.float64), np.asarray(se, dtype=np.float64)


def pack(states: list[ArimaState]) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Many states as JSON descriptions and a few flat arrays (one entry per array, not per
    series, so thousands of series stay a handful of ``.npz`` members).

    Returns:
        One JSON-ready dict per state, and the arrays ``coef``, ``Z``, ``a`` (concatenated) and
        ``P``, ``T``, ``V`` (each state's square matrix flattened, concatenated).
    """
    described = [
        {
            "order": list(state.order), "coef_names": state.coef_names, "sigma2": state.sigma2, "h": state.h,
            "nobs": state.nobs, "constant": state.constant, "log_likelihood": state.log_likelihood,
            "aic": state.aic, "dim": int(state.kalman["a"].shape[0]),
        }
        for state in states
    ]  # fmt: skip
    arrays = {"coef": np.concatenate([s.coef for s in states] or [np.empty(0)])}
    for name in KALMAN:
        arrays[name] = np.concatenate([s.kalman[name].ravel() for s in states] or [np.empty(0)]).astype(np.float64)
    return described, arrays


def unpack(described: list[dict], arrays: dict[str, np.ndarray]) -> list[ArimaState]:
    """The states :func:`pack` stored, in the same order."""
    states, offsets = [], dict.fromkeys(("coef", *KALMAN), 0)
    for item in described:
        dim = item["dim"]
        sizes = {"coef": len(item["coef_names"]), "Z": dim, "a": dim, "P": dim * dim, "T": dim * dim, "V": dim * dim}
        parts = {}
        for name, size in sizes.items():
            parts[name] = arrays[name][offsets[name] : offsets[name] + size]
            offsets[name] += size
        kalman = {name: parts[name].reshape(dim, dim) if name in ("P", "T", "V") else parts[name] for name in KALMAN}
        states.append(
            ArimaState(
                order=tuple(item["order"]), coef_names=list(item["coef_names"]), coef=parts["coef"], sigma2=item["sigma2"],
                kalman=kalman, h=item["h"], nobs=item["nobs"], constant=item["constant"],
                log_likelihood=item["log_likelihood"], aic=item["aic"],
            )
        )  # fmt: skip
    return states
