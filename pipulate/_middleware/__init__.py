"""Plain ASGI middleware, one a file. They wrap the whole app, WebSocket routes included."""

from .json_body import JSONBodyCheckMiddleware
from .local_only import LocalOnlyMiddleware
from .page_profile import PageProfileMiddleware
from .request_size import RequestSizeLimitMiddleware
from .security_headers import SecurityHeadersMiddleware

__all__ = [
    "JSONBodyCheckMiddleware",
    "LocalOnlyMiddleware",
    "PageProfileMiddleware",
    "RequestSizeLimitMiddleware",
    "SecurityHeadersMiddleware",
]
