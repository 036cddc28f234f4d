"""ML.GENERATE_EMBEDDING and AI.GENERATE_EMBEDDING: a model's embedding of rows as one array column."""
