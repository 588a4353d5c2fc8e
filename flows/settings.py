"""One Settings object, from environment variables prefixed UPPHANDLA_."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UPPHANDLA_", extra="ignore")

    database_url: str = "sqlite:///./upphandla.db"
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    default_definition: str = "it-upphandling"
    base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1_048_576
    page_size_max: int = 200


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
