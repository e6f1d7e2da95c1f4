"""Turn a file on disk into text plus metadata, or a one-line reason why not."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import yaml

from .errors import BadDocumentError
from .places import enclosing, level_of
from .types import GENERIC_REGION, DocMeta

TEXT_EXTS = {".txt", ".md"}
HTML_EXTS = {".html", ".htm"}
SUPPORTED = TEXT_EXTS | HTML_EXTS | {".docx", ".pdf"}
SIDECAR = ".meta.yaml"
# The read guard: a file over this is refused from its size, never read (the largest real law, 刑法, is 219 KB).
MAX_BYTES = 20 * 1024 * 1024
# The measured limit, on the decoded text (what ingest's time and memory grow with, whatever the encoding):
# 1.8 M characters (5 MB of laws) took 33 min and 1.1 GB on the 2-core machine (2026-12-03), ~95% embedding.
MAX_CHARS = 2_000_000
# A .docx whose parts inflate past this, or a part (> 1 MB) inflating more than MAX_INFLATE times, is
# refused unread: a 600 KB file of 6 M one-letter paragraphs otherwise costs python-docx minutes and GBs.
MAX_UNZIPPED = 4 * MAX_BYTES
MAX_INFLATE = 100  # Apache POI's default minimum inflate ratio (0.01); real Word XML is ~5-30x
PIPELINE_VERSION = "11"  # bump when cleaning/parsing changes so hashes force a re-ingest


def is_document(path: Path) -> bool:
    return path.is_file() and not path.name.endswith(SIDECAR) and not path.name.startswith(".")


def check_size(path: Path) -> int:
    """The file's size, or BadDocumentError if it is over MAX_BYTES (decided from stat, nothing read)."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise BadDocumentError(f"file too large ({size // 1024 // 1024} MB > {MAX_BYTES // 1024 // 1024} MB)")
    return size


def content_hash(path: Path) -> str:
    check_size(path)  # ingest hashes before parsing: never read a huge file whole just to hash it
    h = hashlib.sha256(PIPELINE_VERSION.encode())
    h.update(path.read_bytes())
    side = existing_sidecar(path)
    if side:
        h.update(side.read_bytes())
    return h.hexdigest()[:24]


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + SIDECAR)


def existing_sidecar(path: Path) -> Path | None:
    side = sidecar_path(path)
    try:
        return side if side.is_file() else None
    except OSError:  # ENAMETOOLONG: a 250-byte file name has no room for '.meta.yaml', so no sidecar
        return None


def doc_id_for(path: Path) -> str:
    # The file name is the document's identity, so an edited file replaces its old clauses.
    return re.sub(r"[^\w\-]+", "_", path.stem)[:80] or "doc"


def decode(data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM), UTF-16, or what charset-normalizer finds
    among the Chinese codecs; return (text, encoding)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # Restricting the candidates keeps a GBK page from being read as, say, cp1252 mojibake.
    best = from_bytes(data, cp_isolation=["gb18030", "big5", "big5hkscs"]).best()
    if best is None:
        raise BadDocumentError("无法识别文件编码：不是 UTF-8、GB18030/GBK 或 Big5 文本")
    enc = "gb18030" if best.encoding in ("gb18030", "gbk", "gb2312") else best.encoding
    return data.decode(enc, errors="strict"), enc


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    controls = sum(b < 9 or 13 < b < 32 for b in head)
    return controls > len(head) * 0.05


def read_text(path: Path) -> tuple[str, str]:
    """Return (text, encoding) for a supported file or raise BadDocumentError."""
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise BadDocumentError(f"unsupported file type '{ext or path.name}' (use txt, md, html, docx or pdf)")
    if check_size(path) == 0:
        raise BadDocumentError("empty file")
    data = path.read_bytes()
    if ext == ".docx":
        text = _read_docx(data)
        check_length(text)
        return text, "docx"
    if ext == ".pdf":
        text = _read_pdf(data)
        check_length(text)
        return text, "pdf"
    if _looks_binary(data):
        raise BadDocumentError("looks like a binary file, not text")
    text, enc = decode(data)
    if ext in HTML_EXTS or re.match(r"\s*<(!doctype|html)", text[:200], re.I):
        from .html import html_to_text

        text = html_to_text(text)
    if not text.strip():
        raise BadDocumentError("no text in file")
    check_length(text)
    return text, enc


