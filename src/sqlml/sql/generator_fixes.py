"""How sqlml's DuckDB generator renders the BigQuery functions whose sqlglot rendering has
another meaning in DuckDB, or no DuckDB twin.

:data:`GENERATOR_FIXES` is merged into the ``TRANSFORMS`` of
:class:`~sqlml.sql.dialect.BigQueryOnDuckdb`'s generator; tree-level fixes that need context are
:data:`sqlml.sql.compat.TREE_FIXES`. Each fix is proven by ``tests/sql/test_bigquery_compat.py``.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

from sqlml.sql.duckdb_names import FARM_FINGERPRINT
from sqlml.sql.literal_text import composite_text, literal_text
from sqlml.sql.messages import ARRAY_OUT_OF_BOUNDS
from sqlml.sql.subscripts import BARE
from sqlml.sql.window_keys import UNCHECKED


def _count_if(self, node: exp.CountIf) -> str:
    # COUNTIF is INT64 on BigQuery; DuckDB's count_if is HUGEINT.
    return f"CAST(COUNT_IF({self.sql(node, 'this')}) AS BIGINT)"


def _generate_array(self, node: exp.GenerateSeries) -> str:
    # GENERATE_ARRAY(start, end[, step]) with FLOAT64 bounds: DuckDB's range() takes integers only.
    step_node = node.args.get("step")
    if isinstance(step_node, exp.Interval) or not _is_number(node.args.get("start")) or not _is_number(node.args.get("end")):
        return _DEFAULT_SERIES(self, node)
    return operands_once(self, node, _numeric_series)


def _numeric_series(self, node: exp.GenerateSeries) -> str:
    start, end = self.sql(node, "start"), self.sql(node, "end")
    step = self.sql(node, "step") or "1"
    return (
        f"LIST_TRANSFORM(RANGE(0, CAST(FLOOR(({end} - {start}) / {step} + 1e-9) AS BIGINT) + 1), "
        f"LAMBDA __i : {start} + __i * {step})"
    )


def _is_number(node) -> bool:
    """A numeric literal, or a value (column, expression) that is not a date literal."""
    if isinstance(node, exp.Cast):
        return node.to.is_type(*exp.DataType.NUMERIC_TYPES)
    if isinstance(node, exp.Literal):
        return not node.is_string
    return isinstance(node, (exp.Column, exp.Binary, exp.Neg, exp.Paren)) and not isinstance(node, exp.Interval)


def duckdb_rendering(node_type: type[exp.Expression]):
    """sqlglot's own DuckDB rendering of ``node_type``, as ``render(generator, node)``."""
    transform = DuckDB.Generator.TRANSFORMS.get(node_type)
    if transform is not None:
        return transform
    return getattr(DuckDB.Generator, f"{node_type.key}_sql", DuckDB.Generator.function_fallback_sql)


def rendering_in(transforms, node_type: type[exp.Expression]):
    """``transforms``' rendering of ``node_type`` (a generator's TRANSFORMS a fix is merged over),
    else sqlglot's DuckDB one: what a fix falls back on for the forms it leaves as they are."""
    return transforms.get(node_type) or duckdb_rendering(node_type)


_DEFAULT_SERIES = duckdb_rendering(exp.GenerateSeries)  # dates, intervals


def _conversions(pattern: str) -> list[str]:
    """The conversion letters of a printf pattern, in order (``%%`` is not one)."""
    letters, position = [], 0
    while position < len(pattern) - 1:
        if pattern[position] == "%":
            end = position + 1
            if pattern[end] == "%":
                position = end + 1
                continue
            while end < len(pattern) and not pattern[end].isalpha():
                end += 1
            if end < len(pattern):
                letters.append(pattern[end])
            position = end + 1
        else:
            position += 1
    return letters


def _format(self, node: exp.Format) -> str:
    # BigQuery's FORMAT is printf-style (DuckDB's FORMAT is not); %t prints any value as text,
    # NULL as 'NULL', %T as a literal (sqlml.sql.literal_text). https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#format_string
    pattern = node.this
    args = [self.sql(a) for a in node.expressions]
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return f"PRINTF({', '.join([self.sql(pattern), *args])})"
    for index, letter in enumerate(_conversions(pattern.this)):
        if letter == "t" and index < len(args):
            args[index] = f"COALESCE(CAST({args[index]} AS VARCHAR), 'NULL')"
        elif letter == "T" and index < len(args):
            value = node.expressions[index]
            args[index] = composite_text(value, args[index], self.sql) or literal_text(value, args[index])
    text = pattern.this.replace("%t", "%s").replace("%T", "%s")
    return f"PRINTF({', '.join([self.sql(exp.Literal.string(text)), *args])})"


