import logging
import threading
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from experiments.lifecycle import reap_lost_jobs
from live.events import forget_before

logger = logging.getLogger(__name__)

EVENT_RETENTION_DAYS = 7
DATABASE_RETRY_SECONDS = 2


class Housekeeper(threading.Thread):
    """Beside the queue loop: fails jobs whose worker went silent, prunes old live events."""

    def __init__(self, interval: float):
        super().__init__(name="housekeeper", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self):
        from datetime import timedelta

        from django.utils import timezone

        while not self.stopped.wait(self.interval):
            try:
                if reaped := reap_lost_jobs():
                    logger.warning("Failed %s experiment(s) whose worker was lost", reaped)
                cutoff = timezone.now() - timedelta(days=EVENT_RETENTION_DAYS)
                forget_before(cutoff)
            except Exception:
                logger.exception("Housekeeping failed")
            finally:
                connection.close()


class Command(DbWorkerCommand):
    help = (
        "Runs trainings: django-tasks-db's db_worker (claims queued tasks with SELECT ... FOR UPDATE "
        "SKIP LOCKED on PostgreSQL), plus a housekeeper that fails the jobs of lost workers."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # Reloading would restart trainings half-way; opt in with --reload.
        parser.set_defaults(reload=False)

    def handle(self, *args, **options):
        interval = max(1.0, min(10.0, settings.WORKER_TIMEOUT_SECONDS / 3))
        Housekeeper(interval).start()
        while True:
            try:
                return super().handle(*args, **options)
            except (OperationalError, InterfaceError) as error:
                # The database went away (a restart, a failover): wait for it rather than exit.
                # A training it interrupted is failed as "Worker lost" by the housekeeping.
                logger.warning("Database unavailable (%s); retrying in %s s", error, DATABASE_RETRY_SECONDS)
                connections.close_all()
                time.sleep(DATABASE_RETRY_SECONDS)
