"""Model DDL: CREATE MODEL, DROP MODEL and ALTER MODEL, the handlers :mod:`sqlml.statement_table` runs.

CREATE MODEL reads its training rows while holding the warehouse, releases it, trains, and then
publishes the model as a new version in one atomic step (see :mod:`sqlml.store.registry`): a
failure or a kill at any point leaves the model store as it was.
"""

from __future__ import annotations

import threading
import time

import pyarrow as pa
from sqlglot import exp

from sqlml.errors import (
    AlreadyExistsError,
    Error,
    InvalidModelInputError,
    InvalidOptionError,
    ModelError,
    ModelNotFoundError,
    NotFoundError,
    SqlSyntaxError,
    TransactionError,
    UnsupportedStatementError,
)
from sqlml.execution.context import Handler, StatementContext, in_transaction
from sqlml.ml.models.base import Source, Target
from sqlml.ml.models.catalog import canonical_name, family_of, model_types
from sqlml.ml.models.model import Model
from sqlml.ml.models.options import option_value
from sqlml.ml.models.statement_options import check_alter_options, parse_model_type, resolve_options
from sqlml.ml.monitoring.distributions import profile_table
from sqlml.ml.spark_training import train_on_workers, trains_on_workers
from sqlml.ml.training.io_clauses import CLAUSES, io_clauses
from sqlml.ml.training.locate import locate, span
from sqlml.ml.training.pipeline import check_options, train
from sqlml.ml.training.training_rows import statement_text, tables_read, training_rows
from sqlml.ml.training.with_transform import train_with_transform
from sqlml.result import Result
from sqlml.sql.expressions import custom_holiday_query, training_query
from sqlml.store.records import ModelRef

#: Options that describe the model in the registry rather than its training.
MODEL_LEVEL_OPTIONS = ("description", "labels", "max_versions")


def read_options(properties: list[exp.Expression], params: dict, script: str = "") -> dict:
    """``OPTIONS(k=v, …)`` as a dict of lower-case names to Python values.

    Raises:
        InvalidOptionError: an option is given twice; located at the second one (in ``script``,
            the text the tree's positions refer to).
    """
    raw = {}
    for prop in properties:
        if type(prop) is exp.Property:
            name = prop.name.lower()
            if name in raw:
                raise InvalidOptionError(f"The option '{name}' is given twice.", option=name, location=span(prop, script))
            raw[name] = option_value(prop.args["value"], params)
    return raw


def create_model(context: StatementContext) -> Result:
    """Run ``CREATE [OR REPLACE] MODEL [IF NOT EXISTS] name [TRANSFORM(…)] OPTIONS(…) AS query``.

    Errors about an option or a column point at it in the statement text.
    """
    tree = context.plan.tree
    properties = tree.args["properties"].expressions if tree.args.get("properties") else []
    transform = next((p for p in properties if isinstance(p, exp.TransformModelProperty)), None)
    try:
        return _create_model(context, properties, transform)
    except Error as error:
        locate(error, context.script, options=properties, query=training_query(tree), transform=transform)
        raise


def named_model(name: exp.Expression, script: str) -> ModelRef:
    """The model a statement names (``name``, a table node); an invalid name is an error located at it."""
    try:
        return ModelRef.from_table(name)
    except ModelError as error:
        error.location = error.location or span(name, script)
        raise


def created_ref(tree: exp.Expression, script: str) -> ModelRef:
    """The model a CREATE MODEL names: ``ds.m``, never a version (``ds.m@2``) or an alias.

    Raises:
        ModelError: the name is invalid or carries ``@…``; located at the name.
    """
    ref = named_model(tree.this, script)
    if ref.selector is not None:
        base = f"{ref.dataset}.{ref.name}"
        raise ModelError(
            f"CREATE MODEL cannot create `{ref}`: '@{ref.selector}' names an existing version of {base}, not a model.",
            model=str(ref),
            hint=f"Every CREATE OR REPLACE MODEL {base} makes a new version. Refer to one with MODEL `{base}@2` "
            f"in ML functions, and name one with ALTER MODEL `{base}@2` SET OPTIONS(version_aliases=['…']).",
            location=span(tree.this, script),
        )
    return ref


