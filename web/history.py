"""Conversation history and feedback, per browser, in one SQLite file in the data dir.

A browser is a random id kept in its localStorage (no accounts). Tables:
conversations (one per 新对话), messages (question / answer, with the rendered HTML
and the answer's JSON), feedback (👍/👎 + optional comment on one answer).
No server besides the app: SQLite in WAL mode, one short connection per call.
"""
from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from contextlib import closing
from pathlib import Path

DB_NAME = "webapp.sqlite3"
_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_COMMENT = 2000
MAX_CONVERSATIONS = 50  # listed per browser

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, browser TEXT NOT NULL, title TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_browser ON conversations(browser, updated);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, conversation TEXT NOT NULL REFERENCES conversations(id),
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')), text TEXT NOT NULL, html TEXT NOT NULL,
    answer_json TEXT, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages(conversation, id);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, message INTEGER NOT NULL UNIQUE REFERENCES messages(id),
    browser TEXT NOT NULL, rating TEXT NOT NULL CHECK (rating IN ('up', 'down')), comment TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL, updated REAL NOT NULL);
"""


def new_id() -> str:
    return uuid.uuid4().hex


def valid_id(s) -> bool:
    return isinstance(s, str) and bool(_ID.match(s))


class History:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=15)
        db.row_factory = sqlite3.Row
        return db

    # ---- conversations ---------------------------------------------------
    def conversations(self, browser: str) -> list[dict]:
        if not valid_id(browser):
            return []
        with closing(self._connect()) as db:
            rows = db.execute("SELECT c.id, c.title, c.updated, COUNT(m.id) AS n FROM conversations c "
                              "JOIN messages m ON m.conversation = c.id WHERE c.browser = ? "
                              "GROUP BY c.id ORDER BY c.updated DESC LIMIT ?", (browser, MAX_CONVERSATIONS))
            return [dict(r) for r in rows]

    def owns(self, browser: str, conversation: str) -> bool:
        if not (valid_id(browser) and valid_id(conversation)):
            return False
        with closing(self._connect()) as db:
            return db.execute("SELECT 1 FROM conversations WHERE id = ? AND browser = ?",
                              (conversation, browser)).fetchone() is not None

    def messages(self, browser: str, conversation: str) -> list[dict]:
        if not self.owns(browser, conversation):
            return []
        with closing(self._connect()) as db:
            rows = db.execute("SELECT id, role, text, html, answer_json FROM messages WHERE conversation = ? "
                              "ORDER BY id", (conversation,))
            return [dict(r) for r in rows]

    def add(self, browser: str, conversation: str, role: str, text: str, html: str,
            answer_json: dict | None = None) -> int:
        """Append one message (creating the conversation on its first question); returns the message id."""
        if not (valid_id(browser) and valid_id(conversation)):
            raise ValueError("invalid browser or conversation id")
        now = time.time()
        with closing(self._connect()) as db, db:
            row = db.execute("SELECT browser FROM conversations WHERE id = ?", (conversation,)).fetchone()
            if row is None:
                title = re.sub(r"\s+", " ", text).strip()[:40] or "对话"
                db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)", (conversation, browser, title, now, now))
            elif row["browser"] != browser:
                raise ValueError("conversation belongs to another browser")
            else:
                db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))
            cur = db.execute("INSERT INTO messages (conversation, role, text, html, answer_json, created) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (conversation, role, text, html,
                              json.dumps(answer_json, ensure_ascii=False) if answer_json is not None else None, now))
            return int(cur.lastrowid)

    # ---- feedback --------------------------------------------------------
    def _message_of(self, db, browser: str, message: int):
        return db.execute("SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation "
                          "WHERE m.id = ? AND c.browser = ? AND m.role = 'assistant'", (message, browser)).fetchone()

    def rate(self, browser: str, message: int, rating: str | None) -> bool:
        """👍 ('up'), 👎 ('down') or None (withdrawn) on one of this browser's answers."""
        if not valid_id(browser) or rating not in ("up", "down", None):
            return False
        now = time.time()
        with closing(self._connect()) as db, db:
            if self._message_of(db, browser, int(message)) is None:
                return False
            if rating is None:
                db.execute("DELETE FROM feedback WHERE message = ?", (int(message),))
            else:
                db.execute("INSERT INTO feedback (message, browser, rating, comment, created, updated) "
                           "VALUES (?, ?, ?, '', ?, ?) ON CONFLICT(message) DO UPDATE SET rating = excluded.rating, "
                           "updated = excluded.updated", (int(message), browser, rating, now, now))
            return True

    def comment(self, browser: str, message: int, text: str) -> bool:
        text = (text or "").strip()[:MAX_COMMENT]
        if not valid_id(browser):
            return False
        with closing(self._connect()) as db, db:
            if self._message_of(db, browser, int(message)) is None:
                return False
            now = time.time()
            db.execute("INSERT INTO feedback (message, browser, rating, comment, created, updated) "
                       "VALUES (?, ?, 'down', ?, ?, ?) ON CONFLICT(message) DO UPDATE SET comment = excluded.comment, "
                       "updated = excluded.updated", (int(message), browser, text, now, now))
            return True

    def feedback_rows(self) -> list[dict]:
        """Every rating with its question, answer and sources, newest first (for the bureau's review)."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT f.id, f.rating, f.comment, f.updated, f.browser, m.conversation, m.text AS answer, "
                "m.answer_json, (SELECT q.text FROM messages q WHERE q.conversation = m.conversation "
                "AND q.role = 'user' AND q.id < m.id ORDER BY q.id DESC LIMIT 1) AS question "
                "FROM feedback f JOIN messages m ON m.id = f.message ORDER BY f.updated DESC, f.id DESC")
            return [dict(r) for r in rows]
