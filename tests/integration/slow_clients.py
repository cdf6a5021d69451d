"""Slow and idle HTTP clients by the thousand, and the scrapes that must get through beside them.

Shared by test_hostile.py (which asserts that every scrape succeeds) and bench/slow_clients_bench.py (which
prints the worst latency, threads and memory). Loopback only (127.0.0.1). Every kind re-opens a connection
the server closes, so the load stays at `count` connections for as long as it runs:
  drip            "GET /metrics HTTP/1.1", then one more header line every 5 s, never the blank line
  unread          a complete scrape request on a socket with a 4 KiB receive buffer, whose response is never
                  read; replaced after UNREAD_HOLD_S (the server's FIN may be stuck behind the unread response,
                  so the client cannot tell when the server gave up)
  tls_silent      a TCP connection to a TLS port that sends nothing
  tls_half_hello  the first half of a real TLS ClientHello, then nothing
"""
import gzip
import http.client
import multiprocessing
import os
import resource
import selectors
import socket
import ssl
import subprocess
import threading
import time

KINDS = ('drip', 'unread', 'tls_silent', 'tls_half_hello')
TCP_CLOSE_WAIT, TCP_CLOSE = 8, 7
DRIP_INTERVAL_S = 5.0
UNREAD_HOLD_S = 12.0  # past the server's 10 s request timeout


