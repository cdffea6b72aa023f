"""REST API: FastAPI application, one router per domain, authentication (``create_app``)."""

from evplatform.api.app import create_app

__all__ = ["create_app"]
