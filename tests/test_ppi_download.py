"""Downloads against a local HTTP server on 127.0.0.1 started by the test."""

import hashlib
import http.server
import os
import threading

import pytest

import moe.ppi
from moe.ppi import DownloadError, download
from moe.ppi.errors import CacheError
from moe.ppi.registry import DatasetSpec, RemoteFile

CONTENT = {"one.txt": b"first file\n" * 100, "sub/two.txt": b">x\nACDE\n"}


class _Server:
    """Serves CONTENT; ``plan[path]`` lists responses to give first (an int status or bytes)."""

    def __init__(self):
        self.plan: dict[str, list] = {}
        self.hits: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.lstrip("/")
                outer.hits.append(path)
                queued = outer.plan.get(path)
                reply = (
                    queued.pop(0) if queued else CONTENT.get(path.split("?")[0], 404)
                )
                if isinstance(reply, int):
                    self.send_error(reply)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.05,), daemon=True
        )

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"


@pytest.fixture
def server():
    s = _Server()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.fixture
def toy(server, monkeypatch):
    """Register a dataset 'toy' whose pinned URLs point at the local server."""
    files = tuple(
        RemoteFile(path, server.url(path), hashlib.sha256(data).hexdigest(), len(data))
        for path, data in CONTENT.items()
    )
    spec = DatasetSpec("toy", "toy_dir", files, (), "toy", "none", "none")
    monkeypatch.setitem(moe.ppi.DATASETS, "toy", spec)
    return spec


def _no_sleep(record):
    return lambda seconds: record.append(seconds)


def _leftovers(folder):
    """Temporary files of moe.io.atomic_path (hidden, with ``.tmp`` before the suffix)."""
    return [p for p in folder.rglob(".*") if p.is_file() and ".tmp" in p.name]


def test_download_places_verified_files(toy, tmp_path, server):
    paths = download("toy", tmp_path / "cache")
    assert set(paths) == set(CONTENT)
    for name, path in paths.items():
        assert path == tmp_path / "cache" / "toy_dir" / "raw" / name
        assert path.read_bytes() == CONTENT[name]
    # Verified files already in the cache are not fetched again.
    server.hits.clear()
    download("toy", tmp_path / "cache")
    assert server.hits == []


def test_mirror_is_used_first(toy, tmp_path, server):
    mirror = tmp_path / "mirror"
    for name, data in CONTENT.items():
        target = mirror / "toy_dir" / "raw" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    server.plan = {name: [500] * 5 for name in CONTENT}
    paths = download("toy", tmp_path / "cache", mirror=mirror)
    assert server.hits == []
    assert paths["one.txt"].read_bytes() == CONTENT["one.txt"]


def test_corrupt_mirror_falls_back_to_url(toy, tmp_path, server):
    mirror = tmp_path / "mirror"
    (mirror / "toy_dir" / "raw" / "sub").mkdir(parents=True)
    (mirror / "toy_dir" / "raw" / "one.txt").write_bytes(b"truncated")
    paths = download("toy", tmp_path / "cache", mirror=mirror)
    assert paths["one.txt"].read_bytes() == CONTENT["one.txt"]
    assert server.hits == ["one.txt", "sub/two.txt"]


def test_sha256_mismatch_names_file_and_both_sums(toy, tmp_path, server):
    server.plan = {"one.txt": [b"tampered"] * 3}
    with pytest.raises(DownloadError) as error:
        download("toy", tmp_path / "cache", sleep=_no_sleep([]))
    message = str(error.value)
    assert "one.txt" in message
    assert hashlib.sha256(CONTENT["one.txt"]).hexdigest() in message
    assert hashlib.sha256(b"tampered").hexdigest() in message
    # Atomic rename: nothing under the final name, no temporary left behind.
    assert not (tmp_path / "cache" / "toy_dir" / "raw" / "one.txt").exists()
    assert _leftovers(tmp_path) == []


def test_wrong_cached_file_is_replaced(toy, tmp_path):
    cached = tmp_path / "cache" / "toy_dir" / "raw" / "one.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"old and wrong")
    download("toy", tmp_path / "cache")
    assert cached.read_bytes() == CONTENT["one.txt"]


def test_retries_with_backoff_then_succeeds(toy, tmp_path, server):
    server.plan = {"one.txt": [503, 503]}
    waits = []
    download("toy", tmp_path / "cache", retries=3, backoff=0.5, sleep=_no_sleep(waits))
    assert server.hits.count("one.txt") == 3
    assert waits == [0.5, 1.0]


