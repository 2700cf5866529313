"""CEL4 retry rules: raising, binding, breadth, bounds, backoff and idempotency."""

from __future__ import annotations

HEAD = """
import requests
from celery import Celery, Task, shared_task

app = Celery("proj", broker="redis://localhost")
"""


def test_cel401_bare_retry_is_reported(project):
    found = project(
        {
            "tasks.py": HEAD + """
@shared_task(bind=True)
def fetch(self, url):
    try:
        return requests.get(url, timeout=5).text
    except requests.Timeout as exc:
        self.retry(exc=exc)
        log_the_failure(url)

@app.task(bind=True)
def fetch_raised(task, url):
    try:
        return requests.get(url, timeout=5).text
    except requests.Timeout as exc:
        raise task.retry(exc=exc)

@app.task
def by_name(url):
    try:
        return requests.get(url, timeout=5).text
    except requests.Timeout as exc:
        by_name.retry(exc=exc)
        return None

@app.task(bind=True)
def returned(self):
    return self.retry(countdown=5)

@app.task(bind=True)
def other_retry(self, session):
    session.retry(3)
"""
        },
        select=["CEL401"],
    )
    assert found == [("tasks.py", 11, "CEL401"), ("tasks.py", 26, "CEL401")]


def test_cel401_not_for_a_retry_that_ends_its_block_or_returns_on_purpose(project):
    # The last statement of its block (`raise` in front changes nothing, no code was written to run
    # after it), throw=False (it returns, deliberately) and `**kwargs` that may hold throw=False.
    found = project(
        {
            "tasks.py": HEAD + """
@shared_task(bind=True)
def last_in_handler(self, url):
    try:
        return requests.get(url, timeout=5).text
    except requests.Timeout as exc:
        self.retry(exc=exc)

@shared_task(bind=True)
def nested(self, url):
    try:
        try:
            requests.post(url, timeout=5)
        except requests.Timeout:
            self.retry()
            pass
    except Exception:
        raise

@shared_task(bind=True)
def no_throw(self, url):
    if not url:
        self.retry(countdown=60, throw=False)
        return "retry queued"
    return url

@shared_task(bind=True)
def spread(self, url, **options):
    self.retry(**options)
    return "retry queued"

@shared_task(bind=True)
def throws_anyway(self, url):
    self.retry(countdown=60, throw=True)
    return "never"
"""
        },
        select=["CEL401"],
    )
    assert found == [("tasks.py", 38, "CEL401")]


def test_cel401_fix_raises_the_retry(project):
    from conftest import lint
    from joblint.fix import fix_until_stable

    project({"tasks.py": HEAD + """
@shared_task(bind=True)
def fetch(self, url):
    try:
        return requests.get(url, timeout=5).text
    except requests.Timeout as exc:
        self.retry(exc=exc)
        return None
"""}, select=["CEL401"])
    root = project.root
    outcome = fix_until_stable(
        {"tasks.py": root / "tasks.py"}, lambda o: lint(root, ["CEL401"], overrides=o), unsafe=False
    )
    (_, text), = outcome.changed().values()
    assert "        raise self.retry(exc=exc)\n" in text


def test_cel406_retry_without_bind(project):
    found = project(
        {
            "tasks.py": HEAD + """
@shared_task(autoretry_for=(IOError,))
def no_self(url):
    self.retry()

@app.task
def unbound_self(self, url):
    raise self.retry()

@app.task(bind=True)
def bound(self):
    raise self.retry()

class Sync(Task):
    def run(self):
        raise self.retry()

@app.task
def by_name():
    raise by_name.retry()

opts = {"bind": True}

@app.task(**opts)
def open_options(self):
    raise self.retry()
"""
        },
        select=["CEL406"],
    )
    assert found == [("tasks.py", 8, "CEL406"), ("tasks.py", 12, "CEL406")]


def test_cel402_broad_autoretry_on_decorator_and_base_class(project):
    found = project(
        {
            "base.py": """
from celery import Task

class RetryAll(Task):
    autoretry_for = (Exception,)
""",
            "tasks.py": HEAD + """
from base import RetryAll

@shared_task(bind=True, autoretry_for=(Exception,))
def broad(self):
    pass

@app.task(base=RetryAll)
def inherits():
    pass

@app.task(autoretry_for=(requests.ConnectionError, TimeoutError))
def narrow():
    pass

@app.task(autoretry_for=(Exception,), dont_autoretry_for=(TypeError, ValueError))
def excluded():
    pass
""",
        },
        select=["CEL402"],
    )
    assert found == [("base.py", 4, "CEL402"), ("tasks.py", 8, "CEL402")]


def test_cel403_max_retries_none_only_on_the_task(project):
    found = project(
        {
            "tasks.py": HEAD + """
@app.task(max_retries=None)
def forever():
    pass

class Forever(Task):
    max_retries = None
    def run(self):
        pass

@app.task(bind=True, max_retries=5, retry_kwargs={"max_retries": None})
def bounded(self):
    raise self.retry(max_retries=None)
"""
        },
        select=["CEL403"],
    )
    assert found == [("tasks.py", 6, "CEL403"), ("tasks.py", 11, "CEL403")]


