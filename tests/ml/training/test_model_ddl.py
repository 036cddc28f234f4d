"""CREATE MODEL and ALTER MODEL on bad input: nothing trained or replaced, errors that point at the cause."""

from __future__ import annotations

import logging
import re

import pytest

import sqlml
from sqlml.ml.models.model_types import ModelType
from sqlml.store.records import ALIAS_RULE, ModelRef

ROWS = "SELECT CAST(range AS DOUBLE) AS x, range % 7 * 1.5 AS z, range % 2 = 0 AS c, 'k' || (range % 3) AS s, 3.0 * range AS y FROM range(80)"

#: One CREATE MODEL per model type sqlml trains (``{q}`` is the training query), and the tuned and
#: TRANSFORM variants: every one must refuse an empty training query.
CASES = {
    "LINEAR_REG": "OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, s, y FROM ({q})",
    "LOGISTIC_REG": "OPTIONS(model_type='logistic_reg', input_label_cols=['c']) AS SELECT x, s, c FROM ({q})",
    "BOOSTED_TREE_CLASSIFIER": "OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['c'], max_iterations=2) AS SELECT x, s, c FROM ({q})",
    "BOOSTED_TREE_REGRESSOR": "OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['y'], max_iterations=2) AS SELECT x, s, y FROM ({q})",
    "RANDOM_FOREST_CLASSIFIER": "OPTIONS(model_type='random_forest_classifier', input_label_cols=['c'], num_parallel_tree=3) AS SELECT x, s, c FROM ({q})",
    "RANDOM_FOREST_REGRESSOR": "OPTIONS(model_type='random_forest_regressor', input_label_cols=['y'], num_parallel_tree=3) AS SELECT x, s, y FROM ({q})",
    "DNN_CLASSIFIER": "OPTIONS(model_type='dnn_classifier', input_label_cols=['c'], hidden_units=[2], max_iterations=1) AS SELECT x, s, c FROM ({q})",
    "DNN_REGRESSOR": "OPTIONS(model_type='dnn_regressor', input_label_cols=['y'], hidden_units=[2], max_iterations=1) AS SELECT x, s, y FROM ({q})",
    "DNN_LINEAR_COMBINED_CLASSIFIER": "OPTIONS(model_type='dnn_linear_combined_classifier', input_label_cols=['c'], hidden_units=[2], max_iterations=1) AS SELECT x, s, c FROM ({q})",
    "DNN_LINEAR_COMBINED_REGRESSOR": "OPTIONS(model_type='dnn_linear_combined_regressor', input_label_cols=['y'], hidden_units=[2], max_iterations=1) AS SELECT x, s, y FROM ({q})",
    "AUTOML_CLASSIFIER": "OPTIONS(model_type='automl_classifier', input_label_cols=['c'], budget_hours=0.0001) AS SELECT x, s, c FROM ({q})",
    "AUTOML_REGRESSOR": "OPTIONS(model_type='automl_regressor', input_label_cols=['y'], budget_hours=0.0001) AS SELECT x, s, y FROM ({q})",
    "KMEANS": "OPTIONS(model_type='kmeans', num_clusters=2) AS SELECT x, z FROM ({q})",
    "PCA": "OPTIONS(model_type='pca', num_principal_components=1) AS SELECT x, z FROM ({q})",
    "AUTOENCODER": "OPTIONS(model_type='autoencoder', hidden_units=[1], max_iterations=1) AS SELECT x, z FROM ({q})",
    "ARIMA_PLUS": "OPTIONS(model_type='arima_plus', time_series_timestamp_col='t', time_series_data_col='y') "
    "AS SELECT TIMESTAMP_ADD(TIMESTAMP '2020-01-01', INTERVAL CAST(x AS INT64) DAY) AS t, y FROM ({q})",
    "ARIMA_PLUS_XREG": "OPTIONS(model_type='arima_plus_xreg', time_series_timestamp_col='t', time_series_data_col='y') "
    "AS SELECT TIMESTAMP_ADD(TIMESTAMP '2020-01-01', INTERVAL CAST(x AS INT64) DAY) AS t, z, y FROM ({q})",
    "MATRIX_FACTORIZATION": "OPTIONS(model_type='matrix_factorization', num_factors=2, max_iterations=1) "
    "AS SELECT s AS user, CAST(z AS INT64) AS item, y AS rating FROM ({q})",
    "CONTRIBUTION_ANALYSIS": "OPTIONS(model_type='contribution_analysis', contribution_metric='SUM(y)', dimension_id_cols=['s'], "
    "is_test_col='c') AS SELECT s, c, y FROM ({q})",
    "TRANSFORM_ONLY": "TRANSFORM(ML.STANDARD_SCALER(x) OVER () AS xs) OPTIONS(model_type='transform_only') AS SELECT x FROM ({q})",
    "tuned LINEAR_REG": "OPTIONS(model_type='linear_reg', input_label_cols=['y'], num_trials=2) AS SELECT x, y FROM ({q})",
    "tuned KMEANS": "OPTIONS(model_type='kmeans', num_trials=2, num_clusters=HPARAM_CANDIDATES([2, 3])) AS SELECT x, z FROM ({q})",
    "TRANSFORM LOGISTIC_REG": "TRANSFORM(ML.MIN_MAX_SCALER(x) OVER () AS xm, c) OPTIONS(model_type='logistic_reg', input_label_cols=['c']) AS SELECT x, c FROM ({q})",
}


