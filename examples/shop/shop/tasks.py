import requests
from celery import shared_task

from .celery import app
from .models import Order, Payment


@app.task(bind=True, autoretry_for=(Exception,), max_retries=None)
def charge(self, order_id):
    order = Order.objects.get(pk=order_id)
    requests.post("https://payments.example/charge", json={"amount": order.total})
    Payment.objects.create(order=order)


@shared_task(bind=True)
def send_receipt(self, order_id):
    try:
        requests.post("https://mail.example/send", json={"order": order_id}, timeout=10)
    except requests.RequestException as exc:
        self.retry(exc=exc, countdown=60)
        return "will retry"


@app.task(soft_time_limit=900, time_limit=600)
def nightly_report():
    result = charge.delay(1)
    return result.get(timeout=30)
