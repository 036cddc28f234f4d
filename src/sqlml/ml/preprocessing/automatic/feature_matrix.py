"""How a model's feature matrix is held: dense, or sparse for a wide one-hot encoding.

One-hot encoding a column of 90,000 distinct strings gives 90,000 features; held dense, the
matrix of 90,000 training rows is 60 GiB of zeros. A model family that can work on a SciPy CSR
matrix (``Estimator.accepts_sparse``) gets one as soon as its encoding is wide, in training and
in prediction alike. For the others, a dense matrix that would not fit in memory is a clear error
naming the column that makes it wide, raised before anything is allocated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from sqlml.errors import InvalidModelInputError

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from sqlml.ml.models.estimator import Estimator
    from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor

    #: A model's feature matrix: float64 rows × processed features, dense or SciPy CSR.
    FeatureMatrix: TypeAlias = np.ndarray | csr_matrix

#: Above this many processed features, estimators that accept it get a sparse matrix.
SPARSE_MIN_FEATURES = 1_000
#: The largest dense feature matrix sqlml allocates.
DENSE_LIMIT_BYTES = 4 * 2**30


def is_sparse(X: FeatureMatrix) -> bool:
    """Whether ``X`` is a SciPy sparse matrix."""
    return hasattr(X, "tocsr")


def wants_sparse(estimator_family: type[Estimator], preprocessor: Preprocessor) -> bool:
    """Whether a model of this estimator family and preprocessing trains and predicts sparse."""
    return estimator_family.accepts_sparse and preprocessor.width > SPARSE_MIN_FEATURES


def check_dense_size(preprocessor: Preprocessor, rows: int, copies: int = 1) -> None:
    """Refuse a dense ``rows`` × features matrix (``copies`` of it) larger than the limit.

    Raises:
        InvalidModelInputError: naming the input column with the most processed features.
    """
    size = rows * preprocessor.width * 8 * copies
    if size <= DENSE_LIMIT_BYTES:
        return
    name, indices = max(preprocessor.groups.items(), key=lambda item: len(item[1]))
    raise InvalidModelInputError(
        f"The feature matrix would need {size / 2**30:.1f} GiB ({rows} rows × {preprocessor.width} processed "
        f"features); the column {name} alone becomes {len(indices)} features.",
        column=name,
        hint="Group its rare values in the query, use category_encoding_method='LABEL_ENCODING' for tree "
        "models, or leave the column out.",
    )


def dense(X: FeatureMatrix, preprocessor: Preprocessor, copies: int = 1) -> np.ndarray:
    """``X`` as a dense array, for computations that need one; refused when it would not fit."""
    if not is_sparse(X):
        return X
    check_dense_size(preprocessor, X.shape[0], copies)
    return X.toarray()
