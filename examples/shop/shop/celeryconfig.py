"""Worker settings, old-style names and all."""

CELERYD_TASK_TIME_LIMIT = 300
CELERYD_TASK_SOFT_TIME_LIMIT = 300
CELERY_TIMEZONE = "Europe/Berlin"
