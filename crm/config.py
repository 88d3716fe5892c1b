"""Configuration: one `Settings`, environment prefix `CRM_`, a `.env` file, nested groups.

Each group is its own settings class with its own prefix, so that the variables an operator
reads about (`CRM_DATABASE_URL`, `CRM_REDIS_URL`, `CRM_SMTP_URL`) are the ones that work.
Secrets are `SecretStr`: they never show in a repr, a log line or an error.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from crm.lib.client_address import Network, parse_networks

ENV_FILE = ".env"


def _group(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=ENV_FILE, extra="ignore")


class DatabaseSettings(BaseSettings):
    model_config = _group("CRM_DATABASE_")

    # None means "no server configured": `crm up` then starts the embedded PostgreSQL.
    url: str | None = None
    # Connections each process (API or worker) keeps open to PostgreSQL. An API process needs few:
    # its requests share them, waiting for one when all are busy (README, "Sizing").
    pool_size: int = Field(default=10, ge=1, le=1000)
    # Connections an API process may open beyond the pool in a burst, closed again as soon as they
    # are returned: each is a PostgreSQL backend forked and torn down, so 0 by default.
    max_overflow: int = Field(default=0, ge=0, le=1000)
    echo: bool = False


class RedisSettings(BaseSettings):
    model_config = _group("CRM_REDIS_")

    url: str | None = None


class SmtpSettings(BaseSettings):
    """Where mail goes. `url` is `smtp://user:password@host:port` (STARTTLS when the server offers
    it, or forced with `?starttls=true`) or `smtps://...` (TLS from the first byte)."""

    model_config = _group("CRM_SMTP_")

    url: SecretStr | None = None
    timeout: float = 30.0

    def endpoint(self) -> SmtpEndpoint:
        if self.url is None:
            return SmtpEndpoint(host="127.0.0.1", port=1025)
        parts = urlsplit(self.url.get_secret_value())
        query = parse_qs(parts.query)
        implicit_tls = parts.scheme == "smtps"
        starttls_flag = query.get("starttls", [""])[0].lower()
        return SmtpEndpoint(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if implicit_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=implicit_tls,
            # None lets aiosmtplib upgrade when the server offers STARTTLS.
            start_tls=True if starttls_flag == "true" else False if starttls_flag == "false" else None,
        )


class SmtpEndpoint:
    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = False,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.use_tls = use_tls
        self.start_tls = start_tls

    def __repr__(self) -> str:  # never the password
        return f"SmtpEndpoint(host={self.host!r}, port={self.port}, tls={self.use_tls})"


class SecuritySettings(BaseSettings):
    model_config = _group("CRM_SECURITY_")

    # Signs links sent to contacts. Generated per process when unset, which is only fine for a
    # single local run: set it in production so that links outlive a restart.
    secret_key: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(48)))
    session_cookie: str = "crm_session"
    csrf_header: str = "X-CSRF-Token"
    session_ttl_seconds: int = 8 * 3600
    # Cookies carry `Secure` except on a local run over plain HTTP.
    secure_cookies: bool = True
    # Login throttling (README, "Logging in"): slow down per account and address, never lock
    # the owner out. The n-th failure from one address (or known browser) on one account makes
    # the next attempt wait `login_first_delay_seconds`, doubling with each failure up to the max.
    login_failures_before_delay: int = 5
    # Failures from one address across all accounts before the same delays apply (password spraying).
    login_failures_before_delay_per_address: int = 20
    login_first_delay_seconds: int = 15
    login_max_delay_seconds: int = 900
    # Failures on one account from everywhere; beyond it only known addresses and browsers may try.
    login_max_failures_per_account: int = 100
    # Failures are forgotten this long after the last one.
    login_window_seconds: int = 3600
    # An address or browser where the account logged in successfully stays known this long.
    login_known_days: int = 30
    known_device_cookie: str = "crm_known_device"
    invitation_ttl_hours: int = 72


class PartnerSettings(BaseSettings):
    """The partner API (`/api/v1/partner/`): limits per key and how long a sync token lasts."""

    model_config = _group("CRM_PARTNER_")

    # Requests one key may make per window (fixed window shared through Redis; 429 beyond).
    rate_limit: int = 600
    rate_window_seconds: int = 60
    # Largest request body: a batch of 500 contacts with their proofs fits well under it.
    max_body_bytes: int = 2_000_000
    # A sync token (and the change log behind it) lasts this long; older tokens answer 410.
    sync_token_days: int = 30


class SendingSettings(BaseSettings):
    """The campaign engine: how fast, over how many connections, and when to give up."""

    model_config = _group("CRM_SENDING_")

    # Messages per second for all workers together (shared through Redis); 0 = no limit.
    rate_per_second: float = 0
    # SMTP connections each worker process keeps open for campaigns.
    smtp_connections: int = 10
    batch_size: int = 50
    # A claimed delivery not answered within this time goes back to the queue (a worker died). A
    # working job renews its leases before each message and every third of this time (even while
    # one SMTP answer is slow), so the lease can be short: after a kill -9, sending resumes within
    # about lease + sweep seconds.
    lease_seconds: int = Field(default=10, ge=3, le=3600)
    # How often the sweeper returns expired leases, restarts stalled campaigns and starts scheduled ones.
    sweep_every_seconds: int = Field(default=5, ge=1, le=60)
    # A delivery whose SMTP answer was temporary is tried again this many times, backing off.
    max_attempts: int = 8
    retry_base_seconds: float = 30
    # This many temporary faults in a row pause the campaign, with the reason shown to staff.
    pause_after_consecutive_faults: int = 100
    # Send jobs started per campaign; each claims its own batches, so several workers share the load.
    jobs_per_campaign: int = 2


class EventSettings(BaseSettings):
    """Events: when reminders go out to the people who said yes."""

    model_config = _group("CRM_EVENTS_")

    # A reminder this many days before the event (each sent once).
    reminder_days_before: list[int] = [7, 1]
    # From this hour of the day, Europe/Paris, on the reminder's day.
    reminder_hour: int = Field(default=9, ge=0, le=23)
    # How often the event cron queues due reminders and sends what waits (minutes).
    tick_every_minutes: int = Field(default=5, ge=1, le=60)
    # Answer links must work from the invitation until the event, however early it went out.
    rsvp_link_days: int = 400


class WebhookSettings(BaseSettings):
    """Partner webhooks (crm/domain/webhooks): where they may go, how long they keep trying."""

    model_config = _group("CRM_WEBHOOKS_")

    # Loopback addresses (127.0.0.0/8, ::1) and plain http to them are accepted, for local
    # development and tests only: every other non-global address is refused whatever this says.
    allow_loopback: bool = False
    # Seconds to wait for a partner's answer (connect, send, read).
    timeout_seconds: float = Field(default=15, gt=0, le=120)
    # An endpoint whose deliveries all failed for this long is disabled, with the reason shown.
    disable_after_hours: float = Field(default=120, gt=0)
    # After a rotation the old secret still signs, beside the new one, for this long.
    rotation_overlap_hours: float = Field(default=24, ge=0, le=24 * 30)
    # Parallel deliveries of one worker job (one slow partner does not hold the others up).
    lanes: int = Field(default=4, ge=1, le=50)


class OrganisationSettings(BaseSettings):
    """The association that sends the mail: shown in every message and public page. These are the
    defaults of a fresh database; once an admin saves the settings screen, the stored values win
    (crm/domain/association/branding.py)."""

    model_config = _group("CRM_ORGANISATION_")

    name: str = "Association des villes numériques"
    postal_address: str = "1 place de la Mairie, 75001 Paris, France"
    website: str = "https://example.org"
    sender_email: str = "contact@example.org"
    sender_name: str = "Association des villes numériques"
    # Where answers go; empty: to the sender.
    reply_to: str = ""
    # Header band and buttons of every message and page (#rrggbb, white text on it stays readable).
    brand_colour: str = "#1d4ed8"
    # Where mailto unsubscribe requests land; empty: `desinscription@` the sender's domain.
    unsubscribe_mailbox: str = ""

    @property
    def mail_domain(self) -> str:
        """The sender's own domain: it names Message-IDs, List-Ids and calendar UIDs, so that they
        match the From address instead of a placeholder."""
        return self.sender_email.rpartition("@")[2].strip() or "localhost"

    @property
    def unsubscribe_address(self) -> str:
        return self.unsubscribe_mailbox.strip() or f"desinscription@{self.mail_domain}"


class DeliverabilitySettings(BaseSettings):
    """Bounces, complaints and mailto unsubscribes coming back (`crm inbound`, or IMAP polling),
    and the optional DKIM signature of campaign mail."""

    model_config = _group("CRM_DELIVERABILITY_")

    # The domain of each campaign message's return path (`bounce+<tag>@<domain>`, VERP): its MX
    # must lead to `crm inbound`, or to the mailbox polled below. Empty: the sender's domain.
    bounce_domain: str = ""
    # Where `crm inbound` listens (SMTP); `crm up` runs it on the same settings.
    inbound_host: str = "127.0.0.1"
    inbound_port: int = Field(default=2525, ge=1, le=65535)
    # Messages larger than this are refused: a DSN or a feedback report is a few kilobytes.
    inbound_max_bytes: int = Field(default=2_000_000, ge=10_000, le=50_000_000)
    # IMAP polling instead of (or beside) `crm inbound`: `imaps://user:password@host:993/INBOX`.
    imap_url: SecretStr | None = None
    imap_poll_seconds: int = Field(default=60, ge=5, le=86_400)
    # Three soft bounces (mailbox full, over quota) on different days within 30 days suppress.
    soft_bounce_limit: int = Field(default=3, ge=1, le=100)
    soft_bounce_window_days: int = Field(default=30, ge=1, le=365)
    # DKIM: campaign mail is signed when a key was generated (admin, or POST /api/v1/dkim-keys)
    # and this is on; leave off when the relay signs.
    dkim_enabled: bool = False

    def domain(self, organisation: OrganisationSettings) -> str:
        return self.bounce_domain.strip() or organisation.mail_domain


class PrivacySettings(BaseSettings):
    """Retention of personal data (CNIL: three years after the last contact for prospects)."""

    model_config = _group("CRM_PRIVACY_")

    # A person with no position, no mandate, no subscription and nothing received or answered for
    # this long is listed for purging (staff confirm, then they are erased).
    prospect_retention_days: int = Field(default=3 * 365, ge=30, le=36_500)
    # Audit entries older than this are deleted by the same purge.
    audit_retention_days: int = Field(default=6 * 365, ge=365, le=36_500)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", env_file=ENV_FILE, extra="ignore")

    environment: Literal["local", "test", "production"] = "local"
    debug: bool = False
    # Where public links in e-mails point to (unsubscribe, preferences, invitations).
    public_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("var")
    log_json: bool = False
    log_level: str = "INFO"
    # How many Atlaas actions the demo seeds (its facets mean something from a few thousand).
    demo_atlaas_actions: int = Field(default=30_000, ge=0, le=1_000_000)
    # Proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For is believed; none by
    # default, so that a client cannot choose the address its rate limits count against.
    trusted_proxies: Annotated[list[Network], NoDecode] = []

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    organisation: OrganisationSettings = Field(default_factory=OrganisationSettings)
    sending: SendingSettings = Field(default_factory=SendingSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    deliverability: DeliverabilitySettings = Field(default_factory=DeliverabilitySettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    partner: PartnerSettings = Field(default_factory=PartnerSettings)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                value = json.loads(text)
            else:
                value = text.replace(",", " ").split()
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            try:
                return parse_networks(value)
            except ValueError as exc:
                raise ValueError(f"CRM_TRUSTED_PROXIES: {exc}") from exc
        return value

    @property
    def database_url(self) -> str:
        if not self.database.url:
            raise RuntimeError("CRM_DATABASE_URL is not set (run `crm up` for the embedded default)")
        return to_asyncpg_url(self.database.url)

    @property
    def redis_url(self) -> str:
        if not self.redis.url:
            raise RuntimeError("CRM_REDIS_URL is not set (run `crm up` for the embedded default)")
        return self.redis.url


def to_asyncpg_url(url: str) -> str:
    """Accept the URL forms operators paste (`postgres://`, `postgresql://`) and use asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
