"""A gate on a matrix factorization's accuracy in a SQL project: ML.EVALUATE on held-back ratings
decides whether a retrained MATRIX_FACTORIZATION model becomes current."""

from __future__ import annotations

import numpy as np

from sqlml.project.runner import Runner, RunOptions
from sqlml.store.records import ModelRef


def _ratings() -> str:
    """A rank-2 ratings table with noise: 40 users × 30 items, 70% of the pairs rated."""
    rng = np.random.default_rng(7)
    users, items = rng.normal(size=(40, 2)), rng.normal(size=(30, 2))
    lines = ["user_id,item_id,rating,held_out"]
    for u in range(40):
        for i in range(30):
            if rng.random() < 0.7:
                rating = 3 + users[u] @ items[i] + rng.normal(0, 0.1)
                lines.append(f"u{u},{i},{rating:.4f},{str(rng.random() < 0.15).lower()}")
    return "\n".join(lines) + "\n"


MODEL = """
{{{{ config(gate={gate}) }}}}
CREATE MODEL {{{{ this }}}} OPTIONS(model_type='matrix_factorization', user_col='user_id', item_col='item_id',
                                   num_factors=2, l2_reg=0.1)
AS SELECT user_id, item_id, rating FROM {{{{ ref('ratings') }}}} WHERE NOT held_out
"""
FILES = {
    "seeds/ratings.csv": _ratings(),
    "holdout.sql": "SELECT user_id, item_id, rating FROM {{ ref('ratings') }} WHERE held_out",
}


def _mse_gate(limit: float) -> str:
    return f"{{'data': ref('holdout'), 'conditions': 'mean_squared_error < {limit}'}}"


def test_a_held_out_mse_gate_decides_which_matrix_factorization_version_is_current(make_project, tmp_path):
    runner = make_project({**FILES, "recommender.sql": MODEL.format(gate=_mse_gate(1.0))})
    first = {o.node: o for o in runner.run(RunOptions())}["recommender"]
    assert first.status == "success" and first.message.startswith("gate passed (mean_absolute_error=")
    (mse,) = runner.connection.query("SELECT mean_squared_error FROM ML.EVALUATE(MODEL shop.recommender, TABLE shop.holdout)").fetchone()
    assert 0 < mse < 1.0
    runner.close()

    (tmp_path / "recommender.sql").write_text(MODEL.format(gate=_mse_gate(mse * 0.5)))
    second = Runner(tmp_path)
    outcome = {o.node: o for o in second.run(RunOptions())}["recommender"]
    assert outcome.status == "gate_failed"
    assert outcome.message.startswith(f"gate failed: mean_squared_error < {mse * 0.5}")
    assert outcome.message.endswith("; version 1 stays current")
    assert second.connection.models.resolve(ModelRef("shop", "recommender")).version == 1
    rows = second.connection.query("SELECT COUNT(*) FROM ML.RECOMMEND(MODEL shop.recommender, (SELECT 'u1' AS user_id))").fetchone()
    assert rows == (30,)  # the current version still recommends every item
    second.close()