def _approx_top_count(self, node: exp.ApproxTopK) -> str:
    # APPROX_TOP_COUNT(x, k) is ARRAY<STRUCT<value, count INT64>>, most frequent first (exact
    # here); sqlglot's DuckDB twin returns the values alone. It "doesn't ignore NULLs in the input"
    # (NULL is a value with its count), which DuckDB's histogram skips; NULL for no rows.
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/approximate_aggregate_functions#approx_top_count
    value = self.sql(node, "this")
    counts = f"list_transform(map_entries(histogram({value})), LAMBDA __e : {{'count': CAST(__e.value AS BIGINT), 'value': __e.key}})"
    nulls = f"CAST(COUNT_IF({value} IS NULL) AS BIGINT)"
    with_nulls = f"list_concat({counts}, CASE WHEN {nulls} > 0 THEN [{{'count': {nulls}, 'value': NULL}}] END)"
    by_count = f"list_reverse_sort({with_nulls})"
    top = f"list_slice({by_count}, 1, {self.sql(node, 'expression')})"
    return f"CASE WHEN COUNT(*) > 0 THEN list_transform({top}, LAMBDA __e : {{'value': __e.value, 'count': __e.count}}) END"


_BYTES_TYPES = (exp.DType.BINARY, exp.DType.VARBINARY, exp.DType.BLOB)


def _byte_length(self, node: exp.ByteLength) -> str:
    # BYTE_LENGTH of a STRING counts its UTF-8 bytes (DuckDB's STRLEN), of BYTES its bytes
    # (OCTET_LENGTH); neither DuckDB function takes the other type, so a value whose type the tree
    # does not tell is dispatched on at run time. sqlglot's LENGTH hands BYTES here as a cast.
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#byte_length
    value = node.this
    if value.is_type(*_BYTES_TYPES):
        return f"OCTET_LENGTH({self.sql(value)})"
    if value.is_string or value.is_type(*exp.DataType.TEXT_TYPES):
        return f"STRLEN({self.sql(value)})"
    text = self.sql(value)
    return f"CASE TYPEOF({text}) WHEN 'BLOB' THEN OCTET_LENGTH(CAST({text} AS BLOB)) ELSE STRLEN(CAST({text} AS VARCHAR)) END"


def _checked_division(self, node: exp.Div) -> str:
    """BigQuery's ``a / b`` fails on ``b = 0`` ("division by zero"); DuckDB gives inf. SAFE_DIVIDE
    and IEEE_DIVIDE stay the forgiving ones. A NULL divisor still gives NULL."""
    if node.args.get("safe") or node.meta.get("ieee") or node.meta.get(UNCHECKED):
        return self.div_sql(node)
    return operands_once(self, node, _division_case)


def _division_case(self, node: exp.Div) -> str:
    # Each operand is generated through this fix again when it is a division itself (div_sql
    # would render a chain a / b / c without checking a / b: 1 / 0 / 2 gave inf).
    numerator, denominator = self.sql(node, "this"), self.sql(node, "expression")
    message = f"'division by zero: ' || CAST({numerator} AS VARCHAR) || ' / ' || CAST({denominator} AS VARCHAR)"
    quotient = f"{numerator} / {denominator}"
    if _is_numeric_division(node):
        quotient = f"CAST({quotient} AS DECIMAL(38, 9))"
    return f"CASE WHEN {denominator} = 0 THEN error({message}) ELSE {quotient} END"


def _is_numeric_division(node: exp.Div) -> bool:
    # NUMERIC / NUMERIC and NUMERIC / INT64 are NUMERIC in BigQuery (a FLOAT64 operand makes it
    # FLOAT64); DuckDB divides decimals as doubles, so the quotient is cast back.
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#arithmetic_operators
    operands = (node.this, node.expression)
    return any(operand.is_type(exp.DataType.Type.DECIMAL) for operand in operands) and all(
        operand.is_type(exp.DataType.Type.DECIMAL, *exp.DataType.INTEGER_TYPES) for operand in operands
    )


