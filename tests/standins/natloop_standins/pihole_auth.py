# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pi-hole v6 API authentication (stand-in for tests, NOT the real Pi-hole).

Mirrors FTL src/api/auth.c and src/config/password.c (CONTRACTS.md B2): password
hashes, the global login rate limit, TOTP and the API session seats.
"""

import base64
import hashlib
import hmac
import secrets
import struct

# Reduced balloon costs keep logins fast in tests; FTL reads s and t from the PHC string.
BALLOON_SPACE_COST = 64
BALLOON_TIME_COST = 8
BALLOON_DELTA = 3
SALT_LEN = 16
MAX_PASSWORD_ATTEMPTS_PER_SECOND = 3
SID_LENGTH = 23

PASSWORD_CORRECT = "correct"
APP_PASSWORD_CORRECT = "app-correct"
PASSWORD_INCORRECT = "incorrect"
PASSWORD_RATE_LIMITED = "rate-limited"
NO_PASSWORD_SET = "no-password"


def _sha256(counter, *parts):
    digest = hashlib.sha256(struct.pack("<Q", counter))
    for part in parts:
        digest.update(part)
    return digest.digest()


def balloon_sha256(password, salt, s_cost, t_cost):
    """Balloon hashing as nettle's ``balloon_sha256`` computes it (delta 3)."""
    counter = 0
    buf = [_sha256(counter, password, salt)]
    counter += 1
    for i in range(1, s_cost):
        buf.append(_sha256(counter, buf[i - 1]))
        counter += 1
    for t in range(t_cost):
        for j in range(s_cost):
            buf[j] = _sha256(counter, buf[j - 1 if j else s_cost - 1], buf[j])
            counter += 1
            for k in range(BALLOON_DELTA):
                block = hashlib.sha256(struct.pack("<QQQ", t, j, k)).digest()
                block = _sha256(counter, salt, block)
                counter += 1
                other = int.from_bytes(block, "little") % s_cost
                buf[j] = _sha256(counter, buf[j], buf[other])
                counter += 1
    return buf[s_cost - 1]


def create_password_hash(password, salt=None):
    """``$BALLOON-SHA256$v=1$s=..,t=..$salt$hash`` PHC string for ``password``."""
    salt = salt or secrets.token_bytes(SALT_LEN)
    digest = balloon_sha256(password.encode("utf-8"), salt, BALLOON_SPACE_COST, BALLOON_TIME_COST)
    return "$BALLOON-SHA256$v=1$s=%d,t=%d$%s$%s" % (
        BALLOON_SPACE_COST, BALLOON_TIME_COST, base64.b64encode(salt).decode(), base64.b64encode(digest).decode())


def _check_hash(password, pwhash):
    if pwhash.startswith("$"):
        parts = pwhash.split("$")
        if len(parts) != 6 or parts[1] != "BALLOON-SHA256":
            return False
        try:
            costs = dict(item.split("=", 1) for item in parts[3].split(","))
            salt, expected = base64.b64decode(parts[4]), base64.b64decode(parts[5])
            digest = balloon_sha256(password.encode("utf-8"), salt, int(costs["s"]), int(costs["t"]))
        except (ValueError, KeyError):
            return False
        return hmac.compare_digest(digest, expected)
    # Pi-hole v5 style double SHA-256 hex digest
    once = hashlib.sha256(password.encode("utf-8")).hexdigest()
    return hmac.compare_digest(hashlib.sha256(once.encode("ascii")).hexdigest(), pwhash)


class PasswordChecker:
    """``verify_password`` with FTL's global per-second rate limit (successes do not count)."""

    def __init__(self, clock):
        self.clock = clock
        self.last_second = 0
        self.attempts = 0

    def verify(self, password, pwhash):
        if not pwhash:
            return NO_PASSWORD_SET
        if not password:
            return PASSWORD_INCORRECT
        second = int(self.clock.now())
        if self.last_second and self.last_second == second:
            self.attempts += 1
            if self.attempts > MAX_PASSWORD_ATTEMPTS_PER_SECOND:
                return PASSWORD_RATE_LIMITED
        else:
            self.attempts = 1
            self.last_second = second
        if _check_hash(password, pwhash):
            self.attempts -= 1
            return PASSWORD_CORRECT
        return PASSWORD_INCORRECT

    def verify_login(self, password, pwhash, app_pwhash):
        """``verify_login``: the main password first, then the app password."""
        result = self.verify(password, pwhash)
        if result == PASSWORD_INCORRECT and app_pwhash and self.verify(password, app_pwhash) == PASSWORD_CORRECT:
            return APP_PASSWORD_CORRECT
        return result


def totp_code(secret_b32, counter):
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000


class TOTPVerifier:
    """RFC 6238 codes (30 s steps, one step of slack); a code used once is rejected."""

    def __init__(self, clock):
        self.clock = clock
        self.last_used_step = None

    def verify(self, secret_b32, token):
        step = int(self.clock.now()) // 30
        for candidate in (step - 1, step, step + 1):
            if totp_code(secret_b32, candidate) == token:
                if self.last_used_step is not None and candidate <= self.last_used_step:
                    return "reused"
                self.last_used_step = candidate
                return "correct"
        return "invalid"


def new_sid():
    """23 characters of base64 over 128 random bits, like FTL's SID and CSRF tokens."""
    return base64.b64encode(secrets.token_bytes(16)).decode("ascii")[:SID_LENGTH]


class Session:
    def __init__(self, sid, csrf, login_at, valid_until, remote_addr, app=False, user_agent=None):
        self.sid = sid
        self.csrf = csrf
        self.login_at = login_at
        self.valid_until = valid_until
        self.remote_addr = remote_addr
        self.app = app
        self.user_agent = user_agent

    def to_dict(self):
        return dict(vars(self))

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


class SessionSeats:
    """The fixed table of API seats (``webserver.api.max_sessions``)."""

    def __init__(self, size):
        self.slots = [None] * size

    def resize(self, size):
        self.slots = (self.slots + [None] * size)[:size]

    def find(self, sid):
        """``(index, session)`` of a used seat with this SID, else ``(None, None)``."""
        for index, session in enumerate(self.slots):
            if session is not None and session.sid == sid:
                return index, session
        return None, None

    def take(self, now, session):
        """Put ``session`` in a free seat (expired seats are freed first); None if full."""
        for index, current in enumerate(self.slots):
            if current is not None and current.valid_until < now:
                self.slots[index] = current = None
            if current is None:
                self.slots[index] = session
                return index
        return None

    def free(self, index):
        used = self.slots[index] is not None
        self.slots[index] = None
        return used

    def clear(self):
        self.slots = [None] * len(self.slots)

    def used(self):
        return [(index, session) for index, session in enumerate(self.slots) if session is not None]
