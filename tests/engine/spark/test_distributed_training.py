"""CREATE MODEL on Spark's workers (issue 22, point 3): LINEAR_REG, LOGISTIC_REG, KMEANS, PCA and
MATRIX_FACTORIZATION (ALS) train with Spark MLlib on local[2], BigQuery's preprocessing statistics computed by Spark, and the stored
model is sqlml's portable one — its weights agree with one process's training (or scikit-learn's)
on the same rows, and ML.PREDICT of it on DuckDB equals ML.PREDICT on Spark.

Tolerances: a linear regression is solved exactly on both sides (normal equations): weights within
1e-8 relative. Logistic regression is an iterative fit on both sides (MLlib's L-BFGS, scikit-learn's
lbfgs, each to its own stopping rule): weights within 1e-4 absolute. k-means stops at Lloyd's fixed
point on both sides: centroids within 1e-9. PCA decomposes the same covariance matrix (Spark's
or NumPy's sums): components and eigenvalues within 1e-7 relative. ALS: the stored model's
predictions on DuckDB and MLlib's ``ALSModel.transform`` within 1e-5 (MLlib's factors are float32). Predictions of one stored model on either engine:
1e-9 relative (the engines add a linear model's terms in their own order).
"""

from __future__ import annotations

import numpy as np
import pytest

import sqlml
from sqlml.errors import InvalidOptionError

# 200 rows: numbers with a NULL (mean-imputed), a STRING category; a numeric, a binary and a 3-class label;
# and 240 (user, item, rating) rows: 30 STRING users × 8 of 20 INT64 items each, ratings 1-5 — made once
# for the module's tests (shared_both), which name their models apart
DATA = (
    "CREATE SCHEMA IF NOT EXISTS ds; CREATE OR REPLACE TABLE ds.t AS "
    "SELECT x, IF(MOD(x, 17) = 0, NULL, MOD(x * 37, 101) / 10.0) AS z, CAST(MOD(x * 7, 4) AS STRING) AS s, "
    "x * 0.5 + MOD(x * 37, 101) / 7.0 + MOD(x * 7, 4) * 3 + MOD(x * 13, 11) / 3.0 AS y, "
    "MOD(x * 37, 101) / 10.0 + MOD(x * 13, 11) > 10 AS big, "
    "CASE WHEN x < 70 THEN 'low' WHEN x < 140 + MOD(x, 9) THEN 'mid' ELSE 'high' END AS band "
    "FROM UNNEST(GENERATE_ARRAY(1, 200)) AS x; "
    "CREATE OR REPLACE TABLE ds.r AS "
    "SELECT CONCAT('u', CAST(u AS STRING)) AS user, MOD(u * 7 + j * 3, 20) AS item, "
    "CAST(1 + MOD(u * 5 + j * 11 + DIV(u, 4), 5) AS FLOAT64) AS rating "
    "FROM UNNEST(GENERATE_ARRAY(1, 30)) AS u, UNNEST(GENERATE_ARRAY(0, 7)) AS j"
)


def _weights(con, model: str, standardize: bool = False) -> dict:
    """ML.WEIGHTS as {processed input: weight}, categories as ``input=category``."""
    weights = {}
    query = f"SELECT processed_input, weight, category_weights FROM ML.WEIGHTS(MODEL {model}, STRUCT({standardize} AS standardize))"
    for name, weight, categories in con.query(query).fetchall():
        if categories:
            weights.update({f"{name}={c['category']}": c["weight"] for c in categories})
        else:
            weights[name] = weight
    return weights


def _predictions(con, model: str, columns: str) -> list[tuple]:
    return con.query(f"SELECT x, {columns} FROM ML.PREDICT(MODEL {model}, TABLE ds.t) ORDER BY x").fetchall()


