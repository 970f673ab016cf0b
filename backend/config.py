"""Settings read once from the environment into a frozen, validated object."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"

MODES = ("embedded", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(Exception):
    """The environment does not describe a usable configuration.

    ``problems`` maps each offending variable to what is wrong with it.
    """

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        lines = "\n".join(f"  - {name}: {reason}" for name, reason in self.problems.items())
        super().__init__(f"Invalid Signal93 configuration:\n{lines}")


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment, validated once at start.

    Build it with :meth:`from_env`; tests build it with explicit values.
    """

    mode: str = "embedded"
    instance_path: Path = DEFAULT_INSTANCE_PATH
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    media_storage_url: str = ""
    public_base_url: str = "http://127.0.0.1:5000"
    smtp_url: str | None = None
    max_request_bytes: int = 128 * 1024 * 1024
    max_json_bytes: int = 64 * 1024
    max_photo_bytes: int = 15 * 1024 * 1024
    max_video_bytes: int = 50 * 1024 * 1024
    max_photo_pixels: int = 40_000_000
    trusted_proxy_hops: int = 0
    routing_refresh_seconds: float = 1.0
    # Hours between two builds of the open-data snapshots by the workers (0: built by hand only).
    opendata_build_hours: int = 24
    # A background for the web fronts' maps, such as the IGN plan
    # (https://data.geopf.fr/wmts?…&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}); none: our own outlines only.
    map_tile_url: str | None = None
    # What anyone may send without an account, per address (limits' syntax, ";" between windows).
    intake_rate_limit: str = "20 per minute;200 per hour"
    support_rate_limit: str = "30 per minute;300 per hour"
    # The jurisdiction_id the Open311 API answers to (any other is a 404).
    open311_jurisdiction: str = "seine-saint-denis.fr"
    map_tile_attribution: str = ""
    # Who may read /metrics: addresses or networks (CIDR), and/or a bearer token for the scraper.
    metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    metrics_token: str | None = None
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def jobs_inline(self) -> bool:
        """Jobs run in-process right after commit when no Redis is configured."""
        return self.redis_url is None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings; raise :class:`ConfigError` listing every problem."""
        env = os.environ if environ is None else environ
        problems: dict[str, str] = {}

        def get(name: str) -> str | None:
            value = env.get(name)
            if value is None or not value.strip():
                return None
            return value.strip()

        mode = (get("SIGNAL93_ENV") or "embedded").lower()
        if mode not in MODES:
            problems["SIGNAL93_ENV"] = f"must be one of {', '.join(MODES)}, got {mode!r}"
        production = mode == "production"

        instance_path = Path(get("SIGNAL93_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)

        database_url = get("DATABASE_URL")
        if database_url is None:
            if production:
                problems["DATABASE_URL"] = "required in production (postgresql://user@host/db)"
            database_url = f"sqlite:///{instance_path / 'signal93.sqlite3'}"
        else:
            database_url, reason = _check_database_url(database_url, production)
            if reason:
                problems["DATABASE_URL"] = reason

        redis_url = get("REDIS_URL")
        if redis_url is not None and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            problems["REDIS_URL"] = "must start with redis://, rediss:// or unix://"
        if redis_url is None and production:
            problems["REDIS_URL"] = "required in production: jobs run on rq workers"

        secret_key = get("SECRET_KEY")
        if secret_key is None:
            if production:
                problems["SECRET_KEY"] = f"required in production (at least {MIN_SECRET_KEY_LENGTH} random characters)"
                secret_key = ""
            else:
                secret_key = _embedded_secret_key(instance_path)
        elif len(secret_key) < MIN_SECRET_KEY_LENGTH:
            problems["SECRET_KEY"] = f"must be at least {MIN_SECRET_KEY_LENGTH} characters long"

        media_storage_url = get("MEDIA_STORAGE_URL") or f"file://{instance_path / 'media'}"
        reason = _check_media_storage_url(media_storage_url)
        if reason:
            problems["MEDIA_STORAGE_URL"] = reason

        public_base_url = (get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
        parts = urlsplit(public_base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            problems["PUBLIC_BASE_URL"] = "must be an absolute http(s) URL without query string"

        map_tile_url = get("MAP_TILE_URL")
        if map_tile_url is not None:
            tiles = urlsplit(map_tile_url)
            if tiles.scheme != "https" or not tiles.netloc or not all(p in map_tile_url for p in ("{z}", "{x}", "{y}")):
                problems["MAP_TILE_URL"] = "must be an https URL with {z}, {x} and {y} placeholders"

        rate_limits = {}
        for name, default in (
            ("INTAKE_RATE_LIMIT", "20 per minute;200 per hour"),
            ("SUPPORT_RATE_LIMIT", "30 per minute;300 per hour"),
        ):
            value = get(name) or default
            try:
                from limits import parse_many

                parse_many(value)
            except ValueError:
                problems[name] = "must be limits like '20 per minute;200 per hour'"
            rate_limits[name] = value

        smtp_url = get("SMTP_URL")
        if smtp_url is not None:
            smtp = urlsplit(smtp_url)
            if smtp.scheme not in ("smtp", "smtps", "smtp+starttls") or not smtp.hostname:
                problems["SMTP_URL"] = "must look like smtp://user:password@host:port"

        max_request_bytes = _int(get("MAX_REQUEST_BYTES"), 128 * 1024 * 1024, 1024, problems, "MAX_REQUEST_BYTES")
        max_json_bytes = _int(get("MAX_JSON_BYTES"), 64 * 1024, 1024, problems, "MAX_JSON_BYTES")
        max_photo_bytes = _int(get("MAX_PHOTO_BYTES"), 15 * 1024 * 1024, 1024, problems, "MAX_PHOTO_BYTES")
        max_video_bytes = _int(get("MAX_VIDEO_BYTES"), 50 * 1024 * 1024, 1024, problems, "MAX_VIDEO_BYTES")
        max_photo_pixels = _int(get("MAX_PHOTO_PIXELS"), 40_000_000, 10_000, problems, "MAX_PHOTO_PIXELS")
        trusted_proxy_hops = _int(get("TRUSTED_PROXY_HOPS"), 0, 0, problems, "TRUSTED_PROXY_HOPS")
        opendata_build_hours = _int(get("OPENDATA_BUILD_HOURS"), 24, 0, problems, "OPENDATA_BUILD_HOURS")

        routing_refresh_seconds = 1.0
        raw_refresh = get("ROUTING_REFRESH_SECONDS")
        if raw_refresh is not None:
            try:
                routing_refresh_seconds = float(raw_refresh)
                if not 0 <= routing_refresh_seconds <= 300:
                    raise ValueError
            except ValueError:
                problems["ROUTING_REFRESH_SECONDS"] = "must be a number of seconds from 0 to 300"

        metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
        if (raw_allow := get("METRICS_ALLOW")) is not None:
            try:
                parts = [part.strip() for part in raw_allow.split(",") if part.strip()]
                metrics_allow = tuple(str(ipaddress.ip_network(part, strict=False)) for part in parts)
            except ValueError:
                problems["METRICS_ALLOW"] = "must be addresses or networks, comma-separated (10.0.0.0/8,127.0.0.1)"
        metrics_token = get("METRICS_TOKEN")
        if metrics_token is not None and len(metrics_token) < 24:
            problems["METRICS_TOKEN"] = "must be at least 24 characters long"  # noqa: S105 (a message)

        log_level = (get("LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            problems["LOG_LEVEL"] = f"must be one of {', '.join(LOG_LEVELS)}"
        log_format = (get("LOG_FORMAT") or "json").lower()
        if log_format not in ("json", "text"):
            problems["LOG_FORMAT"] = "must be json or text"

        if problems:
            raise ConfigError(problems)
        return cls(
            mode=mode,
            instance_path=instance_path,
            database_url=database_url,
            redis_url=redis_url,
            secret_key=secret_key,
            media_storage_url=media_storage_url,
            public_base_url=public_base_url,
            smtp_url=smtp_url,
            max_request_bytes=max_request_bytes,
            max_json_bytes=max_json_bytes,
            max_photo_bytes=max_photo_bytes,
            max_video_bytes=max_video_bytes,
            max_photo_pixels=max_photo_pixels,
            trusted_proxy_hops=trusted_proxy_hops,
            routing_refresh_seconds=routing_refresh_seconds,
            opendata_build_hours=opendata_build_hours,
            map_tile_url=map_tile_url,
            open311_jurisdiction=get("OPEN311_JURISDICTION") or "seine-saint-denis.fr",
            intake_rate_limit=rate_limits["INTAKE_RATE_LIMIT"],
            support_rate_limit=rate_limits["SUPPORT_RATE_LIMIT"],
            map_tile_attribution=get("MAP_TILE_ATTRIBUTION") or "",
            metrics_allow=metrics_allow,
            metrics_token=metrics_token,
            log_level=log_level,
            log_json=log_format == "json",
        )


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs given without a driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _check_database_url(url: str, production: bool) -> tuple[str, str | None]:
    url = normalize_database_url(url)
    scheme = urlsplit(url).scheme
    if scheme.startswith("sqlite"):
        if production:
            return url, "SQLite is for the embedded mode; production needs PostgreSQL"
        return url, None
    if scheme.startswith("postgresql"):
        return url, None
    return url, "must be a postgresql:// or sqlite:/// URL"


def _check_media_storage_url(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.path:
        return None
    if parts.scheme == "s3" and parts.netloc:
        return None
    return "must be file:///absolute/path or s3://bucket/prefix"


def _int(raw: str | None, default: int, minimum: int, problems: dict[str, str], name: str) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        problems[name] = f"must be a whole number, got {raw!r}"
        return default
    if value < minimum:
        problems[name] = f"must be at least {minimum}"
    return value


def _embedded_secret_key(instance_path: Path) -> str:
    """Generate the embedded mode's secret key once and keep it in the instance folder."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once agree on the first key written.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
