"""BigQuery semantics that sqlglot's BigQuery → DuckDB translation gets wrong, put right.

:data:`TREE_FIXES` are applied to a statement's tree before generation (a fix that needs
context); how single nodes are rendered differently is :mod:`sqlml.sql.generator_fixes`. Each fix
names the BigQuery behaviour it keeps and is proven by ``tests/sql/test_bigquery_compat.py``.
"""

from __future__ import annotations

import itertools

from sqlglot import exp

from sqlml.sql.geography import STORAGE_TYPE as GEOGRAPHY_TYPE, geography
from sqlml.sql.ml_scalars import ml_scalars
from sqlml.sql.nulls import default_null_handling, string_concat_nulls
from sqlml.sql.parameter_types import TYPED_BY_NAME, date_parameters
from sqlml.sql.passes import Pass
from sqlml.sql.query_fixes import array_struct_names, implicit_aliases, unnest_aliases, volatile_window_keys
from sqlml.errors import SqlTypeError
from sqlml.sql.templates import build, placeholders
from sqlml.sql.vector_search import vector_search

_names = itertools.count(1)

# Literals in these positions are not values: ORDER BY 1 / GROUP BY 1 are ordinals, LIMIT and
# INTERVAL take plain integers, type parameters and array subscripts stay as written.
_POSITIONAL = (exp.Group, exp.Limit, exp.Offset, exp.Interval, exp.DataType, exp.DataTypeParam,
               exp.WindowSpec, exp.Bracket, exp.Fetch, exp.TableSample)  # fmt: skip


def _typed_literals(tree: exp.Expression) -> exp.Expression:
    """INT64 and FLOAT64 literals keep their BigQuery types.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#integer_literals —
    DuckDB reads ``1`` as INTEGER and ``2.5`` as DECIMAL(2,1); BigQuery reads INT64 and FLOAT64,
    which decides result types (``ROUND(2.5)`` is FLOAT64, ``GENERATE_ARRAY(0, 1, 0.25)`` works).
    """

    lists: dict[tuple[int, str], tuple[exp.Expression, str, list]] = {}  # the lists whose items change
    for literal in list(tree.find_all(exp.Literal)):
        data_type = _literal_type(literal)
        if data_type is None:
            continue
        cast = exp.cast(literal.copy(), data_type, copy=False)
        if literal.index is None:
            literal.replace(cast)
        else:  # an item of IN (…), [ … ]: sqlglot's replace re-parents the whole list each time
            parent, key = literal.parent, literal.arg_key
            lists.setdefault((id(parent), key), (parent, key, list(parent.args[key])))[2][literal.index] = cast
    for parent, key, items in lists.values():
        parent.set(key, items)
    return tree


def _hex_integers(tree: exp.Expression) -> exp.Expression:
    """A hexadecimal integer literal (0xF001) is an INT64 like a decimal one (DuckDB read INTEGER:
    BIT_AND(x) of the reference's 0xF001 and 0x00A1 was an INT32), typed by ``_typed_literals``."""
    for hexadecimal in list(tree.find_all(exp.HexString)):
        if hexadecimal.args.get("is_integer"):
            hexadecimal.replace(exp.Literal.number(int(hexadecimal.this, 16)))
    return tree


#: SAFE_ADD(x, y) … compute in INT64 as x + y does (not in the INTEGER DuckDB reads 5 as).
_SAFE_ARITHMETIC = (exp.SafeAdd, exp.SafeSubtract, exp.SafeMultiply, exp.SafeNegate)


