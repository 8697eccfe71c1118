"""Security headers on every response, pages, API, files and errors alike.

The Content-Security-Policy lets a page run only the app's own script files and use only its own
style sheets: no inline ``<script>``, no ``on...=`` handler attributes, no ``style=""`` attributes or
``<style>`` blocks (the templates and the server-drawn SVG charts have none; ``tests/browser/
test_csp_browser.py`` opens the main pages in Chromium and fails on any violation). So an injected
``<script>`` or handler in some text a partner typed would not run even if escaping ever failed.
``frame-ancestors 'none'`` (and X-Frame-Options for older browsers) stops click-jacking through a frame.

A view may set its own value of any of these headers; the defaults here do not overwrite it.
"""

from __future__ import annotations

from flask import Flask, Response, current_app

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",  # the live views' EventSource and their fetches of fresh fragments: same origin only
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Nothing here needs a camera, a microphone, the location, payments or USB: say so.
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

#: Production only (it needs HTTPS): browsers then refuse plain HTTP to this host for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("ENV") == "production":
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
