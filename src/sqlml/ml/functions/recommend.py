"""ML.RECOMMEND: ratings or confidences a matrix factorization model predicts for users and items."""
