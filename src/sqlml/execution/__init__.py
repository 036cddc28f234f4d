"""Running planned statements: what a handler receives, plain SQL with its ML calls, the executor."""
