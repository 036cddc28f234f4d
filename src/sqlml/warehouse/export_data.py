"""``EXPORT DATA OPTIONS(uri=…, format=…) AS query``: a query's rows written to a local file by
DuckDB's ``COPY … TO``.

BigQuery's uri holds one ``*`` in its file name, which it replaces with a 12-digit zero-padded
shard number; sqlml writes one shard, ``000000000000``. The files the uri matches are those of its
folder whose names fill the ``*`` with anything (hidden files aside, as a shell glob): with
``overwrite=false`` (the default) an export onto any of them fails; with ``overwrite=true`` they
are the previous export, and the new one replaces them all, so no shard of an older, larger export
is left behind — and nothing else in the folder is touched. The shard is written beside its place
under a hidden name and renamed into place only when the query has run, the previous files moved
aside just before, so a failed or interrupted export leaves the previous files as they were.
Cloud storage (``gs://``, ``WITH CONNECTION``) cannot be reached from a local warehouse, and
DuckDB has no Avro writer.
https://cloud.google.com/bigquery/docs/reference/standard-sql/other-statements#export_data_statement
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from sqlglot import exp

from sqlml.engine.base import EngineError
from sqlml.engine.errors import is_interrupt
from sqlml.errors import Error, ExecutionError, InvalidOptionError, NotFoundError
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
    """Run ``EXPORT DATA [WITH CONNECTION c] OPTIONS(…) AS query`` into one local shard, which
    replaces every file the uri matched when ``overwrite=true`` (the module docstring says how).

    Raises:
        InvalidOptionError: a cloud uri or connection, a uri without one ``*`` or with it in a
            folder's name, an unknown option or format, AVRO, or existing files under ``overwrite=false``.
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
    _check_wildcard(pattern)
    path = pattern.replace("*", FIRST_SHARD)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise NotFoundError(
            f"{STATEMENT} cannot write '{path}': the folder '{folder}' does not exist.", hint="Create the folder first, or export to an existing one."
        )
    previous = matching_files(pattern)
    _refuse_overwrite(pattern, previous, bool(options.get("overwrite", False)))
    copy_options = _copy_options(fmt, options)
    executor = context.executor
    with executor.engine.lease() as cursor:
        try:
            sql, values = executor.renderer(context.params).render(tree.this, cursor, context.sources)
            _write_in_place_of(previous, path, lambda staging: cursor.execute(
                f"COPY ({sql}) TO {exp.Literal.string(staging).sql(dialect='duckdb')} ({copy_options})", values or None
            ), executor.cancel)  # fmt: skip
        except (OSError, EngineError) as error:
            if isinstance(error, Error) or (failed := _write_failure(error, path)) is None:
                raise
            raise failed from error
        finally:
            context.sources.close()
    return Result.empty(STATEMENT)


def _write_failure(error: OSError | EngineError, path: str) -> ExecutionError | None:
    """The error for a shard the file system refused (full disk, read-only or foreign folder),
    naming the uri's file rather than the hidden staging file; None for any other failure."""
    if isinstance(error, EngineError):
        # DuckDB's write errors end in its JSON detail: …"exception_message":"Could not write file …","errno":"28"}
        found = re.search(r'"errno"\s*:\s*"(\d+)"', str(error))
        if "Could not write file" not in str(error) or found is None:
            return None
        error = OSError(int(found.group(1)), os.strerror(int(found.group(1))))
    from sqlml.store.faults import cause_of  # the model store's package (sqlite3, psutil) loads only on a refused write

    return ExecutionError(
        f"{STATEMENT} could not write '{path}': {cause_of(error, Path(path).parent)}.",
        hint="The files the uri matched are as they were. Free disk space or export to a writable folder, then run it again.",
    )


def matching_files(pattern: str) -> list[str]:
    """The files the uri ``pattern`` matches, sorted: those of its folder whose names are the
    pattern's file name with anything in place of its one ``*`` (not hidden ones, unless the
    pattern's name starts with a dot — as a shell glob; ``?`` and ``[`` are plain characters).

    Args:
        pattern: a local uri with one ``*``, in its file name.
    """
    folder, name = os.path.split(pattern)
    prefix, suffix = name.split("*")
    try:
        names = os.listdir(folder or ".")
    except FileNotFoundError:
        return []
    matched = [n for n in names if len(n) >= len(name) - 1 and n.startswith(prefix) and n.endswith(suffix)
               and (prefix.startswith(".") or not n.startswith("."))]  # fmt: skip
    return sorted(p for p in (os.path.join(folder, n) for n in matched) if os.path.isfile(p))


def _check_wildcard(pattern: str) -> None:
    if pattern.count("*") != 1:
        raise InvalidOptionError(
            f"The 'uri' option of {STATEMENT} must contain exactly one '*' wildcard. Got '{pattern}' instead.",
            option="uri",
            hint="BigQuery numbers the files it writes in place of the '*', e.g. uri='/data/part-*.csv'.",
        )
    if "*" in os.path.dirname(pattern):
        raise InvalidOptionError(
            f"The 'uri' option of {STATEMENT} must have its '*' wildcard in the file name, not in a folder. Got '{pattern}' instead.",
            option="uri",
            hint="Name an existing folder and number the files in it, e.g. uri='/data/export/part-*.csv'.",
        )


def _refuse_overwrite(pattern: str, existing: list[str], overwrite: bool) -> None:
    # BigQuery: "overwrite … if false and the destination is not empty, the statement fails"
    if existing and not overwrite:
        raise InvalidOptionError(
            f"{STATEMENT} would overwrite {len(existing)} existing file(s) matching uri '{pattern}' (first: {existing[0]}), and overwrite is false.",
            option="overwrite",
            hint="Set overwrite=true in OPTIONS, or export to another uri.",
        )


def _write_in_place_of(previous: list[str], path: str, write: Callable[[str], object], cancel: threading.Event) -> None:
    """``write(staging)`` to a hidden file beside ``path``, then the ``previous`` files moved aside
    under hidden names and the staging file renamed to ``path``. Until that rename has taken
    effect, an exception (a failed query, Ctrl-C) puts every file back as it was; after it the
    export is complete: the files moved aside are removed, and an interrupt landing meanwhile is
    too late to cancel the statement (``cancel`` is set instead, which stops the script's next one).
    The staging name ends as ``path`` does, so DuckDB picks the same compression from its extension."""
    folder, name = os.path.split(os.path.abspath(path))
    handle, staging = tempfile.mkstemp(prefix=".sqlml-export-", suffix=f"-{name}", dir=folder)
    os.close(handle)
    aside = [(old, f"{staging}.replaced-{number}") for number, old in enumerate(previous)]  # hidden: the uri matches none
    try:
        write(staging)
        for old, hidden in aside:
            os.rename(old, hidden)
        os.replace(staging, path)
    except BaseException:
        _put_back(staging, path, aside)
        raise
    interrupted = False
    for _, hidden in aside:
        try:
            os.remove(hidden)
        except OSError:
            pass  # a hidden leftover does not change the export
        except BaseException as error:
            if not is_interrupt(error):
                raise
            interrupted = True  # the rest is still removed
    if interrupted:
        cancel.set()


def _put_back(staging: str, path: str, aside: list[tuple[str, str]]) -> None:
    """Undo :func:`_write_in_place_of` up to wherever it stopped: the new shard removed (it is at
    ``path`` once the staging file is gone) and the files moved aside renamed back."""
    with contextlib.suppress(OSError):
        os.remove(staging if os.path.exists(staging) else path)
    for old, hidden in aside:
        if os.path.exists(hidden):
            os.rename(hidden, old)


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
