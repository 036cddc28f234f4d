"""ML.RECOMMEND's row generation on a Factorization built here, checked against NumPy on its factors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sqlml.errors import InvalidModelInputError
from sqlml.ml.recommendation import recommend
from sqlml.ml.recommendation.factors import EXPLICIT, IMPLICIT, Factorization


def make_factors(users: pa.Array, items: pa.Array, feedback: str = EXPLICIT, factors: int = 3, seed: int = 0) -> Factorization:
    rng = np.random.default_rng(seed)
    explicit = feedback == EXPLICIT
    return Factorization(
        feedback_type=feedback, user_col="User_Id", item_col="item", rating_col="rating", users=users, items=items,
        user_factors=rng.normal(size=(len(users), factors)), item_factors=rng.normal(size=(len(items), factors)),
        user_intercepts=rng.normal(size=len(users)) if explicit else np.zeros(len(users)),
        item_intercepts=rng.normal(size=len(items)) if explicit else np.zeros(len(items)),
        global_intercept=3.5 if explicit else 0.0,
    )  # fmt: skip


def expected(f: Factorization, user_rows: list[int], item_rows: list[int]) -> np.ndarray:
    """The prediction of each pair from the factors directly (-1: unseen side, only intercepts)."""
    out = []
    for u, i in zip(user_rows, item_rows):
        value = f.global_intercept
        value += f.user_intercepts[u] if u >= 0 else 0.0
        value += f.item_intercepts[i] if i >= 0 else 0.0
        value += float(f.user_factors[u] @ f.item_factors[i]) if u >= 0 and i >= 0 else 0.0
        out.append(value)
    return np.array(out)


@pytest.fixture
def factors() -> Factorization:
    return make_factors(pa.array([10, 20, 30, 40], pa.int64()), pa.array(["a", "b", "c"]))


def reader(**columns) -> pa.RecordBatchReader:
    table = pa.table(columns)
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=2))


def test_every_pair_is_users_times_items_with_training_types(factors):
    table = recommend.every_pair(factors).read_all()
    assert table.schema == pa.schema([("User_Id", pa.int64()), ("item", pa.string()), ("predicted_rating", pa.float64())])
    assert table.num_rows == 12
    users = [10, 20, 30, 40]
    rows = [(users.index(u), "abc".index(i)) for u, i in zip(table["User_Id"].to_pylist(), table["item"].to_pylist())]
    assert sorted(rows) == [(u, i) for u in range(4) for i in range(3)]
    np.testing.assert_allclose(table["predicted_rating"].to_numpy(), expected(factors, *zip(*rows)))


def test_implicit_model_names_its_column_confidence():
    f = make_factors(pa.array(["x", "y"]), pa.array([1, 2], pa.int64()), IMPLICIT)
    table = recommend.every_pair(f).read_all()
    assert table.column_names == ["User_Id", "item", "predicted_rating_confidence"]
    np.testing.assert_allclose(table["predicted_rating_confidence"].to_numpy(), (f.user_factors @ f.item_factors.T).ravel())


def test_users_alone_give_every_item_unseen_users_the_intercepts(factors):
    table = recommend.recommendation_reader(factors, reader(user_id=pa.array([30, 99, None], pa.int64()))).read_all()
    assert table.schema.names == ["User_Id", "item", "predicted_rating"]
    assert table["User_Id"].to_pylist() == [30] * 3 + [99] * 3 + [None] * 3
    assert table["item"].to_pylist() == ["a", "b", "c"] * 3
    np.testing.assert_allclose(table["predicted_rating"].to_numpy(), expected(factors, [2] * 3 + [-1] * 6, [0, 1, 2] * 3))


def test_items_alone_give_every_user_and_unseen_items_the_intercepts(factors):
    table = recommend.recommendation_reader(factors, reader(ITEM=pa.array(["c", "zz"]))).read_all()
    assert table.schema.names == ["User_Id", "item", "predicted_rating"]
    assert table["item"].to_pylist() == ["c"] * 4 + ["zz"] * 4
    assert table["User_Id"].to_pylist() == [10, 20, 30, 40] * 2
    np.testing.assert_allclose(table["predicted_rating"].to_numpy(), expected(factors, [0, 1, 2, 3] * 2, [2] * 4 + [-1] * 4))


def test_pairs_are_scored_and_other_columns_pass_through_after_the_prediction(factors):
    data = reader(note=pa.array(["p", "q", "r"]), item=pa.array(["b", "a", "new"]), user_id=pa.array([40, 77, 10], pa.int32()))
    table = recommend.recommendation_reader(factors, data).read_all()
    assert table.schema == pa.schema([("User_Id", pa.int64()), ("item", pa.string()), ("predicted_rating", pa.float64()), ("note", pa.string())])
    assert table["User_Id"].to_pylist() == [40, 77, 10]
    assert table["note"].to_pylist() == ["p", "q", "r"]
    np.testing.assert_allclose(table["predicted_rating"].to_numpy(), expected(factors, [3, -1, 0], [1, 0, -1]))


def test_input_without_either_column_names_both(factors):
    with pytest.raises(InvalidModelInputError, match=r"^The input of ML.RECOMMEND has neither the user column User_Id nor the item column item of the model; its columns are a, b\.") as error:
        recommend.recommendation_reader(factors, reader(a=[1], b=[2]))
    assert error.value.hint == "Select User_Id (every item for those users), item (every user for those items) or both (one prediction per pair)."


def test_one_column_input_takes_no_other_column(factors):
    with pytest.raises(InvalidModelInputError, match=r"^The input of ML.RECOMMEND has User_Id but not item, so it can only have that one column; it also has extra\.") as error:
        recommend.recommendation_reader(factors, reader(user_id=[10], extra=[1]))
    assert error.value.hint == "Select only User_Id, or add item to score each (User_Id, item) pair."


@pytest.mark.parametrize("values", [pa.array(["10"]), pa.array([10.0]), pa.array([True])])
def test_key_of_a_type_bigquery_does_not_coerce_is_refused(factors, values):
    with pytest.raises(InvalidModelInputError, match=rf"^The column User_Id has type {values.type}, which does not convert to the type the model was trained on \(int64\)\.\n"):
        recommend.recommendation_reader(factors, reader(user_id=values)).read_all()


def test_integer_keys_widen_and_text_converts_to_dates_only_from_json():
    assert recommend.coerced_keys(pa.array([1], pa.int8()), pa.int64(), "u").type == pa.int64()
    assert recommend.coerced_keys(pa.array(["2024-03-01"]), pa.date32(), "u", from_text=True).to_pylist()[0].isoformat() == "2024-03-01"
    assert str(recommend.coerced_keys(pa.array(["1.25"]), pa.decimal128(38, 9), "u", from_text=True)[0].as_py()) == "1.250000000"
    with pytest.raises(InvalidModelInputError, match=r"^The column u has type string, which does not convert to the type the model was trained on \(date32\[day\]\): "):
        recommend.coerced_keys(pa.array(["March"]), pa.date32(), "u", from_text=True)
    with pytest.raises(InvalidModelInputError, match=r"^The column u has type string, which does not convert"):
        recommend.coerced_keys(pa.array(["2024-03-01"]), pa.date32(), "u")


def test_blocks_are_bounded_and_cover_the_grid(monkeypatch):
    f = make_factors(pa.array(np.arange(50), pa.int64()), pa.array(np.arange(7), pa.int64()))
    monkeypatch.setattr(recommend, "BLOCK_CELLS", 20)  # 2 users of 7 items a block
    batches = list(recommend.every_pair(f))
    assert [b.num_rows for b in batches] == [14] * 25
    table = pa.Table.from_batches(batches)
    np.testing.assert_allclose(table["predicted_rating"].to_numpy(), f.score_block(np.arange(50), np.arange(7)).ravel())


def test_top_k_keeps_each_users_best_items_and_their_ties():
    f = make_factors(pa.array([1, 2, 3], pa.int64()), pa.array(np.arange(6), pa.int64()), factors=2)
    f.item_factors[4] = f.item_factors[5]  # items 4 and 5 tie for every user
    f.item_intercepts[4] = f.item_intercepts[5]
    table = recommend.every_pair(f, top_k=2).read_all()
    scores = f.score_block(np.arange(3), np.arange(6))
    for user in range(3):
        got = sorted(i for u, i in zip(table["User_Id"].to_pylist(), table["item"].to_pylist()) if u == user + 1)
        kth = np.sort(scores[user])[::-1][1]
        assert got == [i for i in range(6) if scores[user, i] >= kth]
        assert len(got) in (2, 3)


def test_best_cells_with_k_at_least_the_width_keeps_every_cell():
    rows, columns = recommend.best_cells(np.arange(6.0).reshape(2, 3), 5)
    assert rows.tolist() == [0, 0, 0, 1, 1, 1] and columns.tolist() == [0, 1, 2, 0, 1, 2]


def test_best_cells_equal_every_cell_at_least_each_rows_kth_largest():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 6, size=(200, 30)).astype(float)  # many ties
    for k in (1, 3, 10, 29):
        rows, columns = recommend.best_cells(scores, k)
        kth = np.sort(scores, axis=1)[:, -k]
        assert sorted(zip(rows.tolist(), columns.tolist())) == sorted(zip(*np.nonzero(scores >= kth[:, None])))


def test_date_keys_keep_their_type():
    days = pa.array([0, 1], pa.int32()).cast(pa.date32())
    f = make_factors(days, pa.array(["a"]))
    table = recommend.recommendation_reader(f, reader(user_id=pa.array([1], pa.int32()).cast(pa.date32()))).read_all()
    assert table.schema.field("User_Id").type == pa.date32()
    np.testing.assert_allclose(table["predicted_rating"].to_numpy(), expected(f, [1], [0]))
