"""Holiday calendars for ``holiday_region`` and ``custom_holiday``, and their effects on a series.

BigQuery models holiday effects for the regions ``holiday_region`` names — GLOBAL, the groups NA,
JAPAC, EMEA, LAC and about sixty countries — and for the rows of a ``custom_holiday AS (…)`` query
(region, holiday_name, primary_date, preholiday_days, postholiday_days); holiday effects are only
modelled for daily and weekly series longer than a year
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#holiday_region,
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#custom_holiday).
The built-in dates come from the ``holidays`` library (the calendars of about 200 countries,
kept up to date by its community) in English.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from sqlml.errors import InvalidOptionError

#: BigQuery's region groups as countries, from the HolidayRegion enum of the BigQuery API
#: (https://cloud.google.com/bigquery/docs/reference/rest/v2/models#HolidayRegion): "NA: North
#: America", "JAPAC: Japan and Asia Pacific: Korea, Greater China, India, Australia, and New
#: Zealand", "EMEA: Europe, the Middle East and Africa", "LAC: Latin America and the Caribbean".
#: Each group holds the countries of that enum lying in the area (CS, Czechoslovakia, is gone: CZ
#: and SK stand for it).
REGION_GROUPS: dict[str, tuple[str, ...]] = {
    "NA": ("US", "CA"),
    "JAPAC": ("JP", "KR", "CN", "HK", "TW", "IN", "AU", "NZ", "ID", "MY", "PH", "SG", "TH", "VN", "PK"),
    "EMEA": (
        "AE", "AT", "BE", "CH", "CZ", "DE", "DK", "DZ", "EE", "EG", "ES", "FI", "FR", "GB", "GR", "HU",
        "IE", "IL", "IR", "IT", "LV", "MA", "NG", "NL", "NO", "PL", "PT", "RO", "RS", "RU", "SA", "SE",
        "SI", "SK", "TR", "UA", "ZA",
    ),
    "LAC": ("AR", "BR", "CL", "CO", "EC", "MX", "PE", "VE"),
}  # fmt: skip

#: The countries ``holiday_region`` accepts by code (the HolidayRegion enum's countries).
COUNTRIES: tuple[str, ...] = tuple(sorted(code for codes in REGION_GROUPS.values() for code in codes))

#: GLOBAL holidays: the dates that are a public holiday in at least this share of COUNTRIES (New
#: Year's Day, Christmas, Labour Day …), named by their most common English name.
GLOBAL_SHARE = 0.5

#: The window the built-in holidays get (the custom ones say their own): the day itself.
BUILTIN_PREHOLIDAY_DAYS = 0
BUILTIN_POSTHOLIDAY_DAYS = 0

CALENDAR_COLUMNS = ("region", "holiday_name", "primary_date", "preholiday_days", "postholiday_days")

#: The library's names of the holidays whose BigQuery name is published: the custom holidays tutorial
#: selects holiday_effect_US_Juneteenth, holiday_effect_Christmas and holiday_effect_NewYear from
#: ML.EXPLAIN_FORECAST of a holiday_region='US' model
#: (https://cloud.google.com/bigquery/docs/time-series-forecasting-holidays-tutorial). The others keep
#: the library's English names.
BIGQUERY_NAMES = {"New Year's Day": "NewYear", "Christmas Day": "Christmas", "Juneteenth National Independence Day": "US_Juneteenth"}


def parse_regions(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Read ``holiday_region`` (a string or an array of them; None means no holiday modelling).

    Raises:
        InvalidOptionError: a region that is neither GLOBAL, a group nor a supported country.
    """
    if value is None:
        return ()
    regions = tuple(str(region).upper() for region in ((value,) if isinstance(value, str) else value))
    known = ("GLOBAL", *REGION_GROUPS, *COUNTRIES)
    unknown = [region for region in regions if region not in known]
    if unknown:
        raise InvalidOptionError(
            f"The 'holiday_region' option of CREATE MODEL (model_type='ARIMA_PLUS') got the unknown region "
            f"{unknown[0]!r}. Use GLOBAL, NA, JAPAC, EMEA, LAC or a country code among {', '.join(COUNTRIES)}.",
            option="holiday_region",
        )
    return regions


def builtin_calendar(regions: Iterable[str], years: Iterable[int]) -> pd.DataFrame:
    """The built-in holidays of ``regions`` in ``years``, one row per region, holiday and date.

    Returns:
        A frame with :data:`CALENDAR_COLUMNS` (``primary_date`` as ``datetime64``).
    """
    years = tuple(years)
    rows = [row for region in regions for row in _region_rows(region, years)]
    return _calendar_frame(rows)


def custom_calendar(rows: pd.DataFrame) -> pd.DataFrame:
    """Check and complete the rows of a ``custom_holiday AS (…)`` query.

    ``preholiday_days`` and ``postholiday_days`` default to 1 and must be at least 1; a window
    (pre + post + 1 days) is at most 30 days and the same for every occurrence of a holiday.

    Raises:
        InvalidOptionError: a required column is missing, or a value breaks one of those rules.
    """
    missing = [column for column in CALENDAR_COLUMNS[:3] if column not in rows.columns]
    if missing:
        _custom_error(f"has no {missing[0]!r} column; it needs region, holiday_name and primary_date")
    frame = rows.copy()
    for column in CALENDAR_COLUMNS[3:]:
        frame[column] = frame[column].fillna(1) if column in frame else 1
        if (frame[column] < 1).any():
            _custom_error(f"has a {column} below 1; the window around a holiday is at least one day")
    frame["region"] = frame["region"].astype(str).str.upper()
    frame["primary_date"] = pd.to_datetime(frame["primary_date"])
    window = frame["preholiday_days"] + frame["postholiday_days"] + 1
    if (window > 30).any():
        _custom_error("has a holiday window (preholiday_days + postholiday_days + 1) over 30 days")
    if (window.groupby(frame["holiday_name"]).nunique() > 1).any():
        _custom_error("gives one holiday different windows; every occurrence must have the same")
    return frame[list(CALENDAR_COLUMNS)].astype({"preholiday_days": int, "postholiday_days": int})