def test_cel404_fixed_delay_retries(project):
    found = project(
        {
            "tasks.py": HEAD + """
@app.task(autoretry_for=(IOError,))
def fixed():
    pass

@app.task(autoretry_for=(IOError,), retry_backoff=True, retry_jitter=False)
def lockstep():
    pass

@app.task(bind=True)
def manual(self):
    raise self.retry(countdown=60)

@app.task(autoretry_for=(IOError,), retry_backoff=5)
def good():
    pass

@app.task(bind=True)
def growing(self):
    raise self.retry(countdown=2 ** self.request.retries)
"""
        },
        select=["CEL404"],
    )
    assert found == [("tasks.py", 6, "CEL404"), ("tasks.py", 10, "CEL404"), ("tasks.py", 16, "CEL404")]


def test_cel405_side_effect_before_a_failing_step(project):
    found = project(
        {
            "tasks.py": HEAD + """
from shop.models import Payment

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def charge(self, order_id, amount):
    requests.post("https://pay.example/charge", json={"amount": amount})
    requests.get(f"https://pay.example/orders/{order_id}", timeout=5).raise_for_status()

@app.task(bind=True, max_retries=3)
def notify(self, order_id):
    try:
        payment = Payment(order_id=order_id)
        payment.save()
        requests.get("https://example.com/ping", timeout=5)
    except requests.Timeout as exc:
        raise self.retry(exc=exc)
"""
        },
        select=["CEL405"],
    )
    assert found == [("tasks.py", 10, "CEL405"), ("tasks.py", 17, "CEL405")]


def test_cel405_guards_and_non_retrying_tasks(project):
    found = project(
        {
            "tasks.py": HEAD + """
import redis
from shop.models import Payment

r = redis.Redis()

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def charge_once(self, order_id, amount):
    Payment.objects.update_or_create(order_id=order_id, defaults={"amount": amount})
    requests.post("https://pay.example/charge", json={"amount": amount})
    Payment.objects.create(order_id=order_id, amount=amount)

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def charge_locked(self, order_id, amount):
    if not r.set(f"charge:{order_id}", 1, nx=True):
        return
    requests.post("https://pay.example/charge", json={"amount": amount})
    Payment.objects.create(order_id=order_id, amount=amount)

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def charge_keyed(self, order_id, amount):
    requests.post("https://pay.example/charge", headers={"Idempotency-Key": str(order_id)})
    Payment.objects.create(order_id=order_id, amount=amount)

@shared_task
def no_retries(order_id, amount):
    requests.post("https://pay.example/charge", json={"amount": amount})
    Payment.objects.create(order_id=order_id, amount=amount)

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def reads_only(self, url):
    data = requests.get(url, timeout=5).json()
    return Payment.objects.filter(pk=data["id"]).exists()

@shared_task(bind=True)
def last_step(self, url):
    try:
        requests.post(url, timeout=5)
    except requests.Timeout as exc:
        raise self.retry(exc=exc)
"""
        },
        select=["CEL405"],
    )
    assert found == []


def test_cel404_fix_adds_backoff_after_autoretry_for_in_a_multiline_decorator(project):
    from conftest import lint
    from joblint.fix import fix_until_stable

    project({"tasks.py": HEAD + """
@app.task(
    autoretry_for=(IOError,),
)
def fixed():
    pass
"""}, select=["CEL404"])
    root = project.root
    outcome = fix_until_stable(
        {"tasks.py": root / "tasks.py"}, lambda o: lint(root, ["CEL404"], overrides=o), unsafe=True
    )
    (_, text), = outcome.changed().values()
    assert "    autoretry_for=(IOError,), retry_backoff=True,\n" in text


def test_cel405_a_guard_after_the_effect_does_not_protect_it(project):
    found = project(
        {
            "tasks.py": HEAD + """
from shop.models import Payment, Receipt

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def charge(self, order_id, amount):
    requests.post("https://pay.example/charge", json={"amount": amount})
    Receipt.objects.update_or_create(order_id=order_id, defaults={"amount": amount})
    requests.put("https://ledger.example/entries", json={"amount": amount})
"""
        },
        select=["CEL405"],
    )
    assert found == [("tasks.py", 10, "CEL405")]


def test_cel402_base_class_in_another_file_reaches_a_task_file_without_the_option(project):
    found = project(
        {
            "base.py": """
from celery import Task

class RetryAll(Task):
    autoretry_for = (Exception,)
""",
            "tasks.py": """
from celery import shared_task
from base import RetryAll

@shared_task(base=RetryAll)
def sync():
    pass
""",
        },
        select=["CEL402"],
    )
    assert found == [("base.py", 4, "CEL402")]


