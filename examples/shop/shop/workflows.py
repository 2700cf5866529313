"""Temporal order workflow."""

import uuid
from datetime import datetime, timedelta

from temporalio import activity, workflow


@activity.defn
async def reserve(order_id: str) -> str:
    return order_id


@workflow.defn
class OrderWorkflow:
    @workflow.run
    async def run(self, order_id: str) -> str:
        started = datetime.now()
        token = str(uuid.uuid4())
        await workflow.execute_activity(reserve, order_id)
        workflow.execute_activity(reserve, token, start_to_close_timeout=timedelta(seconds=30))
        return f"{order_id} {started}"
