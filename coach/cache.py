"""An on-disk cache of finished LLM results, so rerunning the same input costs no LLM calls.

One sqlite3 file under the data dir (``cache.sqlite3``), shared by threads and processes. A cache is
an optimisation: a corrupt or unreadable file is deleted and rebuilt, never an error for the user.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILENAME = "cache.sqlite3"
BUSY_TIMEOUT_S = 10.0
SCHEMA = "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"


def cache_key(*parts: Any) -> str:
    """sha256 of the parts as canonical JSON: equal inputs give equal keys, in any process."""
    canonical = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResultCache:
    """Thread-safe key -> JSON-object store in sqlite3; rebuilt from scratch when the file is corrupt."""

    key = staticmethod(cache_key)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> ResultCache:
        """The cache file of a data dir."""
        return cls(data_dir / FILENAME)

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached value, or None when absent (or unreadable: the file is then rebuilt)."""
        with self._lock:
            row = self._execute("SELECT value FROM results WHERE key = ?", (key,))
            value = _decode(row[0]) if row else None
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Remember a value (a JSON-serialisable dict) under the key."""
        text = json.dumps(value, ensure_ascii=False)
        with self._lock:
            self._execute(
                "INSERT OR REPLACE INTO results (key, value, created) VALUES (?, ?, ?)", (key, text, time.time())
            )

    def __len__(self) -> int:
        with self._lock:
            row = self._execute("SELECT count(*) FROM results", ())
            return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the database connection (reopened on next use)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _execute(self, sql: str, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """Run one statement; on a corrupt file, rebuild once and run it again."""
        try:
            return self._run(sql, parameters)
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                log.warning("result cache %s is busy; going without it this time", self.path)
                return None
            self._rebuild(exc)
            return self._run(sql, parameters)

    def _run(self, sql: str, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
        connection = self._connect()
        with connection:
            row = connection.execute(sql, parameters).fetchone()
        return tuple(row) if row is not None else None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            try:
                connection.execute(SCHEMA)
            except sqlite3.DatabaseError:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _rebuild(self, reason: Exception) -> None:
        """Delete the unreadable file and start an empty cache."""
        log.warning("result cache %s is unreadable (%s): rebuilding it", self.path, reason)
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        for suffix in ("", "-journal", "-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)


def _decode(text: str) -> dict[str, Any] | None:
    """A stored value, or None when it is not a JSON object (treated as a miss)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