# -- math functions that fail in BigQuery -----------------------------------------------------

#: BigQuery's math functions that raise an error where DuckDB returns NaN or ±inf, by the name
#: their message gives them. ZetaSQL's rule (zetasql/public/functions/math.h): a result that is not
#: finite from finite operands is a "Floating point error" (an "overflow" for COSH, SINH and TAN);
#: SQRT fails on any negative operand. NULL and NaN operands give NULL and NaN, as before.
#: https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions
CHECKED_MATH = {
    exp.Ln: "LN", exp.Log: "LOG", exp.Exp: "EXP", exp.Pow: "POW", exp.Sqrt: "SQRT", exp.Acos: "ACOS",
    exp.Asin: "ASIN", exp.Acosh: "ACOSH", exp.Atanh: "ATANH", exp.Cot: "COT", exp.Cosh: "COSH", exp.Sinh: "SINH",
    exp.Tan: "TAN",
}  # fmt: skip
_OVERFLOWING = (exp.Cosh, exp.Sinh, exp.Tan)


def _math_case(self, node: exp.Expression, safe: bool = False) -> str:
    # sqlglot's own rendering, computed once more for the check; under SAFE. the failure is NULL
    result = duckdb_rendering(type(node))(self, node)
    name = CHECKED_MATH[type(node)]
    # BigQuery's LOG(X, Y) is sqlglot's Log(this=Y, expression=X)
    operands = [node.expression, node.this] if isinstance(node, exp.Log) and node.expression else [node.this, node.expression]
    texts = [self.sql(operand) for operand in operands if operand is not None]
    if isinstance(node, exp.Sqrt):
        failed, message = f"{texts[0]} < 0", f"'Argument to SQRT cannot be negative: ' || CAST({texts[0]} AS VARCHAR)"
    else:
        failed = f"NOT isfinite({result}) AND " + " AND ".join(f"isfinite({text})" for text in texts)
        kind = "overflow" if isinstance(node, _OVERFLOWING) else "error"
        listed = " || ', ' || ".join(f"CAST({text} AS VARCHAR)" for text in texts)
        message = f"'Floating point {kind} in function: {name}(' || {listed} || ')'"
    return f"CASE WHEN {failed} THEN {'NULL' if safe else f'error({message})'} ELSE {result} END"


def _safe_call(self, node: exp.SafeFunc) -> str:
    """``SAFE.f(…)``: NULL where f itself fails; errors of its arguments still raise, as in BigQuery.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/functions-reference#safe_prefix —
    "The SAFE. prefix only prevents errors from the prefixed function itself: it doesn't prevent
    errors that occur while evaluating argument expressions."
    """
    function = node.this
    if type(function) in CHECKED_MATH:
        return operands_once(self, function, lambda self, f: _math_case(self, f, safe=True))
    # DuckDB's TRY turns every error inside it into NULL and refuses volatile calls (error() of a
    # checked division or math function, random()), so arguments holding one are computed outside it
    return operands_once(self, function, lambda self, f: f"TRY({self.sql(f)})", bound=_RAISING)


def _safe_arithmetic(operator: str):
    """SAFE_ADD / SAFE_SUBTRACT / SAFE_MULTIPLY / SAFE_NEGATE: NULL where the operation overflows;
    DuckDB has no such functions (sqlglot passed them through by name). TRY turns DuckDB's INT64
    overflow error into NULL; operands that can raise are computed outside it, as for SAFE.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#safe_add"""

    def render(self, node: exp.Expression) -> str:
        if node.expression is None:
            return f"TRY({operator}({self.sql(node, 'this')}))"
        return f"TRY(({self.sql(node, 'this')}) {operator} ({self.sql(node, 'expression')}))"

    return lambda self, node: operands_once(self, node, render, bound=_RAISING)


# -- operands rendered once ------------------------------------------------------------------

