"""python -m assistant feedback [--csv] [--data-dir DIR]: the 👍/👎 ratings people gave in the web app.

Reads <data dir>/webapp.sqlite3 (written by app.py). --csv prints one row per rating
(time, rating, comment, question, answer, sources) for a spreadsheet; without it a short
summary and the comments.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from pathlib import Path

from ingest.settings import Settings
from web.history import DB_NAME, History

COLUMNS = ["时间", "评价", "意见", "问题", "回答", "出处", "对话编号"]


def _sources(answer_json: str | None) -> str:
    try:
        cites = json.loads(answer_json or "{}").get("citations") or []
    except (ValueError, AttributeError):
        return ""
    return "\n".join(f"[{n}] {c.get('region', '')}《{c.get('title', '')}》{c.get('clause', '')}：“{c.get('quote', '')}”"
                     for n, c in enumerate(cites, 1))


def rows(history: History) -> list[list[str]]:
    out = []
    for r in history.feedback_rows():
        out.append([time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["updated"])),
                    "👍" if r["rating"] == "up" else "👎", r["comment"] or "", r["question"] or "",
                    r["answer"] or "", _sources(r["answer_json"]), r["conversation"]])
    return out


def to_csv(table: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows(table)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m assistant feedback",
                                 description="网页中用户对回答的评价（👍/👎 和意见）。")
    ap.add_argument("--csv", action="store_true", help="输出 CSV（每条评价一行）")
    ap.add_argument("--data-dir", type=Path, help="索引目录（环境变量 ZHENGCE_DATA_DIR，默认 .zhengce）")
    args = ap.parse_args(argv)
    return run(Settings.from_env(os.environ, data_dir=args.data_dir).data_dir, args.csv)


def run(data_dir: Path, as_csv: bool = False) -> int:
    """The command body; `python -m assistant feedback` calls this with its settings' data dir."""
    data_dir = Path(data_dir)
    if not (data_dir / DB_NAME).exists():
        print(f"{data_dir} 里还没有网页评价记录（{DB_NAME}）。", file=sys.stderr)
        if as_csv:
            sys.stdout.write(to_csv([]))
        return 0
    table = rows(History(data_dir))
    if as_csv:
        sys.stdout.write(to_csv(table))
        return 0
    up = sum(r[1] == "👍" for r in table)
    print(f"共 {len(table)} 条评价：👍 {up}，👎 {len(table) - up}")
    for r in table:
        if r[2]:
            print(f"{r[0]} {r[1]} 问：{r[3][:40]} 意见：{r[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