def raise_nofile(needed):
    """Raises this process's soft RLIMIT_NOFILE (to the hard limit) so it can hold `needed` sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft == resource.RLIM_INFINITY or soft >= needed


def client_hello():
    """The bytes of a real ClientHello, as Python's OpenSSL sends it."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_side=False)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class SlowClients:
    """`count` connections of `kind` to 127.0.0.1:`port`, held from one thread until stop()."""

    def __init__(self, port, kind, count):
        assert kind in KINDS, kind
        self.port, self.kind, self.count = port, kind, count
        self.hello = client_hello() if kind == 'tls_half_hello' else b''
        self.selector = selectors.DefaultSelector()
        self.sockets = {}  # socket -> time of its next header line (drip) or 0
        self.opened = 0
        self.reopened = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self):
        for _ in range(self.count):
            self.open()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()
        for sock in list(self.sockets):
            self.close(sock)

    def open(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.kind == 'unread':
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(5)
        try:
            sock.connect(('127.0.0.1', self.port))
            if self.kind == 'drip':
                sock.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\n')
            elif self.kind == 'unread':
                sock.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
            elif self.kind == 'tls_half_hello':
                sock.sendall(self.hello[:len(self.hello) // 2])
        except OSError:
            sock.close()
            return
        sock.setblocking(False)
        self.opened += 1
        # drip: when the next header line is due; unread: when the connection is replaced
        self.sockets[sock] = time.monotonic() + (UNREAD_HOLD_S if self.kind == 'unread' else DRIP_INTERVAL_S)
        if self.kind != 'unread':  # reading would be reading the response
            self.selector.register(sock, selectors.EVENT_READ)

    def close(self, sock):
        if self.kind != 'unread':
            self.selector.unregister(sock)
        del self.sockets[sock]
        sock.close()

    def closed_by_peer(self, sock):
        if self.kind == 'unread':
            state = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
            return state in (TCP_CLOSE_WAIT, TCP_CLOSE)
        try:
            return sock.recv(65536) == b''  # data (an error page, a TLS alert) is read and dropped
        except BlockingIOError:
            return False
        except OSError:
            return True

    def run(self):
        line = 0
        while not self.stopping.is_set():
            gone = [key.fileobj for key, _ in self.selector.select(timeout=0.2) if self.closed_by_peer(key.fileobj)]
            now = time.monotonic()
            if self.kind == 'unread':
                gone = [sock for sock, due in self.sockets.items() if due <= now or self.closed_by_peer(sock)]
            for sock, due in list(self.sockets.items()):
                if self.kind == 'drip' and sock not in gone and due <= now:
                    line += 1
                    try:
                        sock.send(b'X-Slow-%d: x\r\n' % line)
                        self.sockets[sock] = now + DRIP_INTERVAL_S
                    except OSError:
                        gone.append(sock)
            for sock in set(gone):
                self.close(sock)
                self.reopened += 1
                if not self.stopping.is_set():
                    self.open()


def _hold(port, kind, count, pipe):
    with SlowClients(port, kind, count) as clients:
        pipe.send('ready')
        pipe.recv()
        pipe.send((len(clients.sockets), clients.reopened))


class ClientsProcess:
    """SlowClients in a process of their own: re-opening a thousand connections must not delay the scrapes
    measured beside them (one interpreter lock). `held` and `reopened` are set on exit."""

    def __init__(self, port, kind, count):
        context = multiprocessing.get_context('fork')
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_hold, args=(port, kind, count, child), daemon=True)
        self.held = self.reopened = None

    def __enter__(self):
        self.process.start()
        if self.pipe.recv() != 'ready':
            raise AssertionError('the slow clients did not start')
        return self

    def __exit__(self, *exc):
        self.pipe.send('stop')
        self.held, self.reopened = self.pipe.recv()
        self.process.join()
        return False


class Scrapes:
    """Scrapes beside the slow clients: one on a new connection every `interval_s`, and `keepalive` clients
    (an HA pair of Prometheus servers) scraping every second on one kept-alive connection each, with gzip.
    Records every latency and every failure."""

    def __init__(self, port, tls=False, interval_s=0.25, keepalive=2, timeout_s=10):
        self.port, self.tls, self.interval_s, self.timeout_s = port, tls, interval_s, timeout_s
        self.context = None
        if tls:
            self.context = ssl.create_default_context()
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        self.lock = threading.Lock()
        self.latencies = {'new': [], 'keepalive': []}
        self.failures = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.new_connections, daemon=True)]
        self.threads += [threading.Thread(target=self.kept_alive, daemon=True) for _ in range(keepalive)]

    def connection(self):
        if self.tls:
            return http.client.HTTPSConnection('127.0.0.1', self.port, timeout=self.timeout_s, context=self.context)
        return http.client.HTTPConnection('127.0.0.1', self.port, timeout=self.timeout_s)

    def scrape(self, connection, kind):
        started = time.monotonic()
        try:
            connection.request('GET', '/metrics', headers={'Accept-Encoding': 'gzip'})
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise AssertionError('status %d' % response.status)
            if response.getheader('Content-Encoding') == 'gzip':
                body = gzip.decompress(body)
            if b'procevents_' not in body:
                raise AssertionError('no procevents_ sample in the body')
            with self.lock:
                self.latencies[kind].append(time.monotonic() - started)
            return True
        except (OSError, http.client.HTTPException, AssertionError, EOFError) as error:
            with self.lock:
                self.failures.append('%s scrape after %.2f s: %r' % (kind, time.monotonic() - started, error))
            return False

    def new_connections(self):
        while not self.stopping.is_set():
            connection = self.connection()
            self.scrape(connection, 'new')
            connection.close()
            self.stopping.wait(self.interval_s)

    def kept_alive(self):
        connection = self.connection()
        while not self.stopping.is_set():
            if not self.scrape(connection, 'keepalive'):
                connection.close()
                connection = self.connection()
            self.stopping.wait(1.0)
        connection.close()

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join()
        return False

    def worst(self, kind):
        return max(self.latencies[kind], default=float('nan'))

    def median(self, kind):
        ordered = sorted(self.latencies[kind])
        return ordered[len(ordered) // 2] if ordered else float('nan')

    def count(self, kind):
        return len(self.latencies[kind])


def threads_and_rss(pid):
    """(threads, resident MiB) of a live process."""
    with open('/proc/%d/status' % pid) as f:
        fields = dict(line.split(':', 1) for line in f)
    return int(fields['Threads']), int(fields['VmRSS'].split()[0]) / 1024


def run_beside(port, kind, count, seconds, tls, pid, scrape_interval_s=0.25):
    """Holds `count` clients of `kind` for `seconds` while scraping; returns a dict of figures."""
    with ClientsProcess(port, kind, count) as clients:
        time.sleep(1.0)  # all connected and sent what they send
        with Scrapes(port, tls=tls, interval_s=scrape_interval_s) as scrapes:
            peak_threads, peak_rss = 0, 0.0
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                threads, rss = threads_and_rss(pid)
                peak_threads, peak_rss = max(peak_threads, threads), max(peak_rss, rss)
                time.sleep(0.5)
    return {
        'kind': kind, 'clients': count, 'held': clients.held, 'reopened': clients.reopened, 'seconds': seconds,
        'scrapes_new': scrapes.count('new'), 'worst_new_s': scrapes.worst('new'), 'median_new_s': scrapes.median('new'),
        'scrapes_keepalive': scrapes.count('keepalive'), 'worst_keepalive_s': scrapes.worst('keepalive'),
        'failures': scrapes.failures, 'peak_threads': peak_threads, 'peak_rss_mib': peak_rss,
    }


def tls_web_config(directory):
    """A self-signed certificate and a web config serving TLS with it; returns the config's path."""
    cert, key = os.path.join(directory, 'slow.crt'), os.path.join(directory, 'slow.key')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '1', '-subj', '/CN=127.0.0.1'], check=True, capture_output=True)
    path = os.path.join(directory, 'web.yml')
    with open(path, 'w') as f:
        f.write('tls_server_config:\n  cert_file: %s\n  key_file: %s\n' % (cert, key))
    return path

