"""``forecast_limit_lower_bound`` / ``forecast_limit_upper_bound``: forecasts kept strictly inside.

BigQuery keeps forecasts strictly inside the limits and leaves training points at or beyond a
bound out (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#forecast_limit_lower_bound);
its API points to the transforms of Hyndman & Athanasopoulos, *Forecasting: principles and
practice*, "Ensuring forecasts stay within limits" (https://otexts.com/fpp2/limits.html,
https://cloud.google.com/bigquery/docs/reference/rest/v2/models#TrainingOptions). The series is
mapped onto the whole real line before it is prepared and fitted, and everything forecast (values
and interval bounds) is mapped back, which lands strictly inside:

- lower bound a only: ``y' = log(y - a)``, back ``a + exp(y')``;
- upper bound b only: ``y' = -log(b - y)``, back ``b - exp(-y')`` (increasing, so interval bounds
  keep their order);
- both: the scaled logit ``y' = log((y - a) / (b - y))``, back ``a + (b - a) / (1 + exp(-y'))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Limits:
    """The forecast limits of a model (None: no bound on that side).

    Attributes:
        lower: ``forecast_limit_lower_bound``.
        upper: ``forecast_limit_upper_bound``.
    """

    lower: float | None = None
    upper: float | None = None

    @classmethod
    def from_options(cls, options: dict) -> Limits:
        """The limits a model's resolved options set."""
        return cls(options.get("forecast_limit_lower_bound"), options.get("forecast_limit_upper_bound"))

    @property
    def active(self) -> bool:
        """At least one bound is set."""
        return self.lower is not None or self.upper is not None

    def describe(self) -> str:
        """The limits as a sentence fragment, for error messages."""
        parts = [f"forecast_limit_lower_bound = {self.lower}"] * (self.lower is not None)
        parts += [f"forecast_limit_upper_bound = {self.upper}"] * (self.upper is not None)
        return " and ".join(parts)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """The values on the unbounded scale; NaN where a value is at or beyond a bound."""
        values = np.asarray(values, dtype=np.float64)
        if not self.active:
            return values
        inside = np.ones(values.shape, dtype=bool)
        if self.lower is not None:
            inside &= values > self.lower
        if self.upper is not None:
            inside &= values < self.upper
        safe = np.where(inside, values, np.nan)
        with np.errstate(invalid="ignore"):
            if self.lower is not None and self.upper is not None:
                return np.log(safe - self.lower) - np.log(self.upper - safe)
            if self.lower is not None:
                return np.log(safe - self.lower)
            return -np.log(self.upper - safe)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """Values on the unbounded scale mapped back between the limits (the identity without limits)."""
        values = np.asarray(values, dtype=np.float64)
        if self.lower is not None and self.upper is not None:
            return self.lower + (self.upper - self.lower) / (1.0 + np.exp(-values))
        if self.lower is not None:
            return self.lower + np.exp(values)
        if self.upper is not None:
            return self.upper - np.exp(-values)
        return values

    def slope(self, values: np.ndarray) -> np.ndarray:
        """The derivative of :meth:`inverse` at ``values`` (scales a standard error, delta method)."""
        values = np.asarray(values, dtype=np.float64)
        if self.lower is not None and self.upper is not None:
            logistic = 1.0 / (1.0 + np.exp(-values))
            return (self.upper - self.lower) * logistic * (1.0 - logistic)
        if self.lower is not None:
            return np.exp(values)
        if self.upper is not None:
            return np.exp(-values)
        return np.ones_like(values)

    def attribute(self, parts: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Additive components on the unbounded scale as components of the bounded values.

        Component k becomes ``inverse(parts[0] + … + parts[k]) - inverse(parts[0] + … + parts[k-1])``
        (the first is ``inverse(parts[0])``), so the components still add up to the bounded value
        of their sum, as ML.EXPLAIN_FORECAST's identities need. Without limits they are unchanged.
        """
        if not self.active:
            return [np.asarray(part, dtype=np.float64) for part in parts]
        totals = np.cumsum(np.vstack([np.asarray(part, dtype=np.float64) for part in parts]), axis=0)
        bounded = self.inverse(totals)
        return [bounded[0], *np.diff(bounded, axis=0)]
