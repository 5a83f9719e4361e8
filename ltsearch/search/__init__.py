"""Hyperparameter search: YAML spaces -> Optuna (define-by-run) / grid -> Ray Tune -> MLflow.

``run_search(SearchRequest(...)) -> SearchResult`` is what ``ltsearch run`` and the heatmap
call; ``load_space(method, path=None, dataset=...)`` parses and validates a space.
"""

from ltsearch.search.space import Dim, SearchSpace, list_spaces, load_space, space_template

__all__ = ["SearchRequest", "SearchResult", "TrialSummary", "run_search", "SearchSpace", "Dim", "load_space",
           "list_spaces", "space_template"]


def __getattr__(name):  # the engine imports Ray: loaded on first use
    if name in ("SearchRequest", "SearchResult", "TrialSummary", "run_search"):
        from ltsearch.search import engine

        return getattr(engine, name)
    raise AttributeError(name)