#: Nodes whose DuckDB text holds an operand more than once: sqlml's division check, sqlglot's
#: NULL checks (GREATEST, LEAST), type dispatch (LENGTH, BYTE_LENGTH), domain checks (LN, SQRT…), position arithmetic (INSTR, REGEXP_INSTR),
#: case splitting (INITCAP), weekday arithmetic (LAST_DAY(d, WEEK)), GENERATE_ARRAY's bounds and the
#: bounds check of a[OFFSET(i)] / a[ORDINAL(i)].
#: Nested in each other, they doubled (or tripled) the text at every level: 12 levels of
#: GREATEST made 266 KB of SQL, 14 divisions 466 MB.
REPEATING = (exp.Div, exp.Greatest, exp.Least, exp.Length, exp.ByteLength, exp.StrPosition, exp.RegexpInstr,
             exp.Initcap, exp.LastDay, exp.GenerateSeries, exp.Bracket, exp.ArraySlice, exp.CodePointsToString, *CHECKED_MATH)  # fmt: skip


def operands_once(self, node: exp.Expression, render, bound: tuple[type, ...] = REPEATING) -> str:
    """``render(self, node)``, with each operand that holds a node of a ``bound`` type generated once.

    Such an operand is bound to a lambda parameter (``LIST_TRANSFORM([{'o0': …}], LAMBDA __o :
    …)[1]``) and the rendering reads the parameter's field instead, however often it repeats it;
    other operands (columns, literals, plain arithmetic) are repeated as they are, which costs
    little and keeps the common statement free of lambdas.
    """
    heavy = [operand for operand in node.iter_expressions() if operand.find(*bound) is not None]
    if not heavy:
        return render(self, node)
    fields = ", ".join(f"'o{index}': {self.sql(operand)}" for index, operand in enumerate(heavy))
    stand_ins = []
    for index, operand in enumerate(heavy):
        stand_in = exp.column(f"o{index}", table="__o")
        stand_in.type = operand.type  # renderings that dispatch on a known type keep doing so
        operand.replace(stand_in)
        stand_ins.append((stand_in, operand))
    try:
        body = render(self, node)
    finally:
        for stand_in, operand in stand_ins:
            stand_in.replace(operand)
    return f"LIST_TRANSFORM([{{{fields}}}], LAMBDA __o : {body})[1]"


#: Nodes whose DuckDB text can raise an error or vary from call to call.
_RAISING = (exp.Div, exp.Bracket, exp.Rand, *CHECKED_MATH)


def _once(node_type: type[exp.Expression]):
    """sqlglot's DuckDB rendering of ``node_type``, with its repeated operands generated once."""
    render = duckdb_rendering(node_type)
    return lambda self, node: operands_once(self, node, render)


def _now_as_call(node_type: type[exp.Expression], call: str):
    """CURRENT_TIMESTAMP() / CURRENT_DATE() without a time zone as a call: DuckDB reads the bare
    keywords sqlglot writes as a column first, so ``SELECT CURRENT_TIMESTAMP() AS
    current_timestamp, CURRENT_TIMESTAMP AS b`` (dbt's current_timestamp test) named the alias
    ("referenced before it is defined"). With a time zone, sqlglot's rendering is kept."""
    render = duckdb_rendering(node_type)
    return lambda self, node: render(self, node) if node.this else call


def _code_points_to_string(self, node: exp.CodePointsToString) -> str:
    # NULL if any code point is NULL (ARRAY_TO_STRING skipped it: [65, 255, NULL, 1024] gave 'AÿЀ')
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#code_points_to_string
    points = self.sql(node, "this")
    text = f"ARRAY_TO_STRING(LIST_TRANSFORM({points}, LAMBDA __c : CHR(CAST(__c AS INTEGER))), '')"
    return f"CASE WHEN LIST_COUNT({points}) = LEN({points}) THEN {text} END"


def _array_slice(self, node: exp.ArraySlice) -> str:
    """ARRAY_SLICE(a, start, end): 0-based inclusive offsets, a negative one counted from the end,
    an out-of-bounds one moved to the nearest end; DuckDB's list_slice counts from 1, so the
    slice started one element early (['a'…'e'], 1, 3 gave [a, b, c], BigQuery [b, c, d]).
    https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array_slice"""
    values = self.sql(node, "this")
    length = f"LEN({values})"

    # a start past the end, or an end before the start, leaves nothing (['a'…'e'], 5, 30 is [])
    start, end = self.sql(node, "start"), self.sql(node, "end")  # NULL for a NULL offset, as list_slice's
    first = f"(CASE WHEN {start} >= 0 THEN {start} WHEN {start} < 0 THEN GREATEST({length} + {start}, 0) END + 1)"
    last = f"(CASE WHEN {end} >= 0 THEN LEAST({end}, {length} - 1) WHEN {end} < 0 THEN GREATEST({length} + {end}, -1) END + 1)"
    return f"LIST_SLICE({values}, {first}, {last})"  # [] where first > last, or last is 0


