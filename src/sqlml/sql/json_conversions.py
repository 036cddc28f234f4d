"""BigQuery's JSON_TYPE and JSON converters, written as DuckDB SQL over DuckDB's JSON values.

* JSON_TYPE names the outermost JSON type as BigQuery does: ``object``, ``array``, ``string``,
  ``number``, ``boolean`` or ``null`` (DuckDB's JSON_TYPE gave ``OBJECT``, ``UBIGINT``, ``VARCHAR``…).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_type
* FLOAT64, BOOL and STRING of a JSON value: its number, boolean or string (FLOAT64 was "Unknown
  function float64", BOOL "Unknown function j_s_o_n_bool", STRING kept the string's quotes).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#float64_for_json
* LAX_INT64, LAX_FLOAT64, LAX_BOOL and LAX_STRING convert what they can and give NULL for the rest:
  numbers from numeric strings and booleans, booleans from 'true' / 'false' in any case and from
  numbers (non-zero is TRUE), strings from numbers and booleans (DuckDB has none of them).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#lax_int64
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.sql.generator_fixes import operands_once

#: DuckDB's JSON_TYPE names of JSON numbers.
_NUMBERS = ("BIGINT", "UBIGINT", "HUGEINT", "DOUBLE")


def _by_json_type(value: str, cases: dict[str, str]) -> str:
    # CASE JSON_TYPE(v) WHEN … : one rendering per DuckDB JSON type; the others (and SQL NULL) NULL
    whens = " ".join(f"WHEN '{name}' THEN {result}" for name, result in cases.items())
    return f"CASE JSON_TYPE({value}) {whens} END"


def _numbers(result: str) -> dict[str, str]:
    return dict.fromkeys(_NUMBERS, result)


def _json_type(value: str) -> str:
    names = {"OBJECT": "'object'", "ARRAY": "'array'", "VARCHAR": "'string'", "BOOLEAN": "'boolean'", "NULL": "'null'"}
    return _by_json_type(value, {**names, **_numbers("'number'")})


def _text(value: str) -> str:
    return f"JSON_EXTRACT_STRING({value}, '$')"


def _lax_int64(value: str) -> str:
    # a fraction rounds half away from zero (DuckDB's ROUND of a DOUBLE); out of range is NULL
    rounded = lambda number: f"TRY_CAST(ROUND({number}) AS BIGINT)"  # noqa: E731
    return _by_json_type(value, {
        "BOOLEAN": f"CAST(CAST({value} AS BOOLEAN) AS BIGINT)",
        "VARCHAR": rounded(f"TRY_CAST(TRIM({_text(value)}) AS DOUBLE)"),
        "BIGINT": f"CAST({value} AS BIGINT)",
        **dict.fromkeys(("UBIGINT", "HUGEINT", "DOUBLE"), rounded(f"CAST({value} AS DOUBLE)")),
    })  # fmt: skip


def _lax_float64(value: str) -> str:
    return _by_json_type(value, {"VARCHAR": f"TRY_CAST(TRIM({_text(value)}) AS DOUBLE)", **_numbers(f"CAST({value} AS DOUBLE)")})


def _lax_bool(value: str) -> str:
    word = f"LOWER({_text(value)})"
    return _by_json_type(value, {
        "BOOLEAN": f"CAST({value} AS BOOLEAN)",
        "VARCHAR": f"CASE {word} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END",
        **_numbers(f"CAST({value} AS DOUBLE) <> 0"),
    })  # fmt: skip


def _lax_string(value: str) -> str:
    return _by_json_type(value, {"VARCHAR": _text(value), "BOOLEAN": f"CAST({value} AS VARCHAR)", **_numbers(f"CAST({value} AS VARCHAR)")})


def _rendering(render):
    # each renders its operand several times: bound once when it holds a call that can repeat
    return lambda self, node: operands_once(self, node, lambda self, call: render(self.sql(call, "this")))


#: Nodes that make a JSON value, which STRING(x) converts as one.
_JSON = (exp.ParseJSON, exp.JSONExtract, exp.JSONObject, exp.JSONArray)


def _of_json(render, base):
    # STRING(x) is also STRING(timestamp [, zone]): a JSON operand the tree shows is converted here
    is_json = lambda node: isinstance(node, _JSON) or node.is_type(exp.DType.JSON)  # noqa: E731
    return lambda self, node: render(self, node) if is_json(node.this) else base(self, node)


def _refused(name: str):
    # sqlglot wrote these as DuckDB functions that do not exist or mean something else; the
    # generator's unsupported level (sqlml.sql.transpile) makes this a clear error
    return lambda self, node: self.unsupported(f"{name} is not supported yet") or "NULL"


def _json_format(base):
    # TO_JSON_STRING(x, pretty_print): DuckDB's TO_JSON takes no second argument
    def render(self, node: exp.JSONFormat) -> str:
        pretty = node.args.get("options")
        if pretty is None or pretty == exp.false():
            node = node.copy()
            node.set("options", None)
            return base(self, node)
        return _refused("TO_JSON_STRING with pretty_print")(self, node)

    return render


def json_conversions(transforms) -> dict[type, object]:
    """Generator TRANSFORMS for the functions above, over ``transforms`` (STRING of a non-JSON value
    keeps its rendering there).

    Args:
        transforms: the generator's TRANSFORMS these are merged over.

    Returns:
        The transforms to merge.
    """
    return {
        exp.JSONType: _rendering(_json_type),
        exp.Float64: _rendering(lambda value: f"CAST({value} AS DOUBLE)"),
        exp.JSONBool: _rendering(lambda value: f"CAST({value} AS BOOLEAN)"),
        exp.String: _of_json(_rendering(_text), transforms[exp.String]),
        exp.LaxInt64: _rendering(_lax_int64),
        exp.LaxFloat64: _rendering(_lax_float64),
        exp.LaxBool: _rendering(_lax_bool),
        exp.LaxString: _rendering(_lax_string),
        exp.JSONKeysAtDepth: _refused("JSON_KEYS"),
        exp.JSONArrayAppend: _refused("JSON_ARRAY_APPEND"),
        exp.JSONArrayInsert: _refused("JSON_ARRAY_INSERT"),
        exp.JSONFormat: _json_format(transforms[exp.JSONFormat]),
    }
