"""Hyperparameter search: YAML spaces -> Optuna (define-by-run) / grid -> Ray Tune -> MLflow.

``run_search(SearchRequest(...)) -> SearchResult`` is what ``ltsearch run`` and the heatmap
call; ``load_space(method, path=None, dataset=...)`` parses and validates a space.
"""

__all__ = ["SearchRequest", "SearchResult", "TrialSummary", "run_search", "SearchSpace", "Dim", "load_space",
           "list_spaces", "space_template"]


def __getattr__(name):  # lazy: the space imports the method registry (torch), the engine ray
    if name in ("SearchRequest", "SearchResult", "TrialSummary", "run_search"):
        from ltsearch.search import engine

        return getattr(engine, name)
    if name in ("SearchSpace", "Dim", "load_space", "list_spaces", "space_template"):
        from ltsearch.search import space

        return getattr(space, name)
    raise AttributeError(name)
