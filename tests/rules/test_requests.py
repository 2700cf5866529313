"""CEL8 request-handler rules: waiting on results, running tasks inline, dispatching in transactions."""

from __future__ import annotations

TASKS = """
from celery import shared_task

@shared_task
def send_invoice(order_id):
    return order_id
"""


def test_cel801_django_view_and_fastapi_route(project):
    found = project(
        {
            "shop/__init__.py": "",
            "shop/tasks.py": TASKS,
            "shop/views.py": """
from django.http import JsonResponse
from shop.tasks import send_invoice

def invoice(request, pk):
    result = send_invoice.delay(pk)
    return JsonResponse({"v": result.get(timeout=30)})
""",
            "shop/api.py": """
from fastapi import APIRouter
from shop.tasks import send_invoice

router = APIRouter()

@router.post("/invoices/{pk}")
async def create_invoice(pk: int):
    result = send_invoice.delay(pk)
    return {"v": result.get(timeout=30)}
""",
        },
        select=["CEL801"],
    )
    assert found == [("shop/api.py", 9, "CEL801"), ("shop/views.py", 6, "CEL801")]


def test_cel801_class_based_views_and_flask(project):
    found = project(
        {
            "tasks.py": TASKS,
            "web.py": """
from flask import Flask
from django.views import View
from rest_framework.views import APIView
from tasks import send_invoice

app = Flask(__name__)

@app.route("/invoice/<pk>")
def invoice(pk):
    return str(send_invoice.delay(pk).get())

class InvoiceView(View):
    def post(self, request, pk):
        return send_invoice.apply_async((pk,)).wait()

class InvoiceAPI(APIView):
    def get(self, request, pk):
        return send_invoice.delay(pk).get()

    def helper(self, pk):
        return send_invoice.delay(pk).get()
""",
        },
        select=["CEL801"],
    )
    assert found == [("web.py", 10, "CEL801"), ("web.py", 14, "CEL801"), ("web.py", 18, "CEL801")]


def test_cel801_traps(project):
    found = project(
        {
            "tasks.py": TASKS,
            "shop/views.py": """
from tasks import send_invoice

def invoice(request, pk):
    send_invoice.delay(pk)
    value = request.GET.get("x")
    return {"id": send_invoice.delay(pk).id, "ready": send_invoice.delay(pk).ready()}

def not_a_view(pk):
    return send_invoice.delay(pk).get()
""",
            "scripts/run.py": """
from tasks import send_invoice

def main(request):
    return send_invoice.delay(1).get()
""",
        },
        select=["CEL801"],
    )
    assert found == []


def test_cel802_task_called_inline_in_handlers(project):
    found = project(
        {
            "shop/__init__.py": "",
            "shop/tasks.py": TASKS,
            "shop/views.py": """
from shop import tasks
from shop.tasks import send_invoice

def invoice(request, pk):
    send_invoice(pk)
    tasks.send_invoice.run(pk)
    send_invoice.delay(pk)
    return None

def helper(pk):
    send_invoice(pk)
""",
        },
        select=["CEL802"],
    )
    assert found == [("shop/views.py", 5, "CEL802"), ("shop/views.py", 6, "CEL802")]


def test_cel802_apply_is_an_explicit_synchronous_call(project):
    # `.apply()` is Celery's API for running a task in this process on purpose (a "check now"
    # button, a file the response needs at once); a bare call or `.run()` next to it is reported.
    found = project(
        {
            "shop/__init__.py": "",
            "shop/tasks.py": TASKS,
            "shop/views.py": """
from shop import tasks
from shop.tasks import send_invoice

def check_now(request, pk):
    send_invoice.apply(args=(pk,))
    tasks.send_invoice.apply((pk,)).get()
    send_invoice.run(pk)
    return None
""",
        },
        select=["CEL802"],
    )
    assert found == [("shop/views.py", 7, "CEL802")]


