"""joblint: a static linter and config auditor for Celery, ARQ and Temporal code."""

__version__ = "0.1.0"
