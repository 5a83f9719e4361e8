"""User-facing errors: one line naming the file / flag / value and the fix; exit code 2."""


class LTSearchError(Exception):
    """An error caused by user input. The CLI prints ``str(err)`` on one line and exits with 2.

    Messages name what is wrong (file, key, flag or value) and how to fix it, e.g.
    ``search_spaces/kps.yaml: m_max: bound -0.1 is below 0; use a range inside [0, 2]``.
    """

    exit_code = 2


class TrialDivergedError(RuntimeError):
    """The training loss turned NaN or infinite (a trial failure, not a user error)."""