def _now_in_zone(type_name: str):
    """CURRENT_DATETIME([time_zone]) / CURRENT_TIME([time_zone]): the DATETIME (DuckDB's TIMESTAMP)
    or TIME now in the time zone, UTC by default. DuckDB has no CURRENT_DATETIME, and sqlglot's
    CURRENT_TIME dropped the zone (the session's time of day instead of Los Angeles's).
    https://cloud.google.com/bigquery/docs/reference/standard-sql/datetime_functions#current_datetime
    https://cloud.google.com/bigquery/docs/reference/standard-sql/time_functions#current_time"""

    def render(self, node: exp.Expression) -> str:
        zone = self.sql(node, "this") or "'UTC'"
        return f"CAST(GET_CURRENT_TIMESTAMP() AT TIME ZONE {zone} AS {type_name})"

    return render


def _subscript(self, node: exp.Bracket) -> str:
    """``a[OFFSET(i)]`` / ``a[ORDINAL(i)]`` fail past either end, as in BigQuery; DuckDB's subscript
    gave NULL (and counted a negative index from the end). The message is the Spark engine's
    (:mod:`sqlml.engine.spark.values`); a NULL array or index still gives NULL.
    ``a[SAFE_OFFSET(i)]`` / ``a[SAFE_ORDINAL(i)]``: NULL past either end, written as LIST_EXTRACT
    so that the Spark engine, which reads this SQL back, tells it from OFFSET / ORDINAL.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator"""
    if node.meta.get("checked"):  # marked by sqlml.sql.compat on the user's own subscripts
        return operands_once(self, node, _checked_subscript)
    if node.meta.get(BARE):  # x[i] of sqlml.sql.subscripts
        return operands_once(self, node, _bare_subscript)
    if not node.args.get("safe") or len(node.expressions) != 1:
        return self.bracket_sql(node)  # a JSON, STRUCT or MAP subscript, a bare a[i], sqlglot's own
    position = exp.Add(this=exp.paren(node.expressions[0].copy()), expression=exp.Literal.number(1 - int(node.args.get("offset") or 0)))
    return f"LIST_EXTRACT({self.sql(node, 'this')}, NULLIF(GREATEST({self.sql(position)}, 0), 0))"


def _bare_subscript(self, node: exp.Bracket) -> str:
    # a JSON value's elements count from 0 in DuckDB as in BigQuery (NULL when missing); a list's
    # from 1, and BigQuery's bare a[i] fails past either end as a[OFFSET(i)] does. Both branches
    # bind whatever x holds, so the list's length is LEN (a JSON value's text length binds too,
    # ARRAY_LENGTH would not); the Spark engine, which has no JSON values, keeps the ELSE branch
    # and reads that LEN as SIZE (sqlml.engine.spark.functions).
    values, index = self.sql(node, "this"), self.sql(node.expressions[0])
    element = f"{values}[CASE WHEN ({index}) >= 0 THEN {index} END]"  # DuckDB counts j[-1] from the end: NULL in BigQuery
    if node.meta[BARE] == "json":
        return element
    # CAST: the Spark engine's reader shifts an index it knows to be an integer back to 0-based
    checked = _bounds_check(values, index, "index", f"LEN({values})", f"{values}[CAST({index} AS BIGINT) + 1]")
    return f"CASE WHEN TYPEOF({values}) = 'JSON' THEN {element} ELSE {checked} END"


def _checked_subscript(self, node: exp.Bracket) -> str:
    # the in-range read stays sqlglot's a[i + 1], which the Spark engine reads as its own a[i]
    values, index, base = self.sql(node, "this"), self.sql(node.expressions[0]), int(node.args["offset"])
    # BigQuery words a bare a[i] "Array index i is out of bounds" (the operators page above)
    position = "ordinal" if base else "index" if node.meta.get(BARE) == "array" else "offset"
    length = f"ARRAY_LENGTH({values})"  # not LEN, which the Spark engine reads as a string's length
    return _bounds_check(values, index, position, length, self.bracket_sql(node), first=base)


