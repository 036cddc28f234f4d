"""How the nodes sqlml's parser adds are written back as SQL: the ``TRANSFORMS`` entries every
sqlml dialect's generator takes (sqlglot ignores ``<key>_sql`` methods for classes outside its own
expression modules, so each node is registered here).
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.sql.alter_options import AlterColumnOptions
from sqlml.sql.expressions import ML_FUNCTIONS, AlterModel, ExportModel, LoadDataFiles, MLFunction, TrainingData


def _ml_function_sql(self, node: MLFunction) -> str:
    model = [f"MODEL {self.sql(node, 'this')}"] if node.this else []
    args = model if node.model_first else []
    for arg in node.expressions:
        args.append(f"TABLE {self.sql(arg)}" if isinstance(arg, exp.Table) else self.sql(arg))
    if not node.model_first:
        args += model
    # The ``ML.`` prefix belongs to the enclosing Table (FROM ML.X(...)) or Dot node.
    return f"{node.function_name}({', '.join(args)})"


def _training_data_sql(self, node: TrainingData) -> str:
    return f"(training_data AS ({self.sql(node, 'this')}), custom_holiday AS ({self.sql(node, 'custom_holiday')}))"


def _options_sql(self, options: list[exp.Expression]) -> str:
    return "OPTIONS(" + ", ".join(self.sql(option) for option in options) + ")"


def _alter_model_sql(self, node: AlterModel) -> str:
    exists = " IF EXISTS" if node.args.get("exists") else ""
    return f"ALTER MODEL{exists} {self.sql(node, 'this')} SET {_options_sql(self, node.expressions)}"


def _alter_column_options_sql(self, node: AlterColumnOptions) -> str:
    exists = " IF EXISTS" if node.args.get("exists") else ""
    return f"ALTER COLUMN{exists} {self.sql(node, 'this')} SET {_options_sql(self, node.expressions[0].expressions)}"


def _export_model_sql(self, node: ExportModel) -> str:
    options = f" {_options_sql(self, node.expressions)}" if node.expressions else ""
    return f"EXPORT MODEL {self.sql(node, 'this')}{options}"


def _load_data_files_sql(self, node: LoadDataFiles) -> str:
    parts = ["LOAD DATA", "OVERWRITE" if node.args.get("overwrite") else "INTO", "TEMP TABLE" if node.args.get("temp") else ""]
    parts += [self.sql(node, "this"), self.sql(node, "properties"), f"FROM FILES({self.expressions(node.args['files'], flat=True)})"]
    if node.args.get("partition_columns") is not None:
        columns = self.expressions(node.args["partition_columns"], flat=True)
        parts.append("WITH PARTITION COLUMNS" + (f" ({columns})" if columns else ""))
    if node.args.get("connection") is not None:
        parts.append(f"WITH CONNECTION {self.sql(node, 'connection')}")
    return " ".join(part for part in parts if part)


#: Generator TRANSFORMS for sqlml's own nodes, shared by every sqlml dialect.
SQLML_TRANSFORMS = {
    LoadDataFiles: _load_data_files_sql,
    **{node_type: _ml_function_sql for node_type in ML_FUNCTIONS.values()},
    AlterModel: _alter_model_sql,
    AlterColumnOptions: _alter_column_options_sql,
    ExportModel: _export_model_sql,
    TrainingData: _training_data_sql,
}
