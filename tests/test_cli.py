"""The operator's commands, run as an operator would (click's runner, the real database)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from crm.cli import main


@pytest.fixture
def cli_env(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", settings.database.url)
    monkeypatch.setenv("CRM_REDIS_URL", settings.redis.url)


async def test_the_created_admin_can_log_in(cli_env: None, client: AsyncTestClient[Any]) -> None:
    import asyncio

    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["create-admin", "--email", "direction@example.org", "--password", "une phrase de passe"],
    )
    assert result.exit_code == 0, result.output
    response = await client.post(
        "/api/v1/auth/login", json={"email": "direction@example.org", "password": "une phrase de passe"}
    )
    assert response.status_code == 201
    assert response.json()["role"] == "admin"


def test_create_admin_refuses_a_short_password(cli_env: None) -> None:
    result = CliRunner().invoke(main, ["create-admin", "--email", "a@example.org", "--password", "court"])
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


def test_create_admin_asks_for_what_is_missing(cli_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["une phrase de passe", "une phrase de passe"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = CliRunner().invoke(main, ["create-admin"], input="interactif@example.org\n")
    assert result.exit_code == 0, result.output
    assert "interactif@example.org" in result.output


def test_worker_check_says_no_worker_is_running(cli_env: None) -> None:
    result = CliRunner().invoke(main, ["worker", "--check"])
    assert result.exit_code == 1
