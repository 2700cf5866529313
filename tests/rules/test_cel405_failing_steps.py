"""CEL405: only a later step whose failure can reach the retry repeats the side effect before it."""

from __future__ import annotations

HEAD = """
import logging

import httpx
import requests
from celery import shared_task
from mailer import MailerError, send_email

from shop.errors import QuotaError
from shop.models import Event

logger = logging.getLogger(__name__)
"""

ERRORS = {"shop/__init__.py": "", "shop/errors.py": "class QuotaError(Exception):\n    pass\n"}


def test_autoretry_for_a_library_class_counts_only_calls_into_that_library(project):
    found = project(
        {
            **ERRORS,
            "tasks.py": HEAD + """
@shared_task(autoretry_for=(MailerError,))
def mail_then_record(to):
    send_email(to)
    Event.objects.create(to=to)

@shared_task(autoretry_for=(httpx.HTTPStatusError,))
def hook_then_record(url):
    httpx.post(url, json={})
    Event.objects.create(url=url)

@shared_task(autoretry_for=(httpx.HTTPStatusError,))
def hook_then_check(url, other):
    httpx.post(url, json={})
    with httpx.Client() as client:
        client.get(other).raise_for_status()

@shared_task(bind=True, autoretry_for=(requests.RequestException,))
def post_then_get(self, url, other):
    requests.post(url, json={}, timeout=5)
    requests.get(other, timeout=5).raise_for_status()

@shared_task(autoretry_for=(ValueError,))
def builtin_class(to):
    send_email(to)
    Event.objects.create(to=to)
""",
        },
        select=["CEL405"],
    )
    # a create cannot raise MailerError or HTTPStatusError; ValueError comes from any code
    assert found == [("tasks.py", 25, "CEL405"), ("tasks.py", 31, "CEL405"), ("tasks.py", 36, "CEL405")]


def test_a_project_exception_counts_only_where_the_task_raises_it(project):
    found = project(
        {
            **ERRORS,
            "tasks.py": HEAD + """
from shop.quota import check_quota, over_quota

class LocalError(Exception):
    pass

@shared_task(autoretry_for=(QuotaError,))
def raises_it(to):
    send_email(to)
    if over_quota(to):
        raise QuotaError(to)

@shared_task(autoretry_for=(LocalError,))
def raises_the_local_class(to):
    send_email(to)
    if over_quota(to):
        raise LocalError

@shared_task(autoretry_for=(QuotaError,))
def calls_a_function(to):
    send_email(to)
    check_quota(to)
    Event.objects.create(to=to)
""",
        },
        select=["CEL405"],
    )
    assert found == [("tasks.py", 20, "CEL405"), ("tasks.py", 26, "CEL405")]


def test_a_manual_retry_repeats_only_what_precedes_a_step_that_raises_what_it_handles(project):
    found = project(
        {
            **ERRORS,
            "tasks.py": HEAD + """
@shared_task(bind=True)
def mail_then_record(self, to):
    try:
        send_email(to)
        Event.objects.create(to=to)
    except MailerError as exc:
        raise self.retry(exc=exc)

@shared_task(bind=True)
def record_then_check(self, to, url):
    try:
        Event.objects.create(to=to)
        httpx.get(url).raise_for_status()
    except httpx.HTTPError as exc:
        raise self.retry(exc=exc)
""",
        },
        select=["CEL405"],
    )
    assert found == [("tasks.py", 24, "CEL405")]


def test_a_step_whose_failure_a_catch_all_handler_swallows_does_not_retry(project):
    found = project(
        {
            **ERRORS,
            "tasks.py": HEAD + """
@shared_task(autoretry_for=(OSError,))
def swallowed(to):
    send_email(to)
    try:
        Event.objects.create(to=to)
    except Exception:
        logger.exception("could not record")

@shared_task(autoretry_for=(OSError,))
def reraised(to):
    send_email(to)
    try:
        Event.objects.create(to=to)
    except Exception:
        logger.exception("could not record")
        raise

@shared_task(autoretry_for=(OSError,))
def only_http_errors_escape(url):
    try:
        requests.post(url, json={}, timeout=5)
        Event.objects.create(url=url)
    except requests.RequestException:
        raise
    except Exception:
        return

@shared_task(autoretry_for=(OSError,))
def an_http_error_escapes(url, other):
    try:
        requests.post(url, json={}, timeout=5)
        requests.get(other, timeout=5).raise_for_status()
    except requests.RequestException:
        raise
    except Exception:
        return
""",
        },
        select=["CEL405"],
    )
    assert found == [("tasks.py", 23, "CEL405"), ("tasks.py", 43, "CEL405")]


def test_teardown_in_finally_is_not_a_failing_step(project):
    found = project(
        {
            **ERRORS,
            "tasks.py": HEAD + """
from shop.http import make_session

@shared_task(autoretry_for=(OSError,))
def upload(url):
    session = make_session()
    try:
        session.post(url, json={})
    finally:
        session.close()

@shared_task(autoretry_for=(OSError,))
def upload_and_record(url):
    session = make_session()
    try:
        session.post(url, json={})
    finally:
        Event.objects.create(url=url)
""",
        },
        select=["CEL405"],
    )
    assert found == [("tasks.py", 27, "CEL405")]


def test_database_errors_come_from_queries_and_botocore_errors_from_boto3_clients(project):
    found = project(
        {
            **ERRORS,
            "tasks.py": HEAD + """
import boto3
from botocore.exceptions import ClientError
from shop.models import Order

@shared_task(autoretry_for=(Order.DoesNotExist,))
def mail_then_look_up(to, order_id):
    send_email(to)
    Order.objects.get(pk=order_id)

@shared_task(autoretry_for=(ClientError,))
def mail_then_upload(to, body):
    send_email(to)
    s3 = boto3.client("s3")
    s3.put_object(Bucket="mail", Key=to, Body=body)

@shared_task(autoretry_for=(ClientError,))
def mail_then_record(to):
    send_email(to)
    Event.objects.create(to=to)
""",
        },
        select=["CEL405"],
    )
    assert found == [("tasks.py", 19, "CEL405"), ("tasks.py", 24, "CEL405")]
