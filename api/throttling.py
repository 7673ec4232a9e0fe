"""Rate limiting per client: a logged-in user by account, anyone else by address."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    """One counter per client in the cache; the rates come from REST_FRAMEWORK.

    DRF's own throttles read their rates once at import; this one reads them per
    request, so a deployment (or a test) can change them in the settings.
    """

    scope = "anon"

    def __init__(self) -> None:
        # The rate depends on who asks: known in allow_request, not here.
        pass

    def get_rate(self) -> str:
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view) -> bool:
        self.scope = "user" if request.user.is_authenticated else "anon"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        if request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return f"api-throttle-{self.scope}-{ident}"
