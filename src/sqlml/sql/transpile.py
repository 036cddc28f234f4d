"""Turn a parsed (non-ML) statement into DuckDB SQL text.

The tree is rewritten where BigQuery's meaning and DuckDB's differ in ways a generator cannot
see locally (names, parameters), then generated with :class:`~sqlml.sql.dialect.SqlmlDuckdb`,
whose generator carries the per-function fixes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from sqlml.errors import UnsupportedStatementError
from sqlml.sql import compat, depth
from sqlml.sql.dataset_options import dropped_dataset_options
from sqlml.sql.date_arithmetic import date_arithmetic
from sqlml.sql.cast_formats import refuse_untranslated_formats
from sqlml.sql.function_gaps import ambiguous_replacements
from sqlml.sql import dialect as dialects
from sqlml.sql.dialect import BigQueryOnDuckdb
from sqlml.sql.duckdb_names import ENGINE_CATALOGS
from sqlml.sql.numbers import float_mods, rounded_casts
from sqlml.sql.passes import Pass, Passes
from sqlml.sql.passes_key import tree_key
from sqlml.sql.struct_fields import expanded_struct_stars, named_return_fields
from sqlml.sql.interval_literals import interval_spans
from sqlml.sql.struct_subscripts import struct_subscripts
from sqlml.sql.subscripts import bare_subscripts
from sqlml.sql.time_zones import time_zone_offsets
from sqlml.sql.unsupported import generated
from sqlml.sql.window_keys import unchecked_window_keys

def strip_project(tree: exp.Expression) -> exp.Expression:
    """Drop the project part of ``project.dataset.table`` names: datasets are DuckDB schemas.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#table_names
    """
    for table in tree.find_all(exp.Table):
        catalog = table.args.get("catalog")
        if catalog is not None and catalog.name.lower() not in ENGINE_CATALOGS:
            table.set("catalog", None)
    return tree


def parameters(tree: exp.Expression) -> tuple[list[str], int]:
    """The named parameters (``@name``) the statement reads, in order of first use, and how many
    positional ``?`` parameters it has (one walk over the tree for both)."""
    return parameters_among(tree.find_all(exp.Parameter, exp.Placeholder))


def parameters_among(nodes: Iterable[exp.Expression]) -> tuple[list[str], int]:
    """:func:`parameters` from a statement's parameter nodes in the tree's (breadth-first) order."""
    names: list[str] = []
    positional = 0
    for node in nodes:
        if isinstance(node, exp.Placeholder):
            positional += not node.this
        elif node.name and node.name not in names:
            names.append(node.name)
    return names, positional


def parameter_names(tree: exp.Expression) -> list[str]:
    """Named parameters (``@name``) the statement reads, in order of first use."""
    return parameters(tree)[0]


def name_anonymous_columns(tree: exp.Expression) -> exp.Expression:
    """Name unaliased computed columns ``f0_``, ``f1_`` … as BigQuery does.

    BigQuery names a select-list expression that is neither aliased nor a column path
    ``f<n>_``, counting only such columns (``SELECT a, 1, 2`` → ``a, f0_, f1_``).
    """
    for select in tree.find_all(exp.Select):
        counter = 0
        projections = []
        for projection in select.expressions:
            if not isinstance(projection, (exp.Alias, exp.Column, exp.Star, exp.Dot)):
                projection = exp.alias_(projection, f"f{counter}_", copy=False)  # copying each level was quadratic
                counter += 1
            projections.append(projection)
        select.set("expressions", projections)
    return tree


def to_duckdb(tree: exp.Expression, *, from_bigquery: bool = True) -> str:
    """DuckDB SQL text for a statement without ML nodes.

    Args:
        tree: the parsed statement.
        from_bigquery: the tree was parsed from BigQuery SQL, so BigQuery's semantics (column
            names, function behaviour) are kept; False for DuckDB-dialect input.
    """
    # The text depends on the tree alone, so a statement run again (the same text, or a loop's
    # statement with the same values) is not generated again. The key is the tree's exact
    # serialization (classes, values with their case, comments), ~20x cheaper than generating.
    # Except with RAND(): a RAND() in a window's keys gets a seed drawn at each generation
    # (:func:`sqlml.sql.query_fixes.volatile_window_keys`), so each run orders rows anew.
    if tree.find(exp.Rand) is not None:
        return depth.call(_generate, tree, from_bigquery)
    key = (tree_key(tree), from_bigquery)
    text = _GENERATED.get(key)
    if text is None:
        text = depth.call(_generate, tree, from_bigquery)
        if len(_GENERATED) >= _GENERATED_SIZE:
            _GENERATED.clear()  # bounded; clear() is atomic where threads share the cache
        _GENERATED[key] = text
    return text


_GENERATED_SIZE = 512
_GENERATED: dict[tuple[bytes | str, bool], str] = {}


#: What is done to a BigQuery statement's tree before DuckDB generation, in order.
BIGQUERY_PASSES = Passes(
    Pass(strip_project, (exp.Table,), adds=()),
    Pass(dropped_dataset_options, (exp.Properties,), adds=()),
    # on the user's own casts and MODs, before other passes add theirs (to BIGINT, of INT64 values)
    Pass(rounded_casts, (exp.Cast,), adds=(exp.Round,)),
    Pass(float_mods, (exp.Mod,), adds=()),
    Pass(unchecked_window_keys, (exp.Window,), adds=()),
    Pass(struct_subscripts, (exp.Bracket,), adds=(exp.Paren, exp.Cast, exp.DataType)),
    Pass(bare_subscripts, (exp.Bracket,), adds=()),
    Pass(interval_spans, (exp.Interval,), adds=(exp.Interval, exp.Add, exp.Paren, exp.Var, exp.Literal)),
    Pass(date_arithmetic, (exp.Add, exp.Sub), adds=(exp.Cast, exp.DataType, exp.ToDays)),  # typed on BigQuery's own tree
    Pass(time_zone_offsets, (exp.Literal,), adds=()),
    Pass(refuse_untranslated_formats, (exp.Cast,), adds=()),
    Pass(ambiguous_replacements, (exp.Star,), adds=(exp.Where, exp.Or, exp.Is, exp.Column, exp.Identifier, exp.Null, exp.Boolean, exp.Paren, exp.And)),
    Pass(named_return_fields, (exp.ReturnsProperty,), adds=(exp.PropertyEQ, exp.Identifier)),
    *compat.TREE_FIXES,
    Pass(name_anonymous_columns, (exp.Select,), adds=(exp.Alias, exp.Identifier)),
    Pass(expanded_struct_stars, (exp.Star,), adds=(exp.Anonymous,)),  # after naming: UNNEST(s) names its own columns
)


def _generate(tree: exp.Expression, from_bigquery: bool) -> str:
    # Each call works on its own copy (the generator changes the tree it generates), so that
    # depth.call may run it again on a deeper stack; the generator need not copy it again.
    tree = tree.copy()
    if not from_bigquery:
        return _rendered(strip_project(tree), dialects.SqlmlDuckdb)  # made on first use
    return _rendered(BIGQUERY_PASSES.apply(tree), BigQueryOnDuckdb)


def _rendered(tree: exp.Expression, dialect) -> str:
    """DuckDB text of ``tree``; a node sqlglot built but cannot write (another dialect's function
    such as MATCH_AGAINST(1, 2), whose arguments fill slots of the wrong shape) is unsupported."""
    try:
        return generated(tree, dialect)  # approximations that change the answer are refused there
    except UnsupportedStatementError:
        raise
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
        frames, node = error.__traceback__, None
        while frames is not None:  # the innermost node the generator was writing
            found = frames.tb_frame.f_locals.get("expression")
            node = found if isinstance(found, exp.Func) else node
            frames = frames.tb_next
        name = f"{node.sql_name()}(...)" if node is not None else "this statement"
        raise UnsupportedStatementError(
            f"DuckDB has no translation for {name}: its arguments do not fit it.",
            hint="Check the function's arguments against BigQuery's documentation, or rewrite the expression.",
        ) from error
