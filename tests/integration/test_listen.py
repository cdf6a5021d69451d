"""Listen addresses as Go exporters take them: --web.listen-address given more than once, and ":PORT"
answering on IPv4 and IPv6 loopback. Skips where the host has no IPv6 loopback (fails under CI)."""
import os
import re
import socket
import time
import urllib.request

import pytest

from harness import BINARY


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(('::1', 0))
        return True
    except OSError:
        return False


def scrape(host, port):
    with urllib.request.urlopen('http://%s:%d/metrics' % (host, port), timeout=10) as response:
        return response.status, response.read().decode()


def test_ipv6_loopback_scrapes(start_exporter):
    """The harness listens on 127.0.0.1:0; ":0" and "[::1]:0" come on top: three ports, each scraped."""
    if not has_ipv6_loopback():
        if os.environ.get('CI'):
            raise AssertionError('no IPv6 loopback on this CI host')
        pytest.skip('skipped: this host has no IPv6 loopback')
    exporter = start_exporter('--web.listen-address=:0', '--web.listen-address=[::1]:0')
    deadline = time.time() + 10  # the harness returns at the first "listening" line
    while True:
        ports = [int(p) for p in re.findall(r'msg=listening port=(\d+)', exporter.log())]
        if len(ports) == 3 or time.time() > deadline:
            break
        time.sleep(0.05)
    assert len(ports) == 3, exporter.log()
    _, any_port, v6_port = ports
    for host, port in (('127.0.0.1', any_port), ('[::1]', any_port), ('[::1]', v6_port)):
        status, body = scrape(host, port)
        assert status == 200 and 'procevents_build_info' in body, (host, port)