def test_linear_reg_on_spark_has_the_weights_of_training_in_one_process(shared_both):
    spark_con, duck = shared_both
    l2_reg = 0.5  # the penalty's scale differs between MLlib and sqlml (see sqlml.ml.spark_training.trainers)
    statement = (
        "CREATE MODEL ds.{name} OPTIONS(model_type='linear_reg', input_label_cols=['y'], "
        f"category_encoding_method='DUMMY_ENCODING', l2_reg={l2_reg}) AS SELECT x, z, s, y FROM ds.t"
    )
    spark_con.query(statement.format(name="linear_on_spark"))
    duck.query(statement.format(name="linear_in_process"))
    on_spark, in_process = _weights(duck, "ds.linear_on_spark"), _weights(duck, "ds.linear_in_process")
    assert on_spark.keys() == in_process.keys() == {"x", "z", "s=0", "s=1", "s=2", "s=3", "__INTERCEPT__"}
    for name, weight in in_process.items():
        assert on_spark[name] == pytest.approx(weight, rel=1e-8, abs=1e-10), name
    # the stored model's description: the preprocessing Spark learned is one process's
    info = {row[0]: row[1:] for row in duck.query("SELECT input, mean, stddev, null_count FROM ML.FEATURE_INFO(MODEL ds.linear_on_spark)").fetchall()}
    expected = {row[0]: row[1:] for row in duck.query("SELECT input, mean, stddev, null_count FROM ML.FEATURE_INFO(MODEL ds.linear_in_process)").fetchall()}
    assert_close(info, expected, rel=1e-12)
    # one stored model, two engines: the same predictions
    assert_close(_predictions(spark_con, "ds.linear_on_spark", "predicted_y"), _predictions(duck, "ds.linear_on_spark", "predicted_y"))
    evaluated = "SELECT * FROM ML.EVALUATE(MODEL ds.linear_on_spark, TABLE ds.t)"
    assert_close(spark_con.query(evaluated).fetchall(), duck.query(evaluated).fetchall())


def _standardized(duck, columns: list[str]) -> np.ndarray:
    """The rows' features as BigQuery's preprocessing makes them: mean-imputed, z-scored (ddof 1)."""
    table = duck.query(f"SELECT {', '.join(columns)} FROM ds.t ORDER BY x").arrow()
    X = np.column_stack([table.column(c).to_numpy(zero_copy_only=False).astype(float) for c in columns])
    means, stds = np.nanmean(X, axis=0), np.nanstd(X, axis=0, ddof=1)
    X = np.where(np.isnan(X), means, X)
    return (X - means) / stds


@pytest.mark.parametrize(
    ("label", "classes", "weights"),
    [("big", [False, True], ""), ("band", ["high", "low", "mid"], "auto_class_weights=TRUE, ")],
    ids=["binary", "multiclass_auto_class_weights"],
)
def test_logistic_reg_on_spark_has_scikit_learns_weights(shared_both, label, classes, weights):
    from sklearn.linear_model import LogisticRegression

    spark_con, duck = shared_both
    l2_reg = 0.05
    spark_con.query(
        f"CREATE MODEL ds.c_{label} OPTIONS(model_type='logistic_reg', input_label_cols=['{label}'], {weights}l2_reg={l2_reg}, max_iterations=200) "
        f"AS SELECT x, z, {label} FROM ds.t"
    )
    X = _standardized(duck, ["x", "z"])
    y = np.array(duck.query(f"SELECT {label} FROM ds.t ORDER BY x").arrow().column(0).to_pylist())
    # scikit-learn minimizes C·Σ log loss + ½‖β‖²: sqlml's mean log loss + l2_reg·‖β‖² when C = 1 / (2·l2_reg·n);
    # auto_class_weights is its 'balanced' class weight, n / (classes · the class's rows), whose sum over the rows is n
    balanced = "balanced" if weights else None
    reference = LogisticRegression(C=1 / (2 * l2_reg * len(y)), class_weight=balanced, tol=1e-10, max_iter=10_000).fit(X, y)
    assert list(reference.classes_) == classes
    weights = _weights(duck, f"ds.c_{label}", standardize=True)  # the weights of the standardized features
    if len(classes) == 2:
        got = np.array([weights["x"], weights["z"], weights["__INTERCEPT__"]])
        np.testing.assert_allclose(got, [*reference.coef_[0], reference.intercept_[0]], atol=1e-4)
    by_label = [{p["label"]: p["prob"] for p in row[1]} for row in _predictions(duck, f"ds.c_{label}", f"predicted_{label}_probs")]
    probabilities = [[row[c] for c in classes] for row in by_label]
    np.testing.assert_allclose(probabilities, reference.predict_proba(X), atol=1e-4)
    columns = f"predicted_{label}, predicted_{label}_probs"
    assert_close(_predictions(spark_con, f"ds.c_{label}", columns), _predictions(duck, f"ds.c_{label}", columns))


