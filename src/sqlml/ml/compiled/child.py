"""The background compiler's process (:mod:`sqlml.ml.compiled.background` starts it): the model
text on standard input, compiled at idle priority, checked against LightGBM and written to the
per-user cache exactly as an in-process compile does (:func:`sqlml.ml.compiled.predictor.build`)."""

from __future__ import annotations

import hashlib
import os
import sys

from sqlml.ml.compiled.background import NOT_REPRODUCED_STATUS


def lower_priority() -> None:
    """Move this process to the idle scheduling class (Linux), else to the lowest nice level."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # type: ignore[attr-defined]
        return
    except (AttributeError, OSError):
        pass
    try:
        os.nice(19)
    except (AttributeError, OSError):
        pass


def main() -> None:
    """The child: read the model text, compile, verify and cache it (exit status 3 when the
    generator does not reproduce the model, 1 with the reason on standard error when it fails)."""
    lower_priority()
    text = sys.stdin.buffer.read().decode()
    from sqlml.ml.compiled.predictor import build
    from sqlml.ml.models.lightgbm_import import import_lightgbm

    lgb = import_lightgbm()
    key = hashlib.sha256(text.encode()).hexdigest()
    if build(lgb.Booster(model_str=text), text, key) is None:
        sys.exit(NOT_REPRODUCED_STATUS)


if __name__ == "__main__":
    main()
