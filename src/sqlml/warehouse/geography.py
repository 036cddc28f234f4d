"""BigQuery's GEOGRAPHY basics on DuckDB without its spatial extension (which cannot be installed
offline): a GEOGRAPHY value is its canonical WKT text, as BigQuery prints it.

https://cloud.google.com/bigquery/docs/reference/standard-sql/geography_functions — installed here
as macros in the instance's ``memory`` catalog (:data:`MACROS`, called by the SQL that
:mod:`sqlml.sql.geography` writes) over vectorized (Arrow) UDFs:

* ``ST_GEOGPOINT(longitude, latitude)``: latitude must lie in [-90, 90] (an error otherwise, as
  BigQuery's), longitude is taken modulo 360 into [-180, 180];
* ``ST_GEOGFROMTEXT(wkt)`` and ``ST_ASTEXT(g)``: POINT, LINESTRING, POLYGON, their MULTI forms and
  GEOMETRYCOLLECTION read and written back in BigQuery's spelling (``POINT(1 2)``, ``LINESTRING(1 2,
  3 4)``; any empty geography is ``GEOMETRYCOLLECTION EMPTY``); bad text is an error naming it;
* ``ST_X(point)`` / ``ST_Y(point)``;
* ``ST_DISTANCE(a, b)`` and ``ST_DWITHIN(a, b, meters)`` between points: the great-circle distance
  on a sphere of radius :data:`EARTH_RADIUS_METERS`, the radius of Google's S2 library
  (``S2Earth::RadiusMeters()``) that BigQuery computes with: its documented
  ``ST_DISTANCE(ST_GEOGPOINT(139.7454316, 35.658584), ST_GEOGPOINT(139.8108103, 35.7100069))`` is
  8219.632821167155 m, which this radius gives (6371008.8 m gives 8219.6313). An empty geography
  gives NULL; ``use_spheroid => TRUE`` is refused, as BigQuery refuses it.
* ``ST_SNAPTOGRID(point, grid_size)``: the point with its longitude and latitude rounded to the
  grid, whose size BigQuery rounds to 10^n degrees, -10 < n < 0 (points only here: the BigQuery ML
  courses snap pickup and dropoff points so, to cross them as a feature).

Every function returns NULL when an argument is NULL, as all of BigQuery's geography functions do.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb
from duckdb import sqltypes

if TYPE_CHECKING:  # imported where used: a connection installs these functions only when a statement calls one
    import numpy as np
    import pyarrow as pa
    from numpy.typing import ArrayLike

# The macro each BigQuery function name calls, named where the SQL front end writes it.
from sqlml.sql.duckdb_names import GEOGRAPHY as MACROS

#: Sphere radius of BigQuery's (S2's) spherical distances, in meters.
EARTH_RADIUS_METERS = 6371010.0
#: The functions among them whose result is a GEOGRAPHY.
RETURNS_GEOGRAPHY = ("ST_GEOGPOINT", "ST_GEOGFROMTEXT")
EMPTY = "GEOMETRYCOLLECTION EMPTY"

# Tokens of WKT text (data, never SQL): a word, a bracket, a comma or a number.
_TOKEN = re.compile(r"\s*(?:([A-Za-z]+)|([(),])|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))")
_POINT = r"(?i)^\s*POINT\s*\(\s*(?P<x>[-+0-9.eE]+)\s+(?P<y>[-+0-9.eE]+)\s*\)\s*$"
_TYPES = ("POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION")


class WktError(ValueError):
    """Text that is not a geography sqlml reads."""


# -- numbers and points ----------------------------------------------------------------------


def number_text(value: float) -> str:
    """A coordinate as BigQuery prints it: the shortest text that reads back the same, no ``.0``."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def normalized_longitude(longitude: np.ndarray) -> np.ndarray:
    """Longitudes taken into [-180, 180] (IEEE remainder by 360, as S2 normalizes them)."""
    import numpy as np

    return longitude - 360.0 * np.round(longitude / 360.0)


