"""The web app: chat with clickable sources, city comparison, 我的清单, document browser and upload.

    python app.py [--host 127.0.0.1] [--port 7860] [--data-dir DIR] [--corpus DIR]

Environment (read here only): ZHENGCE_HOST, ZHENGCE_PORT, ZHENGCE_DATA_DIR,
everything `ingest.settings.Settings.from_env` reads (embedder, Chroma, LLM), and for a
shared deployment what `web.access.AccessSettings.from_env` reads (ZHENGCE_AUTH_FILE or
ZHENGCE_AUTH_HEADER, ZHENGCE_UPLOAD_QUOTA_FILES/_MB, ZHENGCE_UPLOAD_TTL).
If the data directory has no index yet, the app starts at once and builds it
from corpus/ in the background, showing the progress at the top of the page.

The pieces live in web/: service (the shared Assistant), chat / tabs (one class per
tab), render (answer and clause HTML, clean text and Markdown), history (SQLite per
browser: conversations and feedback), api (typed /ask, /compare, /documents, /checklist),
checklist (我的清单: the profile form and its table over assistant.calc.checklist),
messages (every user-facing message in Chinese), assets (CSS and the page script).
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402

from ingest.errors import SettingsError  # noqa: E402
from ingest.settings import Settings, answer_from_disk_tables, confine_caches, env_port  # noqa: E402
from web.access import AccessSettings, Quota, UploadQuotaMiddleware, start_sweeper  # noqa: E402
from web.api import make_api, make_checklist_api, report  # noqa: E402
from web.assets import CSS, JS  # noqa: E402
from web.chat import ChatTab  # noqa: E402
from web.checklist import ChecklistTab  # noqa: E402
from web.history import History  # noqa: E402
from web.service import CORPUS, MAX_UPLOAD_BYTES, Service, log  # noqa: E402
from web.tabs import CompareTab, Data, DocsTab  # noqa: E402

ROOT = Path(__file__).resolve().parent
THEME_FONTS = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "sans-serif"]
HEALTH_EVERY_S = 15.0
HTTP_UPLOAD_LIMIT = 10 * MAX_UPLOAD_BYTES  # hard cap; files between 5 MB and this get a Chinese refusal


def browser_secret(data_dir: Path) -> str:
    """The key of the browser id in localStorage; kept in the data dir so history survives a restart."""
    path = Path(data_dir) / "webapp.secret"
    try:
        return path.read_text().strip() or _new_secret(path)
    except FileNotFoundError:
        return _new_secret(path)


def _new_secret(path: Path) -> str:
    s = secrets.token_hex(16)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(s)
    return s


def build(service: Service) -> gr.Blocks:
    data = Data(service)
    history = History(service.data_dir)
    chat = ChatTab(service, history, browser_secret(service.data_dir))
    compare = CompareTab(service, data)
    mine = ChecklistTab(service)
    docs = DocsTab(service, data)
    regions0 = data.regions()
    with gr.Blocks(title="政策问答 · 教育政策引用助手", analytics_enabled=False) as demo:
        gr.Markdown("## 教育政策问答\n回答只来自已收录的政策原文，每句结论都标注出处 [1] [2]，点击编号即可核对条款全文。")
        status = gr.HTML(data.status_html(), elem_id="status")
        timer = gr.Timer(1.0, active=not service.ready)
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                chat.build(regions0)
            with gr.Tab("对比", id="compare"):
                compare.build(regions0)
            with gr.Tab("我的清单", id="checklist"):
                mine.build(regions0)
            with gr.Tab("文件", id="docs"):
                docs.build()

        # Everything that shows the index: refreshed at page load, while it builds, and after an upload.
        shown = [status, chat.region_dd, compare.regions, mine.region, docs.table, docs.picker]

        def refresh_values():
            regions = data.regions()
            same = [gr.update(choices=regions) for _ in range(3)]  # chat, 对比 and 我的清单 region lists
            return (data.status_html(), *same,
                    data.doc_table(), gr.update(choices=data.doc_choices()))

        def refresh():
            return (*refresh_values(), gr.Timer(active=not service.ready and not service.error))

        def on_upload(file, progress=gr.Progress()):
            if not file:
                return (gr.update(),) * (len(shown) + 1) + (None,)
            path = Path(file if isinstance(file, str) else getattr(file, "name", file))
            original = getattr(file, "orig_name", None) or path.name
            try:
                msg = service.add_upload(path, original, progress)
            except Exception as e:
                name = Path(str(original)).name
                return (gr.update(),) * len(shown) + (
                    f"⚠️ 无法导入 {name}：{report(e, 'upload')}（索引没有任何改动）", None)
            return (*refresh_values(), msg, None)

        chat.wire(demo)
        compare.wire()
        mine.wire()
        docs.wire(shown, on_upload)
        ui = dict(api_visibility="private", show_progress="hidden")
        timer.tick(refresh, None, shown + [timer], **ui)
        if service.settings.chroma_host:  # the vector server may stop or come back while pages are open
            gr.Timer(HEALTH_EVERY_S).tick(lambda: data.status_html(), None, [status], **ui)
        demo.load(refresh, None, shown + [timer], **ui)

        ask, compare_api, documents = make_api(service)
        gr.api(ask, api_name="ask")
        gr.api(compare_api, api_name="compare")
        gr.api(documents, api_name="documents")
        gr.api(make_checklist_api(service), api_name="checklist")
    return demo


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    try:
        default_port = env_port(env, "ZHENGCE_PORT", 7860)
        access = AccessSettings.from_env(env)
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    ap = argparse.ArgumentParser(prog="python app.py", description="教育政策问答网页版")
    ap.add_argument("--host", default=env.get("ZHENGCE_HOST") or "127.0.0.1", help="env ZHENGCE_HOST")
    ap.add_argument("--port", type=int, default=default_port, help="env ZHENGCE_PORT")
    ap.add_argument("--data-dir", type=Path, help="index directory (env ZHENGCE_DATA_DIR, default .zhengce)")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="documents to index on first start (default corpus/)")
    ap.add_argument("--no-llm", action="store_true", help="ignore ZHENGCE_LLM_* and answer in retrieval mode")
    args = ap.parse_args(argv)
    settings = Settings.from_env(env, data_dir=args.data_dir)
    confine_caches(os.environ, settings)
    answer_from_disk_tables(settings)
    # Uploads land in the data dir, where the sweeper can find them after a restart too.
    uploads_tmp = Path(env.setdefault("GRADIO_TEMP_DIR", str(Path(settings.data_dir).resolve() / "gradio-tmp")))
    start_sweeper(uploads_tmp, access.upload_ttl, log)
    quota = Quota(Path(settings.data_dir) / "upload-quota.json", access.quota_files, access.quota_bytes)
    service = Service(settings, args.corpus, use_llm=not args.no_llm)
    service.start()
    demo = build(service)
    demo.queue(default_concurrency_limit=4, max_size=64)
    theme = gr.themes.Soft(font=THEME_FONTS, font_mono=["monospace"])
    from starlette.middleware import Middleware

    signin = "password file" if access.users else f"header {access.header}" if access.header else "none"
    log(f"sign-in: {signin}; upload quota {access.quota_files} files / {access.quota_bytes // 2**20} MB "
        f"per person per day; unused uploads removed after {access.upload_ttl} s")
    t0 = time.monotonic()
    demo.launch(server_name=args.host, server_port=args.port, share=False, inbrowser=False,
                max_file_size=HTTP_UPLOAD_LIMIT, theme=theme, css=CSS, head=JS, footer_links=["api", "settings"],
                run_history=False, show_error=False, quiet=False,
                auth=access.gradio_auth(), auth_dependency=access.auth_dependency(),
                auth_message="请使用管理员分配的账号登录" if access.users else None,
                app_kwargs={"middleware": [Middleware(UploadQuotaMiddleware, quota=quota, header=access.header)]})
    log(f"stopped after {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