def _refuse_remote_model(properties: list[exp.Expression], script: str) -> None:
    # CREATE MODEL … REMOTE WITH CONNECTION c OPTIONS(endpoint=…) wraps a Google-hosted model (Gemini,
    # a Vertex AI endpoint, a Cloud AI service): there is nothing to train, and nothing local to call.
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-remote-model
    remote = next((p for p in properties if isinstance(p, exp.RemoteWithConnectionModelProperty)), None)
    if remote is not None:
        raise UnsupportedStatementError(
            f"CREATE MODEL … REMOTE WITH CONNECTION {remote.this.sql(dialect='bigquery')} makes a remote model "
            "(Gemini, a Vertex AI endpoint or a Cloud AI service), which sqlml cannot call: it runs models locally.",
            hint="Train a local model with OPTIONS(model_type='…'), or import one with "
            "OPTIONS(model_type='ONNX' or 'XGBOOST', model_path='<local file>').",
            location=span(remote, script),
        )


def _create_model(context: StatementContext, properties: list[exp.Expression], transform) -> Result:
    executor, tree = context.executor, context.plan.tree
    ref = created_ref(tree, context.script)
    replace, if_not_exists = bool(tree.args.get("replace")), bool(tree.args.get("exists"))
    if replace and if_not_exists:
        raise SqlSyntaxError("CREATE OR REPLACE MODEL cannot be combined with IF NOT EXISTS.")
    _refuse_remote_model(properties, context.script)
    raw = read_options(properties, context.params, context.script)
    on_workers = _check_training_place(context, raw)
    _check_custom_holiday(tree, raw.get("model_type"), transform, context.script)
    model_type = parse_model_type(raw)
    options = resolve_options(model_type, raw)
    options.update(_io_clauses(model_type, properties, context.script))
    check_options(model_type, options, set(raw))
    store = executor.models
    if store.exists(ref.dataset, ref.name):
        if if_not_exists:
            return Result.empty("CREATE MODEL")
        if not replace:
            raise AlreadyExistsError(
                f"Model {ref.dataset}.{ref.name} already exists.",
                hint="Use CREATE OR REPLACE MODEL to train a new version, or CREATE MODEL IF NOT EXISTS.",
            )
    _check_dataset(executor, ref)
    model = _build_model(context, ref, model_type, options, training_query(tree), transform, on_workers)
    # lineage: enough to re-train this version exactly (the statement as run, with its values)
    model.spec.setdefault("lineage", {}).update(
        statement=statement_text(tree, executor),
        parameters={k: v for k, v in context.params.items() if isinstance(v, (str, int, float, bool, type(None)))},
    )
    _publish(store, ref, model, replace, options, cancel=executor.cancel)
    return Result.empty("CREATE MODEL")


def _check_training_place(context: StatementContext, raw: dict) -> bool:
    """Take OPTIONS(spark_train=…) out of ``raw``; True when the model trains on the engine's
    workers (:func:`sqlml.ml.spark_training.trains_on_workers`: Spark, a family with a distributed
    trainer, no ``spark_train``); else have the engine refuse to train where it cannot
    (:meth:`sqlml.engine.base.SqlEngine.check_training`: Spark trains on the driver only when
    asked; DuckDB refuses ``spark_train``)."""
    model_type, place = str(raw.get("model_type")), raw.pop("spark_train", None)
    if place is None and trains_on_workers(context.executor, model_type):
        return True
    context.executor.engine.check_training(model_type, place)
    return False


def _check_custom_holiday(tree: exp.Expression, model_type: object, transform, script: str) -> None:
    """``custom_holiday AS (…)`` never with TRANSFORM, and only with a time-series ``model_type``
    (the option as written; parse_model_type checks it afterwards)."""
    holidays = custom_holiday_query(tree)
    if holidays is None:
        return
    if transform is not None:
        raise SqlSyntaxError(
            "custom_holiday AS (…) cannot be combined with a TRANSFORM clause.",
            hint="Compute the features in the training_data query instead of TRANSFORM(…).",
            location=span(transform, script),
        )
    # Only time-series families take it: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series
    # (other families fitted by themselves from the rows, such as CONTRIBUTION_ANALYSIS, do not)
    series_types = [name for name in model_types() if family_of(name).target(name) is Target.FORECASTING]
    if isinstance(model_type, str) and canonical_name(model_type) not in series_types:
        raise SqlSyntaxError(
            f"custom_holiday AS (…) is for model_type={' or '.join(repr(str(name)) for name in series_types)}, not '{model_type}'.",
            hint="Write AS SELECT … with the training query alone.",
            location=span(holidays, script),
        )


