"""The compiled loops against NumPy on edge cases, their NumPy stand-ins where LLVM fails, their
argument checks, 64-bit offsets and codes, and several threads compiling and calling them at
once (the pair loss's sums over real CSR pairs are also tested in test_pairs.py)."""

import logging
import threading

import numpy as np
import pytest

from sqlml.ml.compiled import machine
from sqlml.ml.recommendation import kernels

COUNTERS = [pytest.param(lambda: kernels.rank_counts(), id="compiled"), pytest.param(lambda: kernels.numpy_rank_counts, id="numpy")]


def expected_counts(scores: np.ndarray, thresholds: np.ndarray, edges: np.ndarray) -> list[int]:
    rows = np.repeat(np.arange(len(scores)), np.diff(edges))
    return [int(np.count_nonzero(scores[row] > threshold)) for row, threshold in zip(rows, thresholds)]


@pytest.mark.parametrize("counter", COUNTERS)
@pytest.mark.parametrize("width", [1, 7, 8, 9, 1_001])
def test_rank_counts_are_the_scores_strictly_above_each_threshold(counter, width):
    """Widths below, at and past the loop's 8 scores a step; ties (scores rounded to 0.1, each
    threshold one of its row's scores), rows with no threshold (a user without relevant items)
    and one past every score."""
    rng = np.random.default_rng(width)
    scores = np.round(rng.normal(size=(30, width)), 1)
    per_row = rng.integers(0, 4, 30)
    per_row[[0, 29]] = 0, 2
    edges = np.r_[0, np.cumsum(per_row)]
    rows = np.repeat(np.arange(30), per_row)
    thresholds = scores[rows, rng.integers(0, width, len(rows))]
    thresholds[-1] = scores[29].max()
    expected = expected_counts(scores, thresholds, edges)
    assert counter()(scores, thresholds, edges).tolist() == expected
    assert expected[-1] == 0 and (width == 1 or len(set(expected)) > 1)


@pytest.mark.parametrize("counter", COUNTERS)
def test_rank_counts_of_a_user_with_every_item_relevant_and_of_nan_and_infinite_scores(counter):
    """Row 0: every item is relevant (a threshold per score, ties among them); row 1: NaN and
    ±inf scores and thresholds compare as NumPy's ``>`` does (a NaN is above nothing and nothing
    is above it); row 2: no items at all is not possible, so a row of equal scores."""
    scores = np.array([
        [3.0, 1.0, 3.0, 2.0, 0.5, 3.0, 1.0, 2.0, 0.0, 4.0],
        [np.nan, np.inf, 1.0, -np.inf, 2.0, np.nan, 0.0, 1.0, 5.0, -1.0],
        [7.0] * 10,
    ])  # fmt: skip
    thresholds = np.r_[scores[0], np.nan, np.inf, -np.inf, 1.0, 7.0]
    edges = np.array([0, 10, 14, 15])
    got = counter()(scores, thresholds, edges).tolist()
    assert got == expected_counts(scores, thresholds, edges)
    assert got[:10] == [1, 6, 1, 4, 8, 1, 6, 4, 9, 0] and got[10:] == [0, 0, 7, 3, 0]


@pytest.mark.parametrize("counter", COUNTERS)
@pytest.mark.parametrize(("edges", "thresholds"), [([0, 2], 3), ([0, 2, 1], 2), ([1, 2, 2], 2), ([0, 3], 3)])
def test_rank_counts_refuse_edges_that_do_not_bound_the_thresholds(counter, edges, thresholds):
    """Wrong row count, descending edges, not starting at 0 or not ending at the thresholds'
    count: the loop would read or leave unwritten memory past them."""
    scores = np.zeros((2, 4))
    with pytest.raises(ValueError, match="edges"):
        counter()(scores, np.zeros(thresholds), np.array(edges))


def numpy_pair_sum(users, items, square, linear, user_factors, item_factors) -> float:
    scores = np.einsum("ij,ij->i", user_factors.astype(np.float64)[users], item_factors.astype(np.float64)[items])
    return float(np.sum(square.astype(np.float64) * scores**2 - linear.astype(np.float64) * scores))