#: The previous version of a case, where not the case itself: an AutoML search trains several
#: families even on 80 rows (8-18 s of CPU each), and the rows are checked before the model type
#: matters (sqlml.ml.training.model_ddl), so a linear model stands in as the version to keep.
PREVIOUS = {"AUTOML_CLASSIFIER": "LOGISTIC_REG", "AUTOML_REGRESSOR": "LINEAR_REG"}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("statements")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query(f"CREATE SCHEMA ds; CREATE TABLE ds.t AS {ROWS}")
        yield connection


def test_every_trained_model_type_is_covered():
    imported = {ModelType.ONNX, ModelType.LIGHTGBM, ModelType.XGBOOST}  # made from a file: no training query
    assert {m.value for m in ModelType} - {m.value for m in imported} <= set(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_a_training_query_without_rows_fails_and_keeps_the_previous_model(con, case):
    name = "ds.empty_" + case.lower().replace(" ", "_")
    con.query(f"CREATE OR REPLACE MODEL {name} " + CASES[PREVIOUS.get(case, case)].format(q="SELECT * FROM ds.t"))
    empty = f"CREATE OR REPLACE MODEL {name} " + CASES[case].format(q="SELECT * FROM ds.t WHERE x < 0")
    with pytest.raises(sqlml.InvalidModelInputError, match=r"^The training query returned no rows\.\n") as info:
        con.query(empty)
    assert info.value.location.line == 1 and empty[info.value.location.col - 1 :].startswith("SELECT")
    model = name.split(".")[1]
    assert [v.version for v in con.models.versions("ds", model)] == [1]
    assert con.models.resolve(ModelRef("ds", model)).version == 1


@pytest.mark.parametrize("case", ["LINEAR_REG", "LOGISTIC_REG", "KMEANS", "tuned LINEAR_REG", "TRANSFORM LOGISTIC_REG"])
def test_only_classifiers_keep_the_outputs_of_their_scored_rows(con, case):
    """ML.CONFUSION_MATRIX and ML.ROC_CURVE without input data read a classifier's kept labels and
    probabilities; no other model stores outputs nothing reads."""
    from sqlml.ml.models.model import Model

    con.query(f"CREATE OR REPLACE MODEL ds.outputs {CASES[case].format(q='SELECT * FROM ds.t')}")
    store = con.models
    arrays = Model.load(store.verified_files(store.resolve(ModelRef.parse("ds.outputs")))).arrays
    if "LOGISTIC_REG" in case:
        labels = con.query("SELECT c FROM ds.t").df().c.to_numpy().astype(int)
        assert arrays["eval_output"].shape == (80, 2)
        assert sorted(arrays["eval_target"]) == sorted(labels)
    else:
        assert not {"eval_output", "eval_target"} & set(arrays)


# (a time-series model has no features: its data column's checks are in tests/ml/models/test_arima_plus.py;
# a matrix factorization's user, item and rating columns' are in tests/ml/models/test_matrix_factorization.py,
# a contribution analysis's dimension and metric columns' in tests/ml/contribution/test_errors.py)
SUMMARISED = ("TRANSFORM", "ARIMA", "MATRIX", "CONTRIBUTION")


@pytest.mark.parametrize("case", [case for case in CASES if not any(kind in case for kind in SUMMARISED)])
def test_an_infinite_or_all_null_feature_is_an_error_naming_it_for_every_model_type(con, case):
    name = "ds.bad_" + case.lower().replace(" ", "_")
    infinite = "SELECT * REPLACE (IF(x = 3, CAST('-inf' AS FLOAT64), x) AS x) FROM ds.t"
    with pytest.raises(sqlml.InvalidModelInputError, match=r"^The column 'x' has 1 infinite value\(s\); a feature must be finite or NULL\.") as info:
        con.query(f"CREATE OR REPLACE MODEL {name} " + CASES[case].format(q=infinite))
    assert info.value.column == "x"
    untyped = "SELECT * REPLACE (NULL AS x) FROM ds.t"
    with pytest.raises(sqlml.InvalidModelInputError, match=r"^Failed to calculate mean since the entries in corresponding column 'x' are all NULLs\."):
        con.query(f"CREATE OR REPLACE MODEL {name} " + CASES[case].format(q=untyped))
    assert not con.models.exists("ds", name.split(".")[1])


def test_nan_in_a_feature_is_missing_like_null(con):
    con.query("CREATE OR REPLACE MODEL ds.nan OPTIONS(model_type='linear_reg', input_label_cols=['y']) "
              "AS SELECT IF(x = 3, CAST('nan' AS FLOAT64), x) AS x, z, y FROM ds.t")  # fmt: skip
    imputed = con.query("SELECT predicted_y FROM ML.PREDICT(MODEL ds.nan, (SELECT CAST('nan' AS FLOAT64) AS x, 1.5 AS z UNION ALL "
                        "SELECT NULL, 1.5 UNION ALL SELECT mean, 1.5 FROM ML.FEATURE_INFO(MODEL ds.nan) WHERE input = 'x'))").fetchall()  # fmt: skip
    assert imputed[0] == imputed[1] == pytest.approx(imputed[2])


def test_an_untyped_null_output_of_a_transform_only_model_is_described(con):
    con.query("CREATE OR REPLACE MODEL ds.nulls TRANSFORM(x, NULL AS n) OPTIONS(model_type='transform_only') AS SELECT x FROM ds.t")
    info = con.query("SELECT input, null_count, mean FROM ML.FEATURE_INFO(MODEL ds.nulls) ORDER BY input").fetchall()
    assert info == [("n", 80, None), ("x", 0, 39.5)]


def test_kmeans_needs_as_many_distinct_rows_as_clusters(con):
    with pytest.raises(sqlml.InvalidModelInputError, match=r"^KMEANS needs at least num_clusters=3 distinct rows; the training data has 1\."):
        con.query("CREATE OR REPLACE MODEL ds.same OPTIONS(model_type='kmeans', num_clusters=3) AS SELECT 5.0 AS k FROM ds.t")


def test_all_null_labels_and_an_empty_training_split_fail_and_keep_the_previous_model(con):
    con.query("CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.t")
    with pytest.raises(sqlml.InvalidModelInputError, match=r"^The label column y has 80 NULL value\(s\) in 80 rows; BigQuery ML does not train on NULL labels\."):
        con.query("CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, CAST(NULL AS FLOAT64) AS y FROM ds.t")
    with pytest.raises(sqlml.InvalidOptionError, match=r"^The data split \(CUSTOM\) leaves no training rows: all 80 row\(s\) went to evaluation or test\.") as info:
        con.query("CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='linear_reg', input_label_cols=['y'], data_split_method='CUSTOM', "
                  "data_split_col='e') AS SELECT x, y, TRUE AS e FROM ds.t")  # fmt: skip
    assert info.value.option == "data_split_col"
    assert [v.version for v in con.models.versions("ds", "kept")] == [1]


def test_create_model_refuses_a_version_or_alias_in_the_name(con):
    con.query("CREATE OR REPLACE MODEL ds.named OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.t")
    for suffix in ("2", "production"):
        sql = f"CREATE OR REPLACE MODEL `ds.named@{suffix}` OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.t"
        with pytest.raises(sqlml.ModelError, match=rf"^CREATE MODEL cannot create `ds\.named@{suffix}`: '@{suffix}' names an existing version of ds\.named, not a model\.") as info:
            con.query(sql)
        assert "Every CREATE OR REPLACE MODEL ds.named makes a new version" in info.value.hint
        assert (info.value.location.line, info.value.location.col) == (1, 25)
    assert [v.version for v in con.models.versions("ds", "named")] == [1]


def test_an_imported_model_takes_no_training_query(con, tmp_path):
    with pytest.raises(sqlml.SqlSyntaxError, match=r"^model_type='ONNX' imports a model file and takes no training query\."):
        con.query(f"CREATE MODEL ds.onnx OPTIONS(model_type='ONNX', model_path='{tmp_path / 'm.onnx'}') AS SELECT 1 AS x")


MULTI_LINE = """SELECT 1;
CREATE OR REPLACE MODEL ds.located
OPTIONS(
  model_type = 'linear_reg',
  input_label_cols = ['y'],
  {option}
) AS
SELECT x,
       {column},
       y
FROM ds.t"""


@pytest.mark.parametrize(
    ("option", "column", "error", "message", "where"),
    [
        ("l2_reg = -1", "s", sqlml.InvalidOptionError, r"The 'l2_reg' option of CREATE MODEL .* Got -1 instead\.", (6, 3, "l2_reg = -1")),
        ("max_iteratons = 5", "s", sqlml.InvalidOptionError, r"Unknown option 'max_iteratons'", (6, 3, "max_iteratons = 5")),
        ("max_iteration = 2.5", "s", sqlml.InvalidOptionError, r"The 'max_iterations' option .* Got 2\.5 instead\.", (6, 3, "max_iteration = 2.5")),
        # given twice: the second one is the duplicate (the first, on line 5, is where it belongs)
        ("input_label_cols = ['x']", "s", sqlml.InvalidOptionError, r"The option 'input_label_cols' is given twice\.", (6, 3, "input_label_cols = ['x']")),
        ("l1_reg = 0", "IF(x = 3, CAST('inf' AS FLOAT64), x) AS f", sqlml.InvalidModelInputError,
         r"The column 'f' has 1 infinite value\(s\); a feature must be finite or NULL\.", (9, 8, "IF(x = 3, CAST('inf' AS FLOAT64), x) AS f")),
        ("l1_reg = 0", "CAST(NULL AS FLOAT64) AS f", sqlml.InvalidModelInputError,
         r"Failed to calculate mean since the entries in corresponding column 'f' are all NULLs\.", (9, 8, "CAST(NULL AS FLOAT64) AS f")),
    ],
)
def test_errors_point_at_the_option_or_column_at_fault(con, option, column, error, message, where):
    with pytest.raises(error, match=message) as info:
        con.query(MULTI_LINE.format(option=option, column=column))
    location = info.value.location
    line, col, text = where
    assert (location.statement, location.line, location.col, location.length) == (2, line, col, len(text))
    assert location.source_line[col - 1 :].startswith(text)
    assert f"at statement 2, line {line}, column {col}" in str(info.value)


def test_a_column_the_query_does_not_spell_out_points_at_the_query(con):
    sql = "CREATE OR REPLACE MODEL ds.star\n  OPTIONS(model_type='linear_reg')\n  AS SELECT * FROM ds.t"
    with pytest.raises(sqlml.InvalidModelInputError, match=r"^The training query has no label column 'label'\.") as info:
        con.query(sql)
    assert (info.value.column, info.value.location.line, info.value.location.col) == ("label", 3, 6)


@pytest.mark.parametrize("statement", ["DROP MODEL ds.{name}", "DROP MODEL IF EXISTS ds.{name}", "EXPORT MODEL ds.{name} OPTIONS(uri='/tmp/x')"])
def test_an_invalid_model_name_is_located_in_every_model_statement(con, statement):
    sql = "SELECT 1;\n" + statement.format(name="n" * 1025)
    with pytest.raises(sqlml.ModelError, match=r"^The dataset or model name 'nnnnnnnnnnnnnnnnnnnn…' has 1025 characters") as info:
        con.query(sql)
    location = info.value.location
    assert (location.statement, location.line) == (2, 2)
    assert location.source_line[location.col - 1 :].startswith("ds.nnnn")

def test_alter_model_options_are_type_checked_and_located(con):
    con.query("CREATE OR REPLACE MODEL ds.altered OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.t")
    cases = {
        "description=[1, 2]": r"The 'description' option of ALTER MODEL must be a string\. Got \[1, 2\] instead\.",
        "description=HPARAM_RANGE(1, 2)": r"The 'description' option of ALTER MODEL must be a string\. Got HPARAM_RANGE\(1\.0, 2\.0\) instead\.",
        "max_versions='x'": r"The 'max_versions' option of ALTER MODEL must be an integer in the range \[1, inf\)\. Got 'x' instead\.",
        "max_versions=0": r"The 'max_versions' option of ALTER MODEL must be an integer in the range \[1, inf\)\. Got 0 instead\.",
        "labels=[1, 2]": r"The 'labels' option of ALTER MODEL must be an array of \(key, value\) string pairs\. Got \[1, 2\] instead\.",
        "labels=[('team', 1)]": r"The 'labels' option of ALTER MODEL must be an array of \(key, value\) string pairs\. Got \[\('team', 1\)\] instead\.",
        "labels='team'": r"The 'labels' option of ALTER MODEL must be an array of \(key, value\) string pairs\. Got 'team' instead\.",
        "version_aliases='production'": r"The 'version_aliases' option of ALTER MODEL must be an array of strings\. Got 'production' instead\.",
        "version_aliases=[1]": r"The 'version_aliases' option of ALTER MODEL must be an array of strings\. Got \[1\] instead\.",
        "expiration_timestamp=3": r"The 'expiration_timestamp' option of ALTER MODEL must be a TIMESTAMP\. Got 3 instead\.",
        "l2_reg=1": r"ALTER MODEL does not accept the option 'l2_reg'\.",
    }
    for option, message in cases.items():
        sql = f"ALTER MODEL ds.altered\nSET OPTIONS(kms_key_name='k', {option})"
        with pytest.raises(sqlml.InvalidOptionError, match="^" + message) as info:
            con.query(sql)
        assert (info.value.location.line, info.value.location.col, info.value.location.length) == (2, 31, len(option)), option
    with pytest.raises(sqlml.InvalidOptionError, match=r"^The option 'description' is given twice\.") as info:
        con.query("ALTER MODEL ds.altered\nSET OPTIONS(description='a', kms_key_name='k', description='b')")
    assert (info.value.location.line, info.value.location.col, info.value.location.length) == (2, 48, len("description='b'"))
    con.query("ALTER MODEL ds.altered SET OPTIONS(description=NULL, expiration_timestamp=TIMESTAMP '2030-01-01 00:00:00 UTC')")
    record = next(r for r in con.models.models("ds") if r.name == "altered")
    assert record.description is None and record.max_versions is None and record.labels == {}


@pytest.mark.parametrize(
    ("alias", "problem"),
    [
        ("a/b", "it contains '/'"),
        ("..", "it does not start with a letter"),
        ("a..b", "it contains '.'"),
        ("a@b", "it contains '@'"),
        ("nul\x00", "it contains '\\x00'"),
        ("has space", "it contains ' '"),
        ("", "it is empty"),
        ("a" * 65, "it has 65 characters, more than 64"),
        ("2", "it does not start with a letter"),
        ("ünïcode", "it does not start with a letter"),
    ],
)
def test_version_aliases_follow_one_rule(con, alias, problem):
    con.query("CREATE OR REPLACE MODEL ds.aliased OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.t")
    with pytest.raises(sqlml.InvalidOptionError, match=re.escape(f"{alias!r} cannot be a version alias: {problem}.")) as info:
        con.query("ALTER MODEL ds.aliased SET OPTIONS(version_aliases=[@a])", {"a": alias})
    assert info.value.hint == ALIAS_RULE
    if not alias.isdigit():  # `ds.m@2` names version 2
        with pytest.raises(sqlml.ModelError, match=re.escape(f"names neither a version number nor a valid alias after '@': {problem}.")):
            ModelRef.parse(f"ds.aliased@{alias}")
    con.query("ALTER MODEL ds.aliased SET OPTIONS(version_aliases=['Prod_2-canary'])")
    aliases = con.query("SELECT aliases FROM ML.VERSIONS(MODEL ds.aliased) ORDER BY version DESC LIMIT 1").fetchall()[0][0]
    assert sorted(aliases) == ["Prod_2-canary", "default"]


def test_training_prints_nothing_to_stderr(capfd, caplog, recwarn, tmp_path):
    """Nothing is logged or warned: sqlglot logged when the lineage was rendered in a dialect that
    cannot say the statement (it is kept in the one it was written in), NumPy warned about an
    empty ARRAY position, Optuna logged failed trials."""
    with sqlml.connect(tmp_path / "w", tmp_path / "m", idle_release=0, dialect="duckdb") as duck:
        duck.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT range::DOUBLE AS x, range * 2.0 AS y FROM range(40)")
        capfd.readouterr()
        duck.query("CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) "
                   "AS WITH c(a, y) AS (SELECT * FROM (SELECT x, y FROM ds.t)) SELECT a, y FROM c")  # fmt: skip
        with pytest.raises(sqlml.InvalidModelInputError):
            duck.query("CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) "
                       "AS SELECT CASE WHEN x = 3 THEN 'inf'::DOUBLE ELSE x END AS x, y FROM ds.t")  # fmt: skip
        # an ARRAY position without a value used to print NumPy's "Mean of empty slice"
        duck.query("CREATE OR REPLACE MODEL ds.arr OPTIONS(model_type='linear_reg', input_label_cols=['y']) "
                   "AS SELECT [NULL::DOUBLE, x] AS a, y FROM ds.t")  # fmt: skip
        # a failed trial (more clusters than rows) used to print Optuna's warning and traceback
        duck.query("CREATE OR REPLACE MODEL ds.km OPTIONS(model_type='kmeans', num_trials=2, hparam_tuning_algorithm='GRID_SEARCH', "
                   "num_clusters=HPARAM_CANDIDATES([2, 50])) AS SELECT x FROM ds.t")  # fmt: skip
        statuses = sorted(r[0] for r in duck.query("SELECT status FROM ML.TRIAL_INFO(MODEL ds.km)").fetchall())
        statement = duck.query("SELECT training_statement FROM ML.VERSIONS(MODEL ds.m)").fetchall()[0][0]
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert [str(warning.message) for warning in recwarn] == []
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
    assert "WITH c(a, y) AS" in statement
    assert statuses == ["FAILED", "SUCCEEDED"]


def test_create_remote_model_says_sqlml_cannot_call_it_and_creates_nothing(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-remote-model
    # (the generative AI tutorials' first statement): not "CREATE MODEL needs OPTIONS(model_type='…')"
    with pytest.raises(sqlml.UnsupportedStatementError) as caught:
        con.query("CREATE OR REPLACE MODEL ds.gemini_model\n  REMOTE WITH CONNECTION `us.bqml_tutorial`\n  OPTIONS (ENDPOINT = 'gemini-2.0-flash')")
    error = caught.value
    assert error.message == (
        "CREATE MODEL … REMOTE WITH CONNECTION `us.bqml_tutorial` makes a remote model (Gemini, a Vertex AI endpoint "
        "or a Cloud AI service), which sqlml cannot call: it runs models locally."
    )
    assert "model_type='ONNX' or 'XGBOOST'" in error.hint
    assert (error.location.line, error.location.col) == (2, 26)
    with pytest.raises(sqlml.ModelNotFoundError):
        con.query("SELECT * FROM ML.FEATURE_INFO(MODEL ds.gemini_model)")


@pytest.mark.parametrize("model_type", ["ONNX", "XGBOOST", "LIGHTGBM"])
def test_an_imported_model_on_cloud_storage_says_to_copy_it_locally(con, model_type):
    # the published imports (bigqueryml-syntax-create-onnx, -xgboost) name gs:// paths
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        con.query(f"CREATE OR REPLACE MODEL ds.imported OPTIONS (MODEL_TYPE='{model_type}', MODEL_PATH='gs://mybucket/model.bin')")
    assert caught.value.message == "model_path must be a local file; got gs://mybucket/model.bin."
    assert caught.value.hint == (
        "sqlml reads no cloud storage: copy the file to this machine (e.g. gcloud storage cp gs://mybucket/model.bin .) and give its local path."
    )
