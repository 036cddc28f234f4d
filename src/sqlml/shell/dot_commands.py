"""The shell's dot-commands: ``.tables``, ``.models``, ``.schema``, ``.describe``, ``.mode`` and the rest.

Each command is a function ``(session, argument text) -> bool`` (False when it failed) listed in
:data:`COMMANDS` with its one-line help. Catalog commands read BigQuery's INFORMATION_SCHEMA
views through the session, so they show exactly what SQL would.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import sqlml
from sqlml.render import format_value
from sqlml.store.records import ModelRef

if TYPE_CHECKING:
    from sqlml.shell.session import Session

#: The output formats of ``.mode`` (:attr:`Settings.mode <sqlml.shell.session.Settings.mode>`).
MODES = ("table", "vertical", "csv", "json", "jsonl", "markdown")


def is_dot_command(text: str) -> bool:
    """Input starting with ``.`` is a dot-command (SQL never does)."""
    return text.lstrip().startswith(".")


def run_dot_command(session: Session, text: str) -> bool:
    """Run one dot-command line."""
    name, _, argument = text.partition(" ")
    command = COMMANDS.get(name.lower())
    if command is None:
        guess = difflib.get_close_matches(name.lower(), list(COMMANDS), n=1)
        hint = f" Did you mean {guess[0]}?" if guess else ""
        session.error(f"Unknown command {name}.{hint} Type .help for the list.")
        return False
    try:
        return command[0](session, argument.strip())
    except sqlml.Error as error:
        session.error(str(error))
        return False


def _help(session: Session, argument: str) -> bool:
    width = max(len(usage) for _, usage, _ in COMMANDS.values())
    lines = [f"{usage.ljust(width)}  {text}" for _, usage, text in COMMANDS.values()]
    lines.append("End SQL with ';' (it may span lines). Ctrl-C cancels a running statement, Ctrl-D exits.")
    session.write("\n".join(lines))
    return True


def _catalog_query(session: Session, sql: str, params: dict | None = None) -> bool:
    try:
        result = session.call(lambda: session.connection.query(sql, params).arrow())
    except KeyboardInterrupt:
        session.error("Cancelled.")
        return False
    session.show_table(result)
    return True


def _tables(session: Session, dataset: str) -> bool:
    where = "WHERE table_schema = @dataset" if dataset else ""
    return _catalog_query(
        session,
        f"SELECT table_schema, table_name, table_type FROM `region-us`.INFORMATION_SCHEMA.TABLES {where} ORDER BY 1, 2",
        {"dataset": dataset} if dataset else None,
    )


def _models(session: Session, dataset: str) -> bool:
    where = "WHERE model_schema = @dataset" if dataset else ""
    return _catalog_query(
        session,
        f"SELECT model_schema, model_name, version_count, default_version, aliases "
        f"FROM `region-us`.INFORMATION_SCHEMA.MODELS {where} ORDER BY 1, 2",
        {"dataset": dataset} if dataset else None,
    )


def _schema(session: Session, name: str) -> bool:
    dataset, _, table = name.strip("`").rpartition(".")
    if not dataset or not table:
        session.error("Usage: .schema DATASET.TABLE")
        return False
    found = session.call(
        lambda: session.connection.query(
            "SELECT column_name, data_type, is_nullable, is_partitioning_column, clustering_ordinal_position "
            "FROM `region-us`.INFORMATION_SCHEMA.COLUMNS WHERE lower(table_schema) = lower(@dataset) "
            "AND lower(table_name) = lower(@table) ORDER BY ordinal_position",
            {"dataset": dataset, "table": table},
        ).arrow()
    )
    if found.num_rows == 0:
        session.error(f"No table or view {name}. List them with .tables {dataset}")
        return False
    session.show_table(found)
    return True


def _describe(session: Session, name: str) -> bool:
    if "." not in name:
        session.error("Usage: .describe DATASET.MODEL[@version|@alias]")
        return False
    record = session.call(lambda: session.connection.models.resolve(ModelRef.parse(name.strip("`"))))
    session.write(describe_model(record))
    return True


def describe_model(record) -> str:
    """One screen about a model version: type, options, label, features, metrics, training."""
    meta = record.metadata
    lines = [f"Model {record.dataset}.{record.name}, version {record.version}: {record.model_type}, created {record.created_at}"]
    if record.aliases:
        lines.append(f"Aliases: {', '.join(record.aliases)}")
    options = {k: v for k, v in (meta.get("options") or {}).items() if v not in (None, [], {})}
    if options:
        lines.append("Options: " + ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in sorted(options.items())))
    label = meta.get("label") or {}
    if label.get("name"):
        classes = label.get("classes") or []
        lines.append(f"Label: {label['name']} ({label.get('arrow_type')})" + (f", classes {format_value(classes)}" if classes else ""))
    info = meta.get("feature_info") or []
    if info:
        lines.append("Features:")
        for feature in info:
            numbers = [f"{k} {_short(feature[k])}" for k in ("min", "max", "mean", "stddev") if feature.get(k) is not None]
            if feature.get("category_count") is not None:
                numbers.append(f"{feature['category_count']} categories")
            numbers.append(f"{feature.get('null_count', 0)} NULL")
            lines.append(f"  {feature['input']}: {', '.join(numbers)}")
    metrics = meta.get("metrics") or {}
    if metrics:
        lines.append("Metrics: " + ", ".join(f"{k} {_short(v)}" for k, v in metrics.items() if isinstance(v, (int, float))))
    training = meta.get("training_info") or []
    split = meta.get("split") or {}
    summary = [f"{len(training)} iteration{'s' if len(training) != 1 else ''}"]
    if training and training[-1].get("loss") is not None:
        summary.append(f"final loss {_short(training[-1]['loss'])}")
    if training and training[-1].get("eval_loss") is not None:
        summary.append(f"eval_loss {_short(training[-1]['eval_loss'])}")
    if meta.get("training_seconds") is not None:
        summary.append(f"{meta['training_seconds']:.2f} s")
    if split:
        summary.append(f"{split.get('method')}: {split.get('training_rows')} training / {split.get('eval_rows')} eval rows")
    lines.append("Training: " + ", ".join(summary))
    query = (meta.get("lineage") or {}).get("query")
    if query:
        lines.append(f"Query: {query}")
    return "\n".join(lines)


def _short(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _mode(session: Session, mode: str) -> bool:
    if mode not in MODES:
        session.error(f"Unknown mode {mode or '(none)'}; use one of: {', '.join(MODES)}.")
        return False
    session.settings.mode = mode
    return True


def _timer(session: Session, value: str) -> bool:
    if value.lower() not in ("on", "off"):
        session.error("Usage: .timer on|off")
        return False
    session.settings.timer = value.lower() == "on"
    return True


def _maxrows(session: Session, value: str) -> bool:
    if not value.isdigit() or int(value) < 1:
        session.error("Usage: .maxrows N (N ≥ 1)")
        return False
    session.settings.max_rows = int(value)
    return True


def _read(session: Session, path: str) -> bool:
    file = Path(path).expanduser()
    if not file.is_file():
        session.error(f"No file {path}.")
        return False
    return session.run_sql(file.read_text(), path=str(file))


def _output(session: Session, path: str) -> bool:
    session.settings.output = Path(path).expanduser() if path else None
    return True


def _dialect(session: Session, dialect: str) -> bool:
    if dialect not in ("bigquery", "duckdb"):
        session.error("Usage: .dialect bigquery|duckdb")
        return False
    session.connection.dialect = dialect
    return True


def _quit(session: Session, argument: str) -> bool:
    raise EOFError


#: name → (function, usage, help).
COMMANDS: dict[str, tuple[Callable[[Session, str], bool], str, str]] = {
    ".help": (_help, ".help", "This list."),
    ".tables": (_tables, ".tables [DATASET]", "Tables and views, of one dataset or all."),
    ".models": (_models, ".models [DATASET]", "Models with their versions and aliases."),
    ".schema": (_schema, ".schema DATASET.TABLE", "Columns of a table or view, with partitioning and clustering."),
    ".describe": (_describe, ".describe DATASET.MODEL[@v]", "A model's type, options, features, metrics and training."),
    ".mode": (_mode, ".mode " + "|".join(MODES), "How results print."),
    ".timer": (_timer, ".timer on|off", "Print how long each statement took."),
    ".maxrows": (_maxrows, ".maxrows N", "Print at most N rows of a result (table and vertical modes)."),
    ".read": (_read, ".read FILE", "Run the SQL script in FILE."),
    ".output": (_output, ".output [FILE]", "Append results to FILE; without FILE, print them again."),
    ".dialect": (_dialect, ".dialect bigquery|duckdb", "The SQL dialect of what you type."),
    ".quit": (_quit, ".quit", "Leave the shell (also .exit or Ctrl-D)."),
    ".exit": (_quit, ".exit", "Leave the shell."),
}
