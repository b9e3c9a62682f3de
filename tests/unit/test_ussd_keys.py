"""The keys a USSD session is known by (gateway.ussd.sessions): scoped to the phone number and
the session state, of a fixed length whatever the session id, free of numbers and raw ids."""

from __future__ import annotations

import hashlib

import pytest

from gateway.ussd.formats import REGISTRY
from gateway.ussd.sessions import Draft, draft_notice_key, session_owner, ussd_source_key

A, B = "+6281234567890", "+628123456789012"  # the second as long as E.164 allows
LONGEST_SID = "ATUid_" + "7c1f" * 12 + "abcd"  # 56 characters


@pytest.mark.parametrize("fmt", [pytest.param(name, id=name) for name in REGISTRY])
@pytest.mark.parametrize("sid", [pytest.param("s", id="short"), pytest.param(LONGEST_SID, id="longest")])
def test_keys_fit_their_columns_and_hide_number_and_session(fmt, sid):
    source = ussd_source_key(fmt, B, sid, "f" * 16)
    assert len(f"{source}:reply") <= 80  # Report/ReportEvent.source_key
    assert len(draft_notice_key(Draft("x", "PUBLIC", session_owner(fmt, B, sid), "f" * 16))) <= 64
    for key in (source, session_owner(fmt, B, sid)):
        assert B not in key and B[1:] not in key and (sid not in key or sid == "s")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param(("generic", A, "s-1"), ("generic", B, "s-1"), id="another-phone"),
        pytest.param(("generic", A, "s-1"), ("generic", A, "s-2"), id="another-session"),
        pytest.param(("generic", A, "s-1"), ("africastalking", A, "s-1"), id="another-format"),
    ],
)
def test_owners_and_source_keys_differ_by_phone_session_and_format(one, other):
    assert session_owner(*one) != session_owner(*other)
    assert ussd_source_key(*one, "f1") != ussd_source_key(*other, "f1")


def test_one_session_state_is_one_filing():
    assert ussd_source_key("generic", A, "s-1", "f1") == ussd_source_key("generic", A, "s-1", "f1")
    assert ussd_source_key("generic", A, "s-1", "f1") != ussd_source_key("generic", A, "s-1", "f2")


def test_source_keys_never_meet_the_old_session_id_keys():
    """Keys filed before sessions were scoped to phones were `ussd:<format>:<session id>`."""
    assert ussd_source_key("generic", A, "s-1", "f1").startswith("ussd:generic#")


def test_a_draft_kept_before_filings_existed_keeps_its_notice_key():
    """Its SMS, if already queued by the old code, is not sent twice."""
    old = Draft("x", "PUBLIC", "generic:s-1")
    assert draft_notice_key(old) == "ussd-draft:" + hashlib.sha256(b"generic:s-1").hexdigest()[:40]
    assert draft_notice_key(Draft("x", "PUBLIC", "generic:s-1", "f1")) != draft_notice_key(old)
