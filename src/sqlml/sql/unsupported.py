"""Generation of DuckDB text that refuses what sqlglot could only approximate.

Where DuckDB lacks a construct, sqlglot's generator writes something near it and records an
"unsupported" message, logged as a warning on standard error. Some are harmless here (EXTRACT from
a TIMESTAMP WITH TIME ZONE: sqlml's session time zone is UTC, as BigQuery's), others change the
answer silently: SHA512 computed as SHA256, INSTR's occurrence or RESPECT NULLS dropped, WEEK(<day>)
read as the ISO week, INITCAP's delimiters ignored. :data:`REFUSED` lists the second kind; a
statement whose generation records one fails with a clear error naming it, the others are logged
as before.
"""

from __future__ import annotations

import logging
import re

from sqlglot import ErrorLevel, exp

from sqlml.errors import UnsupportedStatementError

#: sqlglot's messages for approximations that change a statement's answer (sqlglot 30.x wording).
REFUSED = re.compile(
    r"DuckDB only supports SHA256|STRPOS does not support the occurrence|(RESPECT|IGNORE) NULLS is not supported"
    r"|RESPECT/IGNORE NULLS is not supported|REGEXP_REPLACE (occurrence|with non-literal)|^WEEK\(.*falling back"
    r"|Unsupported date part|Date parts are not supported in LAST_DAY|LIMIT in(side)? ARRAY_(CONCAT_)?AGG|APPROX_QUANTILES"
    r"|APPROX_TOP_K cannot be transpiled|INITCAP does not support custom delimiters|NTH_VALUE FROM LAST|ARRAY_SORT only sorts"
    r"|Unsupported logarithm with base|is not supported in DuckDB|Regexp flags|Non-literal regexp flags|RANDOM with seed"
    r"|Cannot transpile dimension argument|Slices are not supported|translation not supported"
    r"|is not supported yet"  # sqlml's own (sqlml.sql.json_conversions)
)

_logger = logging.getLogger("sqlglot")


def generated(tree: exp.Expression, dialect) -> str:
    """``tree`` as ``dialect``'s SQL, refusing the approximations :data:`REFUSED` names.

    Args:
        tree: the statement; the generator may change it (the caller's copy).
        dialect: the dialect class to write.

    Returns:
        The SQL text.

    Raises:
        UnsupportedStatementError: sqlglot could only approximate a construct of the statement.
    """
    generator = dialect().generator(unsupported_level=ErrorLevel.IGNORE)
    text = generator.generate(tree, copy=False)
    for message in generator.unsupported_messages:
        if REFUSED.search(message):
            raise UnsupportedStatementError(
                f"sqlml cannot translate this statement to DuckDB: {message.rstrip('.')}.",
                hint="Rewrite the expression with functions sqlml translates, or report it as missing.",
            )
        _logger.warning(message)
    return text
