"""An async client for the few Botify API calls a first tool needs: check a token, list the
projects a user can see (their own and their organisations'), list a project's analyses.

    async with BotifyClient(token) as botify:
        profile = await botify.profile()                      # the token check
        projects = await botify.projects(profile.username)    # a Listing of Project
        analyses = await botify.analyses(project.owner, project.slug)

Every failure is a `BotifyError` whose message is meant for the user as it is. The token is
never part of a message, a log line or a repr: it travels only in the Authorization header of
requests to the configured API origin (https, or plain http to this machine for tests).

What Botify's public API documentation says (checked) and what this module assumes:

Confirmed in Botify's developer documentation (developers.botify.com; the older portal's
source is public as botify-hq/developers-docs) and its Swagger (api.botify.com/v1/swagger.json):
- every request carries `Authorization: Token <API token>`; the token is on the account page
  (https://app.botify.com/account), and regenerating it makes the old one "forbidden";
- GET /v1/projects/{username} lists the user's projects: name, slug, active,
  user.login (the owner: the user or an organisation), current_settings, ...;
- GET /v1/analyses/{username}/{project_slug} lists a project's analyses: slug, name, status
  (preparing, crawling, crawling_paused, analyzing, success, failed), date_launched,
  date_finished, ...; the boolean query parameter `only_success` keeps finished ones;
- lists are paginated with the query parameters `page` and `size`; the answer is
  {"count", "next", "previous", "page", "size", "results"}, `next` being the URL of the next
  page (null on the last);
- a client error is a 4xx with {"error": {"error_code": "...", "message": "..."}}
  (1001 Not Authorized, 1002 Permission denied, 1010 Project was not found, 1053 Too many
  requests);
- the rate limit is 5 calls per second per operation and user; past it the answer is a 429.
Assumed (not in the public reference):
- GET /v1/authentication/profile answers {"data": {"username": ...}} for a valid token (Botify's
  own published examples use it as the token check); email, first_name and last_name are read
  when present and never required;
- a bad or revoked token gets a 401 or a 403 (the API is built on Django REST framework);
- a 429 may carry Retry-After (not documented): it is honoured when present, in seconds or as
  an HTTP date; without it the client waits 1 s, 2 s, 4 s.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpx

log = logging.getLogger("botify")

DEFAULT_BASE_URL = "https://api.botify.com"
# Explicit limits for each phase: a dead network fails in seconds, a slow page still loads.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)
MAX_TOKEN_LENGTH = 200
DEFAULT_MAX_PAGES = 20  # a list longer than this many pages is cut (Listing.truncated)
DEFAULT_MAX_RETRIES = 3  # for 429 answers
DEFAULT_MAX_RETRY_WAIT = 30.0  # seconds; a longer Retry-After is reported, not waited for
ACCOUNT_URL = "https://app.botify.com/account"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


# --- errors: each message is shown to the user as it is ------------------------------------


class BotifyError(Exception):
    """Talking to Botify failed; `message` says what happened and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidToken(BotifyError):
    """The text cannot be a Botify token (empty, too long, spaces or control characters)."""


class TokenRefused(BotifyError):
    """Botify answered 401 or 403: the token is wrong, expired or was regenerated."""


class RateLimited(BotifyError):
    """Botify kept answering 429 after the allowed retries."""


class Unreachable(BotifyError):
    """No answer: connection refused, DNS failure, TLS failure or a timeout."""


class BotifyNotFound(BotifyError):
    """Botify answered 404 for a user, project or analysis."""


class BadAnswer(BotifyError):
    """Botify answered, but not as documented: a 5xx, another status, not JSON, a wrong shape."""


def check_token(token: object) -> str:
    """The token as it is, or InvalidToken. Callers strip pasted text first; messages never quote it."""
    if not isinstance(token, str):
        raise InvalidToken("The Botify token must be text.")
    if not token:
        raise InvalidToken(f"The Botify token is empty; copy it from {ACCOUNT_URL}.")
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken(
            f"The Botify token is {len(token)} characters long; a token is at most {MAX_TOKEN_LENGTH}."
        )
    if any(ch.isspace() for ch in token):
        raise InvalidToken("The Botify token contains spaces or line breaks; paste the token alone.")
    if any(not 0x21 <= ord(ch) <= 0x7E for ch in token):
        raise InvalidToken("The Botify token contains control or non-ASCII characters; paste the token alone.")
    return token


def check_base_url(url: object) -> str:
    """The API's base URL without a trailing slash: https, or http to this machine only."""
    text = url if isinstance(url, str) else ""
    parts = urlsplit(text.strip())
    if parts.username or parts.password:
        raise BotifyError("The Botify API URL must not contain a user name or password.")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise BotifyError(f"The Botify API URL must look like {DEFAULT_BASE_URL}, not {text[:100]!r}.")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise BotifyError(
            "The Botify API URL must use https:// (plain http:// only to this machine), "
            "so the token never crosses the network in clear text."
        )
    return text.strip().rstrip("/")


