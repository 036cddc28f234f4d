"""``sqlml ui``: the warehouse, the model registry and the project's runs as web pages.

A FastAPI app (:mod:`.app`) of server-side Jinja pages (``templates/``, one stylesheet in
``static/``; no script, no CDN: it works offline and without JavaScript). Each page reads with
sqlml's own SQL and store (INFORMATION_SCHEMA, ML.VERSIONS, ML.EVALUATE, ML.TRIAL_INFO,
ML.TRAINING_INFO, the run history) and draws with ``sqlml report``'s charts. Changes — moving a
version alias, a writing statement — need the token of ``--token-file`` (:mod:`.web`).
"""

from sqlml.ui.app import create_app

__all__ = ["create_app"]