def holiday_calendar(regions: Sequence[str], years: Iterable[int], custom: pd.DataFrame | None = None) -> pd.DataFrame:
    """The holidays modelled for ``regions``: built-in ones, and custom rows of those regions.

    A custom holiday whose name is also a built-in one replaces that holiday's dates in its region.
    """
    calendar = builtin_calendar(regions, years)
    if custom is None or custom.empty:
        return calendar
    extra = custom_calendar(custom)
    extra = extra[extra["region"].isin(regions)]
    replaced = calendar.set_index(["region", "holiday_name"]).index.isin(extra.set_index(["region", "holiday_name"]).index)
    return pd.concat([calendar[~replaced], extra], ignore_index=True).sort_values("primary_date", kind="stable", ignore_index=True)


def holiday_positions(grid: pd.DatetimeIndex, calendar: pd.DataFrame) -> dict[str, list[tuple[int, int]]]:
    """For each holiday, the (grid position, offset in its window) pairs its windows cover.

    A day maps to the grid point at or before it, so a weekly series' week carries the holidays
    of its seven days. Offsets count from the window's first day; days off the grid are dropped.
    """
    positions: dict[str, list[tuple[int, int]]] = {}
    stamps = grid.as_unit("ns").asi8
    for row in calendar.itertuples(index=False):
        days = pd.date_range(row.primary_date - pd.Timedelta(days=row.preholiday_days), periods=row.preholiday_days + row.postholiday_days + 1).as_unit("ns")
        slots = np.searchsorted(stamps, days.asi8, side="right") - 1
        inside = (slots >= 0) & (days.asi8 <= stamps[-1] + (stamps[-1] - stamps[-2] if len(stamps) > 1 else 0))
        for offset in np.flatnonzero(inside):
            positions.setdefault(row.holiday_name, []).append((int(slots[offset]), int(offset)))
    return positions


def holiday_effects(deviation: np.ndarray, positions: dict[str, list[tuple[int, int]]]) -> dict[str, np.ndarray]:
    """Each holiday's effect on the series, as a component.

    The effect of a day of a holiday's window is the median, over the holiday's occurrences, of
    ``deviation`` (the series minus its trend and seasonality) on that day; medians keep one odd
    year from setting the effect. Where windows of two holidays meet, both effects add up.
    """
    effects = {}
    for name, pairs in positions.items():
        slots, offsets = np.array(pairs).T
        component = np.zeros_like(deviation)
        for offset in np.unique(offsets):
            at = slots[offsets == offset]
            component[at] += float(np.median(deviation[at]))
        effects[name] = component
    return effects


def _region_rows(region: str, years: tuple[int, ...]) -> list[tuple]:
    if region == "GLOBAL":
        return [("GLOBAL", name, day) for day, name in _global_holidays(years)]
    codes = REGION_GROUPS.get(region, (region,))
    return [(region, name, day) for code in codes for day, name in _country_holidays(code, years)]


@functools.lru_cache(maxsize=256)
def _country_holidays(code: str, years: tuple[int, ...]) -> tuple[tuple[pd.Timestamp, str], ...]:
    # (date, name) pairs, a date with two holidays giving two pairs.
    import holidays  # noqa: PLC0415 - imported when a model asks for holidays

    calendar = holidays.country_holidays(code, years=years, language="en_US")
    return tuple((pd.Timestamp(day), BIGQUERY_NAMES.get(name, name)) for day in sorted(calendar) for name in calendar.get_list(day))


@functools.lru_cache(maxsize=64)
def _global_holidays(years: tuple[int, ...]) -> tuple[tuple[pd.Timestamp, str], ...]:
    # The days that are a holiday in at least GLOBAL_SHARE of the countries, with their commonest name.
    countries: Counter = Counter()
    names: dict[pd.Timestamp, Counter] = {}
    for code in COUNTRIES:
        first_name = dict(reversed(_country_holidays(code, years)))  # one name per day and country
        countries.update(first_name.keys())
        for day, name in first_name.items():
            names.setdefault(day, Counter())[name] += 1
    needed = GLOBAL_SHARE * len(COUNTRIES)
    return tuple((day, names[day].most_common(1)[0][0]) for day in sorted(countries) if countries[day] >= needed)


def _calendar_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(CALENDAR_COLUMNS[:3]))
    frame["primary_date"] = pd.to_datetime(frame["primary_date"])
    frame["preholiday_days"] = BUILTIN_PREHOLIDAY_DAYS
    frame["postholiday_days"] = BUILTIN_POSTHOLIDAY_DAYS
    return frame


def _custom_error(problem: str) -> None:
    raise InvalidOptionError(
        f"The custom_holiday query of CREATE MODEL (model_type='ARIMA_PLUS') {problem}. "
        "Fix the rows of the custom_holiday AS (...) query.",
        option="custom_holiday",
    )
