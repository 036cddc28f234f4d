"""The models page's one read of the store: ModelStore.current_versions gives for every model what
``models()`` and ``resolve()`` give one model at a time."""

from __future__ import annotations

from sqlml.store.records import ModelRef


def test_current_versions_equal_models_and_resolve_one_by_one(store):
    con, _ = store
    models = con.models
    listing = models.current_versions()
    assert [(m.dataset, m.name) for m, _ in listing] == [(m.dataset, m.name) for m in models.models()] == [
        ("ds", "credit"), ("ds", "tuned"), ("shop", "fit"),
    ]  # fmt: skip
    for model, current in listing:
        assert model == next(m for m in models.models(model.dataset) if m.name == model.name)
        assert current == models.resolve(ModelRef(model.dataset, model.name))
    fit, current = listing[2]
    assert (fit.versions, current.version) == ([1, 2], 1)  # the gated retrain: default stays on version 1
