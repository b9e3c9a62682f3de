"""Multipart MO under hostile use, beyond tests/store/test_multipart.py, through the generic
route's concat fields on both databases: a long SMS of 255 parts each of the largest size (time
and the joined text bounded), many long messages opened at once by one number (its OPEN rows
bounded, and what the timeout files then answered within the flood limit), and a flood of parts
under random references from several numbers (no 5xx; a normal LAPOR still gets its reply)."""

from __future__ import annotations

import random
import time

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.models import InboundMessage, MultipartMessage, MultipartStatus, utcnow
from gateway.msisdn import normalise_msisdn
from gateway.services import multipart
from tests.hostile.conftest import budget
from tests.store.helpers import AUTH, post_mo

FLOODER = "081299990000"


def _part(client, sender: str, ref: str, index: int, total: int, text: str, ext: str):
    concat = {"concat_ref": ref, "concat_part": str(index), "concat_total": str(total)}
    return post_mo(client, text, sender=sender, msg_id=ext, **concat)


def _open_rows(rt, sender: str) -> int:
    with rt.sessions() as s:
        return s.scalar(
            select(func.count())
            .select_from(MultipartMessage)
            .where(MultipartMessage.msisdn == sender, MultipartMessage.status == MultipartStatus.OPEN)
        )


def test_255_parts_of_the_largest_size_make_one_mo_cut_to_the_text_limit_in_bounded_time(
    client, rt, run_jobs, fake_aggregator
):
    size = rt.settings.max_text_chars
    order = list(range(1, 256))
    random.Random(255).shuffle(order)
    started = time.monotonic()
    for index in order:
        text = ("LAPOR " if index == 1 else "") + chr(ord("a") + index % 26) * (
            size - (6 if index == 1 else 0)
        )
        resp = _part(client, FLOODER, "big", index, 255, text, f"big-{index}")
        assert resp.status_code == 202, resp.get_data(as_text=True)
    stored_s = time.monotonic() - started
    with rt.sessions() as s:
        [mo] = s.scalars(select(InboundMessage)).all()
    assert len(mo.text) <= size and mo.text.startswith("LAPOR bbb")
    assert stored_s < 30, f"255 parts took {stored_s:.1f} s to store"
    run_jobs()
    assert [m["to"] for m in fake_aggregator.sent()] == [normalise_msisdn(FLOODER)]


def test_one_number_cannot_hold_unbounded_open_long_messages(client, rt, run_jobs, fake_aggregator):
    # Part 1 of 2 under 40 references, the second parts never sent: every one stays OPEN until
    # the timeout unless opening is bounded per sender.
    for ref in range(40):
        resp = _part(client, FLOODER, f"r{ref}", 1, 2, f"LAPOR pesan panjang nomor {ref} ", f"open-{ref}")
        assert resp.status_code == 202
    assert _open_rows(rt, normalise_msisdn(FLOODER)) <= multipart.MAX_OPEN_PER_SENDER
    # Whatever the bound closed early and what the timeout closes are filed, and answered
    # within the flood limit (one warning, then silence), as any MOs from one number.
    multipart.close_due(rt, utcnow() + multipart.TIMEOUT)
    run_jobs()
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 40  # nothing lost
    to_flooder = [m for m in fake_aggregator.sent() if m["to"] == normalise_msisdn(FLOODER)]
    assert len(to_flooder) <= rt.settings.flood_limit + 1


def test_a_part_flood_under_random_references(hostile):
    route = hostile("POST /sms/generic/inbound concat flood")
    senders = [f"08129999{n:04d}" for n in range(4)]

    @given(
        st.sampled_from(senders),
        st.text("0123456789abcdef", min_size=1, max_size=32),
        st.integers(2, 255).flatmap(lambda total: st.tuples(st.integers(1, total), st.just(total))),
        st.text(max_size=200).filter(lambda t: "\x00" not in t) | st.just("LAPOR bagian"),
    )
    @budget()
    def flood(sender, ref, index_total, text):
        index, total = index_total
        data = {
            "from": sender,
            "to": "1708",
            "text": text,
            "id": f"f-{ref}-{index}-{random.random()}",
            "concat_ref": ref,
            "concat_part": str(index),
            "concat_total": str(total),
        }
        route.request("POST", "/sms/generic/inbound", data=data, headers=AUTH)

    flood()
    for sender in senders:
        assert _open_rows(route.rt, normalise_msisdn(sender)) <= multipart.MAX_OPEN_PER_SENDER
    multipart.close_due(route.rt, utcnow() + multipart.TIMEOUT)  # what the sweeper does next
    route.finish()
