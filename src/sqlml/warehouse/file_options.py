"""The options of EXPORT DATA and LOAD DATA: constant values read from ``OPTIONS(…)``/``FILES(…)``,
and the uris they name, which must be local paths (sqlml has no cloud storage to reach).

https://cloud.google.com/bigquery/docs/reference/standard-sql/other-statements#export_data_statement
https://cloud.google.com/bigquery/docs/reference/standard-sql/load-statements
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import InvalidOptionError
from sqlml.sql.constants import NotConstant, constant_value
from sqlml.sql.uris import local_path_of

#: The file formats both statements take, BigQuery's names (upper-case).
FORMATS = ("CSV", "JSON", "PARQUET", "AVRO")


def read_options(properties: exp.Properties | None, statement: str, known: frozenset[str]) -> dict[str, object]:
    """``OPTIONS(k=v, …)`` (or ``FILES(…)``) as lower-case names to Python constants.

    sqlglot reads ``format=…`` as a FileFormatProperty; it is returned under ``format``, upper-cased.

    Raises:
        InvalidOptionError: an option is unknown, given twice, or not a constant.
    """
    options: dict[str, object] = {}
    for prop in properties.expressions if properties else []:
        if isinstance(prop, exp.FileFormatProperty):
            name, value = "format", _constant(prop.this, statement, "format")
            value = value.upper() if isinstance(value, str) else value
        elif type(prop) is exp.Property:
            name = prop.name.lower()
            value = _constant(prop.args["value"], statement, name)
        else:
            raise InvalidOptionError(f"{statement} cannot read the option {prop.sql(dialect='bigquery')}.", hint=f"Options: {', '.join(sorted(known))}.")
        if name not in known:
            raise InvalidOptionError(f"{statement} has no option '{name}'.", option=name, hint=f"Options: {', '.join(sorted(known))}.")
        if name in options:
            raise InvalidOptionError(f"The option '{name}' of {statement} is given twice.", option=name)
        options[name] = value
    return options


def file_format(options: dict[str, object], statement: str, default: str | None = None) -> str:
    """The ``format`` option, checked against BigQuery's formats.

    Raises:
        InvalidOptionError: missing (without a default) or not a BigQuery format.
    """
    value = options.get("format", default)
    if value is None:
        raise InvalidOptionError(f"{statement} needs the option format.", option="format", hint=f"Give format='CSV' (or one of {', '.join(FORMATS)}).")
    if value not in FORMATS:
        raise InvalidOptionError(
            f"The 'format' option of {statement} must be one of {', '.join(FORMATS)}. Got '{value}' instead.", option="format"
        )
    return str(value)


def local_path(uri: object, statement: str, option: str) -> str:
    """The local path a uri names (``file://`` prefix removed).

    Raises:
        InvalidOptionError: not a string, or a cloud uri (``gs://``, ``s3://`` …).
    """
    if not isinstance(uri, str) or not uri:
        raise InvalidOptionError(f"The '{option}' option of {statement} must be a non-empty STRING path. Got {uri!r} instead.", option=option)
    path = local_path_of(uri)
    if path is None:
        raise InvalidOptionError(
            f"{statement} reads and writes local files only; the '{option}' option names cloud storage: {uri}.",
            option=option,
            hint=f"Give a local path instead, e.g. {option}='/data/part-*.csv' or 'file:///data/part-*.csv'.",
        )
    return path


def _constant(node: exp.Expression, statement: str, name: str) -> object:
    try:
        return constant_value(node, other=_unquoted)
    except NotConstant as error:
        raise InvalidOptionError(
            f"The '{name}' option of {statement} must be a constant. Got {error.node.sql(dialect='bigquery')} instead.", option=name
        ) from None


def _unquoted(node: exp.Expression) -> str:
    if isinstance(node, exp.Var):
        return node.name  # format=CSV written without quotes
    raise NotConstant(node)
