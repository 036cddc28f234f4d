"""The CREATE MODEL options of BigQuery's neural-network models, and their data-dependent defaults.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-dnn-models
(restated in ``../shared/reference/bigquery-ml.md`` §1.8, tuning ranges §3 and
https://cloud.google.com/bigquery/docs/hp-tuning-overview). ``hidden_units`` and ``batch_size``
have no fixed default: :func:`network_shape` fills them in from the training rows.
"""

from __future__ import annotations

from sqlml.errors import InvalidOptionError
from sqlml.ml.deep.network import ACTIVATIONS
from sqlml.ml.deep.training import OPTIMIZERS
from sqlml.ml.models.option_groups import ITERATIVE, option
from sqlml.ml.models.options import Kind

#: BigQuery's largest batch_size.
MAX_BATCH_SIZE = 8192
#: The default hidden layer's most units, and the default batch size's cap (§1.8).
DEFAULT_MAX_UNITS = 128
DEFAULT_BATCH_SIZE = 32

#: Options every BigQuery neural network takes (DNN, wide & deep, autoencoder), with BigQuery's
#: defaults and default tuning ranges.
NETWORK_OPTIONS = [
    *ITERATIVE,
    option("warm_start", Kind.BOOL, False),
    option("activation_fn", Kind.ENUM, "RELU", choices=tuple(ACTIVATIONS), search=()),
    option("batch_size", Kind.INT, low=0, low_open=True, high=MAX_BATCH_SIZE, search=(16, 1024, "LOG")),
    option("dropout", Kind.FLOAT, 0.0, low=0, high=1, search=(0.0, 0.8, "LINEAR")),
    option("hidden_units", Kind.INT_ARRAY, search=()),
    option("batch_norm", Kind.BOOL, False),
    option("l1_reg", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LOG")),
    option("l2_reg", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LOG")),
    option("tf_version", Kind.ENUM, "1.15", choices=("1.15", "2.8.0", "2.17.0")),
]

#: DNN options for the learning rate and optimizer (wide & deep declares per-part ones).
SINGLE_OPTIMIZER = [
    option("learn_rate", Kind.FLOAT, 0.001, low=0, high=1, search=(0.0, 1.0, "LINEAR")),
    option("optimizer", Kind.ENUM, "ADAM", choices=tuple(OPTIMIZERS), search=()),
]


def check_hidden_units(model_type: str, units: object) -> None:
    """Every layer has at least one unit, and there is at least one layer.

    Raises:
        InvalidOptionError: naming hidden_units.
    """
    if units is None or not isinstance(units, (list, tuple)):  # unset, or a tuning space checked per candidate
        return
    if not units or any(u < 1 for u in units):
        raise InvalidOptionError(
            f"The 'hidden_units' option of CREATE MODEL (model_type='{model_type.lower()}') needs at least one layer "
            f"and at least 1 unit per layer. Got {list(units)} instead.",
            option="hidden_units",
            hint="Write the units of each hidden layer, e.g. hidden_units=[128, 64].",
        )


def network_shape(options: dict, rows: int, inputs: int, outputs: int) -> tuple[list[int], int]:
    """``hidden_units`` and ``batch_size``, BigQuery's defaults where unset: one hidden layer of
    min(128, rows / (10 × (inputs + outputs))) units (at least 1), and min(32, rows) rows per batch."""
    units = options.get("hidden_units")
    if units is None:
        units = [max(1, min(DEFAULT_MAX_UNITS, rows // (10 * (inputs + outputs))))]
    batch_size = options.get("batch_size") or min(DEFAULT_BATCH_SIZE, rows)
    return [int(u) for u in units], int(max(1, batch_size))
