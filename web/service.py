"""The web app's shared service: one Assistant for every session, swapped under a lock
when the index changes (an upload, or a CLI ingest while the app runs); first-start
index build in the background; safe upload ingestion. No Gradio here."""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from ingest.errors import BadDocumentError, IndexMissingError, ZhengceError
from ingest.settings import Settings

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".docx", ".pdf"]
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class NotReady(ZhengceError):
    """The index is still being built."""


# ---------------------------------------------------------------------------
# The shared service: one Assistant for all sessions, swapped under a lock.
# ---------------------------------------------------------------------------
class Service:
    def __init__(self, settings: Settings, corpus: Path = CORPUS, use_llm: bool = True):
        self.settings = settings
        self.corpus = Path(corpus)
        self.use_llm = use_llm
        self._assistant = None
        self._swap = threading.Lock()  # guards loading/replacing the Assistant
        self._ingest = threading.Lock()  # one upload at a time (ingest also holds a file lock)
        self.progress: tuple[float, str] = (0.0, "")
        self.error: str | None = None

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    @property
    def ready(self) -> bool:
        return self._assistant is not None

    # ---- start-up -------------------------------------------------------
    def start(self) -> None:
        from ingest.index import current_generation

        if current_generation(self.data_dir) is not None:
            try:
                self.reload()
            except ZhengceError as e:
                self.error = str(e)
                log(f"error: {e}")
                return
            threading.Thread(target=self._warm, daemon=True).start()
        else:
            threading.Thread(target=self._build, daemon=True, name="zhengce-build").start()

    def _build(self) -> None:
        from ingest.embed import load_embedder
        from ingest.index import ingest

        spec = self.settings.embedder
        self.progress = (0.0, "正在读取文件")
        log(f"no index in {self.data_dir}: building it from {self.corpus} …")
        try:
            report = ingest([self.corpus], self.data_dir, lambda: load_embedder(spec, self.settings.model_cache), spec,
                            progress=self._on_progress, log=log,
                            chroma_host=self.settings.chroma_host, chroma_port=self.settings.chroma_port)
            if not (report.added or report.updated or report.unchanged):
                raise IndexMissingError(f"no policy documents could be read from {self.corpus} ({report.summary()})")
            log(f"index built: {report.summary()} ({report.seconds:.1f} s)")
            self.progress = (1.0, "正在加载")
            self.reload()
            self._warm()
        except ZhengceError as e:
            self.error = str(e)
            log(f"error: {e}")
        except Exception as e:  # never leave the page spinning forever
            self.error = f"{type(e).__name__}: {e}"
            traceback.print_exc()

    def _on_progress(self, frac: float, msg: str) -> None:
        self.progress = (float(frac), msg)

    def _warm(self) -> None:
        """Load the segmenter, BM25 and the vector index before the first user waits for them."""
        try:
            a = self.get()
            getattr(a, "base", a).ask("学校领导每学期听课多少节？")
        except Exception as e:  # warming is best-effort
            log(f"warm-up failed: {type(e).__name__}: {e}")

    def wait_ready(self, timeout: float) -> bool:
        """Block until the index is loaded (True), it failed, or `timeout` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        while not self.ready and not self.error and time.monotonic() < deadline:
            time.sleep(0.25)
        return self.ready

    # ---- access ---------------------------------------------------------
    def get(self):
        """The live Assistant; reloads it if the index changed on disk (an upload, `python -m ingest`)."""
        a = self._assistant
        if a is None:
            if self.error:
                raise IndexMissingError(self.error)
            frac, msg = self.progress
            raise NotReady(f"索引正在建立（{frac:.0%}），请稍候再试")
        from ingest.index import current_generation

        gen = current_generation(self.data_dir)
        if gen is not None and gen.name != a.store.generation.name:
            a = self.reload(only_if_changed=True)
        return a

    def reload(self, only_if_changed: bool = False):
        """Load the live index generation; requests already running keep the Assistant they hold."""
        from assistant.__main__ import load
        from ingest.index import current_generation

        with self._swap:
            a = self._assistant
            if only_if_changed and a is not None:
                gen = current_generation(self.data_dir)
                if gen is None or gen.name == a.store.generation.name:
                    return a  # another request reloaded it meanwhile
            a = load(self.settings, use_llm=self.use_llm)
            self._assistant = a
            self.error = None
        return a

    # ---- upload ---------------------------------------------------------
    def add_upload(self, src: Path, original_name: str, progress=None) -> str:
        """Ingest one uploaded file under a safe name in <data dir>/uploads/; return a status line."""
        from ingest.embed import load_embedder
        from ingest.index import ingest
        from ingest.loaders import doc_id_for
        from ingest.pipeline import process_file

        src = Path(src)
        size = src.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise BadDocumentError(f"文件太大（{size / 1024 / 1024:.1f} MB，上限 {MAX_UPLOAD_BYTES // 1024 // 1024} MB）")
        if size == 0:
            raise BadDocumentError("文件是空的")
        name = safe_filename(original_name)
        store = self.get().store
        uploads = self.data_dir / "uploads"
        dest = uploads / name
        doc_id = doc_id_for(dest)
        clash = store.docs.get(doc_id)
        if clash is not None and Path(clash.source_path).resolve().parent != uploads.resolve():
            # Never let an upload replace a corpus document that happens to share its name.
            dest = uploads / f"{dest.stem}_upload{dest.suffix}"
            doc_id = doc_id_for(dest)
        with self._ingest:
            staging = Path(tempfile.mkdtemp(prefix="incoming-", dir=self._staging_root()))
            try:
                staged = staging / dest.name
                shutil.copyfile(src, staged)
                if progress:
                    progress(0.05, "正在解析文件")
                process_file(staged, doc_id)  # BadDocumentError here: nothing was changed
                uploads.mkdir(parents=True, exist_ok=True)
                existed = dest.exists()
                backup = staging / (dest.name + ".previous")
                if existed:
                    shutil.copyfile(dest, backup)
                os.replace(staged, dest)
                spec = self.settings.embedder
                report = ingest([dest], self.data_dir, lambda: load_embedder(spec, self.settings.model_cache), spec,
                                progress=(lambda f, m: progress(0.1 + 0.8 * f, m)) if progress else None,
                                log=log, chroma_host=self.settings.chroma_host,
                                chroma_port=self.settings.chroma_port)
                if report.failed:
                    if existed:
                        os.replace(backup, dest)
                    else:
                        dest.unlink(missing_ok=True)
                    raise BadDocumentError(report.failed[0][1])
                if report.duplicates:  # the same content is already indexed under another name
                    if existed:
                        os.replace(backup, dest)
                    else:
                        dest.unlink(missing_ok=True)
                    raise BadDocumentError(f"与已索引的 {report.duplicates[0][1]} 内容相同，已跳过")
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            if progress:
                progress(0.95, "正在重新加载索引")
            a = self.reload()
        doc = a.store.docs.get(doc_id)
        if doc is None:
            raise BadDocumentError("文件已读取，但没有识别出政策文件")
        verb = "已更新" if report.updated else ("已导入" if report.added else "内容未变，无需重新导入")
        notices = "；".join(report.notices)  # same title as another document, a replaced version …
        return (f"✅ {verb}：《{doc.meta.title}》（地区：{doc.meta.region}，{doc.clause_count} 个条款，"
                f"文件名 {dest.name}）。现在就可以在问答中检索到它。" + (f"\n注意：{notices}" if notices else ""))

    def _staging_root(self) -> Path:
        root = self.data_dir / "uploads" / ".incoming"
        root.mkdir(parents=True, exist_ok=True)
        return root


def safe_filename(name: str) -> str:
    """A file name for an upload: no directories, only [\\w.-], a supported extension."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = "." + ext.lower()
    if ext not in UPLOAD_TYPES:
        raise BadDocumentError(f"不支持的文件类型 '{ext if ext != '.' else base}'（支持 {' '.join(UPLOAD_TYPES)}）")
    stem = re.sub(r"[^\w.-]+", "_", stem).strip("._-")[:60].strip("._-") or "upload"
    return stem + ext


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