def _literal_type(literal: exp.Literal) -> str | None:
    """The DuckDB type a numeric literal is cast to, or None where it stays as written."""
    if literal.is_string:
        return None
    parent = literal.parent
    if isinstance(parent, _POSITIONAL) or (isinstance(parent, exp.Ordered) and parent.this is literal):
        return None
    if isinstance(parent, (exp.Cast, exp.TryCast)) or isinstance(parent, exp.Neg) and isinstance(parent.parent, _POSITIONAL):
        return None
    if any(c in literal.this for c in ".eE"):
        return "DOUBLE"
    # integer arguments of functions (ROUND's digits, LPAD's length…) stay DuckDB INTEGERs,
    # which its functions require; everywhere else an integer literal is INT64
    holder = parent.parent if isinstance(parent, exp.Neg) else parent
    if isinstance(holder, exp.Func) and not isinstance(holder, (exp.Binary, exp.Array, exp.Coalesce, exp.If, exp.Case, *_SAFE_ARITHMETIC)):
        return "BIGINT" if _is_value_argument(holder, parent if holder is not parent else literal) else None
    return "BIGINT"


#: Functions whose result is one of their arguments' values (MAX(1) is an INT64, not DuckDB's
#: INTEGER): an integer literal there is an INT64 like one outside a function.
_RETURNING_AN_ARGUMENT = (exp.Abs, exp.Greatest, exp.Least, exp.Nullif, exp.Max, exp.Min, exp.AnyValue, exp.ArrayAgg,
                          exp.Sign, exp.FirstValue, exp.LastValue, exp.Lag, exp.Lead, exp.NthValue)  # fmt: skip


def _is_value_argument(holder: exp.Func, argument: exp.Expression) -> bool:
    # LAG(x, 1, 0)'s offset and NTH_VALUE's n stay DuckDB's integers; LAG's default is a value
    if not isinstance(holder, _RETURNING_AN_ARGUMENT):
        return False
    return argument.arg_key in ("this", "expressions", "default") or not isinstance(holder, (exp.Lag, exp.Lead, exp.NthValue))


def _data_types(tree: exp.Expression) -> exp.Expression:
    """NUMERIC is DECIMAL(38, 9) and BIGNUMERIC the widest DuckDB decimal, DECIMAL(38, 9) too
    (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#decimal_types);
    GEOGRAPHY is stored as WKT text (:mod:`sqlml.sql.geography`)."""
    for data_type in tree.find_all(exp.DataType):
        if data_type.this in (exp.DType.DECIMAL, exp.DType.BIGDECIMAL) and not data_type.expressions:
            data_type.set("this", exp.DType.DECIMAL)
            data_type.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(38)), exp.DataTypeParam(this=exp.Literal.number(9))])
        elif data_type.this == exp.DType.GEOGRAPHY:
            data_type.set("this", GEOGRAPHY_TYPE)
    return tree


def _unnest_offsets(tree: exp.Expression) -> exp.Expression:
    """``UNNEST(a) AS x WITH OFFSET AS o`` numbers elements from 0 (DuckDB's ORDINALITY from 1).

    https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator
    """
    for unnest in list(tree.find_all(exp.Unnest)):
        offset = unnest.args.get("offset")
        if not offset or not unnest.expressions:
            continue
        array = unnest.expressions[0]
        alias = unnest.args.get("alias")
        value_name = alias.columns[0].name if alias and alias.columns else "value"
        offset_name = offset.name if isinstance(offset, exp.Identifier) else "offset"
        # without an alias, STRUCT elements' fields are columns of the row (as in _unnest_fields)
        fields = not alias and isinstance(unnest.parent, (exp.From, exp.Join))
        depth = [exp.Kwarg(this=exp.var("max_depth"), expression=exp.Literal.number(2))] if fields else []
        values = exp.Anonymous(this="UNNEST", expressions=[array.copy(), *depth]) if fields else exp.Unnest(expressions=[array.copy()])
        subquery = exp.select(
            exp.Alias(this=values, alias=exp.to_identifier("f0_" if fields else value_name, quoted=True)),
            exp.Alias(this=build("unnest(range(0, len(__p_a)))", a=array), alias=exp.to_identifier(offset_name, quoted=True)),
        ).subquery(f"_unnest_{next(_names)}")
        unnest.replace(subquery)
        _keep_left_rows(subquery)
    return tree


