"""sqlml imports LightGBM without scikit-learn (half its import time), and scikit-learn stays importable."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import sys
    import numpy
    from sqlml.ml.models.lightgbm_import import import_lightgbm
    lgb = import_lightgbm()
    assert "sklearn" not in sys.modules and "scipy.stats" not in sys.modules, sorted(sys.modules)
    assert import_lightgbm() is lgb is sys.modules["lightgbm"]
    booster = lgb.train({"verbose": -1, "min_data_in_leaf": 1}, lgb.Dataset(numpy.array([[0.0], [1.0], [2.0], [3.0]]), numpy.array([0.0, 0.0, 1.0, 1.0])), 2)
    import sklearn.base  # not hidden once LightGBM is in
    print(booster.num_trees(), lgb.compat.SKLEARN_INSTALLED, sklearn.base.BaseEstimator.__name__)
""")


def test_lightgbm_comes_without_scikit_learn_which_stays_importable():
    # a fresh process: the test's own process imported scikit-learn long ago
    assert subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout.split() == ["2", "False", "BaseEstimator"]

