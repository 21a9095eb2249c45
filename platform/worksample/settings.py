"""Settings of every worksample process: one class, environment prefix WORKSAMPLE_."""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from worksample.sandboxes import SandboxOptions


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "worksample"


class Settings(BaseSettings):
    """Read from the environment (`WORKSAMPLE_<NAME>`); every field is documented in README."""

    model_config = SettingsConfigDict(env_prefix="WORKSAMPLE_", extra="ignore")

    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Wheelhouses and the scratch space of image builds.",
    )
    base_image: str = Field(
        "python:3.11-slim-bookworm",
        description="Base of the sandbox images; made locally (Debian) when it cannot be pulled.",
    )
    docker_runtime: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="OCI runtime of every grading container, e.g. `runsc` for gVisor; "
        "default the engine's (runc). A grading never falls back to another runtime.",
    )
    exercises_dir: Path = Field(
        Path(__file__).resolve().parents[2] / "exercises",
        description="Folder holding one sub-folder per exercise.",
    )
    env: Literal["development", "production"] = Field(
        "development", description="`production` refuses default secrets and insecure cookies."
    )
    data_dir: Path = Field(
        Path("var"), description="SQLite database, embedded queue and logs of the default set-up."
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default a SQLite file in the data dir."
    )
    redis_url: str | None = Field(
        None, description="Job queue on Redis (scale-out); default the embedded SQLite queue."
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL, used in invitation emails."
    )
    smtp_host: str | None = Field(
        None, description="SMTP server; without one, mail goes to the outbox."
    )
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP user, if the server wants one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    mail_from: str = Field("worksample@localhost", description="Sender of every email.")
    trusted_proxies: str = Field(
        "",
        description="Comma-separated IP addresses or networks (CIDR) of the reverse proxies "
        "in front of the web app; only from these are `X-Forwarded-For` and "
        "`X-Forwarded-Proto` believed (the client's address for the log-in limit, HTTPS "
        "for cookies and HSTS). Default none: the connecting address is the client.",
    )
    cookie_secure: bool | None = Field(
        None, description="Force the Secure cookie flag; default: on behind HTTPS."
    )
    max_upload_mb: int = Field(50, ge=1, le=1024, description="Largest accepted upload.")
    grading_lease_s: int = Field(
        120, ge=10, description="Lease of a grading run, renewed while it runs."
    )
    grading_max_attempts: int = Field(
        3, ge=1, le=20, description="Tries of a run that fails for infrastructure reasons."
    )
    grading_backend: Literal["docker", "local"] = Field(
        "docker", description="Where workers run candidate code; `local` is NOT a sandbox."
    )
    embedded_worker: bool = Field(True, description="`serve` grades in-process (default set-up).")
    demo_admin_password: SecretStr | None = Field(
        None, description="Password of the demo admin; printed once when generated."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (CIDR), e.g. 10.0.0.5 or "
                    "10.0.0.0/24; a wildcard is refused: it would let any client choose "
                    "its own address"
                ) from None
        return ",".join(entries)

    @model_validator(mode="after")
    def _production_policy(self) -> Settings:
        """What production refuses, checked wherever settings are made, so that
        `serve`, `worker` and `grade` refuse the same things with the same words."""
        if self.env != "production":
            return self
        problems = []
        if self.cookie_secure is False:
            problems.append("WORKSAMPLE_COOKIE_SECURE=false is refused in production")
        if self.demo_admin_password is not None:
            problems.append(
                "a fixed demo password (WORKSAMPLE_DEMO_ADMIN_PASSWORD) is refused in production"
            )
        if self.grading_backend == "local":
            problems.append(
                "WORKSAMPLE_GRADING_BACKEND=local (candidate code on this machine, "
                "WITHOUT a sandbox) is refused in production"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def with_overrides(self, **updates: object) -> Settings:
        """These settings with `updates` (command-line flags), validated again,
        so a flag cannot get round the production policy."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        try:
            return type(self).model_validate({**values, **updates})
        except ValidationError as exc:
            raise SettingsRefused(describe(exc)) from None

    @property
    def sandbox_options(self) -> SandboxOptions:
        return SandboxOptions(backend=self.grading_backend, runtime=self.docker_runtime)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'worksample.db'}"


class SettingsRefused(Exception):
    """The environment's settings are invalid or refused; the message says which and why."""


def describe(exc: ValidationError) -> str:
    """A settings error as one or more lines naming the variable."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        where = f"WORKSAMPLE_{loc.upper()}: " if loc else ""
        lines.append(where + str(err.get("msg", "invalid")).removeprefix("Value error, "))
    return "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    """The settings of this process; `SettingsRefused` when the environment is invalid."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsRefused(describe(exc)) from None
