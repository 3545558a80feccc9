"""ASGI middleware for every response: the visitor's language and the security headers."""

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.deps import SESSION_COOKIE
from app.i18n import pick_language, set_language

LANGUAGE_COOKIE = "stem_lang"

# htmx runs under this policy: no inline scripts or styles, no eval (see the htmx-config meta tag).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)


class LanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            cookies = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
            cookie = cookies[LANGUAGE_COOKIE].value if LANGUAGE_COOKIE in cookies else None
            set_language(
                pick_language(
                    cookie=cookie,
                    accept_language=headers.get(b"accept-language", b"").decode("latin-1"),
                    api=scope["path"].startswith("/api/"),
                )
            )
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_headers = dict(scope["headers"])
        # An answer to a logged-in browser or an API token is that person's: no shared cache (a
        # proxy, a browser's back/forward cache on a shared computer) may keep it. Static files
        # are the same for everyone.
        personal = not scope["path"].startswith("/static/") and (
            b"authorization" in request_headers or f"{SESSION_COOKIE}=".encode() in request_headers.get(b"cookie", b"")
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if personal:
                    headers.setdefault("Cache-Control", "private, no-store")
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                if self.hsts:
                    headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RejectNulMiddleware:
    """A NUL byte has no use in any address of the portal, and PostgreSQL refuses it in text: answer
    400 at the door rather than fail deep inside a query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", "")
        ):
            message = "Bad request: NUL character in the address"
            if scope["path"].startswith("/api/"):  # the API's errors are JSON (shared/API.md)
                response: Response = JSONResponse({"detail": message}, status_code=400)
            else:
                response = PlainTextResponse(message, status_code=400)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
