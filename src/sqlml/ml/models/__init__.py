"""Model families: one module per family, the family contract (base.py) and the table ModelType → family (catalog.py)."""
