"""A local Cadence: the documented API (public and keyed surfaces, signed webhooks) over SQLite.

    from cadence_adapter.sandbox import create_app
    from cadence_adapter.sandbox.server import serving

    app = create_app(seed=my_seed, clock=lambda: fixed_now)  # in process: httpx.ASGITransport(app)
    with serving(app) as base_url: ...                       # real HTTP on 127.0.0.1

Module map: seed.py (seed format and the built-in demo), store.py (SQLite schema and queries),
availability.py (pure slot arithmetic), domain.py (booking rules), wire.py (request/response JSON),
delivery.py (webhook outbox sender), ratelimit.py, app.py (routes), server.py (uvicorn).
"""

from cadence_adapter.sandbox.app import Sandbox, create_app, sandbox_of
from cadence_adapter.sandbox.ratelimit import DEFAULT_RATE_LIMIT, RateLimit
from cadence_adapter.sandbox.seed import DEMO_SEED_PATH, SeedError, load_seed

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "DEMO_SEED_PATH",
    "RateLimit",
    "Sandbox",
    "SeedError",
    "create_app",
    "load_seed",
    "sandbox_of",
]
