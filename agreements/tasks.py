"""Background jobs of the agreements app."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
)
def send_deadline_reminders() -> int:
    """Weekly (beat): e-mail editors of municipalities at risk or overdue.

    Safe to retry: a municipality reminded in the last week is skipped.
    """
    from agreements.reminders import send_deadline_reminders as send

    return send()