def test_kmeans_on_spark_has_the_centroids_of_training_in_one_process(shared_both):
    spark_con, duck = shared_both
    blobs = (
        "CREATE OR REPLACE TABLE ds.blobs AS SELECT x, MOD(x, 3) * 10 + MOD(x * 7, 5) / 4.0 AS a, "
        "MOD(x, 3) * -6 + MOD(x * 11, 7) / 5.0 AS b FROM UNNEST(GENERATE_ARRAY(1, 300)) AS x"
    )
    spark_con.query(blobs)
    duck.query(blobs)
    statement = "CREATE MODEL ds.{name} OPTIONS(model_type='kmeans', num_clusters=3, kmeans_init_method='KMEANS++') AS SELECT a, b FROM ds.blobs"
    spark_con.query(statement.format(name="kmeans_on_spark"))
    duck.query(statement.format(name="kmeans_in_process"))
    centroids = "SELECT centroid_id, feature, numerical_value FROM ML.CENTROIDS(MODEL ds.{name}) ORDER BY centroid_id, feature"

    def by_centroid(name: str) -> list[tuple]:
        rows = duck.query(centroids.format(name=name)).fetchall()
        return sorted(tuple(value for _, _, value in rows[i : i + 2]) for i in range(0, len(rows), 2))

    np.testing.assert_allclose(by_centroid("kmeans_on_spark"), by_centroid("kmeans_in_process"), rtol=1e-9)
    info = spark_con.query("SELECT cluster_info FROM ML.TRAINING_INFO(MODEL ds.kmeans_on_spark)").fetchall()[-1][0]
    assert sorted(c["cluster_size"] for c in info) == [100, 100, 100]
    predicted = "SELECT a, b, centroid_id, nearest_centroids_distance FROM ML.PREDICT(MODEL ds.kmeans_on_spark, TABLE ds.blobs) ORDER BY a, b"
    assert_close(spark_con.query(predicted).fetchall(), duck.query(predicted).fetchall())


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "CREATE MODEL ds.m TRANSFORM(x * 2 AS x2, y) OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.t",
            "CREATE MODEL with TRANSFORM(…) is not trained on Spark's workers yet.",
        ),
        (
            "CREATE MODEL ds.m OPTIONS(model_type='logistic_reg', input_label_cols=['big'], num_trials=2) AS SELECT x, big FROM ds.t",
            "num_trials is not applied by CREATE MODEL on Spark's workers yet.",
        ),
        (
            "CREATE MODEL ds.m OPTIONS(model_type='kmeans', num_clusters=2) AS SELECT x, DATE '2024-01-01' AS d FROM ds.t",
            "d is a date32[day] column, which CREATE MODEL on Spark's workers does not encode yet.",
        ),
    ],
    ids=["transform", "num_trials", "date_feature"],
)
def test_what_the_workers_do_not_train_is_refused_and_names_the_driver(shared_both, statement, message):
    spark_con, _ = shared_both
    models = "SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.MODELS"
    before = spark_con.query(models).fetchall()
    with pytest.raises(InvalidOptionError) as refused:
        spark_con.query(statement)
    assert refused.value.message == message
    assert refused.value.hint == "Add OPTIONS(spark_train='driver') to train on the driver (the rows must fit in its memory)."
    assert spark_con.query(models).fetchall() == before  # no model stored


def test_a_null_label_fails_with_the_message_of_training_in_one_process(shared_both):
    spark_con, _ = shared_both
    with pytest.raises(sqlml.errors.InvalidModelInputError) as failed:
        spark_con.query("CREATE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['z']) AS SELECT x, z FROM ds.t")
    assert failed.value.message == "The label column z has 11 NULL value(s) in 200 rows; BigQuery ML does not train on NULL labels."


def assert_close(got: object, expected: object, rel: float = 1e-9) -> None:
    """Rows equal, floats within ``rel`` relative."""
    assert _close(got, expected, rel), f"{got} != {expected}"


def _close(got: object, expected: object, rel: float) -> bool:
    if isinstance(expected, float):
        return isinstance(got, float) and got == pytest.approx(expected, rel=rel, abs=1e-12)
    if isinstance(expected, (list, tuple)):
        return isinstance(got, type(expected)) and len(got) == len(expected) and all(_close(g, e, rel) for g, e in zip(got, expected))
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and all(_close(got[k], expected[k], rel) for k in got)
    return got == expected


