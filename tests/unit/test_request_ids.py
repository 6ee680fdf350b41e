"""Server-made request ids: unique, in the order they were made (to the millisecond), and
shaped as a UUID version 7."""

from __future__ import annotations

import os
import time
import uuid

from gateway.web.request_ids import request_id_of


def test_request_ids_are_uuid7_shaped_and_unique() -> None:
    made = [request_id_of() for _ in range(20_000)]
    assert len(set(made)) == len(made)
    for rid in made[:200]:
        parsed = uuid.UUID(rid)
        assert len(rid) == 32 and rid == parsed.hex
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)


def test_request_ids_lead_with_their_millisecond() -> None:
    # The audit log's request id index takes them at its end, one page a commit.
    before = time.time_ns() // 1_000_000
    earlier = request_id_of()
    time.sleep(0.002)
    later = request_id_of()
    after = time.time_ns() // 1_000_000
    assert before <= int(earlier[:12], 16) < int(later[:12], 16) <= after
    assert earlier < later


def test_a_forked_worker_draws_other_ids_than_its_parent() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its id's random part, to the parent
        os.write(write, request_id_of()[13:].encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    ours = {request_id_of()[13:] for _ in range(1000)}
    assert len(child) == 19 and child not in ours
