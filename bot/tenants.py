"""The businesses the bot books for: their Cadence data, cached briefly, and clients to reach them.

Org, services and practitioners change rarely and are read on most turns, so they are cached for a
short TTL; availability is never cached (the dialog fetches it once per offer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from bot.config import Settings, TenantConfig
from bot.types import Clock, system_clock
from cadence_adapter import (
    CadenceClient,
    CadencePublicClient,
    InvalidResponse,
    NotFound,
    Org,
    Practitioner,
    RateLimited,
    RetryPolicy,
    Service,
    Unavailable,
    new_http_client,
)

__all__ = ["TenantDirectory", "TenantInfo", "slug_candidates"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def slug_candidates(text: str) -> list[str]:
    """Slugs a customer may mean by ``text``: "Movela", "movela-physio", "Movela Physio", a link."""
    cleaned = text.strip().lower()
    cleaned = re.sub(r"^.*[?&]start=", "", cleaned)  # a pasted deep link
    cleaned = cleaned.rsplit("/", 1)[-1]
    words = re.findall(r"[a-z0-9]+", cleaned)
    found: list[str] = []
    for candidate in (cleaned, "-".join(words), "".join(words), words[0] if words else ""):
        if candidate and _SLUG.match(candidate) and candidate not in found:
            found.append(candidate)
    return found


@dataclass(frozen=True)
class TenantInfo:
    """One business as the dialog needs it."""

    org: Org
    services: tuple[Service, ...]
    practitioners: tuple[Practitioner, ...]
    config: TenantConfig
    fetched_at: datetime

    @property
    def slug(self) -> str:
        return self.config.slug

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.org.timezone)
        except (ValueError, KeyError):
            return ZoneInfo("UTC")

    def service(self, service_id: str | None) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def practitioner(self, practitioner_id: str | None) -> Practitioner | None:
        return next((p for p in self.practitioners if p.id == practitioner_id), None)

    def practitioners_for(self, service_id: str) -> tuple[Practitioner, ...]:
        return tuple(p for p in self.practitioners if not p.service_ids or service_id in p.service_ids)


class TenantDirectory:
    """Finds tenants by slug and hands out Cadence clients that share one HTTP pool."""

    def __init__(
        self,
        base_url: str,
        settings: Settings,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Clock = system_clock,
        ttl: timedelta = timedelta(minutes=5),
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.base_url = base_url
        self.settings = settings
        self._http = http if http is not None else new_http_client()
        self._owns_http = http is None
        self._clock = clock
        self._ttl = ttl
        self._retry = retry
        self._cache: dict[str, TenantInfo] = {}
        self._public: dict[str, CadencePublicClient] = {}
        self._keyed: dict[str, CadenceClient] = {}

    def public(self, slug: str) -> CadencePublicClient:
        client = self._public.get(slug)
        if client is None:
            client = CadencePublicClient(self.base_url, slug, http=self._http, retry=self._retry)
            self._public[slug] = client
        return client

    def _client_for_lookup(self, slug: str) -> CadencePublicClient:
        """A client for a slug that may not exist: kept only once Cadence knows the tenant, so slugs
        customers make up ("/start anything") don't each leave a client behind."""
        return self._public.get(slug) or CadencePublicClient(
            self.base_url, slug, http=self._http, retry=self._retry
        )

    def keyed(self, slug: str) -> CadenceClient | None:
        """The org-key client, when the tenant has a key configured (managing bookings needs it)."""
        key = self.settings.tenant(slug).org_api_key
        if not key:
            return None
        client = self._keyed.get(slug)
        if client is None:
            client = CadenceClient(self.base_url, key.get_secret_value(), http=self._http, retry=self._retry)
            self._keyed[slug] = client
        return client

    async def get(self, slug: str) -> TenantInfo | None:
        """The tenant, from cache when fresh; None when Cadence has no such slug.

        Raises :class:`cadence_adapter.Unavailable` (and other API errors) when Cadence can't answer.
        """
        if not _SLUG.match(slug) or (self.settings.only_listed and slug not in self.settings.tenants):
            return None
        now = self._clock()
        cached = self._cache.get(slug)
        if cached is not None and now - cached.fetched_at < self._ttl:
            return cached
        client = self._client_for_lookup(slug)
        try:
            org = await client.get_org()
            services = tuple(s for s in await client.list_services() if s.active)
            practitioners = tuple(await client.list_practitioners())
        except NotFound:
            self._public.pop(slug, None)  # a business that has left Cadence since
            return None
        except (Unavailable, RateLimited, InvalidResponse):
            if cached is not None:  # what Cadence said before beats nothing while it can't answer
                return cached
            raise
        self._public[slug] = client
        info = TenantInfo(org, services, practitioners, self.settings.tenant(slug), now)
        self._cache[slug] = info
        return info

    async def find(self, text: str) -> TenantInfo | None:
        """The tenant a customer means by a slug, a name or a pasted link."""
        for slug in slug_candidates(text):
            info = await self.get(slug)
            if info is not None:
                return info
        return None

    def invalidate(self, slug: str) -> None:
        self._cache.pop(slug, None)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