def test_pca_on_spark_has_the_components_of_training_in_one_process(shared_both):
    spark_con, duck = shared_both
    statement = (
        "CREATE MODEL ds.{name} OPTIONS(model_type='pca', num_principal_components=2) AS SELECT x, z, y, s FROM ds.t"
    )
    spark_con.query(statement.format(name="pca_on_spark"))
    duck.query(statement.format(name="pca_in_process"))
    components = "SELECT principal_component_id, feature, numerical_value FROM ML.PRINCIPAL_COMPONENTS(MODEL ds.{name}) ORDER BY 1, 2"
    info = "SELECT principal_component_id, eigenvalue, explained_variance_ratio FROM ML.PRINCIPAL_COMPONENT_INFO(MODEL ds.{name}) ORDER BY 1"
    for query in (components, info):
        assert_close(duck.query(query.format(name="pca_on_spark")).fetchall(), duck.query(query.format(name="pca_in_process")).fetchall(), rel=1e-7)
    # (PCA's ML.PREDICT passes no input column through: rows in the order of their projections)
    projected = "SELECT principal_component_1, principal_component_2 FROM ML.PREDICT(MODEL ds.pca_on_spark, TABLE ds.t) ORDER BY 1, 2"
    assert_close(spark_con.query(projected).fetchall(), duck.query(projected).fetchall())




@pytest.mark.parametrize(
    ("options", "als"),
    [
        pytest.param("num_factors=3, l2_reg=0.1, max_iterations=3", {"rank": 3, "regParam": 0.1, "maxIter": 3}, marks=pytest.mark.slow),
        pytest.param("feedback_type='IMPLICIT', num_factors=4, l2_reg=0.5, wals_alpha=5, max_iterations=2",
                     {"rank": 4, "regParam": 0.5, "maxIter": 2, "implicitPrefs": True, "alpha": 5.0}, marks=pytest.mark.slow),
    ],  # slow: ALS fitted twice on local[2], evaluated on both engines
    ids=["explicit", "implicit"],
)
def test_matrix_factorization_on_spark_predicts_what_mllibs_als_predicts(shared_both, spark, request, options, als):
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from sqlml.ml.spark_training.als import SEED, blocks_for

    spark_con, duck = shared_both
    model = f"ds.mf_{request.node.callspec.id}"
    spark_con.query(f"CREATE MODEL {model} OPTIONS(model_type='matrix_factorization', {options}) AS SELECT user, item, rating FROM ds.r")
    # MLlib's ALS on the same rows, users and items coded by their sorted position
    rows = spark.table("ds.r")
    for name in ("user", "item"):
        codes = rows.select(name).distinct().withColumn(f"{name}_id", F.row_number().over(Window.orderBy(name)) - 1)
        rows = rows.join(codes, name)
    blocks = blocks_for(rows)
    fitted = ALS(userCol="user_id", itemCol="item_id", ratingCol="rating", seed=SEED, numUserBlocks=blocks, numItemBlocks=blocks, **als).fit(rows)
    expected = {(r["user"], r["item"]): r["prediction"] for r in fitted.transform(rows).collect()}
    # every (user, item) pair of the rows, scored by the stored model on DuckDB
    column = "predicted_rating_confidence" if "IMPLICIT" in options else "predicted_rating"
    got = dict(((u, i), p) for u, i, p in duck.query(f"SELECT user, item, {column} FROM ML.RECOMMEND(MODEL {model}, (SELECT user, item FROM ds.r))").fetchall())
    assert got.keys() == expected.keys() and len(got) == 240
    np.testing.assert_allclose([got[k] for k in expected], list(expected.values()), atol=1e-5, rtol=1e-5)
    weights = duck.query(f"SELECT COUNT(*), SUM(ABS(intercept)) FROM ML.WEIGHTS(MODEL {model})").fetchall()
    assert weights == [(30 + 20 + 1, 0.0)]  # MLlib's ALS learns no intercepts
    evaluated = f"SELECT * FROM ML.EVALUATE(MODEL {model}, TABLE ds.r)"
    on_duckdb = duck.query(evaluated).arrow().to_pylist()
    if "IMPLICIT" not in options:  # explicit: the regression metrics of the pairs' predictions
        errors = np.array([got[(r["user"], r["item"])] - r["rating"] for r in spark.table("ds.r").collect()])
        assert on_duckdb[0]["mean_squared_error"] == pytest.approx(float(np.mean(errors**2)), rel=1e-9)
    assert_close(spark_con.query(evaluated).arrow().to_pylist(), on_duckdb, rel=1e-6)
