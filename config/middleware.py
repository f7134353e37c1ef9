"""Site-wide security headers: a Content-Security-Policy that lets scripts come only
from our own static files, never inline, and nothing load from another site; and a
Permissions-Policy that denies every powerful browser feature (no page here needs one)."""

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # sanitized filings keep inline style attributes
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)

# Features Chromium knows (an unknown name costs a console warning on every page: Debian's
# Chromium warns of `bluetooth` and `web-share`); `()` allows a feature to no origin.
DENIED_FEATURES = (
    "accelerometer", "autoplay", "camera", "clipboard-read", "display-capture",
    "encrypted-media", "gamepad", "geolocation", "gyroscope", "hid", "idle-detection",
    "local-fonts", "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
    "publickey-credentials-get", "screen-wake-lock", "serial", "storage-access", "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
