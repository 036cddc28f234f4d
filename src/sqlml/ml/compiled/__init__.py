"""Compiled tree ensembles: LightGBM forests as machine code (llvmlite), equal to LightGBM's output, cached per user outside the model store; predictor.py decides when they score."""
