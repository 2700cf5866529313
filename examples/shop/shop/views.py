from django.db import transaction
from django.http import JsonResponse

from .models import Order
from .tasks import charge, send_receipt


def checkout(request, order_id):
    with transaction.atomic():
        Order.objects.filter(pk=order_id).update(status="paid")
        send_receipt.delay(order_id)
    result = charge.delay(order_id)
    return JsonResponse({"charged": result.get(timeout=30)})