def pair_arrays(rng: np.random.Generator, pairs: int, users: int, items: int, factors: int, dtype=np.float32, index=np.int32):
    return (
        rng.integers(0, users, pairs).astype(index), rng.integers(0, items, pairs).astype(index),
        rng.exponential(5.0, pairs).astype(np.float32), rng.exponential(5.0, pairs).astype(np.float32),
        rng.normal(size=(users, factors)).astype(dtype), rng.normal(size=(items, factors)).astype(dtype),
    )  # fmt: skip


@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pair_loss_compiled_and_numpy_are_the_float64_sum_for_both_code_widths(dtype, index):
    """5 factors (a vector of 4 and one more); 20,000 pairs (past the NumPy chunk); a sub-range."""
    rng = np.random.default_rng(7)
    arrays = pair_arrays(rng, 20_000, 300, 200, 5, dtype, index)
    expected = numpy_pair_sum(*(a[:15_000] for a in arrays[:4]), *arrays[4:])
    for loop in (kernels.pair_loss(5, dtype, index), kernels.NumpyPairLoss(5, np.dtype(dtype), np.dtype(index))):
        assert loop(*arrays, 0, 15_000) == pytest.approx(expected, rel=1e-13)
        assert loop(*arrays, 15_000, 15_000) == 0.0


def test_pair_loss_of_nan_or_infinite_factors_is_nan_as_numpys():
    """An infinite score makes a·s² − b·s = inf − inf; the training's own check then refuses the fit."""
    rng = np.random.default_rng(3)
    users, items, square, linear, user_factors, item_factors = pair_arrays(rng, 50, 10, 8, 6)
    users[:] = np.arange(50) % 10
    loop = kernels.pair_loss(6, np.float32)
    assert np.isfinite(loop(users, items, square, linear, user_factors, item_factors, 0, 50))
    for row, column, value in ((4, 2, np.inf), (7, 5, np.nan)):
        user_factors[row, column] = value
        with np.errstate(invalid="ignore"):
            assert np.isnan(numpy_pair_sum(users, items, square, linear, user_factors, item_factors))
        assert np.isnan(loop(users, items, square, linear, user_factors, item_factors, 0, 50))


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: {**a, "items": a["items"].astype(np.int64)}, "items must be a contiguous int32 vector"),
    (lambda a: {**a, "square": a["square"][:5]}, "square must be a contiguous float32 vector of at least 10 values"),
    (lambda a: {**a, "item_factors": a["item_factors"].astype(np.float64)}, r"item_factors must be C-ordered \(rows, 4\) float32"),
    (lambda a: {**a, "user_factors": np.asfortranarray(a["user_factors"])}, "user_factors must be C-ordered"),
    (lambda a: {**a, "first": -1}, "the first pair must be 0 or more"),
])  # fmt: skip
def test_pair_loss_refuses_arrays_it_would_read_wrongly(change, message):
    rng = np.random.default_rng(1)
    names = ("users", "items", "square", "linear", "user_factors", "item_factors")
    arrays = change({**dict(zip(names, pair_arrays(rng, 10, 6, 5, 4))), "first": 0, "last": 10})
    for loop in (kernels.pair_loss(4, np.float32), kernels.NumpyPairLoss(4, np.dtype(np.float32))):
        with pytest.raises(ValueError, match=message):
            loop(**arrays)


def huge_zeros(rows: int, factors: int) -> np.ndarray:
    """A C-ordered float32 (rows, factors) array of zeros only the touched pages of which take memory."""
    try:
        return np.zeros((rows, factors), dtype=np.float32)
    except MemoryError:
        pytest.skip(f"this machine does not reserve {rows * factors * 4 / 2**30:.1f} GiB of untouched memory")


@pytest.mark.parametrize(("rows", "factors", "index"), [(70_000_000, 32, np.int32), (2**31 + 5, 1, np.int64)])
def test_pair_loss_reads_rows_past_2_gib_offsets_and_int32_codes(rows, factors, index):
    """Row 69,999,999 × 32 factors is 2.24e9 floats in (a 32-bit offset would wrap); row 2³¹ + 4
    needs int64 codes (:func:`kernels.index_dtype`). Only the rows read are touched."""
    assert kernels.index_dtype(rows) == np.dtype(index) and kernels.index_dtype(2**31 - 1) == np.int32
    user_factors, item_factors = huge_zeros(rows, factors), np.full((1, factors), 2.0, dtype=np.float32)
    user_factors[rows - 1] = 3.0
    user_factors[0] = 1.0
    users, items = np.array([rows - 1, 0], dtype=index), np.zeros(2, dtype=index)
    square, linear = np.array([1.0, 0.0], dtype=np.float32), np.array([0.0, 1.0], dtype=np.float32)
    # s = 6k for the last row, 2k for the first: Σ = (6k)² − 2k
    expected = (6.0 * factors) ** 2 - 2.0 * factors
    assert kernels.pair_loss(factors, np.float32, index)(users, items, square, linear, user_factors, item_factors, 0, 2) == expected


