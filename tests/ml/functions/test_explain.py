"""ML.EXPLAIN_PREDICT, ML.GLOBAL_EXPLAIN and ML.FEATURE_IMPORTANCE: exact attributions that add up,
per input column, checked against LightGBM's own contributions."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pytest

import sqlml

ROWS = """
CREATE SCHEMA ds;
CREATE TABLE ds.people AS
SELECT i AS id,
       MOD(i * 37, 100) / 10.0 AS income,
       MOD(i * 11, 50) AS age,
       ['north', 'south', 'east', 'west'][OFFSET(MOD(i, 4))] AS region,
       (MOD(i * 37, 100) / 10.0) * 2 + MOD(i * 11, 50) / 10.0 + IF(MOD(i, 4) = 1, 3, 0) + MOD(i * 7, 13) / 6.0 AS spend,
       (MOD(i * 37, 100) / 10.0) + IF(MOD(i, 4) = 1, 4, 0) + MOD(i * 7, 13) / 3.0 > 7 AS buys,
       CASE WHEN MOD(i, 7) = 0 THEN 'mid' WHEN MOD(i * 37, 100) < 33 THEN 'low' WHEN MOD(i * 37, 100) < 66 THEN 'mid' ELSE 'high' END AS tier
FROM UNNEST(GENERATE_ARRAY(1, 600)) AS i;
"""
INPUTS = "SELECT income, age, region FROM ds.people"


@pytest.fixture
def people(con):
    con.query(ROWS)
    return con


def explained(con, model: str, top_k: int = 3) -> list[dict]:
    return con.query(f"SELECT * FROM ML.EXPLAIN_PREDICT(MODEL {model}, ({INPUTS}), STRUCT({top_k} AS top_k_features))").arrow().to_pylist()


def assert_adds_up(rows: list[dict]) -> None:
    for row in rows:
        total = row["baseline_prediction_value"] + sum(a["attribution"] for a in row["top_feature_attributions"])
        assert total == pytest.approx(row["prediction_value"], abs=1e-9)
        assert row["approximation_error"] == 0.0


def test_boosted_tree_classifier_attributions_are_lightgbms_tree_shap(people):
    people.query(
        "CREATE MODEL ds.bt OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['buys'], max_iterations=15, "
        "data_split_method='NO_SPLIT') AS SELECT income, age, region, buys FROM ds.people"
    )
    table = people.query(f"SELECT * FROM ML.EXPLAIN_PREDICT(MODEL ds.bt, ({INPUTS}), STRUCT(3 AS top_k_features))").arrow()
    assert table.schema.names == [
        "predicted_buys", "probability", "top_feature_attributions", "baseline_prediction_value", "prediction_value",
        "approximation_error", "income", "age", "region",
    ]  # fmt: skip
    assert table.schema.field("predicted_buys").type == pa.bool_()
    assert table.schema.field("top_feature_attributions").type == pa.list_(pa.struct([("feature", pa.string()), ("attribution", pa.float64())]))
    rows = table.to_pylist()
    assert_adds_up(rows)

    # The same numbers from LightGBM directly: pred_contrib on the model's own booster and matrix.
    from sqlml.ml.functions.call import Call  # noqa: F401 — the model as ML functions load it
    from sqlml.ml.runtime.model_cache import CACHE
    from sqlml.store.records import ModelRef

    model = CACHE.get(people.models, people.models.resolve(ModelRef("ds", "bt")))
    data = people.query(INPUTS).arrow()
    X = model.features(data)
    booster = lgb.Booster(model_str=model.estimator.booster_.model_to_string())
    contrib = booster.predict(X, pred_contrib=True)
    raw = booster.predict(X, raw_score=True)
    predictions = people.query(f"SELECT predicted_buys FROM ML.PREDICT(MODEL ds.bt, ({INPUTS}))").arrow().column(0).to_pylist()
    groups = model.preprocessor.groups
    for row, c, r, predicted in zip(rows, contrib, raw, predictions):
        sign = 1.0 if predicted else -1.0  # the logit of the predicted class
        assert row["predicted_buys"] == predicted
        assert row["prediction_value"] == pytest.approx(sign * r, abs=1e-9)
        assert row["baseline_prediction_value"] == pytest.approx(sign * c[-1], abs=1e-9)
        expected = {name: sign * c[idx].sum() for name, idx in groups.items()}
        top = sorted(expected.items(), key=lambda item: -abs(item[1]))
        assert [a["feature"] for a in row["top_feature_attributions"]] == [name for name, _ in top]
        assert [a["attribution"] for a in row["top_feature_attributions"]] == pytest.approx([v for _, v in top], abs=1e-9)
        probability = 1 / (1 + np.exp(-sign * r))
        assert row["probability"] == pytest.approx(probability, abs=1e-9)


def test_linear_attributions_are_per_input_column_and_add_up_to_the_prediction(people):
    people.query("CREATE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['spend']) AS SELECT income, age, region, spend FROM ds.people")
    rows = explained(people, "ds.lin")
    assert_adds_up(rows)
    predicted = people.query(f"SELECT predicted_spend FROM ML.PREDICT(MODEL ds.lin, ({INPUTS}))").arrow().column(0).to_pylist()
    assert [r["predicted_spend"] for r in rows] == pytest.approx(predicted, abs=1e-9)
    assert [r["prediction_value"] for r in rows] == pytest.approx(predicted, abs=1e-9)
    # region is one-hot encoded into four features; its attribution is reported once, as region
    assert {a["feature"] for r in rows for a in r["top_feature_attributions"]} == {"income", "age", "region"}
    assert len({r["baseline_prediction_value"] for r in rows}) == 1  # the intercept


def test_multiclass_attributions_explain_the_predicted_class(people):
    people.query(
        "CREATE MODEL ds.tiers OPTIONS(model_type='logistic_reg', input_label_cols=['tier'], data_split_method='NO_SPLIT') "
        "AS SELECT income, age, region, tier FROM ds.people"
    )
    rows = explained(people, "ds.tiers", top_k=10)
    assert_adds_up(rows)
    predicted = people.query(f"SELECT predicted_tier, predicted_tier_probs FROM ML.PREDICT(MODEL ds.tiers, ({INPUTS}))").arrow().to_pylist()
    for row, prediction in zip(rows, predicted):
        assert row["predicted_tier"] == prediction["predicted_tier"]
        prob = {p["label"]: p["prob"] for p in prediction["predicted_tier_probs"]}[row["predicted_tier"]]
        assert row["probability"] == pytest.approx(prob, abs=1e-9)
        assert len(row["top_feature_attributions"]) == 3  # all three inputs when top_k exceeds them


def test_global_explain_is_the_mean_absolute_attribution(people):
    create = (
        "CREATE OR REPLACE MODEL ds.g OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['tier'], max_iterations=4, "
        "data_split_method='NO_SPLIT'{extra}) AS SELECT income, age, region, tier FROM ds.people"
    )
    people.query(create.format(extra=""))
    with pytest.raises(sqlml.Error, match="enable_global_explain=TRUE"):
        people.query("SELECT * FROM ML.GLOBAL_EXPLAIN(MODEL ds.g)")
    people.query(create.format(extra=", enable_global_explain=TRUE"))
    overall = people.query("SELECT feature, attribution FROM ML.GLOBAL_EXPLAIN(MODEL ds.g)").fetchall()
    expected = people.query(
        f"SELECT a.feature, AVG(ABS(a.attribution)) FROM ML.EXPLAIN_PREDICT(MODEL ds.g, ({INPUTS}), STRUCT(10 AS top_k_features)) AS e, "
        "UNNEST(e.top_feature_attributions) AS a GROUP BY a.feature ORDER BY 2 DESC"
    ).fetchall()
    assert [f for f, _ in overall] == [f for f, _ in expected]
    assert [v for _, v in overall] == pytest.approx([v for _, v in expected], abs=1e-9)
    by_class = people.query("SELECT class_label, feature, attribution FROM ML.GLOBAL_EXPLAIN(MODEL ds.g, STRUCT(TRUE AS class_level_explain))").fetchall()
    assert {c for c, _, _ in by_class} == {"high", "low", "mid"} and len(by_class) == 9


def test_feature_importance_counts_splits_gain_and_cover_per_column(people):
    people.query(
        "CREATE MODEL ds.bt OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['spend'], max_iterations=10, "
        "data_split_method='NO_SPLIT') AS SELECT income, age, region, spend FROM ds.people"
    )
    table = people.query("SELECT * FROM ML.FEATURE_IMPORTANCE(MODEL ds.bt) ORDER BY feature").arrow()
    assert table.schema.names == ["feature", "importance_weight", "importance_gain", "importance_cover"]
    from sqlml.ml.runtime.model_cache import CACHE
    from sqlml.store.records import ModelRef

    model = CACHE.get(people.models, people.models.resolve(ModelRef("ds", "bt")))
    splits = model.estimator.booster_.feature_importance("split")
    gains = model.estimator.booster_.feature_importance("gain")
    rows = {r["feature"]: r for r in table.to_pylist()}
    assert set(rows) == {"income", "age", "region"}
    for name, indices in model.preprocessor.groups.items():
        row = rows[name]
        assert row["importance_weight"] == splits[indices].sum()
        if row["importance_weight"]:
            assert row["importance_gain"] * row["importance_weight"] == pytest.approx(gains[indices].sum(), rel=1e-9)
            assert row["importance_cover"] > 0
    assert rows["income"]["importance_gain"] > 0
    with pytest.raises(sqlml.Error, match="does not support LINEAR_REG"):
        people.query("CREATE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['spend']) AS SELECT income, spend FROM ds.people")
        people.query("SELECT * FROM ML.FEATURE_IMPORTANCE(MODEL ds.lin)")


def test_explain_settings_are_checked(people):
    people.query("CREATE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['spend']) AS SELECT income, spend FROM ds.people")
    with pytest.raises(sqlml.Error, match="top_k_features must be at least 1"):
        people.query("SELECT * FROM ML.EXPLAIN_PREDICT(MODEL ds.lin, TABLE ds.people, STRUCT(0 AS top_k_features))")
    people.query("CREATE MODEL ds.km OPTIONS(model_type='kmeans', num_clusters=2) AS SELECT income, age FROM ds.people")
    with pytest.raises(sqlml.Error, match="ML.EXPLAIN_PREDICT does not support KMEANS"):
        people.query("SELECT * FROM ML.EXPLAIN_PREDICT(MODEL ds.km, TABLE ds.people)")


def test_transform_outputs_are_attributed_to_the_input_columns_they_come_from(people):
    people.query(
        "CREATE MODEL ds.tr TRANSFORM(ML.STANDARD_SCALER(income) OVER() AS scaled, income * income AS squared, "
        "ML.ONE_HOT_ENCODER(region) OVER() AS region_hot, CONCAT(region, CAST(age AS STRING)) AS crossed, spend) "
        "OPTIONS(model_type='linear_reg', input_label_cols=['spend']) AS SELECT income, age, region, spend FROM ds.people"
    )
    rows = explained(people, "ds.tr", top_k=10)
    assert_adds_up(rows)
    # scaled and squared both come from income; region_hot from region; crossed reads two columns
    assert {a["feature"] for a in rows[0]["top_feature_attributions"]} == {"income", "region", "crossed"}


def test_feature_importance_of_a_transform_model_is_per_input_column(people):
    # bigqueryml-syntax-importance: with TRANSFORM, "the information of the pre-transform columns"
    people.query(
        "CREATE MODEL ds.trbt TRANSFORM(ML.STANDARD_SCALER(income) OVER() AS scaled, income * age AS mixed, "
        "ML.LABEL_ENCODER(region) OVER() AS region_code, spend) "
        "OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['spend'], max_iterations=10, data_split_method='NO_SPLIT') "
        "AS SELECT income, age, region, spend FROM ds.people"
    )
    table = people.query("SELECT * FROM ML.FEATURE_IMPORTANCE(MODEL ds.trbt)").arrow()
    assert table.schema.names == ["feature", "importance_weight", "importance_gain", "importance_cover"]
    from sqlml.ml.runtime.model_cache import CACHE
    from sqlml.store.records import ModelRef

    model = CACHE.get(people.models, people.models.resolve(ModelRef("ds", "trbt")))
    booster = model.estimator.booster_
    splits, gains = booster.feature_importance("split"), booster.feature_importance("gain")
    per_output = {name: (splits[i].sum(), gains[i].sum()) for name, i in model.preprocessor.groups.items()}
    assert set(per_output) == {"scaled", "mixed", "region_code"}
    lineage = {"income": ["scaled", "mixed"], "age": ["mixed"], "region": ["region_code"]}
    rows = {r["feature"]: r for r in table.to_pylist()}
    assert set(rows) == set(lineage)
    for column, outputs in lineage.items():
        weight = sum(per_output[o][0] for o in outputs)
        assert rows[column]["importance_weight"] == weight
        assert rows[column]["importance_gain"] * weight == pytest.approx(sum(per_output[o][1] for o in outputs), rel=1e-9)
    assert rows["age"]["importance_weight"] > 0 and rows["income"]["importance_weight"] > rows["age"]["importance_weight"]
    trees = booster.trees_to_dataframe()
    used = trees[trees["split_feature"].notna()]
    mixed = used["split_feature"] == booster.feature_name()[model.preprocessor.groups["mixed"][0]]
    assert rows["age"]["importance_cover"] == pytest.approx(used.loc[mixed, "count"].mean())