def points(longitude: pa.Array, latitude: pa.Array) -> pa.Array:
    """``POINT(lon lat)`` texts; the SQL macro has already refused latitudes outside [-90, 90]."""
    import pyarrow as pa

    lon = normalized_longitude(longitude.to_numpy(zero_copy_only=False).astype(float))
    lat = latitude.to_numpy(zero_copy_only=False).astype(float)
    valid = ~(longitude.is_null().to_numpy(zero_copy_only=False) | latitude.is_null().to_numpy(zero_copy_only=False))
    texts = [f"POINT({number_text(x)} {number_text(y)})" if ok else None for x, y, ok in zip(lon, lat, valid)]
    return pa.array(texts, pa.string())


def coordinates(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(longitudes, latitudes) of point texts; NaN where a value is NULL or not one point."""
    import pyarrow.compute as pc  # here: importing it costs 30 ms, and `import sqlml` reaches this module

    x, y = pc.extract_regex(values, pattern=_POINT).flatten()  # a NULL or non-matching row is NULL in both
    return _floats(x), _floats(y)


def _floats(texts: pa.Array) -> np.ndarray:
    import numpy as np
    import pyarrow as pa

    try:
        return texts.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(float)
    except pa.ArrowInvalid:  # a malformed number: read them one by one
        return np.array([_float_or_nan(t) for t in texts.to_pylist()], float)


def _float_or_nan(text: str | None) -> float:
    try:
        return float(text) if text is not None else math.nan
    except ValueError:
        return math.nan


def central_angles(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> np.ndarray:
    """Angles (radians) between points given in degrees: atan2(|a × b|, a · b) of their unit
    vectors, accurate for near and antipodal points alike."""
    import numpy as np

    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, float)) for v in (lon1, lat1, lon2, lat2))
    a = np.stack([np.cos(lat1) * np.cos(lon1), np.cos(lat1) * np.sin(lon1), np.sin(lat1)])
    b = np.stack([np.cos(lat2) * np.cos(lon2), np.cos(lat2) * np.sin(lon2), np.sin(lat2)])
    return np.arctan2(np.linalg.norm(np.cross(a, b, axis=0), axis=0), np.sum(a * b, axis=0))


# -- WKT -------------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """BigQuery's WKT for a geography written as WKT.

    Raises:
        WktError: the text is not WKT of a supported type, or a latitude is out of range.
    """
    tokens = _tokens(text)
    shape = _geometry(tokens)
    if tokens:
        raise WktError(f"unexpected '{tokens[0]}' after the geography")
    return _write(shape)


def _tokens(text: str) -> deque[str]:
    tokens, position = deque(), 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise WktError(f"unexpected character '{text[position:].strip()[:1]}'")
        tokens.append(match.group(match.lastindex))
        position = match.end()
    return tokens


def _take(tokens: deque[str], expected: str | None = None) -> str:
    if not tokens:
        raise WktError(f"expected {expected or 'more text'} at the end")
    token = tokens.popleft()
    if expected is not None and token.upper() != expected:
        raise WktError(f"expected '{expected}' but found '{token}'")
    return token


def _geometry(tokens: deque[str]) -> tuple[str, object]:
    kind = _take(tokens, None).upper()
    if kind not in _TYPES:
        raise WktError(f"unknown geography type '{kind}'")
    if tokens and tokens[0].upper() == "EMPTY":
        tokens.popleft()
        return kind, None
    _take(tokens, "(")
    if kind == "GEOMETRYCOLLECTION":
        body = _list(tokens, lambda: _geometry(tokens))
    else:
        depth = {"POINT": 0, "LINESTRING": 1, "MULTIPOINT": 1, "POLYGON": 2, "MULTILINESTRING": 2, "MULTIPOLYGON": 3}[kind]
        body = _coordinates(tokens, depth) if depth else _point(tokens)
    _take(tokens, ")")
    _check(kind, body)
    return kind, body


def _list(tokens: deque[str], item) -> list:
    items = [item()]
    while tokens and tokens[0] == ",":
        tokens.popleft()
        items.append(item())
    return items


def _coordinates(tokens: deque[str], depth: int) -> list:
    if depth == 1:
        # MULTIPOINT((1 2), (3 4)) and MULTIPOINT(1 2, 3 4) are both WKT
        return _list(tokens, lambda: _bracketed_point(tokens) if tokens and tokens[0] == "(" else _point(tokens))
    return _list(tokens, lambda: _bracketed(tokens, depth - 1))


def _bracketed(tokens: deque[str], depth: int) -> list:
    _take(tokens, "(")
    items = _coordinates(tokens, depth)
    _take(tokens, ")")
    return items


def _bracketed_point(tokens: deque[str]) -> tuple[float, float]:
    _take(tokens, "(")
    point = _point(tokens)
    _take(tokens, ")")
    return point


def _point(tokens: deque[str]) -> tuple[float, float]:
    try:
        x, y = float(_take(tokens)), float(_take(tokens))
    except ValueError:
        raise WktError("expected two numbers for a point") from None
    if not (math.isfinite(x) and math.isfinite(y)) or not -90.0 <= y <= 90.0:
        raise WktError(f"latitude {number_text(y)} is not between -90 and 90 degrees")
    return x - 360.0 * round(x / 360.0), y  # normalized_longitude of one value (both round half to even)


def _check(kind: str, body) -> None:
    lines = [body] if kind == "LINESTRING" else body if kind == "MULTILINESTRING" else []
    if any(len(line) < 2 for line in lines):
        raise WktError("a linestring needs at least two points")
    rings = body if kind == "POLYGON" else [ring for polygon in body for ring in polygon] if kind == "MULTIPOLYGON" else []
    if any(len(ring) < 4 or ring[0] != ring[-1] for ring in rings):
        raise WktError("a polygon ring needs at least four points and must end where it starts")


def _write(shape: tuple[str, object]) -> str:
    kind, body = shape
    if body is None or (kind == "GEOMETRYCOLLECTION" and all(part[1] is None for part in body)):
        return EMPTY
    if kind == "GEOMETRYCOLLECTION":
        return f"GEOMETRYCOLLECTION({', '.join(_write(part) for part in body if part[1] is not None)})"
    return f"{kind}{_body(body)}"


def _body(body) -> str:
    if isinstance(body, tuple):
        return f"({number_text(body[0])} {number_text(body[1])})"
    if body and isinstance(body[0], tuple):
        return "(" + ", ".join(f"{number_text(x)} {number_text(y)}" for x, y in body) + ")"
    return "(" + ", ".join(_body(part) for part in body) + ")"


# -- UDFs ------------------------------------------------------------------------------------


def normalized(values: pa.Array) -> pa.Array:
    """Canonical WKT of each text; NULL for NULL and for text that is not a geography (the SQL
    macro turns the latter into an error naming the text)."""
    import pyarrow as pa

    out = []
    for text in values.to_pylist():
        try:
            out.append(None if text is None else normalize(text))
        except WktError:
            out.append(None)
    return pa.array(out, pa.string())


def wkt_problems(values: pa.Array) -> pa.Array:
    """Why each text is not a geography (NULL when it is one), for the error message."""
    import pyarrow as pa

    out = []
    for text in values.to_pylist():
        try:
            out.append(None if text is None else (normalize(text) and None))
        except WktError as error:
            out.append(str(error))
    return pa.array(out, pa.string())


def point_x(values: pa.Array) -> pa.Array:
    """Longitude of each point (NULL for NULL or non-points)."""
    return _nullable(coordinates(values)[0])


def point_y(values: pa.Array) -> pa.Array:
    """Latitude of each point (NULL for NULL or non-points)."""
    return _nullable(coordinates(values)[1])


def distances(a: pa.Array, b: pa.Array) -> pa.Array:
    """Meters between the points of ``a`` and ``b`` (NULL unless both are points)."""
    lon1, lat1 = coordinates(a)
    lon2, lat2 = coordinates(b)
    return _nullable(central_angles(lon1, lat1, lon2, lat2) * EARTH_RADIUS_METERS)


def _nullable(values: np.ndarray) -> pa.Array:
    import numpy as np
    import pyarrow as pa

    return pa.array(values, pa.float64(), mask=np.isnan(values))


_UDFS = (
    ("sqlml_geog_point", points, [sqltypes.DOUBLE, sqltypes.DOUBLE], sqltypes.VARCHAR),
    ("sqlml_geog_normalize", normalized, [sqltypes.VARCHAR], sqltypes.VARCHAR),
    ("sqlml_geog_problem", wkt_problems, [sqltypes.VARCHAR], sqltypes.VARCHAR),
    ("sqlml_geog_x", point_x, [sqltypes.VARCHAR], sqltypes.DOUBLE),
    ("sqlml_geog_y", point_y, [sqltypes.VARCHAR], sqltypes.DOUBLE),
    ("sqlml_geog_distance", distances, [sqltypes.VARCHAR, sqltypes.VARCHAR], sqltypes.DOUBLE),
)

# Each macro keeps BigQuery's NULL rule (NULL in, NULL out) and BigQuery's errors.
_MACRO_BODIES = {
    "ST_GEOGPOINT": "(lon, lat) AS CASE WHEN lon IS NULL OR lat IS NULL THEN NULL "
    "WHEN isnan(CAST(lat AS DOUBLE)) OR CAST(lat AS DOUBLE) NOT BETWEEN -90 AND 90 "
    "THEN error('ST_GeogPoint failed: Latitude must be between -90 and 90 degrees; got ' || CAST(lat AS VARCHAR)) "
    "ELSE sqlml_geog_point(CAST(lon AS DOUBLE), CAST(lat AS DOUBLE)) END",
    "ST_GEOGFROMTEXT": "(g) AS CASE WHEN g IS NULL THEN NULL ELSE coalesce(sqlml_geog_normalize(g), "
    "error('ST_GeogFromText failed: ' || sqlml_geog_problem(g) || ' in ''' || g || '''')) END",
    "ST_ASTEXT": "(g) AS CASE WHEN g IS NULL THEN NULL ELSE coalesce(sqlml_geog_normalize(g), "
    "error('ST_AsText failed: ' || sqlml_geog_problem(g) || ' in ''' || g || '''')) END",
    "ST_X": "(g) AS CASE WHEN g IS NULL THEN NULL ELSE coalesce(sqlml_geog_x(g), "
    "error('ST_X failed: the argument must be a point; got ''' || g || '''')) END",
    "ST_Y": "(g) AS CASE WHEN g IS NULL THEN NULL ELSE coalesce(sqlml_geog_y(g), "
    "error('ST_Y failed: the argument must be a point; got ''' || g || '''')) END",
    "ST_DISTANCE": "(a, b, use_spheroid) AS CASE WHEN a IS NULL OR b IS NULL OR use_spheroid IS NULL THEN NULL "
    "WHEN use_spheroid THEN error('ST_DISTANCE: use_spheroid currently only supports the value FALSE') "
    f"WHEN a = '{EMPTY}' OR b = '{EMPTY}' THEN NULL "
    "ELSE coalesce(sqlml_geog_distance(a, b), error('ST_DISTANCE in sqlml measures between points only; got '''"
    " || a || ''' and ''' || b || '''')) END",
    "ST_DWITHIN": f"(a, b, meters, use_spheroid) AS {MACROS['ST_DISTANCE']}(a, b, use_spheroid) <= meters",
    # the grid size is rounded to 10^n, -10 < n < 0 (BigQuery's rule): a point's coordinates round to -n digits
    "ST_SNAPTOGRID": f"(g, grid) AS CASE WHEN g IS NULL OR grid IS NULL THEN NULL WHEN g = '{EMPTY}' THEN g "
    "WHEN sqlml_geog_x(g) IS NULL THEN error('ST_SNAPTOGRID in sqlml snaps points only; got ''' || g || '''') "
    "ELSE sqlml_geog_point(round(sqlml_geog_x(g), least(9, greatest(1, CAST(-round(log10(grid)) AS INTEGER)))), round(sqlml_geog_y(g), least(9, greatest(1, CAST(-round(log10(grid)) AS INTEGER))))) END",
}


def _unannotated(function: Callable, arity: int) -> Callable:
    """``function`` without annotations, which DuckDB reads when registering it (their types are
    not imported here); DuckDB checks the parameter count, so no ``*args``."""
    if arity == 1:
        return lambda values: function(values)
    return lambda a, b: function(a, b)


def install(db: duckdb.DuckDBPyConnection) -> None:
    """Register the UDFs and BigQuery's ST_* macros on the DuckDB instance ``db``."""
    options = {"type": "arrow", "null_handling": "special", "side_effects": False}
    for name, function, parameters, returns in _UDFS:
        db.create_function(name, _unannotated(function, len(parameters)), parameters, returns, **options)
    for name, body in _MACRO_BODIES.items():
        db.execute(f"CREATE OR REPLACE MACRO {MACROS[name]}{body}")