def _keep_left_rows(subquery: exp.Subquery) -> None:
    """LEFT JOIN UNNEST(…) keeps a row whose array is empty or NULL (NULL values); a LEFT JOIN of
    the subquery standing in for it needs an ON to say so, else it is written as a comma join."""
    join = subquery.parent
    if isinstance(join, exp.Join) and join.side.upper() == "LEFT" and not join.args.get("on"):
        join.set("on", exp.true())


def _array_agg_limits(tree: exp.Expression) -> exp.Expression:
    """``ARRAY_AGG(x ORDER BY y LIMIT n)`` → the first n of the ordered list (DuckDB has no LIMIT there)."""
    for aggregate in list(tree.find_all(exp.ArrayAgg)):
        limit = aggregate.this
        if isinstance(limit, exp.Limit):
            aggregate.set("this", limit.this)
            # ARRAY_AGG(x IGNORE NULLS … LIMIT n): the NULLs are left out before the first n are taken
            listed = aggregate.parent if isinstance(aggregate.parent, exp.IgnoreNulls) else aggregate
            listed.replace(build("list_slice(__p_agg, 1, __p_n)", agg=listed.copy(), n=limit.expression))
    return tree


def _array_concat_agg(tree: exp.Expression) -> exp.Expression:
    """``ARRAY_CONCAT_AGG(x ORDER BY y LIMIT n)`` concatenates the first n arrays in that order;
    sqlglot's DuckDB rendering dropped the ORDER BY and the LIMIT (all arrays, in any order).
    https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#array_concat_agg
    """
    for aggregate in list(tree.find_all(exp.ArrayConcatAgg)):
        limit = aggregate.this if isinstance(aggregate.this, exp.Limit) else None
        ordered = limit.this if limit is not None else aggregate.this
        if limit is None and not isinstance(ordered, exp.Order):
            continue
        value = ordered.this if isinstance(ordered, exp.Order) else ordered
        listed = exp.Filter(this=exp.ArrayAgg(this=ordered.copy()), expression=exp.Where(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))))
        if limit is not None:
            listed = build("list_slice(__p_list, 1, __p_n)", list=listed, n=limit.expression)
        aggregate.replace(build("flatten(__p_list)", list=listed))
    return tree


def _string_agg_limits(tree: exp.Expression) -> exp.Expression:
    """``STRING_AGG(x, sep ORDER BY y LIMIT n)`` → the first n non-NULL values of the ordered list,
    joined (DuckDB has no LIMIT there); NULL when no value is left, as STRING_AGG of no rows.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#string_agg
    """
    for aggregate in list(tree.find_all(exp.GroupConcat)):
        limit = aggregate.this
        if not isinstance(limit, exp.Limit):
            continue
        ordered = limit.this
        value = ordered.this if isinstance(ordered, exp.Order) else ordered
        value = value.expressions[0] if isinstance(value, exp.Distinct) else value
        listed = exp.Filter(this=exp.ArrayAgg(this=ordered.copy()), expression=exp.Where(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))))
        separator = aggregate.args.get("separator") or exp.Literal.string(",")
        aggregate.replace(build("CASE WHEN len(__p_list) > 0 THEN array_to_string(list_slice(__p_list, 1, __p_n), __p_sep) END",
                                list=listed, n=limit.expression, sep=separator))  # fmt: skip
    return tree


#: Parts finer than a day, which DATE_TRUNC takes only of a DATETIME or TIMESTAMP.
_TIME_PARTS = {"HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND"}
_TIMES = (exp.DType.DATETIME, exp.DType.TIMESTAMP, exp.DType.TIMESTAMPNTZ, exp.DType.TIMESTAMPTZ)


