"""BigQuery's GEOGRAPHY type and ST_* functions, mapped onto sqlml's built-in geography macros.

A GEOGRAPHY column is VARCHAR holding canonical WKT (see :mod:`sqlml.warehouse.geography`), and each
supported ST_* call becomes a call of its macro, with BigQuery's optional arguments filled in
(``use_spheroid`` defaults to FALSE).
https://cloud.google.com/bigquery/docs/reference/standard-sql/geography_functions
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.sql.duckdb_names import GEOGRAPHY
from sqlml.errors import SqlTypeError, UnsupportedStatementError
from sqlml.sql.templates import build

# Positional arguments each function takes (fewest, most) and the defaults of optional ones.
_ARITY = {
    "ST_GEOGPOINT": (2, 2), "ST_GEOGFROMTEXT": (1, 1), "ST_ASTEXT": (1, 1), "ST_X": (1, 1), "ST_Y": (1, 1),
    "ST_DISTANCE": (2, 3), "ST_DWITHIN": (3, 4), "ST_SNAPTOGRID": (2, 2),
}  # fmt: skip
_DEFAULTS = {"ST_DISTANCE": [exp.false()], "ST_DWITHIN": [exp.false()]}


#: The DuckDB type of a GEOGRAPHY value (canonical WKT); :mod:`sqlml.sql.compat` maps the type.
STORAGE_TYPE = exp.DType.VARCHAR


def geography(tree: exp.Expression) -> exp.Expression:
    """ST_* calls become calls of sqlml's macros."""
    # innermost calls first: an outer call copies its arguments, which must already be replaced
    for call in reversed(list(tree.find_all(exp.Anonymous, exp.StDistance, bfs=False))):
        name = "ST_DISTANCE" if isinstance(call, exp.StDistance) else call.name.upper()
        if name in GEOGRAPHY:
            call.replace(_macro_call(name, _arguments(call)))
        elif name.startswith("ST_"):
            raise UnsupportedStatementError(
                f"{name} is not supported yet",
                hint=f"sqlml's geography functions: {', '.join(sorted(GEOGRAPHY))}.",
            )
    return tree


def _arguments(call: exp.Expression) -> list[exp.Expression]:
    if isinstance(call, exp.StDistance):
        return [a for a in (call.this, call.expression, call.args.get("use_spheroid")) if a is not None]
    # ST_GEOGFROMTEXT(wkt, oriented => …, make_valid => …): the named options do not change how
    # sqlml reads the text (it does not orient polygons), so they are accepted and left out.
    return [a for a in call.expressions if not isinstance(a, (exp.Kwarg, exp.PropertyEQ))]


def _macro_call(name: str, arguments: list[exp.Expression]) -> exp.Expression:
    low, high = _ARITY[name]
    if not low <= len(arguments) <= high:
        expected = str(low) if low == high else f"{low} to {high}"
        raise SqlTypeError(f"No matching signature for function {name}: it takes {expected} arguments; got {len(arguments)}.")
    arguments = arguments + _DEFAULTS.get(name, [])[len(arguments) - low :]
    placeholders = ", ".join(f"__p_{index}" for index in range(len(arguments)))
    return build(f"{GEOGRAPHY[name]}({placeholders})", **{str(index): a for index, a in enumerate(arguments)})
