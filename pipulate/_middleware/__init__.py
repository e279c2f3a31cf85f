"""Plain ASGI middleware, one a file. They wrap the whole app, WebSocket routes included."""

from .local_only import LocalOnlyMiddleware
from .request_size import RequestSizeLimitMiddleware
from .security_headers import SecurityHeadersMiddleware

__all__ = ["LocalOnlyMiddleware", "RequestSizeLimitMiddleware", "SecurityHeadersMiddleware"]