def _date_results(tree: exp.Expression) -> exp.Expression:
    """DATE_ADD, DATE_SUB and DATE_TRUNC of a DATE return a DATE (DuckDB returns a TIMESTAMP).
    DATE_TRUNC of a DATETIME or TIMESTAMP keeps its type: one the tree shows (a literal, a cast)
    or one a part finer than a day tells (DATE_TRUNC(datetime_column, HOUR) lost its hour).
    https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions#date_trunc"""
    for node in list(tree.find_all(exp.DateAdd, exp.DateSub, exp.DateTrunc)):
        if isinstance(node.parent, exp.Cast):
            continue
        if isinstance(node, exp.DateTrunc) and (node.this.is_type(*_TIMES) or node.text("unit").upper() in _TIME_PARTS):
            continue
        node.replace(exp.cast(node.copy(), "DATE"))
    return tree


#: Parts counted within the second: MILLISECOND is 0-999, MICROSECOND 0-999999.
_WITHIN_A_SECOND = {"MILLISECOND": 1000, "MICROSECOND": 1000000}


def _extracts(tree: exp.Expression) -> exp.Expression:
    """EXTRACT parts whose numbering differs: DAYOFWEEK is 1 (Sunday) to 7; WEEK counts weeks that
    start on Sunday; ISOWEEK is ISO 8601's; MILLISECOND and MICROSECOND count within the second;
    DATE, DATETIME and TIME FROM a timestamp are casts.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#extract"""
    for extract in list(tree.find_all(exp.Extract)):
        part = extract.name.upper()
        value = extract.expression
        if part == "DAYOFWEEK":
            extract.replace(build("CAST(dayofweek(__p_v) + 1 AS BIGINT)", v=value))
        elif part == "WEEK":
            extract.replace(build("CAST(strftime(__p_v, '%U') AS BIGINT)", v=value))
        elif part == "ISOWEEK":
            extract.replace(build("CAST(weekofyear(__p_v) AS BIGINT)", v=value))
        elif part == "DATE":
            extract.replace(exp.cast(value.copy(), "DATE"))
        elif part in ("DATETIME", "TIME"):  # a TIMESTAMP's civil time in UTC, sqlml's session zone
            civil = exp.cast(value.copy(), "TIMESTAMP")
            extract.replace(civil if part == "DATETIME" else exp.cast(civil, "TIME"))
        elif part in _WITHIN_A_SECOND:  # DuckDB's count the second's whole seconds too (5.123 s: 5123 ms)
            extract.replace(build(f"CAST({part.lower()}(__p_v) - second(__p_v) * {_WITHIN_A_SECOND[part]} AS BIGINT)", v=value))
    return tree


_FUNCTIONS = {
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#ieee_divide
    "IEEE_DIVIDE": "CAST(__p_0 AS DOUBLE) / CAST(__p_1 AS DOUBLE)",
    "ARRAY_INCLUDES": "list_contains(__p_0, __p_1)",
    # π as a NUMERIC; BIGNUMERIC is DECIMAL(38, 9) too (_data_types), so it holds the same digits
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#pi_numeric
    "PI_NUMERIC": "CAST(3.141592654 AS DECIMAL(38, 9))",
    "PI_BIGNUMERIC": "CAST(3.141592654 AS DECIMAL(38, 9))",
}


def _functions(tree: exp.Expression) -> exp.Expression:
    """BigQuery functions sqlglot passes through by name although DuckDB has none of that name."""
    for call in list(tree.find_all(exp.Anonymous)):
        name = call.name.upper()
        if name in _FUNCTIONS:
            _check_arity(name, call)
            built = build(_FUNCTIONS[name], **{str(i): a for i, a in enumerate(call.expressions)})
            if name == "IEEE_DIVIDE":
                built.meta["ieee"] = True  # its division gives ±inf or NaN, never an error
            call.replace(built)
        elif name == "APPROX_QUANTILES" and len(call.expressions) == 2 and isinstance(call.expressions[1], exp.Literal):
            # n + 1 boundaries: minimum, the n - 1 inner quantiles, maximum (exact here)
            n = int(call.expressions[1].this)
            fractions = exp.Array(expressions=[exp.Literal.number(k / n) for k in range(n + 1)])
            call.replace(build("quantile_disc(__p_x, __p_q)", x=call.expressions[0], q=fractions))
    return tree


