"""Per-framework project models, each built once from the facts of every file.

- `celery`: one settings model per Celery app (merging, provenance, completeness, config sources),
  and the project's tasks;
- `arq`: WorkerSettings, the jobs they register, job functions, every enqueue;
- `temporal`: workflow and activity definitions, every place an activity is scheduled or a
  workflow started, what workflow code calls and raises.

Models read facts (plain data) and the settings table; they never import rules or the pipeline.
`joblint.project` assembles them into the `Project` that project rules read. This package imports
none of its modules, so the pre-filter can load `models.celery` alone.
"""
