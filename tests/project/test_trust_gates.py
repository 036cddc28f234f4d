"""Model gates on fairness and skew in a SQL project: a retrain that fails one keeps the previous
version current, and the message says which group or column failed."""

from __future__ import annotations

from sqlml.project.runner import Runner, RunOptions
from sqlml.store.records import ModelRef

PEOPLE = "sex,score,region,approved\n" + "".join(
    f"{'female' if i % 3 == 0 else 'male'},{i % 50},{'north' if i % 2 else 'south'},"
    f"{'true' if (i % 50) - (15 if i % 3 == 0 else 0) > 20 else 'false'}\n"
    for i in range(600)
)
MODEL = """
{{{{ config(fairness={{'sensitive_feature': 'sex', 'privileged_group': 'male', 'data': ref('people'),
                    'gate': 'disparate_impact >= {minimum}'}},
           skew={{'data': ref('{serving}')}}) }}}}
CREATE MODEL {{{{ this }}}} OPTIONS(model_type='logistic_reg', input_label_cols=['approved'], data_split_method='NO_SPLIT')
AS SELECT sex, score, approved FROM {{{{ ref('people') }}}}
"""
FILES = {
    "seeds/people.csv": PEOPLE,
    "serving_same.sql": "SELECT sex, score FROM {{ ref('people') }}",
    "serving_moved.sql": "SELECT sex, score + 40 AS score FROM {{ ref('people') }}",
}


def statuses(runner: Runner) -> dict:
    return {o.node: o for o in runner.run(RunOptions())}


def test_fairness_and_skew_gates_decide_which_version_is_current(make_project, tmp_path):
    runner = make_project({**FILES, "sqlml_project.yml": "name: shop\n", "approve.sql": MODEL.format(minimum=0.1, serving="serving_same")})
    first = statuses(runner)["approve"]
    assert first.status == "success"
    assert "fairness gate passed (2 group(s)" in first.message and "skew gate passed" in first.message
    runner.close()

    # Women are approved far less often: a four-fifths rule fails the retrain, version 1 stays current.
    (tmp_path / "approve.sql").write_text(MODEL.format(minimum=0.8, serving="serving_same"))
    second = Runner(tmp_path)
    outcome = statuses(second)["approve"]
    assert outcome.status == "gate_failed"
    assert "fairness gate failed: disparate_impact >= 0.8 for group(s) female" in outcome.message
    assert "version 1 stays current" in outcome.message
    assert second.connection.models.resolve(ModelRef("shop", "approve")).version == 1
    second.close()

    # Serving rows whose scores moved away from the training rows fail the skew gate.
    (tmp_path / "approve.sql").write_text(MODEL.format(minimum=0.1, serving="serving_moved"))
    third = Runner(tmp_path)
    outcome = statuses(third)["approve"]
    assert outcome.status == "gate_failed" and "skew gate failed: score" in outcome.message
    assert third.connection.models.resolve(ModelRef("shop", "approve")).version == 1
    third.close()