def _distinct_quantiles(tree: exp.Expression) -> exp.Expression:
    """``APPROX_QUANTILES(DISTINCT x, n)``: the n + 1 boundaries of x's distinct values (exact here);
    sqlglot read the DISTINCT's n as missing ("bucket count must be a positive integer").
    https://cloud.google.com/bigquery/docs/reference/standard-sql/approximate_aggregate_functions#approx_quantiles"""
    for call in list(tree.find_all(exp.ApproxQuantiles)):
        distinct = call.this
        if isinstance(distinct, exp.Distinct) and len(distinct.expressions) == 2 and distinct.expressions[1].is_int:
            value, count = distinct.expressions
            n = int(count.this)
            fractions = exp.Array(expressions=[exp.Literal.number(k / n) for k in range(n + 1)])
            call.replace(build("quantile_disc(DISTINCT __p_x, __p_q)", x=value, q=fractions))
    return tree


def _check_arity(name: str, call: exp.Anonymous) -> None:
    """A function of :data:`_FUNCTIONS` given too few or too many arguments fails as BigQuery's does."""
    wanted, given = len(placeholders(_FUNCTIONS[name])), len(call.expressions)
    if given != wanted:
        raise SqlTypeError(
            f"No matching signature for function {name}: it takes {wanted} argument{'s' * (wanted != 1)}, not {given}.",
            hint=f"Call it as {name}({', '.join(f'arg{i + 1}' for i in range(wanted))}).",
        )


def _any_type_parameters(tree: exp.Expression) -> exp.Expression:
    """``CREATE FUNCTION f(x ANY TYPE)``: a DuckDB macro parameter without a type takes any type
    (sqlglot writes ANY TYPE as VARIANT, which DuckDB macros reject)."""
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.UserDefinedFunction):
        for parameter in tree.this.expressions:
            kind = parameter.args.get("kind")
            if isinstance(kind, exp.DataType) and kind.is_type(exp.DType.VARIANT):
                parameter.set("kind", None)
    return tree


def _array_offsets(tree: exp.Expression) -> exp.Expression:
    """``arr[OFFSET(i)]`` / ``arr[ORDINAL(i)]`` with a computed ``i``: sqlglot shifts the index to
    DuckDB's 1-based arrays only when it can tell the index is an integer, so ``arr[OFFSET(MOD(i,
    3))]`` read element 0 — NULL — instead of the first. BigQuery requires an INT64 index, so the
    cast that lets the shift happen changes nothing else. Each such subscript the user wrote is
    marked for the generator's bounds check (sqlglot builds subscripts of its own while generating,
    which must stay unchecked)."""
    for bracket in tree.find_all(exp.Bracket):
        if bracket.args.get("offset") is None or len(bracket.expressions) != 1:
            continue
        bracket.meta["checked"] = not bracket.args.get("safe")
        index = bracket.expressions[0]
        if not (isinstance(index, exp.Literal) or isinstance(index, exp.Cast)):
            index.replace(exp.Cast(this=index.copy(), to=exp.DataType.build("BIGINT")))
    return tree


def _unnest_fields(tree: exp.Expression) -> exp.Expression:
    """``FROM t, UNNEST(t.probs)`` without an alias: BigQuery makes the fields of STRUCT elements
    columns of the row (``WHERE label = TRUE``, ``SELECT prob``), as ML tutorials use on
    ``predicted_<label>_probs``. DuckDB's UNNEST in FROM gives one struct column instead, so it
    becomes a lateral ``(SELECT UNNEST(x, max_depth => 2) AS f0_)``: struct fields become columns,
    and a scalar element is the column ``f0_``, as BigQuery names it."""
    for unnest in list(tree.find_all(exp.Unnest)):
        if (
            not isinstance(unnest.parent, (exp.From, exp.Join)) or unnest.args.get("alias") is not None
            or unnest.args.get("offset") or len(unnest.expressions) != 1
        ):  # fmt: skip
            continue
        depth = exp.Kwarg(this=exp.var("max_depth"), expression=exp.Literal.number(2))
        call = exp.Anonymous(this="UNNEST", expressions=[unnest.expressions[0].copy(), depth])
        subquery = exp.select(exp.alias_(call, "f0_")).subquery()
        unnest.replace(subquery)
        _keep_left_rows(subquery)
    return tree


