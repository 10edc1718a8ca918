"""Metaflow's S3 client on moto's S3: on any s3root, with full URLs, and S3(run=self) in a flow."""

from __future__ import annotations

import os

import boto3
import pytest

from orchestrator import Flow, Run
from orchestrator.datatools import (
    S3,
    MetaflowS3NotFound,
    MetaflowS3URLException,
    S3GetObject,
    S3PutObject,
)


@pytest.fixture
def root(s3_bucket):
    return "s3://%s/tools" % s3_bucket


def test_put_get_and_what_comes_back(root, tmp_path):
    with S3(s3root=root, tmproot=str(tmp_path)) as s3:
        url = s3.put("a/one.txt", "héllo", content_type="text/plain", metadata={"owner": "me"})
        assert url == root + "/a/one.txt"
        obj = s3.get("a/one.txt")
        assert (obj.text, obj.blob, obj.key, obj.url) == ("héllo", "héllo".encode(), "a/one.txt", url)
        assert (obj.exists, obj.downloaded, obj.size) == (True, True, 6)
        assert (obj.content_type, obj.metadata) == ("text/plain", {"owner": "me"}) and obj.last_modified > 0
        local = obj.path
        assert os.path.exists(local)
    assert not os.path.exists(local)  # the client's local copies go when it closes


def test_many_objects_keep_their_order_and_prefixes_list_as_metaflow(root):
    with S3(s3root=root) as s3:
        pairs = s3.put_many([("d/%02d" % i, b"x" * i) for i in range(20)] + [S3PutObject("d/e/deep", "deep")])
        assert [key for key, _ in pairs][:3] == ["d/00", "d/01", "d/02"]
        got = s3.get_many(["d/%02d" % i for i in range(20)])
        assert [len(o.blob) for o in got] == list(range(20))
        listed = s3.list_paths(["d"])
        assert {o.key for o in listed if not o.exists} == {"d/e"}  # a prefix: the next level, not an object
        assert len([o for o in listed if o.exists]) == 20
        assert len(s3.list_recursive(["d"])) == 21
        assert sorted(o.key for o in s3.get_recursive(["d/e"])) == ["d/e/deep"]
        assert len(s3.get_all()) >= 21
        assert [o.size for o in s3.info_many(["d/03", "d/04"])] == [3, 4]


def test_ranges_large_objects_and_files(root, tmp_path):
    data = os.urandom(3 * 1024 * 1024) * 8  # 24 MiB: moves in parallel 8 MiB ranges
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    with S3(s3root=root) as s3:
        assert s3.put_files([("big.bin", str(source))]) == [("big.bin", root + "/big.bin")]
        assert s3.get("big.bin").blob == data
        head = s3.get(S3GetObject("big.bin", 10, 5))
        assert head.blob == data[10:15] and head.range_info == (len(data), 10, 5)
        tail = s3.get(S3GetObject("big.bin", None, -4))
        assert tail.blob == data[-4:] and tail.range_info.request_offset == len(data) - 4
        assert s3.put("big.bin", "other", overwrite=False) == root + "/big.bin"
        assert s3.info("big.bin").size == len(data)  # overwrite=False kept it


def test_missing_objects_and_bad_addresses(root, s3_bucket):
    with S3(s3root=root) as s3:
        with pytest.raises(MetaflowS3NotFound):
            s3.get("nope")
        missing = s3.get("nope", return_missing=True)
        assert not missing.exists and missing.blob is None
        assert [o.exists for o in s3.get_many(["nope"], return_missing=True)] == [False]
        with pytest.raises(MetaflowS3URLException, match="give keys, not URLs"):
            s3.get("s3://%s/x" % s3_bucket)
    with S3() as s3:  # no root: full URLs only
        s3.put("s3://%s/full/url" % s3_bucket, "by url")
        assert s3.get("s3://%s/full/url" % s3_bucket).text == "by url"
        with pytest.raises(MetaflowS3URLException, match="full s3:// URLs"):
            s3.get("relative/key")
    with pytest.raises(MetaflowS3URLException, match="s3root must be an S3 URL"):
        S3(s3root="/local/path")


def test_s3_run_self_in_a_flow_on_an_s3_store(orch, s3_bucket):
    orch.store = "s3://%s/store" % s3_bucket
    from orchestrator import client

    client.metadata(orch.store)
    code, _, err = orch("run", "s3_flow.py")
    assert code == 0, err
    run = Flow("S3Flow").latest_run
    assert run.data.greeting == ("hello from start", {"by": "start"}, "greeting.txt")
    assert run.data.parts == [("parts/a", "A"), ("parts/b", "B")]
    # the run's own prefix: data/ beside the store, then the flow and the run id
    expected = "s3://%s/store/data/S3Flow/%s/greeting.txt" % (s3_bucket, run.id)
    assert run["start"].task.data.url == expected
    keys = boto3.client("s3").list_objects_v2(Bucket=s3_bucket, Prefix="store/data/S3Flow/%s/" % run.id)["KeyCount"]
    assert keys == 3
    with S3(run=Run(run.pathspec)) as s3:  # a notebook reads the same prefix through a client Run
        assert s3.get("parts/a").text == "A"


def test_s3_run_self_on_a_local_store_says_what_to_do(orch, monkeypatch):
    monkeypatch.delenv("METAFLOW_DATATOOLS_S3ROOT", raising=False)
    code, _, err = orch("run", "s3_flow.py")
    assert code == 1
    assert "S3(run=...) needs an S3 root, and this run's store is a local folder." in err
