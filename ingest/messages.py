"""Every message a person is shown (web app and CLIs), in Chinese.

The core (`assistant/`, `ingest/`) raises `ZhengceError` subclasses whose text may
still be English; `zh(e)` turns any exception into one Chinese sentence: a known
message is translated, a Chinese one passes through, anything else gets the
generic sentence for its class. `kind(e)` is the typed error code the API returns.
"""
from __future__ import annotations

import re

from ingest.errors import BadDocumentError, EmbedderError, IndexMissingError, ToolInputError, UsageError, ZhengceError

# English messages of the core, as regular expressions -> Chinese (format groups by name).
_KNOWN: list[tuple[str, str]] = [
    (r"the question is empty", "问题是空的，请输入一个问题，例如：学校领导一学年要听多少节课？"),
    (r"the question is too long \((?P<n>\d+) characters; at most (?P<max>\d+)\)",
     "问题太长（{n} 个字符，最多 {max} 个），请只问一个问题。"),
    (r"the question is too long", "问题太长，请只问一个问题。"),
    (r"the question must be text", "问题必须是文字。"),
    (r"binary data", "问题里有无法识别的字符，请直接输入文字。"),
    (r"please ask in Chinese", "请用中文提问（收录的都是中文政策文件）。"),
    (r"no content words|content word", "没有看懂这个问题，请写出要问的内容，例如：教研员配备比例是多少？"),
    (r"unknown region '(?P<r>[^']*)'; the corpus has: (?P<all>.*)", "没有“{r}”的文件；本库收录的地区：{all}。"),
    (r"unknown region", "没有这个地区的文件。"),
    (r"file too large", "文件太大（上限 5 MB）。"),
    (r"cannot decode", "无法识别文件的文字编码（支持 UTF-8、GB18030/GBK、Big5）。"),
    (r"unsupported file type '(?P<ext>[^']*)'", "不支持的文件类型“{ext}”（支持 txt、md、html、docx、pdf）。"),
    (r"empty file", "文件是空的。"),
    (r"binary file", "这不是文本文件，无法读取。"),
    (r"no text in file", "文件里没有可读取的文字。"),
    (r"implausible size", "这个 .docx 文件解压后大得异常，已拒绝。"),
    (r"not a readable \.docx", "不是可读取的 .docx 文件（文件可能已损坏）。"),
    (r"not a readable PDF", "不是可读取的 PDF 文件（文件可能已损坏）。"),
    (r"PDF has no extractable text", "PDF 里没有可提取的文字（可能是扫描图片）。"),
    (r"broken metadata sidecar", "文件附带的元数据文件格式有误。"),
    (r"nothing left after removing", "去掉网页导航等内容后，文件里没有正文。"),
    (r"no document was indexed", "文件已读取，但没有识别出政策文件。"),
    (r"no policy documents could be read", "corpus/ 里没有可读取的政策文件，无法建立索引。"),
    (r"no index in", "还没有索引，请管理员运行：python -m ingest corpus/"),  # before "damaged": its fix names it
    (r"damaged|old format|vectors for", "索引已损坏，请管理员运行：python -m ingest --rebuild corpus/"),
    (r"Chroma server", "无法连接向量数据库服务器，请管理员检查 CHROMA_HOST/CHROMA_PORT。"),
    (r"embedder|cannot load the model|not installed", "无法加载向量模型，请管理员检查 ZHENGCE_EMBEDDER 设置。"),
]

_BY_CLASS: list[tuple[type, str, str]] = [
    # (exception class, typed error code, generic Chinese sentence)
    (ToolInputError, "bad_input", "无法计算：输入的数字或条件不在有效范围内。"),
    (UsageError, "bad_request", "无法处理这个请求，请换一种问法。"),
    (BadDocumentError, "bad_document", "无法读取这个文件。"),
    (IndexMissingError, "index_unavailable", "索引不可用，请管理员运行：python -m ingest --rebuild corpus/"),
    (EmbedderError, "index_unavailable", "无法加载向量模型，请管理员检查设置。"),
    (ZhengceError, "error", "无法完成这个请求。"),
]

INTERNAL = "内部错误，请稍后重试或换一种问法。"

EMPTY_TOPIC = "请选择或输入一个对比主题，例如：教师培训经费"
NO_DOCUMENT = "请先选择一份文件。"


def has_cjk(s: str) -> bool:
    return bool(re.search(r"[\u3400-\u9fff]", s))


def _english_words(s: str) -> list[str]:
    # file names, 文号, paths and commands may contain Latin letters; prose words are what we look for
    return re.findall(r"(?<![\w./-])[A-Za-z]{3,}(?:\s+[A-Za-z]{2,}){2,}", s)


def translate(msg: str) -> str | None:
    """The Chinese sentence for a known core message, or None."""
    for pattern, zh_text in _KNOWN:
        m = re.search(pattern, msg, flags=re.I)
        if m:
            return zh_text.format(**{k: v or "" for k, v in m.groupdict().items()})
    return None


def zh(e: BaseException) -> str:
    """One Chinese sentence for any exception (never a traceback, never English prose)."""
    msg = str(e).strip()
    if isinstance(e, ZhengceError):
        known = translate(msg)
        if known:
            return known
        if msg and has_cjk(msg) and not _english_words(msg):
            return msg
        for cls, _code, generic in _BY_CLASS:
            if isinstance(e, cls):
                return generic
    return INTERNAL


def kind(e: BaseException) -> str:
    """The typed error code: bad_request, bad_input, bad_document, index_unavailable, not_ready, error, internal."""
    if type(e).__name__ == "NotReady":
        return "not_ready"
    for cls, code, _generic in _BY_CLASS:
        if isinstance(e, cls):
            return code
    return "internal"


def expected(e: BaseException) -> bool:
    """Errors a user can cause or fix (logged as one line); anything else is a bug (logged with a traceback)."""
    return isinstance(e, ZhengceError)


def cli(e: BaseException) -> str:
    """The one line a CLI prints: the Chinese sentence for a known message, with the core's own words after
    it when they are English (they name the file, model or variable at fault, which an operator needs)."""
    msg = " ".join(str(e).split())
    known = translate(msg)
    if not known or has_cjk(msg):
        return msg
    return f"{known}（{msg}）"