def test_cel405_a_row_written_in_the_transaction_that_fails_is_not_repeated(project):
    found = project(
        {
            "tasks.py": HEAD + """
from django.db import DatabaseError, transaction
from shop.models import Payment, Receipt

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def rolled_back(self, order_id, amount):
    with transaction.atomic():
        Payment.objects.create(order_id=order_id, amount=amount)
        requests.put("https://ledger.example/entries", json={"amount": amount})

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
@transaction.atomic
def decorated(self, order_id, amount):
    Payment.objects.create(order_id=order_id, amount=amount)
    requests.put("https://ledger.example/entries", json={"amount": amount})

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def committed_first(self, order_id, amount):
    with transaction.atomic():
        Receipt.objects.create(order_id=order_id, amount=amount)
    requests.put("https://ledger.example/entries", json={"amount": amount})

@shared_task(bind=True, autoretry_for=(DatabaseError,))
def posted_in_a_transaction(self, order_id, amount):
    with transaction.atomic():
        requests.post("https://pay.example/charge", json={"amount": amount})
        Payment.objects.create(order_id=order_id, amount=amount)
"""
        },
        select=["CEL405"],
    )
    # a commit before the failing step, and an HTTP POST a rollback cannot take back (a database
    # error of the insert after it is what the task retries on)
    assert found == [("tasks.py", 24, "CEL405"), ("tasks.py", 30, "CEL405")]


def test_cel405_a_later_step_must_be_able_to_fail(project):
    found = project(
        {
            "tasks.py": HEAD + """
import logging
from shop.models import Payment

logger = logging.getLogger(__name__)

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def logs_after(self, order_id, amount):
    payment = Payment.objects.create(order_id=order_id, amount=amount)
    logger.info("created %s", payment.pk)
    total = len(str(amount))
    label = "payment {}".format(payment.pk)
    return {"id": payment.pk, "total": total, "label": label}

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def fails_after(self, order_id, amount):
    Payment.objects.create(order_id=order_id, amount=amount)
    logger.info("created")
    requests.put("https://ledger.example/entries", json={"amount": amount})
"""
        },
        select=["CEL405"],
    )
    assert found == [("tasks.py", 21, "CEL405")]


def test_cel405_a_lookup_keyed_on_the_input_guards_the_create(project):
    found = project(
        {
            "tasks.py": HEAD + """
from shop.models import Order, Payment

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def looked_up(self, order_id, amount):
    if Payment.objects.filter(order_id=order_id).exists():
        return
    Payment.objects.create(order_id=order_id, amount=amount)
    requests.put("https://ledger.example/entries", json={"amount": amount})

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def first_or_new(self, order_id, amount):
    payment = Payment.objects.filter(order_id=order_id).first()
    if payment is None:
        payment = Payment(order_id=order_id, amount=amount)
        payment.save()
    requests.put("https://ledger.example/entries", json={"amount": amount})

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def other_model(self, order_id, amount):
    order = Order.objects.get(pk=order_id)
    Payment.objects.create(order=order, amount=amount)
    requests.put("https://ledger.example/entries", json={"amount": amount})

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def not_keyed(self, order_id, amount):
    if Payment.objects.filter(status="open").exists():
        return
    Payment.objects.create(order_id=order_id, amount=amount)
    requests.put("https://ledger.example/entries", json={"amount": amount})
"""
        },
        select=["CEL405"],
    )
    assert found == [("tasks.py", 26, "CEL405"), ("tasks.py", 33, "CEL405")]


def test_cel405_a_manual_retry_only_repeats_what_ran_before_the_failure_it_handles(project):
    found = project(
        {
            "tasks.py": HEAD + """
from shop.models import Attachment, Upload
from shop.tasks import cleanup

class StorageError(Exception):
    pass

@shared_task(bind=True)
def store(self, upload_id, name):
    try:
        upload = Upload.objects.get(pk=upload_id)
    except StorageError as exc:
        raise self.retry(exc=exc)
    try:
        attachment = Attachment(upload=upload, name=name)
        attachment.save()
    except StorageError as exc:
        raise self.retry(exc=exc)
    else:
        cleanup.apply_async(kwargs={"upload_id": upload_id})
        requests.put("https://index.example/files", json={"name": name})

@shared_task(bind=True)
def store_and_index(self, upload_id, name):
    try:
        attachment = Attachment(upload_id=upload_id, name=name)
        attachment.save()
        requests.put("https://index.example/files", json={"name": name})
    except requests.RequestException as exc:
        raise self.retry(exc=exc)

@shared_task(bind=True)
def retries_after(self, upload_id, name):
    Attachment.objects.create(upload_id=upload_id, name=name)
    if not name:
        raise self.retry(countdown=60)
"""
        },
        select=["CEL405"],
    )
    assert found == [("tasks.py", 31, "CEL405"), ("tasks.py", 38, "CEL405")]