def check_length(text: str) -> None:
    """BadDocumentError, in one Chinese line, if `text` is over MAX_CHARS."""
    if len(text) > MAX_CHARS:
        raise BadDocumentError(
            f"文件太长：{len(text):,} 字，超过单个文件上限 {MAX_CHARS:,} 字（本机实测 180 万字导入需 33 分钟），"
            "已拒绝；请拆分成几个文件后再导入")


def _read_docx(data: bytes) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            # A zip bomb inflates far beyond its size on disk; refuse before python-docx unpacks it
            # (zipfile never inflates a member past its declared size, so the headers can be trusted).
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            bomb = any(i.file_size > 2**20 and i.file_size > MAX_INFLATE * max(i.compress_size, 1) for i in infos)
            if bomb or total > MAX_UNZIPPED:
                raise BadDocumentError(f"docx expands to an implausible size ({total // 2**20} MB from "
                                       f"{len(data) // 1024} KB; zip bomb?)")
        import docx

        d = docx.Document(io.BytesIO(data))
    except BadDocumentError:
        raise
    except Exception as e:  # python-docx raises many types on a broken file
        raise BadDocumentError(f"not a readable .docx file ({type(e).__name__})") from None
    text = "\n".join(p.text for p in d.paragraphs)
    if not text.strip():
        raise BadDocumentError("no text in file")
    return text


def _read_pdf(data: bytes) -> str:
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        text = "\n".join((page.extract_text() or "") for page in reader.pages[:500])
    except Exception as e:
        raise BadDocumentError(f"not a readable PDF ({type(e).__name__})") from None
    if not text.strip():
        raise BadDocumentError("PDF has no extractable text (scanned image?)")
    return reflow(text)


_SENTENCE_END = tuple("。；：！？;:!?）)”」")
_PAGE_FOOTER = re.compile(r"[ \u3000]*([—-]\s*\d+\s*[—-]|第\s*\d+\s*页(\s*共\s*\d+\s*页)?)[ \u3000]*$")
_STARTS_BLOCK = re.compile(r"[ \u3000]*(第[一二三四五六七八九十百零〇]+[编章节条]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.．、])")


def reflow(text: str) -> str:
    """Undo a PDF's visual line wrapping: a full-width line that stops mid-sentence continues on
    the next line. Without this a quote would carry line breaks inside words and numbers."""
    lines = text.split("\n")
    widths = sorted(len(x.strip()) for x in lines if x.strip())
    if not widths:
        return text
    full = widths[int(len(widths) * 0.9)] * 0.8
    out = [lines[0]]
    footers: list[str] = []  # a page footer between the two halves of a wrapped sentence
    for line in lines[1:]:
        prev = out[-1].rstrip()
        wrapped = len(prev.strip()) >= full and not prev.endswith(_SENTENCE_END)
        if _PAGE_FOOTER.match(line) and wrapped:
            footers.append(line)  # kept, after the sentence, for the cleaner to remove and log
            continue
        glue = line[:1] in "、，。；：）」”" or (wrapped and not _STARTS_BLOCK.match(line))
        if glue and prev:
            out[-1] = prev + line.strip()
            out.extend(footers)
        else:
            out.extend(footers)
            out.append(line)
        footers.clear()
    return "\n".join(out + footers)


def read_meta(path: Path, cleaned: str, script: str, encoding: str, first_clause_at: int = 0) -> DocMeta:
    """Sidecar metadata when present; every field it leaves out is read from the text itself."""
    from .metadata import extract

    side = existing_sidecar(path)
    data: dict = {}
    if side:
        try:
            data = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise BadDocumentError(f"元数据文件 {side.name} 格式错误：{e}") from None
        if not isinstance(data, dict):
            raise BadDocumentError(f"元数据文件 {side.name} 格式错误：应为键值对")
    found = extract(cleaned, first_clause_at)
    region = data.get("region") or found.region or GENERIC_REGION
    parents = tuple(data.get("parents") or (found.parents if region == found.region else enclosing(region)))
    return DocMeta(
        title=str(data.get("title") or found.title),
        region=str(region),
        issuer=data.get("issuer") or found.issuer,
        # An explicit `date: null` in a sidecar means "the text states none", not "find one".
        date=(str(data["date"]) if data["date"] else None) if "date" in data else found.date,
        doc_number=data.get("doc_number") or found.doc_number,
        status=data.get("status"),
        script=data.get("script") or script,
        encoding=encoding,
        title_inferred=bool(data.get("title_inferred", not data.get("title"))),
        level=str(data.get("level") or (found.level if region == found.region else level_of(region))),
        parents=parents,
        effective_date=str(data["effective_date"]) if data.get("effective_date") else found.effective_date,
        school=data.get("school") or found.school,
    )
