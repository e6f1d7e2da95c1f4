"""Give an existing index the files a newer ingest writes, without re-ingesting or re-embedding:

    python -m ingest.upgrade [--data-dir DIR]

Today that is the lookup database (ingest/lookup.py): the live generation is opened under the
ingest lock, `lookup.sqlite` is derived from its own JSONL files and renamed into place in one
step, so a query process reading the index meanwhile sees the old files or the new one, never
half of it. An index without it still opens (read whole, slower); this makes it fast.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .errors import IndexMissingError
from .index import _locked, current_generation, read_head
from .lookup import FILE, build, is_current


def upgrade(data_dir: Path, log=print) -> bool:
    """Write the live generation's lookup database if it has none; True if it wrote one."""
    data_dir = Path(data_dir)
    with _locked(data_dir):
        gen = current_generation(data_dir)
        if gen is None:
            raise IndexMissingError(f"no index in {data_dir}; fix: python -m ingest corpus/")
        read_head(gen)  # a damaged or old-format generation is refused here, with its own fix
        if is_current(gen):
            log(f"索引已是最新格式，无需升级 / {gen.name} already has {FILE}")
            return False
        log(f"正在为索引 {gen.name} 生成查询数据库（一次性，不重新导入、不重新计算向量）… / "
            f"writing {FILE} for {gen.name} (once; no re-ingest, no re-embedding)")
        t0 = time.monotonic()
        build(gen, log=log)
        log(f"升级完成，用时 {time.monotonic() - t0:.0f} 秒 / upgraded in {time.monotonic() - t0:.0f} s")
        return True


def main(argv: list[str] | None = None) -> int:
    from .settings import Settings

    ap = argparse.ArgumentParser(prog="python -m ingest.upgrade", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, help="index directory (default: $ZHENGCE_DATA_DIR or .zhengce)")
    args = ap.parse_args(argv)
    settings = Settings.from_env(os.environ, data_dir=args.data_dir)
    try:
        upgrade(settings.data_dir)
    except IndexMissingError as e:
        print(f"无法升级：{e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
