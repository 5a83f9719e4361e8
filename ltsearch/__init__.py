"""ltsearch: hyperparameter search for long-tailed classification."""
__version__ = "0.1.0"
