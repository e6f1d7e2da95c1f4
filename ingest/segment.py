"""Word segmentation for BM25: our own jieba Tokenizer with the policy dictionary.

A private `jieba.Tokenizer` (not the global one) so that the policy words never
leak into, or get overridden by, other code in the same process.

Its word table (jieba's 350k words, their prefixes and the policy words: 498k entries) is read
from a SQLite copy on demand. Loading it whole (`marshal.load` of jieba's cache) took 1.4-1.8 s
and 73 MB of every query process, which segments only questions: a few hundred lookups each.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path

POLICY_DICT = Path(__file__).with_name("policy_dict.txt")
# Function words that carry no retrieval signal in policy prose.
STOPWORDS = frozenset(
    "的 了 和 与 及 等 在 是 为 对 将 把 要 以 并 或 其 之 于 由 从 也 都 而 被 有 个 各 该 此 这 那 "
    "我 你 他 们 吗 呢 吧 啊 么 什么 多少 哪些 哪个 怎么 如何 是否 几 请问 请".split()
)
_WORD = re.compile(r"[\w\u4e00-\u9fff‰%]")
_TABLE_VERSION = 1
log = logging.getLogger(__name__)


def _jieba():
    import warnings

    with warnings.catch_warnings():  # jieba 0.42 imports pkg_resources, which newer setuptools warns about
        warnings.simplefilter("ignore", UserWarning)
        import jieba
    jieba.setLogLevel(logging.WARNING)
    return jieba


class DiskFreq:
    """The dict protocol jieba's Tokenizer uses on `FREQ` (`in`, `[]`, `get`, assignment), over SQLite.

    After `PROMOTE` reads from disk the whole table is loaded, because then the process is
    segmenting documents (an ingest, an upload in the web app), where one lookup per query of a
    disk row would be slower than the load."""

    PROMOTE = 200_000

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._seen: dict[str, int | None] = {}  # looked up (None = not a word or prefix) or added
        self._reads = 0
        self.whole = False
        (self.total,) = self._db.execute("SELECT total FROM meta").fetchone()

    def get(self, word: str, default=None):
        try:
            value = self._seen[word]
        except KeyError:
            value = self._read(word)
        return default if value is None else value

    def _read(self, word: str) -> int | None:
        with self._lock:
            if self.whole:
                return None
            row = self._db.execute("SELECT n FROM freq WHERE w = ?", (word,)).fetchone()
            self._reads += 1
            if self._reads >= self.PROMOTE:
                self._load_whole()
        value = row[0] if row else None
        self._seen.setdefault(word, value)
        return value

    def _load_whole(self) -> None:
        table = dict(self._db.execute("SELECT w, n FROM freq"))
        table.update((w, n) for w, n in self._seen.items() if n is not None)  # words added since
        self._seen = table
        self.whole = True

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    def __getitem__(self, word: str) -> int:
        value = self.get(word)
        if value is None:
            raise KeyError(word)
        return value

    def __setitem__(self, word: str, freq: int) -> None:
        self._seen[word] = freq


def _table_path(cache_dir: Path, jieba) -> Path:
    """Keyed by jieba's version and dictionary and our policy words: a change to any makes a new table."""
    main_dict = Path(jieba.__file__).with_name("dict.txt")
    key = hashlib.sha1(
        f"{_TABLE_VERSION}|{jieba.__version__}|{main_dict.stat().st_size}|".encode()
        + POLICY_DICT.read_bytes()
    ).hexdigest()[:16]
    return cache_dir / "jieba" / f"freq-{key}.sqlite"


def _write_table(path: Path, freq: dict[str, int], total: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.execute("CREATE TABLE freq (w TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")
        db.execute("CREATE TABLE meta (total INTEGER NOT NULL)")
        db.executemany("INSERT INTO freq VALUES (?, ?)", freq.items())
        db.execute("INSERT INTO meta VALUES (?)", (total,))
        db.commit()
    finally:
        db.close()
    os.replace(tmp, path)  # readers see the whole table or none


def build_tokenizer(cache_dir: Path | None):
    """A Tokenizer over the SQLite table in `cache_dir` when it is there (written on the first
    full load); with `cache_dir=None`, or if the table cannot be read or written, jieba's own
    in-memory dictionary."""
    jieba = _jieba()
    tk = jieba.Tokenizer()
    path = _table_path(cache_dir, jieba) if cache_dir is not None else None
    if path is not None and path.exists():
        try:
            tk.FREQ = DiskFreq(path)
            tk.total = tk.FREQ.total
            tk.initialized = True
            return tk
        except sqlite3.Error as e:  # a damaged table: rebuilt below from the full load
            log.warning("分词词表无法读取，重新生成（%s: %s）", path, e)
            tk = jieba.Tokenizer()
    tk.load_userdict(str(POLICY_DICT))
    if path is not None:
        try:
            _write_table(path, tk.FREQ, tk.total)
        except (OSError, sqlite3.Error) as e:  # read-only home: every start loads the full dictionary
            log.warning("分词词表无法写入缓存（%s: %s）", path, e)
    return tk


_cache_dir: Path | None = None  # set by the CLIs and the app (ingest.settings.confine_caches)


def set_cache_dir(path: Path | None) -> None:
    """Where the word table lives (the data dir's model cache); None = jieba's in-memory dictionary."""
    global _cache_dir
    _cache_dir = Path(path) if path is not None else None
    tokenizer.cache_clear()


@lru_cache(maxsize=1)
def tokenizer():
    return build_tokenizer(_cache_dir)


def in_dictionary(word: str) -> bool:
    """Whether jieba's dictionary (with the index's added words) holds `word` as a word of its own."""
    return bool(tokenizer().FREQ.get(word))


def tokens(text: str) -> list[str]:
    """Search-mode tokens of already-normalised (simplified) text, minus stopwords and punctuation."""
    return [
        t for t in tokenizer().cut_for_search(text)
        if t.strip() and _WORD.search(t) and t not in STOPWORDS
    ]


def word_ends(text: str) -> set[int]:
    """The offsets in `text` where a word of its segmentation begins or ends (0 and len(text) included)."""
    at, ends = 0, {0}
    for word in tokenizer().lcut(text):
        at += len(word)
        ends.add(at)
    return ends


def policy_words() -> list[str]:
    return [line.split()[0] for line in POLICY_DICT.read_text(encoding="utf-8").splitlines() if line.strip()]
