"""ML.PREDICT of a linear model as one query the SQL engine runs: preprocessing, weights, link
function and output columns written as SQL over the input rows, the input columns carried along.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict

The query computes what :func:`~sqlml.ml.runtime.predict.prediction_reader` computes with NumPy,
operation for operation: the features (:mod:`sqlml.ml.preprocessing.sql_features`), the score
``X·β + b`` per output, then ``0.5·(1 + tanh(z/2))`` for a binary classifier or a softmax for a
multiclass one, the predicted class (``P(positive) > threshold``, or the first most probable) and
the ``predicted_<label>_probs`` array, higher label first. It is built from the stored weights —
the numbers ML.WEIGHTS shows — and reads the input as the table it is given. A model it cannot
write exactly (another estimator, an encoder or input type without an SQL form, a TRANSFORM that
does not replay as written) gets None: the caller keeps the Python path.

Each computed column goes into the statement as its DuckDB text, generated here once by sqlglot
(:class:`sqlglot.exp.Var`, written out verbatim) around a small tree of layers that reads the input:
a BigQuery statement's rewrites then have only that skeleton to walk, not the thousands of nodes
of a model's arithmetic, and a query built for a model, its input columns and settings is reused.

The same query gives ML.EVALUATE, ML.CONFUSION_MATRIX and ML.ROC_CURVE their raw outputs
(:func:`scored_in_query`). An input known to be a few rows (:func:`few_rows`: bounded by its
syntax tree, or by DuckDB's estimate of its plan) is left to the Python path, which scores it in
less time than DuckDB takes to plan the query.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from sqlglot import exp

from sqlml.engine.base import EngineError
from sqlml.ml.columns import column_named
from sqlml.ml.models.linear_estimator import LinearModel
from sqlml.ml.models.model import Model
from sqlml.ml.preprocessing.sql_features import CASE_CATEGORIES, NumericFeature, OneHotFeatures, SqlEncoding, number, sql_encodings
from sqlml.ml.preprocessing.sql_transform import transformed_rows
from sqlml.ml.runtime.predict import passed_through
from sqlml.sql.dialect import SqlmlDuckdb

if TYPE_CHECKING:
    from sqlml.execution.sources import DataInput

#: Set to ``off`` to score linear models in Python, batch by batch, as other models are.
LINEAR_SQL_VARIABLE = "SQLML_LINEAR_SQL"
#: Names of the query's own intermediate columns (an input column named so keeps the Python path).
PREFIX = "__sqlml_"
#: DuckDB types of the labels a classifier's output can carry, by Arrow type name.
_LABEL_TYPES = {
    "int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT", "uint8": "UTINYINT",
    "uint16": "USMALLINT", "uint32": "UINTEGER", "uint64": "UBIGINT", "string": "VARCHAR",
    "large_string": "VARCHAR", "bool": "BOOLEAN", "double": "DOUBLE", "float": "FLOAT",
}  # fmt: skip


#: Inputs known to have at most this many rows are scored on the Python path: DuckDB's binding
#: of the prediction query costs more than scoring them in NumPy (LOGISTIC_REG with 8 numbers and
#: 26 categories, 2026-12-03: 1 row 24 ms vs 7 ms, 10,000 rows 45–80 ms vs 16 ms, 50,000 rows
#: 110 ms vs 240 ms; the crossing lies between 10,000 and 50,000).
FEW_ROWS = 10_000
#: DuckDB plan operators that return at most the rows they read (or constant rows): a plan of only
#: these, without filters, has an estimated cardinality that bounds its rows (a scan's is the
#: table's row count). A filter's estimate is a guess (a fifth of the rows), a join's or an
#: UNNEST's can be far below the truth: their plans are of unknown size here.
_BOUNDED_PLAN = frozenset({
    "SEQ_SCAN", "COLUMN_DATA_SCAN", "DUMMY_SCAN", "PROJECTION", "STREAMING_LIMIT", "LIMIT", "TOP_N", "ORDER_BY",
    "HASH_GROUP_BY", "PERFECT_HASH_GROUP_BY", "UNGROUPED_AGGREGATE", "WINDOW", "STREAMING_WINDOW",
})  # fmt: skip


def few_rows(data: DataInput, argument: exp.Expression | None = None) -> bool:
    """Whether the input is known to return at most :data:`FEW_ROWS` rows: from the data
    argument's syntax tree as written (:func:`rows_at_most`), else from DuckDB's estimate of its
    plan (:func:`estimated_rows`; a table's row count for ``TABLE t``)."""
    bound = rows_at_most(argument) if argument is not None else None
    if bound is None:
        bound = estimated_rows(data)
    return bound is not None and bound <= FEW_ROWS


def rows_at_most(argument: exp.Expression) -> int | None:
    """The most rows the data argument ``argument`` (``TABLE t`` or a query's tree) can return
    when its syntax tells (a literal ``LIMIT``, a ``VALUES`` list, a SELECT without FROM), else None."""
    query = argument
    while isinstance(query, exp.Subquery):
        query = query.this
    if isinstance(query, exp.Values):
        return len(query.expressions)
    if not isinstance(query, exp.Select):
        return None
    limit = query.args.get("limit")
    bound = limit.expression if isinstance(limit, exp.Limit) else None
    if isinstance(bound, exp.Literal) and not bound.is_string and bound.this.isdigit():
        return int(bound.this)
    source = query.args.get("from_")
    if source is None:
        return None if query.args.get("group") or any(e.find(exp.Unnest, exp.Explode) for e in query.expressions) else 1
    values = source.this.this if isinstance(source.this, exp.Subquery) else source.this
    return len(values.expressions) if isinstance(values, exp.Values) and not query.args.get("joins") else None


def estimated_rows(data: DataInput) -> int | None:
    """DuckDB's estimated cardinality of ``data``'s query when its plan bounds it (only
    :data:`_BOUNDED_PLAN` operators, no filter), else None. ``EXPLAIN`` plans the input alone —
    about what ``SELECT 1`` costs, for a table — and runs nothing; another engine (Spark) gets None."""
    if data.cursor.maps_batches:
        return None
    try:
        [(_, text)] = data.cursor.execute(f"EXPLAIN (FORMAT JSON) {data.sql}", data.params).fetchall()
        [root] = json.loads(text)
    except (EngineError, ValueError, TypeError):
        return None
    pending = [root]
    while pending:
        node = pending.pop()
        info = node.get("extra_info") or {}
        if node.get("name") not in _BOUNDED_PLAN or (isinstance(info, dict) and "Filters" in info):
            return None
        pending += node.get("children") or []
    estimate = (root.get("extra_info") or {}).get("Estimated Cardinality")
    return int(estimate) if isinstance(estimate, str) and estimate.isdigit() else None


def sql_path_enabled() -> bool:
    """Whether linear models may score in DuckDB (``SQLML_LINEAR_SQL=off`` keeps the Python path)."""
    return os.environ.get(LINEAR_SQL_VARIABLE, "").lower() != "off"


def scored_in_query(model: Model, estimator: object, data: object) -> Iterator[tuple[pa.RecordBatch, np.ndarray]] | None:
    """The input rows' label column and the estimator's raw outputs, computed by DuckDB, batch by
    batch — what :func:`~sqlml.ml.runtime.predict.scored_batches` gives ML.EVALUATE,
    ML.CONFUSION_MATRIX and ML.ROC_CURVE — or None when the Python path should score them (no
    SQL form, the path switched off, a few rows, an engine other than DuckDB, or no label column,
    which it reports).

    Args:
        model: the model.
        estimator: the estimator that scores.
        data: the call's data argument (its ``sql``, ``schema`` and ``relation(sql over __data)``).

    The raw outputs are the prediction (a regressor's) or the class probabilities in class index
    order (the query's ``predicted_<label>_probs`` lists them higher label first).
    """
    if not sql_path_enabled() or not has_sql_form(estimator) or model.preprocessor is None:
        return None
    if data.cursor.maps_batches or few_rows(data):  # an engine whose SQL is not DuckDB's (Spark), or a few rows
        return None
    schema = data.schema
    label = column_named(schema.names, model.label["name"])
    if label is None:
        return None
    query = linear_prediction_query(model, estimator, schema, exp.Table(this=exp.to_identifier("__data")))
    if query is None:
        return None
    output = model.family.output_schema(model).names[1 if estimator.task.is_classification else 0]
    text = f"SELECT {_quoted(label)}, {_quoted(output)} FROM ({query.sql(dialect=SqlmlDuckdb)})"
    return (_raw_outputs(batch, estimator.task.is_classification) for batch in data.relation(text).to_arrow_reader(122_880))


def _quoted(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=SqlmlDuckdb)


def _raw_outputs(batch: pa.RecordBatch, classifier: bool) -> tuple[pa.RecordBatch, np.ndarray]:
    """(the label column as a batch, the raw outputs) of a batch of the evaluation query."""
    labels = pa.RecordBatch.from_arrays([batch.column(0)], schema=pa.schema([batch.schema.field(0)]))
    if not classifier:
        return labels, batch.column(1).to_numpy(zero_copy_only=False)
    probs = batch.column(1)
    width = probs.value_lengths()[0].as_py() if len(probs) else 0
    flat = probs.flatten().field("prob").to_numpy(zero_copy_only=False)
    return labels, flat.reshape(len(probs), width)[:, ::-1].copy()


def has_sql_form(estimator: object) -> bool:
    """Whether ``estimator`` is one :func:`linear_prediction_query` may write (a linear model)."""
    return isinstance(estimator, LinearModel)


def linear_prediction_query(model: Model, estimator: object, schema: pa.Schema, source: exp.Table,
                            threshold: float | None = None, keep_original_columns: bool = False) -> exp.Select | None:  # fmt: skip
    """ML.PREDICT's rows for the rows of ``source`` as a query, or None when the model has no
    exact SQL form. The query is built once per model version, input schema and settings and
    shared: read it or copy it, never change it (the statement's renderer splices a copy).

    Args:
        model: the model (its preprocessing, label and classes).
        estimator: the estimator that scores (the serving one or a trial's).
        schema: the input's columns.
        source: the table the query reads the input from.
        threshold: the binary classifier's threshold (0.5 when None).
        keep_original_columns: pass feature columns through too (as ML.PREDICT's setting).

    Raises:
        InvalidModelInputError: the input lacks a column the model was trained on.
    """
    if not has_sql_form(estimator) or model.preprocessor is None:
        return None
    model.check_input(schema)
    return _query(model, estimator, schema, source.name, threshold, keep_original_columns)


@functools.lru_cache(maxsize=64)
def _query(model: Model, estimator: LinearModel, schema: pa.Schema, source: str, threshold: float | None, keep_original_columns: bool) -> exp.Select | None:
    # models hash by identity: the model cache hands out one object per stored version
    carried = [schema.field(i).name for i in passed_through(model, schema, keep_original_columns)]
    outputs = model.family.output_schema(model).names
    if not _distinct(schema.names) or not _distinct(outputs + carried):
        return None
    rows = transformed_rows(model, schema, exp.Table(this=exp.to_identifier(source)))
    encodings = sql_encodings(model.preprocessor, rows.columns) if rows is not None else None
    labels = _labels(model) if estimator.task.is_classification else []
    if encodings is None or labels is None:
        return None
    coef, intercept = np.atleast_2d(estimator.coef_), np.atleast_1d(estimator.intercept_)
    featured, encodings = _features(rows.query, encodings)
    scored = _layer(featured, {_name("score", k): _score(coef[k], float(intercept[k]), encodings) for k in range(len(coef))})
    if estimator.task.kind == "regression":
        return exp.select(_alias(_column(_name("score", 0)), outputs[0]), *map(_column, carried), copy=False).from_(scored, copy=False)
    kind = _binary if estimator.task.kind == "binary" else _multiclass
    probabilities, predicted = kind(scored, labels, 0.5 if threshold is None else threshold)
    return _outputs(probabilities, predicted, labels, outputs, carried)


def _distinct(names: list[str]) -> bool:
    lowered = [name.lower() for name in names]
    return len(set(lowered)) == len(lowered) and not any(name.startswith(PREFIX) for name in lowered)


def _name(kind: str, index: int | None = None) -> str:
    return f"{PREFIX}{kind}" if index is None else f"{PREFIX}{kind}_{index}"


def _column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _alias(value: exp.Expression, name: str) -> exp.Alias:
    """``<value's DuckDB text> AS "name"``."""
    return exp.Alias(this=exp.Var(this=value.sql(dialect=SqlmlDuckdb)), alias=exp.to_identifier(name, quoted=True))


def _layer(rows: exp.Expression, values: dict[str, exp.Expression]) -> exp.Subquery:
    """``(SELECT *, <values> FROM rows)``: the rows with more columns (``rows`` is taken, not copied)."""
    named = [_alias(value, name) for name, value in values.items()]
    return exp.select(exp.Star(), *named, copy=False).from_(rows, copy=False).subquery(_name("rows"), copy=False)


def _features(rows: exp.Expression, encodings: list[SqlEncoding]) -> tuple[exp.Subquery, list[SqlEncoding]]:
    """The rows with each encoding's value (a numeric feature, a category's text) computed once,
    and the encodings reading those columns: a multiclass model's scores all read them."""
    values, read = {}, []
    for index, encoding in enumerate(encodings):
        name = _name("feature", index)
        if isinstance(encoding, NumericFeature):
            values[name], encoding = encoding.value, NumericFeature(_column(name))
        else:
            values[name], encoding = encoding.category, OneHotFeatures(_column(name), encoding.categories)
        read.append(encoding)
    return _layer(rows, values), read


def _score(coef: np.ndarray, intercept: float, encodings: list[SqlEncoding]) -> exp.Expression:
    """``X·β + b`` for one output: a product per numeric feature, a CASE (or a MAP lookup) per
    one-hot block."""
    terms, start = [], 0
    for encoding in encodings:
        if isinstance(encoding, NumericFeature):
            terms.append(exp.Mul(this=number(float(coef[start])), expression=encoding.value.copy()))
            start += 1
            continue
        weights = [float(w) for w in coef[start : start + len(encoding.categories)]]
        terms.append(_category_weight(encoding, weights))
        start += len(encoding.categories)
    return exp.Add(this=_sum(terms), expression=number(intercept)) if terms else number(intercept)


def _category_weight(encoding: OneHotFeatures, weights: list[float]) -> exp.Expression:
    """The weight of the row's category (0 for one without a feature): ``CASE category WHEN …``
    up to :data:`CASE_CATEGORIES` categories, ``COALESCE(MAP {…}[category], 0)`` beyond (DuckDB
    tries a CASE's WHENs in turn; see the measurements there)."""
    if not weights:
        return number(0.0)
    if len(weights) <= CASE_CATEGORIES:
        ifs = [exp.If(this=exp.Literal.string(c), true=number(w)) for c, w in zip(encoding.categories, weights)]
        return exp.Case(this=encoding.category.copy(), ifs=ifs, default=number(0.0))
    table = exp.ToMap(this=exp.Struct(expressions=[
        exp.PropertyEQ(this=exp.Literal.string(c), expression=number(w)) for c, w in zip(encoding.categories, weights)
    ]))  # fmt: skip
    return exp.Coalesce(this=exp.Bracket(this=table, expressions=[encoding.category.copy()]), expressions=[number(0.0)])


def _sum(terms: list[exp.Expression]) -> exp.Expression:
    """The terms added as a balanced tree (a long left-deep chain nests as deep as it is long)."""
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    return exp.Paren(this=exp.Add(this=_sum(terms[:middle]), expression=_sum(terms[middle:])))


def _function(name: str, *args: exp.Expression) -> exp.Expression:
    # DuckDB's own function, not sqlglot's node: sqlglot's GREATEST adds NULL checks that these
    # non-NULL operands never need
    return exp.Anonymous(this=name, expressions=list(args))


def _binary(scored: exp.Subquery, labels: list[exp.Expression], threshold: float) -> tuple[exp.Subquery, exp.Expression]:
    """P(positive) = 0.5·(1 + tanh(0.5·z)), as the estimator computes it; the class is positive above
    the threshold."""
    half = number(0.5)
    tanh = _function("tanh", exp.Mul(this=half.copy(), expression=_column(_name("score", 0))))
    positive = exp.Mul(this=half, expression=exp.Paren(this=exp.Add(this=number(1.0), expression=tanh)))
    rows = _layer(scored, {_name("prob", 1): positive})
    rows = _layer(rows, {_name("prob", 0): exp.Sub(this=number(1.0), expression=_column(_name("prob", 1)))})
    above = exp.GT(this=_column(_name("prob", 1)), expression=number(float(threshold)))
    return rows, exp.Case(ifs=[exp.If(this=above, true=labels[1].copy())], default=labels[0].copy())


def _multiclass(scored: exp.Subquery, labels: list[exp.Expression], threshold: float) -> tuple[exp.Subquery, exp.Expression]:
    """The softmax (exp(z - max z), divided by its sum) and the first class of highest probability
    (``threshold`` applies to binary models only)."""
    k = len(labels)
    rows = _layer(scored, {_name("top"): _function("greatest", *(_column(_name("score", i)) for i in range(k)))})
    shifted = {_name("exp", i): _function("exp", exp.Sub(this=_column(_name("score", i)), expression=_column(_name("top")))) for i in range(k)}
    rows = _layer(_layer(rows, shifted), {_name("total"): _sum([_column(_name("exp", i)) for i in range(k)])})
    probabilities = {_name("prob", i): exp.Div(this=_column(_name("exp", i)), expression=_column(_name("total"))) for i in range(k)}
    rows = _layer(_layer(rows, probabilities), {_name("best"): _function("greatest", *(_column(_name("prob", i)) for i in range(k)))})
    ifs = [exp.If(this=exp.EQ(this=_column(_name("prob", i)), expression=_column(_name("best"))), true=labels[i].copy()) for i in range(k)]
    return rows, exp.Case(ifs=ifs)


def _outputs(rows: exp.Subquery, predicted: exp.Expression, labels: list[exp.Expression], outputs: list[str], carried: list[str]) -> exp.Select:
    """``predicted_<label>``, ``predicted_<label>_probs`` (higher label first), the carried columns."""
    entries = [
        exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier("label"), expression=labels[i].copy()),
            exp.PropertyEQ(this=exp.to_identifier("prob"), expression=_column(_name("prob", i))),
        ])
        for i in reversed(range(len(labels)))
    ]  # fmt: skip
    probs = exp.Array(expressions=entries)
    columns = [_alias(predicted, outputs[0]), _alias(probs, outputs[1])]
    return exp.select(*columns, *map(_column, carried), copy=False).from_(rows, copy=False)


def _labels(model: Model) -> list[exp.Expression] | None:
    """The classes as literals of the label's type, in class index order; None for a label type
    written here in no exact form."""
    duckdb_type = _LABEL_TYPES.get(str(model.label_type()))
    if duckdb_type is None:
        return None
    to = exp.DataType.build(duckdb_type, dialect="duckdb")
    return [exp.Cast(this=exp.Literal.string(_text(value)), to=to.copy()) for value in model.classes().to_pylist()]


def _text(value: object) -> str:
    """A label's text, which DuckDB casts back to exactly the value (``true``, ``0.25``, ``7``, ``a``)."""
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)
