"""``EXPORT DATA OPTIONS(uri=…, format=…) AS query``: a query's rows written to a local file by
DuckDB's ``COPY … TO``.

BigQuery's uri holds one ``*``, which it replaces with a 12-digit shard number; sqlml writes one
shard, ``000000000000``. ``overwrite`` defaults to false, and then an export onto files the uri
already matches fails. Cloud storage (``gs://``, ``WITH CONNECTION``) cannot be reached from a
local warehouse, and DuckDB has no Avro writer.
https://cloud.google.com/bigquery/docs/reference/standard-sql/other-statements#export_data_statement
"""

from __future__ import annotations

import glob
import os

from sqlglot import exp

from sqlml.errors import InvalidOptionError, NotFoundError
from sqlml.execution.context import StatementContext
from sqlml.result import Result
from sqlml.warehouse.file_options import file_format, local_path, read_options

STATEMENT = "EXPORT DATA"
#: BigQuery's EXPORT DATA options (export_option_list on the page above).
OPTIONS = frozenset({"uri", "format", "overwrite", "header", "field_delimiter", "compression"})
#: The name of the one shard sqlml writes, in BigQuery's shard numbering.
FIRST_SHARD = "000000000000"
#: BigQuery's compression names -> DuckDB's, per format.
_COMPRESSIONS = {
    "CSV": {"NONE": "none", "GZIP": "gzip"},
    "JSON": {"NONE": "none", "GZIP": "gzip"},
    "PARQUET": {"NONE": "uncompressed", "GZIP": "gzip", "SNAPPY": "snappy", "ZSTD": "zstd"},
}


def export_data(context: StatementContext) -> Result:
    """Run ``EXPORT DATA [WITH CONNECTION c] OPTIONS(…) AS query`` into one local file.

    Raises:
        InvalidOptionError: a cloud uri or connection, a uri without one ``*``, an unknown
            option or format, AVRO, or existing files under ``overwrite=false``.
        NotFoundError: the uri's folder does not exist.
    """
    tree = context.plan.tree
    connection = tree.args.get("connection")
    if isinstance(connection, exp.Expression):  # sqlglot leaves False when there is none
        raise InvalidOptionError(
            f"{STATEMENT} WITH CONNECTION {connection.sql(dialect='bigquery')} writes to cloud storage, which sqlml cannot reach.",
            option="connection",
            hint="Remove WITH CONNECTION and export to a local path: OPTIONS(uri='/data/part-*.csv', …).",
        )
    options = read_options(tree.args.get("options"), STATEMENT, OPTIONS)
    fmt = file_format(options, STATEMENT)
    if fmt == "AVRO":
        raise InvalidOptionError(
            f"{STATEMENT} cannot write format 'AVRO': DuckDB has no Avro writer.", option="format", hint="Use format='PARQUET', 'CSV' or 'JSON'."
        )
    pattern = local_path(options.get("uri"), STATEMENT, "uri")
    if pattern.count("*") != 1:
        raise InvalidOptionError(
            f"The 'uri' option of {STATEMENT} must contain exactly one '*' wildcard. Got '{pattern}' instead.",
            option="uri",
            hint="BigQuery numbers the files it writes in place of the '*', e.g. uri='/data/part-*.csv'.",
        )
    _refuse_overwrite(pattern, bool(options.get("overwrite", False)))
    path = pattern.replace("*", FIRST_SHARD)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise NotFoundError(
            f"{STATEMENT} cannot write '{path}': the folder '{folder}' does not exist.", hint="Create the folder first, or export to an existing one."
        )
    executor = context.executor
    with executor.engine.lease() as cursor:
        try:
            sql, values = executor.renderer(context.params).render(tree.this, cursor, context.sources)
            target = exp.Literal.string(path).sql(dialect="duckdb")
            cursor.execute(f"COPY ({sql}) TO {target} ({_copy_options(fmt, options)})", values or None)
        finally:
            context.sources.close()
    return Result.empty(STATEMENT)


def _refuse_overwrite(pattern: str, overwrite: bool) -> None:
    # BigQuery: "overwrite … if false and the destination is not empty, the statement fails"
    existing = sorted(glob.glob(pattern))
    if existing and not overwrite:
        raise InvalidOptionError(
            f"{STATEMENT} would overwrite {len(existing)} existing file(s) matching uri '{pattern}' (first: {existing[0]}), and overwrite is false.",
            option="overwrite",
            hint="Set overwrite=true in OPTIONS, or export to another uri.",
        )


def _copy_options(fmt: str, options: dict[str, object]) -> str:
    parts = [f"FORMAT {fmt.lower()}"]
    if fmt == "CSV":
        delimiter = options.get("field_delimiter", ",")
        parts += [f"HEADER {'true' if options.get('header', True) else 'false'}", f"DELIMITER {exp.Literal.string(str(delimiter)).sql(dialect='duckdb')}"]
    elif "header" in options or "field_delimiter" in options:
        option = "header" if "header" in options else "field_delimiter"
        raise InvalidOptionError(f"The '{option}' option of {STATEMENT} applies to format='CSV' only (format is '{fmt}').", option=option)
    if "compression" in options:
        compression = str(options["compression"]).upper()
        known = _COMPRESSIONS[fmt]
        if compression not in known:
            raise InvalidOptionError(
                f"The 'compression' option of {STATEMENT} with format='{fmt}' must be one of {', '.join(known)}. Got '{compression}' instead.",
                option="compression",
            )
        parts.append(f"COMPRESSION {known[compression]}")
    return ", ".join(parts)
