"""The README is the operator's reference: every `CRM_` setting is in it, and what it says of the
sending engine is what the defaults do."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings

from crm.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _variables() -> list[str]:
    names = []
    for name, field in Settings.model_fields.items():
        group = field.annotation
        if isinstance(group, type) and issubclass(group, BaseSettings):
            prefix = group.model_config.get("env_prefix", "")
            names += [f"{prefix}{sub.upper()}" for sub in group.model_fields]
        else:
            names.append(f"CRM_{name.upper()}")
    return names


def test_every_setting_is_in_the_readme() -> None:
    missing = [name for name in _variables() if f"`{name}`" not in README]
    assert missing == []


def test_the_readme_promises_no_exactly_once() -> None:
    assert "exactly one" not in README.lower()
    assert "same Message-ID" in README


def test_a_dead_workers_messages_come_back_within_20_seconds_by_default() -> None:
    sending = Settings().sending
    assert sending.lease_seconds + sending.sweep_every_seconds <= 20
