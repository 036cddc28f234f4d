"""sqlml imports LightGBM without scikit-learn (half its import time), and scikit-learn stays importable."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import sys
    from sqlml.ml.models.lightgbm_import import import_lightgbm
    lgb = import_lightgbm()
    assert import_lightgbm() is lgb is sys.modules["lightgbm"]
    # neither imported nor blocked (a None entry is what blocks an import)
    print(lgb.compat.SKLEARN_INSTALLED, "sklearn" in sys.modules, "scipy.stats" in sys.modules, callable(lgb.train))
""")


def test_lightgbm_comes_without_scikit_learn_which_stays_importable():
    # a fresh process: the test's own process imported scikit-learn long ago
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False", "True"]
