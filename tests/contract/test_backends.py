"""One contract, every store backend: local directory and S3 (moto server on loopback)."""

from __future__ import annotations

import threading

import pytest

from orchestrator.store.backend import MissingKey
from orchestrator.store.cas import ContentAddressedStore
from orchestrator.store.factory import open_backend
from orchestrator.store.names import InvalidNameError
from orchestrator.store.s3 import S3StoreError


@pytest.fixture(params=["local", "s3"])
def backend(request, tmp_path):
    if request.param == "local":
        return open_backend(str(tmp_path / "store"))
    bucket = request.getfixturevalue("s3_bucket")
    return open_backend("s3://%s/some/prefix" % bucket)


def test_put_get_exists_list_delete(backend):
    assert not backend.exists("a/b.json")
    assert backend.put("a/b.json", [b"he", b"llo"])
    assert backend.get("a/b.json") == bytearray(b"hello")
    assert backend.exists("a/b.json")
    backend.put("a/c/d", [b"x"])
    backend.put("z", [b""])
    assert sorted(i.key for i in backend.list("a/")) == ["a/b.json", "a/c/d"]
    assert {i.key: i.size for i in backend.list("")} == {"a/b.json": 5, "a/c/d": 1, "z": 0}
    assert backend.delete(["a/b.json", "missing"]) >= 1
    assert not backend.exists("a/b.json")
    with pytest.raises(MissingKey):
        backend.get("a/b.json")


def test_overwrite_and_if_absent(backend):
    assert backend.put("k", [b"one"])
    assert backend.put("k", [b"two"])
    assert backend.get("k") == bytearray(b"two")
    assert backend.put("k", [b"three"], if_absent=True) is False
    assert backend.get("k") == bytearray(b"two")
    assert backend.put("fresh", [b"1"], if_absent=True) is True


def test_get_many(backend):
    for i in range(5):
        backend.put("m/%d" % i, [bytes([i])])
    assert dict(backend.get_many("m/%d" % i for i in range(5))) == {"m/%d" % i: bytearray([i]) for i in range(5)}


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", "a//b", "", "a/./b", "sp ace"])
def test_keys_cannot_escape(backend, key):
    with pytest.raises(InvalidNameError):
        backend.put(key, [b"x"])


def test_returns_writable_bytes(backend):
    backend.put("w", [b"abc"])
    data = backend.get("w")
    data[0] = ord("z")  # arrays loaded from it must be writable
    assert bytes(data) == b"zbc"


def test_concurrent_writers_of_one_blob(backend):
    cas = ContentAddressedStore(backend)
    payload = b"same bytes " * 10000
    errors = []

    def write():
        try:
            cas.save_blob([payload])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    key = cas.save_blob([payload]).key
    assert bytes(cas.load_blob(key)) == payload
    assert len([i for i in backend.list("blobs/")]) == 1


def test_missing_bucket_is_a_clear_error(moto_server):
    backend = open_backend("s3://no-such-bucket-orch/x")
    with pytest.raises(S3StoreError, match="S3 bucket 'no-such-bucket-orch' does not exist."):
        backend.put("k", [b"x"])


def test_children_lists_one_level(backend):
    for key in ("flows/A/runs/1/run.json", "flows/A/runs/1/steps/s/1/0.done.json", "flows/A/runs/22/run.json"):
        backend.put(key, [b"{}"])
    backend.put("flows/B/runs/3/run.json", [b"{}"])
    assert backend.children("flows") == ["A", "B"]
    assert backend.children("flows/A/runs") == ["1", "22"]
    assert backend.children("flows/A/runs/1") == ["run.json", "steps"]
    assert backend.children("flows/Nope/runs") == []