def test_cel802_a_handler_that_uses_the_result_runs_the_task_on_purpose(project):
    # `.delay()` returns an AsyncResult: a handler that tests or returns the value needs it now.
    # A task the project calls for its value is a function too: its bare calls are no slip either.
    # The bare call of a task whose value nobody uses stays reported.
    found = project(
        {
            "shop/__init__.py": "",
            "shop/tasks.py": TASKS + """
@shared_task
def attach_hook(pk, hook=None):
    return True

@shared_task
def check_remote(pk):
    return True
""",
            "shop/views.py": """
from django.contrib import messages
from shop.tasks import attach_hook, check_remote, send_invoice

def sync(request, pk):
    ok = attach_hook(pk)
    if ok:
        messages.success(request, "done")

def create(request, pk):
    attach_hook(pk, hook=request.hook)

def check(request, pk):
    if check_remote.run(pk):
        return None
    return send_invoice(pk)

async def poll(request, pk):
    await check_remote(pk)
    send_invoice(pk)
""",
            "shop/api.py": """
from shop.tasks import check_remote

def ping(request, pk):
    return {"up": check_remote(pk)}
""",
        },
        select=["CEL802"],
    )
    assert found == []


def test_cel802_a_discarded_call_stays_reported(project):
    found = project(
        {
            "shop/__init__.py": "",
            "shop/tasks.py": TASKS,
            "shop/views.py": """
from shop.tasks import send_invoice

def invoice(request, pk):
    send_invoice(pk)
    return None

async def later(request, pk):
    await send_invoice(pk)
""",
        },
        select=["CEL802"],
    )
    assert found == [("shop/views.py", 4, "CEL802"), ("shop/views.py", 8, "CEL802")]


def test_cel802_same_name_function_that_is_not_a_task(project):
    found = project(
        {
            "shop/__init__.py": "",
            "shop/tasks.py": TASKS,
            "shop/views.py": """
from shop.mail import send_invoice

def invoice(request, pk):
    send_invoice(pk)
""",
        },
        select=["CEL802"],
    )
    assert found == []


def test_cel803_dispatch_inside_atomic(project):
    found = project(
        {
            "tasks.py": TASKS,
            "shop/views.py": """
from functools import partial
from django.db import transaction
from tasks import send_invoice

def checkout(request, order):
    with transaction.atomic():
        order.save()
        send_invoice.delay(order.pk)
        transaction.on_commit(lambda: send_invoice.delay(order.pk))
        transaction.on_commit(partial(send_invoice.delay, order.pk))
        send_invoice.delay_on_commit(order.pk)
    send_invoice.delay(order.pk)

@transaction.atomic
def refund(order):
    order.refund()
    send_invoice.apply_async((order.pk,))

    def later():
        send_invoice.delay(order.pk)
    transaction.on_commit(later)
""",
        },
        select=["CEL803"],
    )
    assert found == [("shop/views.py", 8, "CEL803"), ("shop/views.py", 17, "CEL803")]


def test_cel803_claim_and_dispatch_under_select_for_update(project):
    # A task sent per row locked with select_for_update reads rows committed earlier; sending on
    # commit could lose the run. One locked row updated and then sent still races the commit.
    found = project(
        {
            "tasks.py": TASKS,
            "jobs.py": """
from django.db import transaction
from tasks import send_invoice

@transaction.atomic
def claim_due(Job):
    for job in Job.objects.filter(due=True).select_for_update(skip_locked=True)[:50]:
        send_invoice.apply_async(args=(job.order_id,))
        job.delete()
    pending = Job.objects.select_for_update().select_related("order")
    pending = pending.filter(retries__lt=5)
    for job in pending:
        send_invoice.delay(job.order_id)
        job.save()
    send_invoice.delay(0)

def pay(Order, pk):
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=pk)
        order.paid = True
        order.save()
        send_invoice.delay(order.pk)
        for line in order.lines.all():
            send_invoice.delay(line.pk)
        pending = Order.objects.filter(paid=False)
        for other in pending:
            send_invoice.delay(other.pk)

def after(Job):
    jobs = Job.objects.select_for_update()
    with transaction.atomic():
        for job in jobs:
            send_invoice.delay(job.pk)
            transaction.on_commit(lambda: [send_invoice.delay(j.pk) for j in jobs])
""",
        },
        select=["CEL803"],
    )
    assert found == [
        ("jobs.py", 14, "CEL803"),
        ("jobs.py", 21, "CEL803"),
        ("jobs.py", 23, "CEL803"),
        ("jobs.py", 26, "CEL803"),
    ]