def test_all_sources_failing_explains_each_and_the_mirror(toy, tmp_path, server):
    server.plan = {"one.txt": [503] * 3}
    waits = []
    (tmp_path / "empty").mkdir()
    with pytest.raises(DownloadError) as error:
        download(
            "toy",
            tmp_path / "cache",
            mirror=tmp_path / "empty",
            retries=3,
            sleep=_no_sleep(waits),
        )
    message = str(error.value)
    assert server.url("one.txt") in message
    assert "attempt 3/3" in message and "503" in message
    assert (
        str(tmp_path / "empty" / "toy_dir" / "raw" / "one.txt") in message
        and "no such file" in message
    )
    assert "mirror=DIR" in message and "--config mirror=DIR" in message
    assert waits == [1.0, 2.0]
    assert not (tmp_path / "cache" / "toy_dir" / "raw" / "one.txt").exists()
    assert _leftovers(tmp_path) == []


def test_not_found_is_not_retried(toy, tmp_path, server):
    server.plan = {"one.txt": [404] * 3}
    with pytest.raises(DownloadError, match="404"):
        download("toy", tmp_path / "cache", retries=3, sleep=_no_sleep([]))
    assert server.hits.count("one.txt") == 1


def test_urls_override_the_pinned_ones(toy, tmp_path, server):
    server.plan = {"one.txt": [500] * 3}
    download(
        "toy",
        tmp_path / "cache",
        urls={"one.txt": server.url("one.txt?copy")},
        retries=1,
    )
    assert "one.txt?copy" in server.hits
    with pytest.raises(ValueError, match="three.txt"):
        download("toy", tmp_path / "cache", urls={"three.txt": server.url("x")})


def test_unknown_dataset_name_lists_valid_names(tmp_path):
    with pytest.raises(
        ValueError, match="unknown dataset name 'guo'.*guo_yeast, shs27k"
    ):
        download("guo", tmp_path)
    with pytest.raises(ValueError, match="guo_yeast, shs27k"):
        moe.ppi.load("yeast", cache_dir=tmp_path)


def _mirror_of_everything(tmp_path):
    mirror = tmp_path / "mirror"
    for name, data in CONTENT.items():
        target = mirror / "toy_dir" / "raw" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return mirror


def test_a_mirror_that_is_not_a_directory_is_named_before_any_request(toy, tmp_path, server):
    with pytest.raises(ValueError, match=f"mirror '{tmp_path / 'nowhere'}' is not a directory"):
        download("toy", tmp_path / "cache", mirror=tmp_path / "nowhere")
    assert server.hits == []


def _assert_blames_the_cache(error, path, reason, server):
    message = str(error.value)
    assert f"cannot write the cache file {path}" in message and reason in message
    assert "mirror" not in message  # the mirror was fine
    assert server.hits == []  # no URL attempt: it would fail the same way


def test_a_cache_that_cannot_be_created_is_blamed(toy, tmp_path, server):
    (tmp_path / "file").write_text("in the way")
    cache = tmp_path / "file" / "cache"
    with pytest.raises(CacheError) as error:
        download("toy", cache, mirror=_mirror_of_everything(tmp_path))
    _assert_blames_the_cache(error, cache / "toy_dir" / "raw" / "one.txt", "Not a directory", server)


def test_a_read_only_cache_is_blamed(toy, tmp_path, server, tmpfs):
    cache = tmpfs("cache", size_kb=64, read_only=True)
    with pytest.raises(CacheError) as error:
        download("toy", cache, mirror=_mirror_of_everything(tmp_path))
    _assert_blames_the_cache(
        error, cache / "toy_dir" / "raw" / "one.txt", "Read-only file system", server
    )


def test_a_full_cache_disk_is_blamed_and_leaves_nothing(toy, tmp_path, server, tmpfs):
    cache = tmpfs("cache", size_kb=64)
    (cache / "toy_dir" / "raw").mkdir(parents=True)
    with open(cache / "ballast", "wb", buffering=0) as fill:
        try:
            while True:
                fill.write(b"\0" * 4096)
        except OSError:
            pass
    with pytest.raises(CacheError) as error:
        download("toy", cache, mirror=_mirror_of_everything(tmp_path))
    _assert_blames_the_cache(
        error, cache / "toy_dir" / "raw" / "one.txt", "No space left on device", server
    )
    assert _leftovers(cache) == []


def test_cached_files_are_readable_by_others_under_umask_0022(toy, tmp_path, server):
    old = os.umask(0o022)
    try:
        paths = download("toy", tmp_path / "cache")
    finally:
        os.umask(old)
    assert {path.stat().st_mode & 0o777 for path in paths.values()} == {0o644}