def _io_clauses(model_type: str, properties: list[exp.Expression], script: str) -> dict:
    """The INPUT(…) OUTPUT(…) clauses as the hidden options an imported family reads; a trained
    model type takes none (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-xgboost)."""
    clauses = io_clauses(properties)
    if clauses and family_of(model_type).source is not Source.FILE:
        clause = next(prop for prop in properties if type(prop) in CLAUSES)
        raise SqlSyntaxError(
            f"INPUT(…) and OUTPUT(…) describe an imported model file; model_type='{model_type}' is trained from its query.",
            hint="Remove the INPUT/OUTPUT clauses: a trained model's columns are its training query's.",
            location=span(clause, script),
        )
    return clauses


def _build_model(context, ref, model_type, options, query, transform, on_workers=False) -> Model:
    family = family_of(model_type)
    if family.source is Source.FILE:
        if query is not None:  # BigQuery's imported models have no AS clause
            raise SqlSyntaxError(
                f"model_type='{model_type}' imports a model file and takes no training query.",
                hint="Remove AS SELECT … from the statement.",
            )

        return Model.from_file(model_type, options)
    if query is None:
        raise SqlSyntaxError(
            f"CREATE MODEL {ref.dataset}.{ref.name} needs a training query: … AS SELECT ….",
        )
    if transform is not None and not family.accepts_transform:
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-matrix-factorization has no TRANSFORM
        raise SqlSyntaxError(
            f"model_type='{model_type}' takes no TRANSFORM clause.",
            hint="Compute the columns in the training query (AS SELECT …) instead.",
        )
    if on_workers:
        model = train_on_workers(context, model_type, options, query, transform is not None)
        model.spec["lineage"].update(query=statement_text(query, context.executor), tables=sorted(tables_read(query)))
        return model
    started = time.monotonic()
    table, hashes, lineage = training_rows(context, query)
    read_seconds = time.monotonic() - started
    if table.num_rows == 0:
        # Every model type trains on at least one row; failing here keeps the previous version.
        raise InvalidModelInputError(
            "The training query returned no rows.",
            hint="CREATE MODEL needs rows to train on: check the query's WHERE clause and joins.",
        )
    description = f"Training {ref.dataset}.{ref.name} ({model_type.lower()})"
    previous = _warm_start_version(context.executor.models, ref, model_type, options)
    if family.source is Source.SERIES:
        model = _fit_series(context, model_type, options, table, transform)
    elif transform is None:
        if family.source is Source.TRANSFORM:
            raise SqlSyntaxError(f"model_type='{model_type}' needs a TRANSFORM(…) clause.")
        model = train(model_type, options, table, hashes, description=description, cancel=context.executor.cancel, previous=previous)
    else:
        model = train_with_transform(
            model_type, options, table, hashes, transform, description=description, cancel=context.executor.cancel, previous=previous
        )
    model.spec["lineage"] = {**lineage, "read_seconds": round(read_seconds, 3)}
    if family.source is not Source.TRANSFORM:
        # What ML.VALIDATE_DATA_SKEW compares serving rows with, so it never needs this data again.
        inputs = {name.lower() for name in model.required_columns()}
        model.spec["training_distributions"] = profile_table(table, [c for c in table.column_names if c.lower() in inputs])
    return model


def _warm_start_version(store, ref: ModelRef, model_type: str, options: dict) -> Model | None:
    """The current version of ``ref`` that ``warm_start=TRUE`` continues from, when the model
    type's estimator can (:attr:`~sqlml.ml.models.estimator.Estimator.warm_starts`); else None.

    Raises:
        InvalidOptionError: the model does not exist yet, or is of another model type.
    """
    if not options.get("warm_start") or not family_of(model_type).estimator_class(model_type).warm_starts:
        return None
    if not store.exists(ref.dataset, ref.name):
        raise InvalidOptionError(
            f"warm_start=TRUE continues training {ref.dataset}.{ref.name} from its current weights, but the model does not exist yet.",
            option="warm_start",
            hint="Create it without warm_start first; a later CREATE OR REPLACE MODEL can continue from it.",
        )
    previous = Model.load(store.verified_files(store.resolve(ref)))
    if previous.model_type != str(model_type):
        raise InvalidOptionError(
            f"warm_start=TRUE continues from {ref.dataset}.{ref.name}'s current version, a {previous.model_type} model, "
            f"which cannot become a {model_type} model.",
            option="warm_start",
            hint="Keep the model_type, or remove warm_start to train a new model.",
        )
    return previous


