# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""webroot.py: http-01 token files for a whole batch in one webroot (RFC 8555 section 8.3)."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import key_authorization
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key
from ansible_collections.certfleet.acme.plugins.module_utils._acme.webroot import parse_proofs, publish, withdraw

THUMBPRINT = generate_private_key("ec256").thumbprint()
TOKENS = ["evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", "DGyRejmCefe7v4NfDGDKfA-_T2zsOi7u5Axn7K4gBIA"]


def proofs(tokens=tuple(TOKENS)):
    return [{"identifier": f"n{i}.example.test", "token": token, "content": key_authorization(token, THUMBPRINT)} for i, token in enumerate(tokens)]


def read(webroot, token):
    path = webroot / ".well-known" / "acme-challenge" / token
    return path.read_text(), stat.S_IMODE(path.stat().st_mode)


def test_every_token_is_written_with_its_key_authorization_and_mode(tmp_path):
    written = publish(str(tmp_path), parse_proofs(proofs()), mode=0o644, uid=None, gid=None, check_mode=False)
    assert written == TOKENS
    for token in TOKENS:
        assert read(tmp_path, token) == (f"{token}.{THUMBPRINT}", 0o644)
    assert stat.S_IMODE(os.stat(tmp_path / ".well-known" / "acme-challenge").st_mode) & 0o755 == 0o755


def test_a_rerun_writes_nothing_and_a_changed_mode_is_written_again(tmp_path):
    tokens = parse_proofs(proofs())
    publish(str(tmp_path), tokens, mode=0o644, uid=None, gid=None, check_mode=False)
    assert publish(str(tmp_path), tokens, mode=0o644, uid=None, gid=None, check_mode=False) == []
    os.chmod(tmp_path / ".well-known" / "acme-challenge" / TOKENS[1], 0o600)
    assert publish(str(tmp_path), tokens, mode=0o644, uid=None, gid=None, check_mode=False) == [TOKENS[1]]


def test_check_mode_reports_and_writes_nothing(tmp_path):
    assert publish(str(tmp_path), parse_proofs(proofs()), mode=0o644, uid=None, gid=None, check_mode=True) == TOKENS
    assert not (tmp_path / ".well-known").exists()


def test_withdraw_removes_only_the_given_tokens(tmp_path):
    tokens = parse_proofs(proofs())
    publish(str(tmp_path), tokens, mode=0o644, uid=None, gid=None, check_mode=False)
    other = tmp_path / ".well-known" / "acme-challenge" / "someone-elses-file"
    other.write_text("keep")
    assert withdraw(str(tmp_path), tokens[:1], check_mode=True) == [TOKENS[0]]
    assert read(tmp_path, TOKENS[0])[0].startswith(TOKENS[0])
    assert withdraw(str(tmp_path), tokens[:1], check_mode=False) == [TOKENS[0]]
    assert withdraw(str(tmp_path), tokens[:1], check_mode=False) == []
    assert sorted(os.listdir(tmp_path / ".well-known" / "acme-challenge")) == sorted([TOKENS[1], "someone-elses-file"])


@pytest.mark.parametrize(
    "proof, words",
    [
        ({"token": "../../../../etc/passwd", "content": "x"}, "proofs[0].token '../../../../etc/passwd' is not an ACME token"),
        ({"token": "short", "content": "short." + "A" * 43}, "is not an ACME token"),
        ({"token": TOKENS[0], "content": f"{TOKENS[1]}.{THUMBPRINT}"}, f"proofs[0].content is not the key authorization of token {TOKENS[0]}"),
        ({"token": TOKENS[0], "content": TOKENS[0]}, "is not the key authorization"),
        ({"token": TOKENS[0]}, "is not the key authorization"),
    ],
)
def test_proofs_that_are_not_tokens_are_refused(proof, words):
    with pytest.raises(AcmeOptionError) as caught:
        parse_proofs([proof])
    assert caught.value.option == "proofs"
    assert words in caught.value.msg


def test_one_token_twice_with_two_contents_is_refused():
    twice = proofs([TOKENS[0]]) + [{"token": TOKENS[0], "content": f"{TOKENS[0]}.{'B' * 43}"}]
    with pytest.raises(AcmeOptionError) as caught:
        parse_proofs(twice)
    assert "proofs[1] gives token" in caught.value.msg
    assert len(parse_proofs(proofs([TOKENS[0]]) * 2)) == 1
