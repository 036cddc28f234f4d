"""Fitting many series: the one place that decides how the per-series work is spread out.

CREATE MODEL with ``time_series_id_col`` fits thousands of independent series; :func:`map_series`
applies the per-series fitting function to each and returns the outcomes in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


def map_series(function: Callable[[Item], Outcome], items: Iterable[Item]) -> list[Outcome]:
    """``[function(item) for item in items]``, in input order.

    Args:
        function: a top-level function (or a ``functools.partial`` of one) fitting one series.
        items: the series.
    """
    return [function(item) for item in items]
