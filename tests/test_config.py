"""Settings are read once from the environment and refused with a clear message when wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_no_configuration_gives_the_embedded_mode_in_the_instance_folder(tmp_path):
    settings = Settings.from_env({"SIGNAL93_INSTANCE_PATH": str(tmp_path)})
    assert settings.mode == "embedded"
    assert settings.database_url == f"sqlite:///{tmp_path / 'signal93.sqlite3'}"
    assert settings.media_storage_url == f"file://{tmp_path / 'media'}"
    assert settings.jobs_inline
    assert settings.redis_url is None


def test_embedded_secret_key_is_generated_once_and_kept(tmp_path):
    first = Settings.from_env({"SIGNAL93_INSTANCE_PATH": str(tmp_path)})
    second = Settings.from_env({"SIGNAL93_INSTANCE_PATH": str(tmp_path)})
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_requires_secret_database_and_redis(tmp_path):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"SIGNAL93_ENV": "production", "SIGNAL93_INSTANCE_PATH": str(tmp_path)})
    assert set(caught.value.problems) == {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_sqlite():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {
                "SIGNAL93_ENV": "production",
                "SECRET_KEY": "k" * 40,
                "DATABASE_URL": "sqlite:////tmp/x.db",
                "REDIS_URL": "redis://127.0.0.1:6379/0",
            }
        )
    assert "PostgreSQL" in caught.value.problems["DATABASE_URL"]


def test_a_complete_production_environment_is_accepted():
    settings = Settings.from_env(
        {
            "SIGNAL93_ENV": "production",
            "SECRET_KEY": "k" * 40,
            "DATABASE_URL": "postgresql://signal93@db.internal/signal93",
            "REDIS_URL": "redis://cache.internal:6379/0",
            "MEDIA_STORAGE_URL": "s3://signal93-media/prod",
            "PUBLIC_BASE_URL": "https://signal93.seinesaintdenis.fr/",
            "SMTP_URL": "smtp://mailer:secret@smtp.internal:587",
            "TRUSTED_PROXY_HOPS": "1",
        }
    )
    assert settings.is_production
    assert settings.database_url == "postgresql+psycopg://signal93@db.internal/signal93"
    assert settings.public_base_url == "https://signal93.seinesaintdenis.fr"
    assert not settings.jobs_inline
    with pytest.raises(AttributeError):
        settings.mode = "embedded"  # frozen


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGNAL93_ENV", "staging"),
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("REDIS_URL", "http://localhost:6379"),
        ("SECRET_KEY", "short"),
        ("MEDIA_STORAGE_URL", "ftp://files/media"),
        ("PUBLIC_BASE_URL", "signal93.fr"),
        ("SMTP_URL", "mail.example"),
        ("MAX_REQUEST_BYTES", "lots"),
        ("TRUSTED_PROXY_HOPS", "-1"),
        ("ROUTING_REFRESH_SECONDS", "soon"),
        ("ROUTING_REFRESH_SECONDS", "-1"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_each_bad_value_is_named_with_the_reason(tmp_path, name, value):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"SIGNAL93_INSTANCE_PATH": str(tmp_path), name: value})
    assert list(caught.value.problems) == [name]
    assert name in str(caught.value)


def test_wsgi_exits_with_the_message_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")}
    env.update(SIGNAL93_ENV="production", SIGNAL93_INSTANCE_PATH=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "Invalid Signal93 configuration" in result.stderr
    assert "SECRET_KEY: required in production" in result.stderr
    assert "Traceback" not in result.stderr
