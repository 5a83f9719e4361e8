"""Reports over the MLflow store: leaderboards, sensitivity heatmaps, parameter importance and
config export, with their shared formatting in :mod:`ltsearch.reports.fmt`.

Nothing here imports mlflow: runs come as plain dicts from :mod:`ltsearch.tracking.reader`.
"""