def test_a_loop_llvm_cannot_compile_is_numpys_with_a_warning_and_the_same_loss_and_metrics(monkeypatch, caplog):
    """LLVM failing at run time (here: compile_ir raising as LLVM does) is not the user's error:
    each loop falls back to NumPy once, logged, and the training loss and the ranking metrics
    (the two callers: CREATE MODEL's ML.TRAINING_INFO, its stored metrics and ML.EVALUATE) are
    the compiled loops' to the summation order."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlml.ml.recommendation import ranking, wals

    rng = np.random.default_rng(4)
    user, item = np.nonzero(rng.random((80, 60)) < 0.25)
    rating = rng.exponential(1.0, len(user))
    confidences = wals.confidence_matrix(user, item, rating, (80, 60), 40.0)
    user_factors, item_factors = rng.normal(0, 0.3, (80, 6)).astype(np.float32), rng.normal(0, 0.3, (60, 6)).astype(np.float32)

    def loss_and_metrics() -> tuple[float, dict]:
        with ThreadPoolExecutor(2) as pool:
            loss = wals.TrainingLoss(confidences, 0.5, 6, pool, 2)(user_factors, item_factors)
        return loss, ranking.implicit_metrics(user_factors.astype(np.float64), item_factors.astype(np.float64), rating, np.column_stack([user, item]))

    compiled = loss_and_metrics()

    def no_llvm(text):
        raise RuntimeError("LLVM ERROR: Cannot select: intrinsic")

    monkeypatch.setattr(machine, "compile_ir", no_llvm)
    monkeypatch.setattr(kernels, "_loops", {})
    with caplog.at_level(logging.WARNING, logger=kernels.__name__):
        fallen_back = loss_and_metrics()
        assert isinstance(kernels.pair_loss(6, np.float32), kernels.NumpyPairLoss) and kernels.rank_counts() is kernels.numpy_rank_counts
    assert [r.getMessage() for r in caplog.records] == [
        "sqlml computes the training loss's pairs with NumPy: LLVM could not compile its loop (RuntimeError: LLVM ERROR: Cannot select: intrinsic)",
        "sqlml computes the ranking metrics' counts with NumPy: LLVM could not compile its loop (RuntimeError: LLVM ERROR: Cannot select: intrinsic)",
    ]
    assert fallen_back[0] == pytest.approx(compiled[0], rel=1e-13) and fallen_back[1] == compiled[1]
    assert 0 < compiled[1]["mean_average_precision"] < 1


def test_threads_asking_for_loops_at_once_compile_each_once_and_sum_right(monkeypatch):
    """Two statements training at once: 6 threads released together ask for two new loops (fresh
    process cache); each is compiled once, and every thread's sums and counts are right."""
    monkeypatch.setattr(kernels, "_loops", {})
    compiled = []
    original = kernels.PairLoss.__init__

    def counting(self, *args, **kwargs):
        compiled.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(kernels.PairLoss, "__init__", counting)
    rng = np.random.default_rng(9)
    arrays = {k: pair_arrays(rng, 5_000, 100, 80, k) for k in (3, 7)}
    scores = rng.normal(size=(20, 50))
    thresholds, edges = scores[:, 0].copy(), np.arange(21)
    start, results, errors = threading.Barrier(6), {}, []

    def work(number: int) -> None:
        try:
            k = (3, 7)[number % 2]
            start.wait()
            results[number] = (kernels.pair_loss(k, np.float32)(*arrays[k], 0, 5_000), kernels.rank_counts()(scores, thresholds, edges))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and sorted(k for k, *_ in compiled) == [3, 7]
    for number, (loss, counts) in results.items():
        assert loss == pytest.approx(numpy_pair_sum(*arrays[(3, 7)[number % 2]]), rel=1e-13)
        assert counts.tolist() == expected_counts(scores, thresholds, edges)
