"""The shop's Celery app: configured the way many real projects are, mistakes included."""

from celery import Celery

app = Celery("shop", broker="redis://localhost:6379/0", backend="redis://localhost:6379/1")
app.config_from_object("shop.celeryconfig")
app.conf.update(
    task_serializer="pickle",
    accept_content=["json", "pickle"],
)
app.autodiscover_tasks()
