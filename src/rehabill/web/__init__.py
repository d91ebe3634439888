"""The web app: server-rendered pages with htmx, and a JSON API under /api.

``create_app(settings)`` builds it; ``rehabill serve`` runs it with uvicorn.
"""

from rehabill.web.app import create_app
from rehabill.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
