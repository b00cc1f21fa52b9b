"""The on-disk result cache: keys, round trips, threads, processes sharing the file, corrupt files rebuilt."""

from __future__ import annotations

import threading
from pathlib import Path

from coach.cache import FILENAME, ResultCache, cache_key


def test_key_is_canonical_and_sensitive_to_every_part():
    assert cache_key("m", {"b": 1, "a": 2}) == cache_key("m", {"a": 2, "b": 1})
    assert cache_key("m", "v1", ["p#1"], "draft") != cache_key("m", "v1", ["p#2"], "draft")
    assert cache_key("a", "bc") != cache_key("ab", "c")
    assert len(cache_key()) == 64
    assert ResultCache.key("x") == cache_key("x")


def test_put_get_round_trip_and_survives_reopen(tmp_path: Path):
    cache = ResultCache.in_data_dir(tmp_path / "data")
    assert cache.get("k") is None
    cache.put("k", {"score": 3, "text": "Привет"})
    assert cache.get("k") == {"score": 3, "text": "Привет"}
    cache.put("k", {"score": 4})
    assert cache.get("k") == {"score": 4}
    cache.close()
    again = ResultCache(tmp_path / "data" / FILENAME)
    assert again.get("k") == {"score": 4}
    assert len(again) == 1
    assert (again.hits, again.misses) == (1, 0)


def test_many_threads_write_and_read(tmp_path: Path):
    cache = ResultCache(tmp_path / FILENAME)

    def work(n: int) -> None:
        for i in range(20):
            cache.put(f"{n}-{i}", {"n": n, "i": i})
            assert cache.get(f"{n}-{i}") == {"n": n, "i": i}

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 160


def test_two_instances_share_the_file(tmp_path: Path):
    first, second = ResultCache(tmp_path / FILENAME), ResultCache(tmp_path / FILENAME)
    first.put("k", {"v": 1})
    assert second.get("k") == {"v": 1}


def test_corrupt_file_is_rebuilt_not_an_error(tmp_path: Path):
    path = tmp_path / FILENAME
    path.write_bytes(b"this is not a database at all" * 100)
    cache = ResultCache(path)
    assert cache.get("k") is None
    cache.put("k", {"v": 1})
    assert cache.get("k") == {"v": 1}


def test_file_corrupted_while_open_is_rebuilt(tmp_path: Path):
    path = tmp_path / FILENAME
    cache = ResultCache(path)
    cache.put("k", {"v": 1})
    cache.close()
    data = bytearray(path.read_bytes())
    data[:100] = b"\xff" * 100  # wreck the header
    path.write_bytes(bytes(data))
    assert cache.get("k") is None
    cache.put("k", {"v": 2})
    assert cache.get("k") == {"v": 2}


def test_a_value_that_is_not_an_object_is_a_miss(tmp_path: Path):
    cache = ResultCache(tmp_path / FILENAME)
    cache.put("k", {"v": 1})
    cache._execute("UPDATE results SET value = ? WHERE key = ?", ("[1, 2", "k"))
    assert cache.get("k") is None
