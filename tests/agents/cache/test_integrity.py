"""Seals: a record sealed over content and key checks sound, and each kind of damage is told apart."""

import hashlib
import json

import pytest

from agents.cache import integrity

CONTENT = b"\x00\x01features\xff" * 10
KEY = "backbone-fingerprint\ntask-3/train"


@pytest.fixture
def sealed():
    record = {"wall_s": 1.5, "host": "h", "tags": ("a", "b")}  # a tuple: sealed as the JSON it reads back as
    return json.loads(json.dumps(integrity.seal_bytes(record, kind="features", key=KEY, content=CONTENT)))


def test_the_seal_holds_the_content_and_key_digests(sealed):
    info = sealed["integrity"]
    assert info["content_sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert info["key_sha256"] == hashlib.sha256(KEY.encode()).hexdigest()
    assert info["content_bytes"] == 110 and info["kind"] == "features"
    assert integrity.check_bytes(sealed, kind="features", key=KEY, content=CONTENT) == integrity.SOUND


def test_one_flipped_content_bit_of_the_same_size_is_bad(sealed):
    flipped = bytearray(CONTENT)
    flipped[7] ^= 0x01
    verdict = integrity.check_bytes(sealed, kind="features", key=KEY, content=bytes(flipped))
    assert verdict.state == "bad" and "checksum" in verdict.reason


def test_a_shorter_content_is_bad_by_its_size(sealed):
    verdict = integrity.check_bytes(sealed, kind="features", key=KEY, content=CONTENT[:-1])
    assert verdict.state == "bad" and verdict.reason == "its content is 109 bytes, sealed at 110"


@pytest.mark.parametrize("edit", [
    lambda r: r.update(wall_s=1.6),                               # a value of the record
    lambda r: r.update(extra=1),                                  # a field added
    lambda r: r["integrity"].update(content_sha256="0" * 64),     # the seal's own digests
])
def test_an_edited_record_breaks_the_seal(sealed, edit):
    edit(sealed)
    verdict = integrity.check_bytes(sealed, kind="features", key=KEY, content=CONTENT)
    assert verdict.state == "bad" and "altered" in verdict.reason


def test_other_inputs_and_another_kind_are_bad(sealed):
    assert "other inputs" in integrity.check_bytes(sealed, kind="features", key=KEY + "x", content=CONTENT).reason
    assert "not 'result'" in integrity.check_bytes(sealed, kind="result", key=KEY, content=CONTENT).reason
    # a listing that knows no key still checks the content
    assert integrity.check_bytes(sealed, kind="features", key=None, content=CONTENT).sound


def test_unsealed_and_malformed_records_differ(sealed):
    plain = {k: v for k, v in sealed.items() if k != "integrity"}
    assert integrity.check_bytes(plain, kind="features", key=KEY, content=CONTENT) == integrity.UNSEALED
    assert integrity.check_bytes([1], kind="features", key=KEY, content=CONTENT).state == "bad"
    broken = {**plain, "integrity": {"seal": "x"}}
    assert integrity.check_bytes(broken, kind="features", key=KEY, content=CONTENT).reason == \
        "its integrity record is malformed"


def test_read_record_tells_absent_from_unreadable(tmp_path):
    assert integrity.read_record(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_bytes(b"{\xff")
    assert isinstance(integrity.read_record(tmp_path / "bad.json"), integrity.Unreadable)


def test_discard_deletes_every_file_and_names_the_first(tmp_path):
    files = [tmp_path / "a.npy", tmp_path / "a.json"]
    for f in files:
        f.write_text("x")
    said = []
    integrity.discard(files, "its content checksum does not match", said.append)
    assert not any(f.exists() for f in files)
    assert said == [f"cache entry {files[0]} is bad: its content checksum does not match; discarded, recomputing it"]
