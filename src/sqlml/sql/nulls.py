"""NULL handling BigQuery states and DuckDB's rendering by sqlglot lost: the RESPECT or IGNORE
NULLS that is a function's default, and the type of a NULL literal in a concatenation. Part of
:data:`sqlml.sql.compat.TREE_FIXES`.
"""

from __future__ import annotations

from sqlglot import exp


#: Functions whose NULL handling is by default what the words say: ARRAY_AGG keeps NULLs,
#: PERCENTILE_CONT and PERCENTILE_DISC ignore them.
_DEFAULT_NULLS = {exp.RespectNulls: (exp.ArrayAgg,), exp.IgnoreNulls: (exp.PercentileCont, exp.PercentileDisc)}


def default_null_handling(tree: exp.Expression) -> exp.Expression:
    """``ARRAY_AGG(x RESPECT NULLS)`` and ``PERCENTILE_CONT(x, p IGNORE NULLS)`` say their
    function's default, as DuckDB's: the words are dropped (sqlml refuses the RESPECT or IGNORE
    NULLS sqlglot drops elsewhere, which changes the answer: sqlml.sql.unsupported)."""
    for words in list(tree.find_all(exp.RespectNulls, exp.IgnoreNulls)):
        if isinstance(words.this, _DEFAULT_NULLS[type(words)]):
            words.replace(words.this)
    return tree


def string_concat_nulls(tree: exp.Expression) -> exp.Expression:
    """A NULL literal concatenated (CONCAT('a', NULL), 'a' || NULL) is a STRING NULL, so the result
    is a STRING as in BigQuery (DuckDB typed it NULL: a column of NULL type in results and tables).
    Beside a BYTES literal it stays as written."""
    for null in list(tree.find_all(exp.Null)):
        parent = null.parent
        if isinstance(parent, (exp.Concat, exp.DPipe)) and not any(isinstance(part, exp.ByteString) for part in parent.iter_expressions()):
            null.replace(exp.cast(exp.null(), "VARCHAR"))
    return tree
