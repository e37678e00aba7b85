"""Issue 9 point 9: a Celery worker killed with SIGKILL in the middle of a task.

Six credit batches of 1000 records wait in the queue; the worker is started and
killed (SIGKILL, no chance to clean up) while a batch is half written (its first
chunk of 500 committed, the rest not). After a restart and the periodic sweep,
every batch completes exactly once: every item present once, no record stored
twice, every yearly total exact.
"""

from __future__ import annotations

import time
from decimal import Decimal

from tests.faults.stack import wait_until
from tests.faults.web import credit_batch_post, credit_records

BATCHES = 6
PER_PERSON = 250  # records per person per batch; 4 people → 1000 records a batch
CREDITS = 0.5


def test_a_worker_killed_mid_batch_finishes_every_batch_exactly_once(running, db, seeded):
    stack = running
    learners = seeded("learners", count=4, code="KILL1", prefix="中断")
    people, year = learners["people"], learners["year"]

    stack.worker_main.stop()  # the batches queue up while no worker runs
    batch_ids = []
    for b in range(BATCHES):
        records = [r for n, p in enumerate(people)
                   for r in credit_records(p, year=year, prefix=f"K{b}-{n}", count=PER_PERSON, credits=CREDITS)]
        posted = credit_batch_post(stack.app_main.url, learners, records)
        assert posted.status_code == 202, posted.text
        batch_ids.append(posted.json()["batch_id"])
    total_records = BATCHES * len(people) * PER_PERSON

    def half_written():
        # The worker runs with CE_CREDIT_CHUNK_RECORDS=100: a batch commits in ten steps.
        rows = db.rows("SELECT id, record_count, processed FROM education_creditbatch WHERE id = ANY(%s)", batch_ids)
        return [r for r in rows if 0 < r[2] < r[1]]

    stack.worker_main.start()
    wait_until(half_written, timeout=180, what="a batch to be half processed", interval=0.02)
    stack.worker_main.kill()
    caught = half_written()
    assert caught, "the kill was meant to land in the middle of a batch"
    unfinished = db.value("SELECT count(*) FROM education_creditbatch WHERE id = ANY(%s) AND status <> 'done'",
                          batch_ids)
    assert unfinished >= 1
    stored = db.value("SELECT count(*) FROM education_creditrecord WHERE batch_id = ANY(%s)", batch_ids)
    assert stored < total_records

    # The killed task's message stays unacknowledged in Redis (redelivered only after the
    # visibility timeout): the restarted worker takes the queued batches and the sweep
    # queues the interrupted one again.
    stack.worker_main.start()
    stack.worker_main.wait_ready()
    swept = seeded("sweep")
    assert swept["batches"] >= 1, swept
    wait_until(lambda: db.value("SELECT count(*) FROM education_creditbatch WHERE id = ANY(%s) AND status = 'done'",
                                batch_ids) == BATCHES, timeout=240, what="every batch to be done", interval=0.5)
    # A later sweep and a duplicate delivery of the same task change nothing.
    assert seeded("sweep") == {"sms": 0, "batches": 0}
    time.sleep(2)

    assert db.value("SELECT count(*) FROM education_creditrecord WHERE batch_id = ANY(%s)", batch_ids) == total_records
    assert db.rows("SELECT record_id FROM education_creditrecord WHERE institution_id = %s GROUP BY record_id "
                   "HAVING count(*) > 1", learners["institution"]) == []
    progress = db.rows("SELECT id, processed, accepted_count, duplicate_count, rejected_count "
                       "FROM education_creditbatch WHERE id = ANY(%s) ORDER BY id", batch_ids)
    assert progress == [(b, 1000, 1000, 0, 0) for b in sorted(batch_ids)], progress
    assert db.value("SELECT count(*) FROM education_creditbatchitem WHERE batch_id = ANY(%s)", batch_ids) == 0
    for person in people:
        total = db.value("SELECT total FROM education_credityeartotal WHERE user_id = %s AND year = %s",
                         person["pk"], year)
        assert total == Decimal(str(BATCHES * PER_PERSON * CREDITS)), (person, total)
        stored_sum = db.value("SELECT sum(credits) FROM education_creditrecord WHERE user_id = %s", person["pk"])
        assert stored_sum == total
