"""Turn a file on disk into text plus metadata, or a one-line reason why not."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import yaml

from .errors import BadDocumentError
from .types import GENERIC_REGION, DocMeta

TEXT_EXTS = {".txt", ".md"}
HTML_EXTS = {".html", ".htm"}
SUPPORTED = TEXT_EXTS | HTML_EXTS | {".docx", ".pdf"}
SIDECAR = ".meta.yaml"
MAX_BYTES = 20 * 1024 * 1024  # a policy page is ~100 KB; 20 MB is already suspicious
# A .docx whose parts inflate past this, or a part (> 1 MB) inflating more than MAX_INFLATE times, is
# refused unread: a 600 KB file of 6 M one-letter paragraphs otherwise costs python-docx minutes and GBs.
MAX_UNZIPPED = 4 * MAX_BYTES
MAX_INFLATE = 100  # Apache POI's default minimum inflate ratio (0.01); real Word XML is ~5-30x
PIPELINE_VERSION = "4"  # bump when cleaning/parsing changes so hashes force a re-ingest


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
    """Decode bytes as UTF-8, GB18030 or Big5; return (text, encoding)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    for enc in ("gb18030", "big5"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        candidates.append((_plausibility(text), enc, text))
    if not candidates:
        raise BadDocumentError("cannot decode: not UTF-8, GB18030/GBK or Big5 text")
    _, enc, text = max(candidates)
    return text, enc


# Characters frequent in policy prose, in both scripts. Mis-decoded bytes scatter
# into rare characters, so the right codec scores far higher.
_COMMON = set(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
    "學習國會這個們時來說對經動發過種實現業進與從當於長開關問質數為體麼話機點總條區義務資師課級縣員費"
)


def _plausibility(text: str) -> float:
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not han:
        return 0.0
    return sum(c in _COMMON for c in han) / len(han)


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    controls = sum(b < 9 or 13 < b < 32 for b in head)
    return controls > len(head) * 0.05


def _html_to_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    # Script/style never reach the index: what a page would execute is not policy text.
    for tag in soup(["script", "style", "noscript", "iframe", "object", "embed", "svg", "template"]):
        tag.decompose()
    return soup.get_text("\n")


def read_text(path: Path) -> tuple[str, str]:
    """Return (text, encoding) for a supported file or raise BadDocumentError."""
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise BadDocumentError(f"unsupported file type '{ext or path.name}' (use txt, md, html, docx or pdf)")
    if check_size(path) == 0:
        raise BadDocumentError("empty file")
    data = path.read_bytes()
    if ext == ".docx":
        return _read_docx(data), "docx"
    if ext == ".pdf":
        return _read_pdf(data), "pdf"
    if _looks_binary(data):
        raise BadDocumentError("looks like a binary file, not text")
    text, enc = decode(data)
    if ext in HTML_EXTS or re.match(r"\s*<(!doctype|html)", text[:200], re.I):
        text = _html_to_text(text)
    if not text.strip():
        raise BadDocumentError("no text in file")
    return text, enc


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
    return text


REGION_RX = re.compile(r"([\u4e00-\u9fff]{2,5}?[市州盟])(?:人民政府|教育局|教育体育局|关于|《)")


def read_meta(path: Path, cleaned: str, script: str, encoding: str) -> DocMeta:
    """Sidecar metadata when present, otherwise what the text itself says."""
    side = existing_sidecar(path)
    data: dict = {}
    if side:
        try:
            data = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise BadDocumentError(f"broken metadata sidecar {side.name}: {e}") from None
    first_line = next((ln.strip() for ln in cleaned.splitlines() if ln.strip()), path.stem)
    region = data.get("region")
    if not region:
        from .textnorm import t2s

        m = REGION_RX.search(t2s(cleaned[:3000]))
        region = m.group(1) if m else GENERIC_REGION
    return DocMeta(
        title=str(data.get("title") or first_line[:60]),
        region=str(region),
        issuer=data.get("issuer"),
        date=str(data["date"]) if data.get("date") else None,
        doc_number=data.get("doc_number"),
        status=data.get("status"),
        script=data.get("script") or script,
        encoding=encoding,
        title_inferred=bool(data.get("title_inferred", not data.get("title"))),
    )