def _delete_without_from(tree: exp.Expression) -> exp.Expression:
    """``DELETE t WHERE …``: BigQuery's FROM is optional; sqlglot read the table as a multi-table
    DELETE's, written back without FROM ("syntax error at or near t").
    https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax#delete_statement"""
    tables = tree.args.get("tables") if isinstance(tree, exp.Delete) else None
    if tables and len(tables) == 1 and not tree.this:
        tree.set("this", tables[0])
        tree.set("tables", None)
    return tree


def _merge_insert_row(tree: exp.Expression) -> exp.Expression:
    """``MERGE … WHEN NOT MATCHED THEN INSERT ROW`` inserts the source row's columns by position,
    which DuckDB spells ``INSERT *``."""
    if isinstance(tree, exp.Merge):
        for insert in tree.find_all(exp.Insert):
            if isinstance(insert.this, exp.Var) and insert.this.name.upper() == "ROW":
                insert.set("this", exp.Star())
    return tree


#: The tree-level fixes in the order they run, each with the node types it acts on and adds
#: (see :class:`~sqlml.sql.passes.Pass`; None: a template, which may add any).
TREE_FIXES = (
    Pass(_functions, (exp.Anonymous,)),
    Pass(_distinct_quantiles, (exp.ApproxQuantiles,), adds=None),
    Pass(ml_scalars, (exp.Dot, exp.Table)),  # exp.Table: FROM AI.FORECAST(…)
    Pass(vector_search, (exp.VectorSearch,), adds=None),
    Pass(implicit_aliases, (exp.Group, exp.Order, exp.Having, exp.Qualify), adds=(exp.Alias,)),
    Pass(geography, (exp.Anonymous, exp.StDistance)),
    Pass(array_struct_names, (exp.Array, exp.SetOperation), adds=(exp.PropertyEQ,)),
    Pass(unnest_aliases, (exp.Unnest,), adds=(exp.Identifier, exp.Alias, exp.Column)),
    Pass(_unnest_offsets, (exp.Unnest,)),
    Pass(_array_agg_limits, (exp.ArrayAgg,)),
    Pass(_array_concat_agg, (exp.ArrayConcatAgg,)),
    Pass(_string_agg_limits, (exp.GroupConcat,)),
    Pass(date_parameters, tuple(TYPED_BY_NAME), adds=(exp.Cast, exp.DataType)),
    Pass(_date_results, (exp.DateAdd, exp.DateSub, exp.DateTrunc), adds=(exp.Cast, exp.DataType)),
    Pass(_extracts, (exp.Extract,)),
    Pass(_data_types, (exp.DataType,), adds=(exp.DataTypeParam, exp.Literal)),
    Pass(_hex_integers, (exp.HexString,), adds=(exp.Literal,)),
    Pass(_typed_literals, (exp.Literal,), adds=(exp.Cast, exp.DataType)),
    Pass(_any_type_parameters, (exp.UserDefinedFunction,), adds=()),
    Pass(_merge_insert_row, (exp.Merge,), adds=(exp.Star,)),
    Pass(_delete_without_from, (exp.Delete,), adds=()),
    Pass(string_concat_nulls, (exp.Null,), adds=(exp.Cast, exp.DataType)),
    Pass(default_null_handling, (exp.RespectNulls, exp.IgnoreNulls), adds=()),
    Pass(_array_offsets, (exp.Bracket,), adds=(exp.Cast, exp.DataType)),
    Pass(_unnest_fields, (exp.Unnest,)),
    Pass(volatile_window_keys, (exp.Rand,)),  # RAND() in a window's keys
)
