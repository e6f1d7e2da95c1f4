"""Who may use a shared deployment, how much each person may upload, and the cleanup of
uploads nobody came back for. No Gradio components here: app.py wires these in.

- Sign-in: a password file (`ZHENGCE_AUTH_FILE`, one `user:password` per line) checked by
  Gradio's own login page, or a header set by a trusted reverse proxy that already
  authenticated the person (`ZHENGCE_AUTH_HEADER`, e.g. X-Forwarded-User). A request
  without the header is refused, so the app must only be reachable through the proxy.
- Quota: every POST to Gradio's upload route is charged to its sender (signed-in user,
  proxy user, or client address) before Gradio reads the body; over the daily count or
  bytes it is refused with HTTP 429 and a Chinese sentence. The same ledger counts files
  indexed through the 文件 tab.
- Cleanup: Gradio keeps every uploaded file in its temp dir forever; the sweeper deletes
  what is older than the TTL (an upload is used within seconds of arriving, or never).
"""
from __future__ import annotations

import hmac
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ingest.errors import SettingsError, ZhengceError
from ingest.settings import env_int

UPLOAD_ROUTES = ("/gradio_api/upload", "/upload")
DAY = 86400.0


class QuotaExceeded(ZhengceError):
    """The person has used up today's upload allowance."""


