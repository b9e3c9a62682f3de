"""API tokens and webhook signatures."""

from __future__ import annotations

import pytest

from gateway.security import hash_secret, new_token, secret_matches, sign, split_token, verify_signature

SECRET = "upstream-secret"
BODY = b'{"id":"evt-1"}'
NOW = 1_800_000_000


def test_token_round_trip_and_only_the_hash_is_kept():
    token, key_id, stored = new_token()
    parts = split_token(token)
    assert parts is not None and parts[0] == key_id
    assert secret_matches(parts[1], stored) and parts[1] not in stored
    assert stored == hash_secret(parts[1])
    assert not secret_matches(parts[1][:-1] + ("0" if parts[1][-1] != "0" else "1"), stored)


@pytest.mark.parametrize(
    "token",
    ["", "lpr_abc", "lpr_" + "a" * 12 + "_" + "b" * 47, "xyz_" + "a" * 12 + "_" + "b" * 48, "Bearer x"],
)
def test_malformed_tokens_are_refused(token):
    assert split_token(token) is None


@pytest.mark.parametrize(
    ("ts", "sig", "body", "now", "reason"),
    [
        pytest.param(str(NOW), sign(SECRET, NOW, BODY), BODY, NOW, None, id="good"),
        pytest.param(str(NOW), sign(SECRET, NOW, BODY), BODY, NOW + 300, None, id="edge-of-window"),
        pytest.param(str(NOW), sign(SECRET, NOW, BODY), BODY, NOW + 301, "outside", id="stale"),
        pytest.param(str(NOW), sign(SECRET, NOW, BODY), BODY, NOW - 301, "outside", id="from-the-future"),
        pytest.param(str(NOW), sign(SECRET, NOW, BODY), BODY + b" ", NOW, "bad signature", id="body-changed"),
        pytest.param(
            str(NOW + 1), sign(SECRET, NOW, BODY), BODY, NOW, "bad signature", id="timestamp-changed"
        ),
        pytest.param(str(NOW), sign("other", NOW, BODY), BODY, NOW, "bad signature", id="other-secret"),
        pytest.param(None, sign(SECRET, NOW, BODY), BODY, NOW, "missing", id="no-timestamp"),
        pytest.param(str(NOW), None, BODY, NOW, "missing", id="no-signature"),
        pytest.param("-5", "sha256=00", BODY, NOW, "bad timestamp", id="negative"),
        pytest.param(str(NOW), "sha256=ÿ", BODY, NOW, "bad signature", id="non-ascii-signature"),
    ],
)
def test_verify_signature(ts, sig, body, now, reason):
    got = verify_signature(SECRET, ts, sig, body, now, 300)
    assert got is None if reason is None else reason in got


def test_signature_format():
    assert sign(SECRET, NOW, BODY).startswith("sha256=") and len(sign(SECRET, NOW, BODY)) == 7 + 64
