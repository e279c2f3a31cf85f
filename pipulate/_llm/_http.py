"""httpx errors turned into messages a user can act on."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx

from .errors import BackendFailed, BackendTimeout, BackendUnreachable


# Connecting is quick or hopeless on localhost; reading waits for the model (loading can be slow).
def make_timeout(read_seconds: float) -> httpx.Timeout:
    return httpx.Timeout(connect=2.0, read=read_seconds, write=10.0, pool=2.0)


@asynccontextmanager
async def translate_errors(url: str, hint: str = ""):
    try:
        yield
    except httpx.ConnectTimeout:
        raise BackendTimeout(f"Connecting to the model server at {url} timed out.", hint) from None
    except httpx.ReadTimeout:
        raise BackendTimeout(f"The model server at {url} stopped sending for too long.", "It may be overloaded; try again.") from None
    except httpx.ConnectError:
        raise BackendUnreachable(f"No model server answers at {url}.", hint) from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
        raise BackendFailed(f"The model server at {url} stopped in the middle of the reply.", "Check that it is still running; then try again.") from None
    except httpx.HTTPError as error:
        raise BackendFailed(f"Talking to the model server at {url} failed: {error}") from None
