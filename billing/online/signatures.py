"""The provider's signature on a notification, Stripe's scheme: header `t=<unix time>,v1=<hex>` where the hex
is HMAC-SHA256, with the shared secret, of `<t>.` followed by the raw body. Signing the time with the body lets
the portal refuse an old notification replayed by whoever captured it."""

import hashlib
import hmac

HEADER = "Payments-Signature"


class InvalidSignature(Exception):
    pass


def _mac(body: bytes, *, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(body: bytes, *, secret: str, timestamp: int) -> str:
    return f"t={timestamp},v1={_mac(body, secret=secret, timestamp=timestamp)}"


def verify(body: bytes, header: str, *, secret: str, now: float, tolerance: int) -> None:
    """Raise InvalidSignature unless `header` signs `body` with `secret` within `tolerance` seconds of `now`.
    Several v1 values are accepted, as when the provider rolls its secret."""
    timestamp, macs = None, []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            macs.append(value)
    if timestamp is None or not macs:
        raise InvalidSignature("malformed signature header")
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature(f"timestamp {timestamp} outside the tolerance of {tolerance} s")
    expected = _mac(body, secret=secret, timestamp=timestamp)
    if not any(hmac.compare_digest(expected, mac) for mac in macs):
        raise InvalidSignature("signature does not match the body")
