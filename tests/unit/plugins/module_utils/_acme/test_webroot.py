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


@pytest.mark.parametrize("planted", [".well-known", ".well-known/acme-challenge"])
@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_symbolic_link_planted_in_the_web_root_is_refused_and_its_target_untouched(tmp_path, planted, state):
    """A web root's owner links .well-known (or acme-challenge) elsewhere: nothing is written, removed or chmodded there."""
    webroot, elsewhere = tmp_path / "www", tmp_path / "elsewhere"
    webroot.mkdir()
    elsewhere.mkdir(mode=0o700)
    # The target already holds a file named like a token, which a removal through the link would delete.
    (elsewhere / TOKENS[0]).write_text("not yours")
    (elsewhere / "acme-challenge").mkdir(mode=0o700)
    (elsewhere / "acme-challenge" / TOKENS[0]).write_text("not yours")
    link = webroot / planted
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere)
    before = sorted((p.relative_to(elsewhere), p.stat().st_mode) for p in elsewhere.rglob("*"))
    with pytest.raises(AcmeOptionError) as caught:
        if state == "present":
            publish(str(webroot), parse_proofs(proofs()), mode=0o644, uid=None, gid=None, check_mode=False)
        else:
            withdraw(str(webroot), parse_proofs(proofs()), check_mode=False)
    assert caught.value.option == "webroot"
    assert f"{webroot / planted} is a symbolic link" in caught.value.msg
    assert sorted((p.relative_to(elsewhere), p.stat().st_mode) for p in elsewhere.rglob("*")) == before
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o700
    assert (elsewhere / TOKENS[0]).read_text() == "not yours"


def test_a_token_file_that_is_a_link_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.write_text("keep me")
    directory = tmp_path / "www" / ".well-known" / "acme-challenge"
    directory.mkdir(parents=True)
    (directory / TOKENS[0]).symlink_to(outside)
    assert publish(str(tmp_path / "www"), parse_proofs(proofs()), mode=0o644, uid=None, gid=None, check_mode=False) == TOKENS
    assert not (directory / TOKENS[0]).is_symlink()
    assert read(tmp_path / "www", TOKENS[0]) == (f"{TOKENS[0]}.{THUMBPRINT}", 0o644)
    assert outside.read_text() == "keep me"
    assert withdraw(str(tmp_path / "www"), parse_proofs(proofs()), check_mode=False) == TOKENS
    assert outside.read_text() == "keep me"


def test_a_regular_file_where_the_folder_belongs_is_refused(tmp_path):
    (tmp_path / ".well-known").write_text("")
    with pytest.raises(AcmeOptionError) as caught:
        publish(str(tmp_path), parse_proofs(proofs()), mode=0o644, uid=None, gid=None, check_mode=False)
    assert ".well-known is not a directory" in caught.value.msg


def test_no_temporary_file_is_left_behind(tmp_path):
    publish(str(tmp_path), parse_proofs(proofs()), mode=0o644, uid=None, gid=None, check_mode=False)
    assert sorted(os.listdir(tmp_path / ".well-known" / "acme-challenge")) == sorted(TOKENS)


def test_a_fifo_planted_under_a_token_name_is_replaced_without_waiting(tmp_path):
    """Opening a FIFO for reading blocks until a writer comes: the check of a token file must not."""
    directory = tmp_path / ".well-known" / "acme-challenge"
    directory.mkdir(parents=True)
    os.mkfifo(directory / TOKENS[0])
    assert publish(str(tmp_path), parse_proofs(proofs()), mode=0o644, uid=None, gid=None, check_mode=False) == TOKENS
    assert read(tmp_path, TOKENS[0]) == (f"{TOKENS[0]}.{THUMBPRINT}", 0o644)