# --- what the API returns --------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    username: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return f"{full} ({self.username})" if full else self.username


@dataclass(frozen=True)
class Project:
    name: str
    slug: str
    owner: str  # user.login: the user, or the organisation that owns the project
    active: bool = True


@dataclass(frozen=True)
class Analysis:
    slug: str
    name: str
    status: str
    date_launched: str = ""
    date_finished: str = ""


@dataclass(frozen=True)
class Listing:
    items: tuple
    total: int | None  # Botify's `count`, when it gave one
    truncated: bool  # more pages than the client's max_pages


class _TokenAuth(httpx.Auth):
    """Sets the Authorization header on each request (and keeps httpx from reading .netrc)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Token {self._token}"
        yield request

    def __repr__(self) -> str:
        return "_TokenAuth(<hidden>)"


# --- the client --------------------------------------------------------------------------------


class BotifyClient:
    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        *,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        sleep=asyncio.sleep,
    ) -> None:
        self._token = check_token(token)
        self.base_url = check_base_url(base_url)
        self.max_pages = max(1, max_pages)
        self.max_retries = max(0, max_retries)
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme, parts.hostname, parts.port or _default_port(parts.scheme))
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=_TokenAuth(self._token),
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            # Proxies from the environment apply to the real API, never to this machine.
            trust_env=parts.hostname not in _LOOPBACK,
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"BotifyClient(base_url={self.base_url!r}, token=<hidden>)"

    async def __aenter__(self) -> "BotifyClient":
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the API calls ---------------------------------------------------------------------

    async def profile(self) -> Profile:
        """Who the token belongs to: the check that a token works."""
        data = await self._get_json("/v1/authentication/profile", what="your profile")
        fields = data.get("data") if isinstance(data.get("data"), dict) else data
        username = fields.get("username")
        if not isinstance(username, str) or not username.strip():
            raise BadAnswer(f"Botify's answer for your profile has no user name; is {self.base_url} the Botify API?")
        return Profile(
            username=username,
            email=_text(fields.get("email")),
            first_name=_text(fields.get("first_name")),
            last_name=_text(fields.get("last_name")),
        )

    async def projects(self, username: str, *, page_size: int | None = None) -> Listing:
        """The projects `username` can see, their organisations' included (every page, up to max_pages)."""
        path = f"/v1/projects/{_segment(username, 'user name')}"
        params = {"size": str(page_size)} if page_size else {}
        return await self._paginate(path, params, _project, what=f"the projects of {username}")

    async def analyses(
        self, owner: str, project_slug: str, *, only_success: bool = True, page_size: int | None = None
    ) -> Listing:
        """A project's analyses, newest first as Botify sends them; finished ones only by default."""
        path = f"/v1/analyses/{_segment(owner, 'owner')}/{_segment(project_slug, 'project')}"
        params = {"only_success": "true"} if only_success else {}
        if page_size:
            params["size"] = str(page_size)
        return await self._paginate(path, params, _analysis, what=f"the project {owner}/{project_slug}")

    # --- transport, retries, decoding ------------------------------------------------------

    async def _paginate(self, path: str, params: dict, parse, what: str) -> Listing:
        items: list = []
        total: int | None = None
        url: str | None = path
        seen: set[str] = set()
        pages = 0
        while url:
            if pages >= self.max_pages:
                log.info("Botify list %s cut after %d pages", path, pages)
                return Listing(tuple(items), total, truncated=True)
            data = await self._get_json(url, what=what, params=params if pages == 0 else None)
            pages += 1
            results = data.get("results")
            if not isinstance(results, list):
                raise BadAnswer(f"Botify's answer for {what} has no list of results; is {self.base_url} the Botify API?")
            items.extend(parse(entry, what) for entry in results)
            if isinstance(data.get("count"), int) and not isinstance(data.get("count"), bool):
                total = data["count"]
            url = self._next_page(data.get("next"), what)
            if url is not None:
                if url in seen:
                    raise BadAnswer(f"Botify's pages for {what} lead in a circle; stopped.")
                seen.add(url)
        return Listing(tuple(items), total, truncated=False)

    def _next_page(self, link: object, what: str) -> str | None:
        """The next page's URL, only on the API's own origin (the token must go nowhere else)."""
        if link is None or link == "":
            return None
        if not isinstance(link, str):
            raise BadAnswer(f"Botify's answer for {what} has a malformed link to the next page.")
        absolute = urljoin(self.base_url + "/", link)
        parts = urlsplit(absolute)
        scheme, host, port = self._origin
        if parts.hostname == host and parts.scheme == "http" and scheme == "https" and parts.port is None:
            parts = parts._replace(scheme="https")  # the same host, upgraded: never send the token in clear
        if (parts.scheme, parts.hostname, parts.port or _default_port(parts.scheme)) != self._origin:
            raise BadAnswer(
                f"Botify's next page for {what} is on another site ({parts.hostname}); not followed, "
                "so the token is not sent there."
            )
        return urlunsplit(parts)

    async def _get_json(self, url: str, *, what: str, params: dict | None = None) -> dict:
        attempt = 0
        while True:
            try:
                response = await self._http.get(url, params=params)
            except httpx.TimeoutException:
                raise Unreachable(
                    f"Could not reach Botify at {self.base_url}: no answer in time; check your connection."
                ) from None
            except httpx.TransportError as error:  # refused, DNS, TLS, reset, protocol errors
                raise Unreachable(
                    f"Could not reach Botify at {self.base_url}; check your connection ({self._reason(error)})."
                ) from None
            log.debug("Botify GET %s -> %d", urlsplit(str(response.request.url)).path, response.status_code)
            if response.status_code != 429:
                return self._decode(response, what)
            wait = _retry_after(response)
            if wait is not None and wait > self.max_retry_wait:
                raise RateLimited(
                    f"Botify is limiting how often it may be asked (HTTP 429) and asks to wait "
                    f"{round(wait)} seconds; try again then."
                )
            if attempt >= self.max_retries:
                tries = attempt + 1
                raise RateLimited(
                    f"Botify is limiting how often it may be asked (HTTP 429) and still was after {tries} "
                    f"{'try' if tries == 1 else 'tries'}; wait a minute, then try again."
                )
            attempt += 1
            await self._sleep(wait if wait is not None else float(2 ** (attempt - 1)))

    def _decode(self, response: httpx.Response, what: str) -> dict:
        status = response.status_code
        if status in (401, 403):
            raise TokenRefused(f"Botify refused the token; enter a new one (HTTP {status}{self._detail(response)}).")
        if status == 404:
            raise BotifyNotFound(f"Botify found nothing for {what} (HTTP 404{self._detail(response)}).")
        if status >= 500:
            raise BadAnswer(f"Botify answered {what} with a server error (HTTP {status}); try again later.")
        if status != 200:
            raise BadAnswer(f"Botify answered {what} with HTTP {status}{self._detail(response)}.")
        try:
            data = response.json()
        except ValueError:  # includes UnicodeDecodeError and json.JSONDecodeError
            kind = response.headers.get("content-type", "no content type").split(";")[0][:60]
            raise BadAnswer(
                f"Botify's answer for {what} was not JSON ({kind}); is {self.base_url} the Botify API?"
            ) from None
        if not isinstance(data, dict):
            raise BadAnswer(f"Botify's answer for {what} was not a JSON object; is {self.base_url} the Botify API?")
        return data

    def _detail(self, response: httpx.Response) -> str:
        """': <Botify's error message>' from its error JSON, scrubbed, or ''."""
        try:
            error = response.json().get("error")
            message = error.get("message") if isinstance(error, dict) else None
            if not isinstance(message, str):
                message = response.json().get("detail")  # Django REST framework's own shape
        except (ValueError, AttributeError):
            return ""
        return f": {self._scrub(message)}" if isinstance(message, str) and message.strip() else ""

    def _reason(self, error: Exception) -> str:
        return self._scrub(str(error) or type(error).__name__)

    def _scrub(self, text: str) -> str:
        """One short line of server or library text, with the token (should it appear) removed."""
        return " ".join(text.replace(self._token, "[token]").split())[:200]


# --- helpers -------------------------------------------------------------------------------------


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _segment(value: object, field: str) -> str:
    """One path segment, percent-encoded ('/' included), so a name cannot reach another endpoint."""
    if not isinstance(value, str) or not value or value in (".", "..") or len(value) > 200:
        raise BotifyError(f"That is not a Botify {field}.")
    return quote(value, safe="")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _project(entry: object, what: str) -> Project:
    if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
        raise BadAnswer(f"Botify's answer for {what} holds a project without a slug.")
    user = entry.get("user") if isinstance(entry.get("user"), dict) else {}
    return Project(
        name=_text(entry.get("name")) or entry["slug"],
        slug=entry["slug"],
        owner=_text(user.get("login")),
        active=entry.get("active") is not False,
    )


def _analysis(entry: object, what: str) -> Analysis:
    if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
        raise BadAnswer(f"Botify's answer for {what} holds an analysis without a slug.")
    return Analysis(
        slug=entry["slug"],
        name=_text(entry.get("name")) or entry["slug"],
        status=_text(entry.get("status")),
        date_launched=_text(entry.get("date_launched")),
        date_finished=_text(entry.get("date_finished")),
    )


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), or None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