def _fit_series(context: StatementContext, model_type: str, options: dict, table: pa.Table, transform) -> Model:
    """A time-series model (ARIMA_PLUS) fitted by its family, with the ``custom_holiday AS (…)``
    rows when the statement has them."""
    if transform is not None:
        raise SqlSyntaxError(f"model_type='{model_type}' takes no TRANSFORM clause.", hint="Compute the columns in the training query.")
    holidays = custom_holiday_query(context.plan.tree)
    holiday_rows = training_rows(context, holidays)[0] if holidays is not None else None
    spec, arrays = family_of(model_type).fit_series(model_type, options, table, holiday_rows)
    # every row trains a time-series model (no data split), as NO_SPLIT records it for the others
    spec["split"] = {"method": "NO_SPLIT", "training_rows": table.num_rows, "eval_rows": 0, "test_rows": 0}
    return Model(spec, None, None, arrays)


def _check_dataset(executor, ref: ModelRef) -> None:
    """The dataset must exist, and no table may already use the model's name (one namespace)."""
    with executor.engine.lease() as cursor:
        schema = cursor.dataset_exists(ref.dataset)
        clash = ref.name in {name for _, name in cursor.list_tables(ref.dataset, views=False)}  # as written
    if not schema:
        raise NotFoundError(
            f"Dataset {ref.dataset} was not found.", hint=f"Create it first with CREATE SCHEMA {ref.dataset}."
        )
    if clash:
        raise AlreadyExistsError(
            f"A table named {ref.dataset}.{ref.name} already exists; models and tables share one namespace.",
            hint="Choose another model name or drop the table.",
        )


def _publish(store, ref: ModelRef, model: Model, replace: bool, options: dict, cancel: threading.Event) -> None:
    catalog_spec = {k: v for k, v in model.spec.items() if k not in ("preprocessing", "estimator_params")}
    with store.staging() as folder:
        model.save(folder)
        settings = {key: options.get(key) for key in MODEL_LEVEL_OPTIONS}
        store.commit(ref, folder, catalog_spec, replace=replace, options=settings, cancel=cancel)


def drop_model(context: StatementContext) -> Result:
    """``DROP MODEL [IF EXISTS] ds.m`` (all versions) or ``` DROP MODEL `ds.m@2` ``` (one)."""
    tree = context.plan.tree
    for table in tree.args.get("tables") or [tree.this]:
        ref = named_model(table, context.script)
        try:
            context.executor.models.drop(ref)
        except ModelNotFoundError:
            if not tree.args.get("exists"):
                raise
    return Result.empty("DROP MODEL")


def alter_model(context: StatementContext) -> Result:
    """``ALTER MODEL [IF EXISTS] m SET OPTIONS(description=…, labels=…, version_aliases=[…], max_versions=…)``.

    Every option is type-checked before anything changes; errors point at the option.
    """
    tree = context.plan.tree
    try:
        return _alter_model(context)
    except Error as error:
        locate(error, context.script, options=tree.expressions)
        raise


def _alter_model(context: StatementContext) -> Result:
    tree = context.plan.tree
    ref = named_model(tree.this, context.script)
    options = check_alter_options(read_options(tree.expressions, context.params, context.script))
    store = context.executor.models
    try:
        store.resolve(ref)
    except ModelNotFoundError:
        if tree.args.get("exists"):
            return Result.empty("ALTER MODEL")
        raise
    if options.get("version_aliases") is not None:
        store.set_aliases(ref, options["version_aliases"])
    settings = {key: options[key] for key in MODEL_LEVEL_OPTIONS if key in options}
    if settings:
        store.set_model_options(ref, **settings)
    return Result.empty("ALTER MODEL")


def outside_transactions(verb: str, handler: Handler) -> Handler:
    """``handler``, refused inside a multi-statement transaction, as BigQuery refuses DDL on
    permanent entities there ("Transactions cannot use DDL statements that affect permanent
    entities": https://cloud.google.com/bigquery/docs/transactions#statements_supported_in_transactions);
    here a ROLLBACK could not undo a change to the model store either."""

    def run(context: StatementContext) -> Result:
        if in_transaction(context.executor):
            raise TransactionError(
                f"{verb} cannot run inside a transaction: BigQuery allows only SELECT, DML and DDL on "
                "temporary tables and functions there.",
                hint=f"Run {verb} before BEGIN TRANSACTION or after COMMIT.",
            )
        return handler(context)

    return run

