"""The `_headers` file: HTTP headers for hosts that read one (Netlify, Cloudflare Pages).

Written only when site.yaml says `headers: true`. The Content-Security-Policy
allows nothing but same-origin images, styles, fonts and media: no script at
all, no inline style, no framing. The default theme and hubgen's Markdown
need no more (tests/test_security.py proves it on every built page); a site
that embeds other content, or sets `allow_html`, may need its own policy.
"""

from __future__ import annotations

from hubgen.urls import Urls

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "img-src 'self'",
        "style-src 'self'",
        "font-src 'self'",
        "media-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Readers of a mental-health site should not tell the next site where they came from.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def render_headers(u: Urls) -> bytes:
    """The file's text: the headers for every path, and long caching for fingerprinted assets."""
    lines = [
        "# Written by hubgen (headers: true in site.yaml) for Netlify and Cloudflare Pages.",
        "/*",
        *(f"  {name}: {value}" for name, value in HEADERS.items()),
        f"{u.prefix}/assets/*",
        "  Cache-Control: public, max-age=31536000, immutable",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")