def _bounds_check(values: str, index: str, position: str, length: str, read: str, first: int = 0) -> str:
    # error(...) past either end, the message of sqlml.sql.messages; else the in-range read
    pieces = {"position": position, "index": f"' || CAST({index} AS VARCHAR) || '", "length": f"' || CAST({length} AS VARCHAR) || '"}
    message = f"'{ARRAY_OUT_OF_BOUNDS.format(**pieces)}'"
    in_range = f"{index} >= 1 AND {index} <= {length}" if first else f"{index} >= 0 AND {index} < {length}"
    return f"CASE WHEN NOT ({in_range}) THEN error({message}) ELSE {read} END"


GENERATOR_FIXES: dict = {
    exp.Bracket: _subscript,
    exp.Div: _checked_division,
    exp.CountIf: _count_if,
    exp.GenerateSeries: _generate_array,
    exp.Format: _format,
    exp.ByteLength: lambda self, e: operands_once(self, e, _byte_length),
    exp.CodePointsToString: lambda self, e: operands_once(self, e, _code_points_to_string),
    # FARM_FINGERPRINT is FarmHash Fingerprint64, installed by sqlml.warehouse.fingerprint (DuckDB has none).
    exp.FarmFingerprint: lambda self, e: f"{FARM_FINGERPRINT}({self.sql(e.expressions[0] if e.expressions else e.this)})",
    # "If the point is NULL, returns NULL" (the count of bounds below NULL was 0)
    exp.RangeBucket: lambda self, e: operands_once(self, e, lambda self, e: f"CASE WHEN {self.sql(e, 'this')} IS NULL THEN NULL ELSE LENGTH(LIST_FILTER({self.sql(e, 'expression')}, LAMBDA __e : __e <= {self.sql(e, 'this')})) END"),
    exp.SafeFunc: _safe_call,
    **{node_type: lambda self, e: operands_once(self, e, _math_case) for node_type in CHECKED_MATH},
    # SAFE_DIVIDE's divisor once: sqlglot's IF(d <> 0, n / d, NULL) generates it twice, so nested
    # calls grew 2^depth (12 levels: 844 MB of SQL). BigQuery: NULL where the division fails.
    exp.SafeDivide: lambda self, e: f"({self.sql(e, 'this')}) / NULLIF({self.sql(e, 'expression')}, 0)",
    exp.ApproxTopK: _approx_top_count,
    # DIV(a, b - c) is an IntDiv node, not text: sqlglot wrote 'a // b - c', read back as (a // b) - c
    exp.IntDiv: lambda self, e: f"({self.sql(e, 'this')}) // ({self.sql(e, 'expression')})",
    exp.CurrentTimestamp: _now_as_call(exp.CurrentTimestamp, "GET_CURRENT_TIMESTAMP()"),
    exp.CurrentDate: _now_as_call(exp.CurrentDate, "CAST(GET_CURRENT_TIMESTAMP() AS DATE)"),
    exp.ArraySlice: lambda self, e: operands_once(self, e, _array_slice),
    # CORR of fewer than two non-NULL pairs is NULL (DuckDB: NaN for one pair)
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/statistical_aggregate_functions#corr
    exp.Corr: lambda self, e: f"CASE WHEN REGR_COUNT({self.sql(e, 'this')}, {self.sql(e, 'expression')}) >= 2 THEN {duckdb_rendering(exp.Corr)(self, e)} END",
    exp.SafeAdd: _safe_arithmetic("+"),
    exp.SafeSubtract: _safe_arithmetic("-"),
    exp.SafeMultiply: _safe_arithmetic("*"),
    exp.SafeNegate: _safe_arithmetic("-"),
    exp.CurrentDatetime: _now_in_zone("TIMESTAMP"),
    exp.CurrentTime: _now_in_zone("TIME"),
    **{node_type: _once(node_type) for node_type in REPEATING if node_type not in (exp.Div, exp.ByteLength, exp.GenerateSeries, exp.Bracket, exp.ArraySlice, exp.CodePointsToString, *CHECKED_MATH)},
}