def test_cel803_dispatch_delayed_on_purpose(project):
    # `countdown=`/`eta=` delay the run on purpose (a task re-queuing itself as a retry); a literal
    # `countdown=0` or `eta=None` does not, nor does `countdown=` given to `.delay()` (a task argument).
    found = project(
        {
            "tasks.py": TASKS,
            "retry.py": """
from datetime import timedelta
from django.db import transaction
from django.utils.timezone import now
from shop.models import Invoice
from tasks import send_invoice

def retry(pk, intervals, attempt):
    with transaction.atomic():
        Invoice.objects.filter(pk=pk).update(attempt=attempt)
        send_invoice.apply_async(args=(pk,), countdown=intervals[attempt])
        send_invoice.apply_async(args=(pk,), countdown=30)
        send_invoice.apply_async(args=(pk,), eta=now() + timedelta(minutes=5))
        send_invoice.apply_async(args=(pk,), countdown=0)
        send_invoice.apply_async(args=(pk,), eta=None)
        send_invoice.delay(pk, countdown=30)
""",
        },
        select=["CEL803"],
    )
    assert found == [("retry.py", 13, "CEL803"), ("retry.py", 14, "CEL803"), ("retry.py", 15, "CEL803")]


def test_cel803_task_class_that_sends_on_commit_itself(project):
    found = project(
        {
            "tasks.py": """
from celery import Celery, Task
from django.db import transaction

app = Celery("proj")

class TransactionAwareTask(Task):
    def apply_async(self, *args, **kwargs):
        transaction.on_commit(lambda: super(TransactionAwareTask, self).apply_async(*args, **kwargs))

@app.task(base=TransactionAwareTask)
def notify(pk):
    return pk

@app.task
def plain(pk):
    return pk
""",
            "views.py": """
from django.db import transaction
from tasks import notify, plain

def save(order):
    with transaction.atomic():
        order.save()
        notify.apply_async(args=(order.pk,))
        plain.delay(order.pk)
""",
        },
        select=["CEL803"],
    )
    assert found == [("views.py", 8, "CEL803")]


def test_cel803_a_transaction_on_a_replica_or_that_only_reads_is_quiet(project):
    # `atomic(using=<replica>)` pins one connection for consistent reads: nothing the task reads is
    # written there. A transaction that so far only reads (queryset reads, builtins, log lines, what
    # a `raise` builds) holds nothing the task could miss. Any other call may write: a project
    # function, a related manager's `.add()`, a lock. A write later in a loop comes first on the
    # next turn.
    found = project(
        {
            "tasks.py": TASKS,
            "views.py": """
import logging
from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from tasks import send_invoice

logger = logging.getLogger(__name__)

def on_replica(pks):
    with transaction.atomic(using=settings.DATABASE_REPLICA_NAME, savepoint=False):
        found = set(Order.objects.using("replica").filter(pk__in=pks).values_list("pk", flat=True))
        send_invoice.apply_async(args=(list(found),))
    with transaction.atomic("reporting"):
        touch(pks)
        send_invoice.delay(pks)
    with transaction.atomic(using="default"):
        touch(pks)
        send_invoice.delay(pks)

@transaction.atomic
def check_then_send(request, pk):
    order = get_object_or_404(Order, pk=pk)
    if not Order.objects.filter(pk=pk, paid=True).exists():
        raise PermissionDenied(describe(order))
    logger.info("sending %s", len(order.lines.all()))
    send_invoice.delay(order.pk)
    order.tags.add("sent")
    send_invoice.delay(order.pk)

@transaction.atomic
def check_then_call(request, pk):
    check_permissions(request.user, pk)
    send_invoice.delay(pk)

def locked(pk):
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=pk)
        send_invoice.delay(order.pk)

def each(orders):
    with transaction.atomic():
        for order in orders:
            send_invoice.delay(order.pk)
            order.save()
""",
        },
        select=["CEL803"],
    )
    assert found == [
        ("views.py", 18, "CEL803"),
        ("views.py", 28, "CEL803"),
        ("views.py", 33, "CEL803"),
        ("views.py", 38, "CEL803"),
        ("views.py", 43, "CEL803"),
    ]


def test_cel802_building_a_task_class_instance_is_not_running_it(project):
    found = project(
        {
            "tasks.py": """
from celery import Task

class Export(Task):
    def run(self, pk):
        return pk
""",
            "shop/views.py": """
from tasks import Export

def export(request, pk):
    task = Export()
    task.run(pk)
    return task.delay(pk).id
""",
        },
        select=["CEL802"],
    )
    assert found == []
