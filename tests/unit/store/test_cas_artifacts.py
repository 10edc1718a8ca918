"""Content addressing, codecs, corruption detection and artifact serialisation."""

from __future__ import annotations

import os
import pickle
import threading
import zlib

import pytest

from orchestrator.store.artifacts import (
    OUT_OF_BAND_MIN,
    UnpicklableArtifactError,
    load_artifact,
    save_artifact,
)
from orchestrator.store.backend import MissingKey
from orchestrator.store.cas import (
    RAW,
    ZLIB,
    ContentAddressedStore,
    CorruptBlobError,
    UnknownBlobVersionError,
    choose_codec,
)
from orchestrator.store.local import LocalBackend


@pytest.fixture
def cas(tmp_path):
    return ContentAddressedStore(LocalBackend(str(tmp_path)))


def blob_path(cas, key):
    return cas.backend.local_path(cas.key_path(key))


def test_key_is_sha256_and_sharded(cas):
    import hashlib

    ref = cas.save_blob([b"hello ", b"world"])
    assert ref.key == hashlib.sha256(b"hello world").hexdigest()
    assert cas.key_path(ref.key) == "blobs/%s/%s" % (ref.key[:2], ref.key)
    assert bytes(cas.load_blob(ref.key)) == b"hello world"


def test_identical_data_is_stored_once(cas):
    first = cas.save_blob([b"x" * 5000])
    second = cas.save_blob([b"x" * 5000])
    assert first.key == second.key and first.stored > 0 and second.stored == 0
    assert len(list(cas.backend.list("blobs/"))) == 1


def test_codec_policy():
    text = memoryview(b"the same line again\n" * 10000)
    noise = memoryview(os.urandom(1_000_000))
    assert choose_codec([text]) == ZLIB
    assert choose_codec([noise]) == RAW
    assert choose_codec([memoryview(b"tiny")]) == RAW


def test_compressible_blobs_are_compressed_on_disk(cas):
    data = b"abc" * 100000
    ref = cas.save_blob([data])
    assert os.path.getsize(blob_path(cas, ref.key)) < len(data) / 10
    assert bytes(cas.load_blob(ref.key)) == data


def test_bit_flip_is_detected(cas):
    ref = cas.save_blob([os.urandom(4096)])
    path = blob_path(cas, ref.key)
    raw = bytearray(open(path, "rb").read())
    raw[100] ^= 0x01
    open(path, "wb").write(raw)
    with pytest.raises(CorruptBlobError, match="does not match its hash") as info:
        cas.load_blob(ref.key, "artifact 'model' of task F/1/train/3")
    assert ref.key in info.value.headline and "artifact 'model' of task F/1/train/3" in info.value.headline


@pytest.mark.parametrize("payload", [os.urandom(4096), b"compressible " * 1000], ids=["raw", "zlib"])
def test_truncation_is_detected(cas, payload):
    ref = cas.save_blob([payload])
    path = blob_path(cas, ref.key)
    size = os.path.getsize(path)
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(CorruptBlobError):
        cas.load_blob(ref.key)


def test_unknown_version_is_a_named_error(cas):
    ref = cas.save_blob([b"data" * 100])
    path = blob_path(cas, ref.key)
    raw = bytearray(open(path, "rb").read())
    raw[2] = 9
    open(path, "wb").write(raw)
    with pytest.raises(UnknownBlobVersionError, match="codec version 9"):
        cas.load_blob(ref.key)


def test_missing_blob(cas):
    with pytest.raises(MissingKey, match="is missing from the store"):
        cas.load_blob("ab" * 32)


def test_temp_files_are_never_listed_as_blobs(cas):
    ref = cas.save_blob([b"real"])
    folder = os.path.dirname(blob_path(cas, ref.key))
    open(os.path.join(folder, ".tmp-%s.deadbeef" % ref.key), "wb").write(b"half")
    assert [i.key for i in cas.backend.list("blobs/")] == [cas.key_path(ref.key)]


def test_artifact_roundtrip_and_out_of_band_buffers(cas):
    np = pytest.importorskip("numpy")
    array = np.random.default_rng(0).random(100_000)
    record = save_artifact(cas, "arr", array)
    assert record.type == "numpy.ndarray"
    assert len(record.buffers) == 1 and record.size >= array.nbytes
    loaded = load_artifact(cas, record)
    assert (loaded == array).all()
    loaded[0] = 42.0  # loaded arrays are writable, as in Metaflow
    assert save_artifact(cas, "arr2", array).digest == record.digest


def test_small_values_stay_in_one_blob(cas):
    record = save_artifact(cas, "d", {"a": [1, 2, 3], "b": "x" * (OUT_OF_BAND_MIN - 100)})
    assert record.buffers == () and record.type == "dict"
    assert load_artifact(cas, record) == {"a": [1, 2, 3], "b": "x" * (OUT_OF_BAND_MIN - 100)}
    assert record.digest == record.key


def test_unpicklable_artifact_names_attribute_and_type(cas):
    with pytest.raises(UnpicklableArtifactError) as info:
        save_artifact(cas, "lock", threading.Lock())
    assert info.value.format().startswith("Artifact 'lock' of type _thread.lock cannot be pickled")
    assert "del self.lock" in info.value.format()


def test_protocol_5_is_used(cas):
    record = save_artifact(cas, "x", [1, 2])
    main = bytes(cas.load_blob(record.key))
    assert main[:2] == b"\x80\x05"
    assert pickle.loads(main) == [1, 2]
    assert zlib  # imported for the codec tests above
