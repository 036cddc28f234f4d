"""Holiday calendars and effects (sqlml.ml.forecasting.holidays), checked against the holidays library."""

from __future__ import annotations

import holidays as holiday_library
import numpy as np
import pandas as pd
import pytest

from sqlml.errors import InvalidOptionError
from sqlml.ml.forecasting.holidays import (
    REGION_GROUPS,
    builtin_calendar,
    custom_calendar,
    holiday_calendar,
    holiday_effects,
    holiday_positions,
    parse_regions,
)


def test_builtin_calendar_equals_the_library() -> None:
    calendar = builtin_calendar(["GB"], [2022])
    expected = holiday_library.country_holidays("GB", years=2022, language="en_US")
    assert sorted(calendar["primary_date"].dt.date) == sorted(d for d in expected for _ in expected.get_list(d))
    assert set(calendar["region"]) == {"GB"}


def test_region_groups_cover_their_countries() -> None:
    calendar = builtin_calendar(["NA"], [2023])
    us_ca = {*holiday_library.country_holidays("US", years=2023), *holiday_library.country_holidays("CA", years=2023)}
    assert set(calendar["primary_date"].dt.date) == us_ca
    assert "MX" in REGION_GROUPS["LAC"] and "JP" in REGION_GROUPS["JAPAC"] and "DE" in REGION_GROUPS["EMEA"]


def test_global_holidays_are_the_widely_shared_ones() -> None:
    calendar = builtin_calendar(["GLOBAL"], [2022])
    names = dict(zip(calendar["primary_date"].dt.strftime("%m-%d"), calendar["holiday_name"], strict=True))
    assert names["01-01"] == "NewYear" and names["12-25"] == "Christmas"
    assert "07-04" not in names  # US Independence Day is not global


def test_parse_regions_rejects_unknown_region() -> None:
    assert parse_regions("us") == ("US",)
    assert parse_regions(["GLOBAL", "EMEA"]) == ("GLOBAL", "EMEA")
    with pytest.raises(InvalidOptionError, match=r"The 'holiday_region' option .* unknown region 'XX'\. Use GLOBAL, NA"):
        parse_regions(["US", "XX"])


def test_custom_holidays_default_windows_and_override_builtin() -> None:
    rows = pd.DataFrame({"region": ["us", "US"], "holiday_name": ["Christmas", "Launch"], "primary_date": ["2022-12-20", "2022-03-01"]})
    custom = custom_calendar(rows)
    assert custom["preholiday_days"].tolist() == [1, 1] and custom["postholiday_days"].tolist() == [1, 1]
    calendar = holiday_calendar(["US"], [2022], rows)
    christmas = calendar[calendar["holiday_name"] == "Christmas"]["primary_date"].dt.strftime("%Y-%m-%d").tolist()
    assert christmas == ["2022-12-20"]  # the custom date replaces the built-in one
    assert "Launch" in set(calendar["holiday_name"])


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("preholiday_days", 0, r"has a preholiday_days below 1"),
        ("postholiday_days", 30, r"has a holiday window \(preholiday_days \+ postholiday_days \+ 1\) over 30 days"),
    ],
)
def test_custom_holidays_are_validated(column: str, value: int, message: str) -> None:
    rows = pd.DataFrame({"region": ["US"], "holiday_name": ["Launch"], "primary_date": ["2022-03-01"], column: [value]})
    with pytest.raises(InvalidOptionError, match=message):
        custom_calendar(rows)
    with pytest.raises(InvalidOptionError, match=r"has no 'primary_date' column"):
        custom_calendar(rows.drop(columns="primary_date"))


def test_holiday_effects_per_window_day() -> None:
    grid = pd.date_range("2021-01-01", "2022-12-31", freq="D")
    rows = pd.DataFrame({"region": ["US"] * 2, "holiday_name": ["Sale"] * 2, "primary_date": ["2021-06-10", "2022-06-09"]})
    positions = holiday_positions(grid, custom_calendar(rows))
    deviation = np.zeros(len(grid))
    for day, effect in (("2021-06-09", 2.0), ("2021-06-10", 10.0), ("2022-06-08", 2.0), ("2022-06-09", 10.0)):
        deviation[grid.get_loc(pd.Timestamp(day))] = effect
    component = holiday_effects(deviation, positions)["Sale"]
    assert sorted(component[component != 0].tolist()) == [2.0, 2.0, 10.0, 10.0]
    assert len(positions["Sale"]) == 6  # two occurrences × (1 + 1 + 1) days
