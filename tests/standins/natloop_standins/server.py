# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lifecycle shared by both stand-ins (stand-in for tests, NOT the real AdGuard Home /
Pi-hole): one HTTP listener, one DNS listener, a lock for the state, a clock."""

import logging
import signal
import sys
import threading

from .clock import Clock
from .dnsbase import DEFAULT_FORWARD_ALLOW, DNSListener, Forwarder
from .httpbase import HTTPListener


def url_host(host):
    """Address a client on this machine uses to reach a listener bound to ``host``."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return "[%s]" % host if ":" in host else host


class StandinBase:
    """Owns the listeners; subclasses implement ``start``, ``handle_http`` and ``resolve``."""

    server_header = "natloop-standin"

    def __init__(self, *, listen_host=None, clock=None, logger_name="natloop_standins",
                 upstream_timeout=2.0, forward_allow=DEFAULT_FORWARD_ALLOW):
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.log = logging.getLogger(logger_name)
        self.listen_host = listen_host
        self.forwarder = Forwarder(timeout=upstream_timeout, allow=forward_allow)
        self._http = None
        self._dns = None

    # -- listeners -------------------------------------------------------------------
    def _start_http(self, host, port):
        self._http = HTTPListener(self, host, port).start()
        self.log.info("web interface listening on %s:%s", host, self._http.port)

    def _stop_http(self):
        if self._http is not None:
            self._http.stop()

    def _start_dns(self, host, port):
        self._dns = DNSListener(self, host, port).start()
        self.log.info("DNS listening on %s:%s (udp+tcp)", host, self._dns.port)

    def _stop_dns(self):
        if self._dns is not None:
            self._dns.stop()

    def stop(self):
        """Stop answering HTTP and DNS (both listeners shut down in parallel)."""
        dns_stopper = threading.Thread(target=self._stop_dns)
        dns_stopper.start()
        self._stop_http()
        dns_stopper.join()

    @property
    def web_port(self):
        return self._http.port if self._http is not None else None

    @property
    def dns_port(self):
        return self._dns.port if self._dns is not None else None

    @property
    def http_running(self):
        return self._http is not None and self._http.running

    @property
    def dns_running(self):
        return self._dns is not None and self._dns.running

    @property
    def base_url(self):
        if self._http is None:
            return None
        return "http://%s:%s" % (url_host(self._http.host), self._http.port)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        raise NotImplementedError


def run_until_signal(standin):
    """CLI main loop: start, then serve until SIGTERM/SIGINT (docker stop, Ctrl-C)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s [%(levelname)s] %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    standin.start()
    stop.wait()
    standin.stop()
    return 0