@dataclass(frozen=True)
class AccessSettings:
    users: Mapping[str, str] | None = None  # user -> password (from ZHENGCE_AUTH_FILE)
    header: str | None = None  # trusted reverse-proxy header naming the signed-in user
    quota_files: int = 20  # uploads per person per day
    quota_bytes: int = 50 * 1024 * 1024  # bytes uploaded per person per day
    upload_ttl: int = 3600  # seconds an unused upload may stay in Gradio's temp dir

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "AccessSettings":
        users = None
        path = (env.get("ZHENGCE_AUTH_FILE") or "").strip()
        if path:
            users = read_users(Path(path))
        header = (env.get("ZHENGCE_AUTH_HEADER") or "").strip() or None
        if users and header:
            raise SettingsError("ZHENGCE_AUTH_FILE 和 ZHENGCE_AUTH_HEADER 只能设置一个：由本程序登录，或由反向代理登录")
        return cls(
            users=users, header=header,
            quota_files=env_int(env, "ZHENGCE_UPLOAD_QUOTA_FILES", cls.quota_files),
            quota_bytes=env_int(env, "ZHENGCE_UPLOAD_QUOTA_MB", cls.quota_bytes // 2**20) * 2**20,
            upload_ttl=env_int(env, "ZHENGCE_UPLOAD_TTL", cls.upload_ttl, minimum=60),
        )

    def gradio_auth(self):
        """The `auth` callable for launch(): constant-time comparison, unknown users refused."""
        if not self.users:
            return None
        users = dict(self.users)

        def check(user: str, password: str) -> bool:
            expected = users.get(user)
            return expected is not None and hmac.compare_digest(expected.encode(), (password or "").encode())

        return check

    def auth_dependency(self):
        """For launch(auth_dependency=…): the proxy's user header, or None (→ 401)."""
        if not self.header:
            return None
        name = self.header

        def user(request) -> str | None:
            value = (request.headers.get(name) or "").strip()
            return value[:128] or None

        return user


def read_users(path: Path) -> dict[str, str]:
    """`user:password` lines; blank lines and # comments ignored. Errors name the variable."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise SettingsError(f"环境变量 ZHENGCE_AUTH_FILE 指向的文件无法读取（{path}：{e.strerror or e}）") from None
    users = {}
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user.strip() or not password:
            raise SettingsError(f"环境变量 ZHENGCE_AUTH_FILE 的文件 {path} 第 {n} 行格式错误：应为 用户名:密码")
        users[user.strip()] = password
    if not users:
        raise SettingsError(f"环境变量 ZHENGCE_AUTH_FILE 的文件 {path} 里没有任何用户")
    return users


class Quota:
    """Per-person upload counts and bytes over the last 24 h, kept in a JSON file in the
    data dir so a restart does not hand everyone a fresh allowance."""

    def __init__(self, path: Path, files: int, nbytes: int):
        self.path, self.files, self.nbytes = Path(path), files, nbytes
        self._lock = threading.Lock()
        try:
            self._log: dict[str, list[list[float]]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self._log = {}

    def charge(self, user: str, size: int, now: float | None = None) -> None:
        """Record one upload of `size` bytes, or raise QuotaExceeded and record nothing."""
        now = time.time() if now is None else now
        with self._lock:
            recent = [e for e in self._log.get(user, []) if now - e[0] < DAY]
            used_files, used_bytes = len(recent), sum(e[1] for e in recent)
            if used_files + 1 > self.files:
                raise QuotaExceeded(f"上传次数已达上限（24 小时内最多 {self.files} 次），请明天再试或联系管理员")
            if used_bytes + size > self.nbytes:
                raise QuotaExceeded(f"上传总量已达上限（24 小时内最多 {self.nbytes // 2**20} MB，"
                                    f"已用 {used_bytes / 2**20:.1f} MB），请明天再试或联系管理员")
            recent.append([now, float(size)])
            self._log[user] = recent
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._log))
        os.replace(tmp, self.path)


class UploadQuotaMiddleware:
    """ASGI middleware: charges each POST to the upload route to its sender before the body is read."""

    def __init__(self, app, quota: Quota, header: str | None = None):
        self.app, self.quota, self.header = app, quota, (header or "").lower().encode() or None

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or scope.get("method") != "POST" or \
                not scope.get("path", "").rstrip("/").endswith(UPLOAD_ROUTES):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        try:
            size = int(headers.get(b"content-length", b"-1"))
        except ValueError:
            size = -1
        try:
            if size < 0:  # chunked bodies cannot be charged up front
                raise QuotaExceeded("上传请求必须带 Content-Length")
            self.quota.charge(sender(scope, headers, self.header), size)
        except QuotaExceeded as e:
            body = str(e).encode()
            await send({"type": "http.response.start", "status": 429 if size >= 0 else 411,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        return await self.app(scope, receive, send)


def sender(scope, headers: dict, header: bytes | None) -> str:
    """Who pays for a request: the proxy's user, else the sign-in cookie, else the client address."""
    if header and headers.get(header):
        return "user:" + headers[header].decode(errors="replace")[:128]
    for part in headers.get(b"cookie", b"").decode(errors="replace").split(";"):
        k, _, v = part.strip().partition("=")
        if k.startswith("access-token") and v:
            return "login:" + v[:64]
    client = scope.get("client") or ("?", 0)
    return "addr:" + str(client[0])


def request_user(request) -> str:
    """The same identity inside an event handler (gr.Request)."""
    if request is None:
        return "addr:?"
    if getattr(request, "username", None):
        return "user:" + str(request.username)[:128]
    client = getattr(request, "client", None)
    return "addr:" + str(getattr(client, "host", "?"))


def sweep(folder: Path, ttl: float, now: float | None = None) -> tuple[int, int]:
    """Delete files older than `ttl` seconds under `folder`, then empty directories.
    Returns (files deleted, bytes freed)."""
    now = time.time() if now is None else now
    files = freed = 0
    if not folder.is_dir():
        return 0, 0
    for p in sorted(folder.rglob("*"), key=lambda p: -len(p.parts)):
        try:
            if p.is_file() or p.is_symlink():
                st = p.lstat()
                if now - st.st_mtime > ttl:  # Gradio writes each upload once: mtime is its arrival
                    p.unlink()
                    files, freed = files + 1, freed + st.st_size
            elif p.is_dir() and not any(p.iterdir()):
                p.rmdir()
        except OSError:
            continue  # a file being written or already removed by Gradio
    return files, freed


def start_sweeper(folder: Path, ttl: float, log=print) -> threading.Thread:
    """Sweep at start and then every ttl/4 seconds (at least once a minute's worth of ttl)."""

    def loop():
        while True:
            n, freed = sweep(folder, ttl)
            if n:
                log(f"uploads: removed {n} abandoned file(s), {freed / 2**20:.1f} MB, from {folder}")
            time.sleep(max(15.0, ttl / 4))

    t = threading.Thread(target=loop, daemon=True, name="zhengce-upload-sweeper")
    t.start()
    return t
