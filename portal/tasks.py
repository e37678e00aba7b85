"""Queueing helpers: tasks are sent after the surrounding transaction commits."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args) -> None:
    """Queue `task` with primitive `args` once the current transaction commits.

    A broker outage is logged, never raised into the request: the work is
    already a durable row and the periodic sweep queues it again.
    """

    def _send():
        try:
            task.apply_async(args=args)
        except Exception:
            logger.warning("could not queue %s%s; left for the sweep", task.name, args, exc_info=True)

    transaction.on_commit(_send)
