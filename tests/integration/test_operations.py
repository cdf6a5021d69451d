"""What an operator touches: the logs in both formats (parsed, not grepped), the start-up line, and the web
configuration re-read without a restart (a rotated certificate, new users on SIGHUP, a broken file refused)
while scrapes go on, with /healthz and --healthcheck working under TLS and basic auth."""
import base64
import crypt
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import time

from harness import BINARY, parse_metrics, value

LOGFMT_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|[^ "=]*)(?: |$)')
LEVELS = {'DEBUG', 'INFO', 'WARN', 'ERROR'}


def parse_logfmt(line):
    """One logfmt record into a dict; every byte of the line must belong to a key=value pair."""
    record, end = {}, 0
    for match in LOGFMT_PAIR.finditer(line):
        assert match.start() == end, 'unparsable logfmt at %d: %r' % (end, line)
        key, value = match.groups()
        record[key] = json.loads(value) if value.startswith('"') else value  # Go-style quoting is JSON's
        end = match.end()
    assert end == len(line), 'unparsable logfmt tail: %r' % line
    return record


def records(text, fmt):
    lines = [line for line in text.splitlines() if line]
    assert lines, 'no log lines'
    parsed = [json.loads(line) if fmt == 'json' else parse_logfmt(line) for line in lines]
    for record in parsed:
        assert list(record)[:4] == ['time', 'level', 'source', 'msg'], record
        assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', record['time']), record
        assert record['level'] in LEVELS, record
        assert re.fullmatch(r'[a-z_]+\.cpp:\d+', record['source']), record
        assert all(isinstance(v, str) for v in record.values()), record
    return parsed


def version():
    out = subprocess.run([BINARY, '--version'], capture_output=True, text=True, check=True).stdout
    match = re.match(r'procevents_exporter, version (\S+) \(branch: (\S+), revision: (\S+)\)\n'
                     r'  build date: +(\S+)\n  compiler: +(.+)\n  platform: +(\S+/\S+)\n$', out)
    assert match, out
    return match.groups()


def test_logs_in_both_formats_with_a_startup_line(start_exporter, config_file):
    ver, branch, revision, _, compiler, platform = version()
    config = config_file('max_groups: 123\nattribution: [unit, user]\n')
    for fmt in ('logfmt', 'json'):
        exporter = start_exporter('--config.file=' + config, '--log.format=' + fmt)
        exporter.proc.send_signal(signal.SIGTERM)
        assert exporter.proc.wait(timeout=10) == 0
        parsed = records(exporter.log(), fmt)
        by_msg = {r['msg']: r for r in parsed}
        start = by_msg['starting procevents_exporter']
        assert parsed[0] is start, 'the start-up line comes first'
        assert (start['version'], start['branch'], start['revision'], start['compiler'], start['platform']) == \
            (ver, branch, revision, compiler, platform)
        assert start['listen_address'] == '127.0.0.1:0' and start['config_file'] == config, start
        assert start['telemetry_path'] == '/metrics' and start['web_config_file'] == '(none)', start
        loaded = by_msg['configuration loaded']
        assert (loaded['max_groups'], loaded['attribution'], loaded['file']) == ('123', 'unit,user', config), loaded
        listening = by_msg['listening']
        assert listening['port'] == str(exporter.port) and listening['tls'] == 'false', listening
        assert by_msg['shutting down']['signal'] == 'SIGTERM'


def test_log_errors_carry_their_position(config_file):
    config = config_file('max_groups: many\n')
    for fmt in ('logfmt', 'json'):
        result = subprocess.run([BINARY, '--config.file=' + config, '--log.format=' + fmt,
                                 '--web.listen-address=127.0.0.1:0'], capture_output=True, text=True, timeout=20)
        assert result.returncode == 2, result
        errors = [r for r in records(result.stderr, fmt) if r['level'] == 'ERROR']
        assert errors and errors[0]['msg'] == 'invalid configuration', errors
        assert (errors[0]['file'], errors[0]['line'], errors[0]['column']) == (config, '1', '13'), errors[0]
        assert 'max_groups' in errors[0]['err']


def make_cert(directory, name):
    cert, key = os.path.join(directory, name + '.crt'), os.path.join(directory, name + '.key')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=' + name],
                   check=True, capture_output=True)
    return cert, key


def bcrypt(password):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**4))


def test_web_config_reloads_without_a_restart(start_exporter, tmp_path):
    """A certificate rotated in place is served to new connections within seconds (no signal), an open
    keep-alive connection keeps scraping, SIGHUP applies new users, a broken file is refused and the old
    configuration stays; /healthz and --healthcheck need no credentials throughout."""
    directory = str(tmp_path)
    old_cert, old_key = make_cert(directory, 'old')
    new_cert, new_key = make_cert(directory, 'new')
    shutil.copy(old_cert, os.path.join(directory, 'tls.crt'))
    shutil.copy(old_key, os.path.join(directory, 'tls.key'))
    web = os.path.join(directory, 'web.yml')

    def write_web(users):
        with open(web + '.tmp', 'w') as f:
            f.write('tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\nbasic_auth_users:\n' +
                    ''.join('  %s: "%s"\n' % (user, bcrypt(password)) for user, password in users.items()))
        os.replace(web + '.tmp', web)

    write_web({'alice': 'a-secret'})
    exporter = start_exporter('--web.config.file=' + web, scheme='https')
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    def auth(user, password):
        return {'Authorization': 'Basic ' + base64.b64encode(('%s:%s' % (user, password)).encode()).decode()}

    def served_cert():
        connection = http.client.HTTPSConnection('127.0.0.1', exporter.port, context=context, timeout=5)
        connection.connect()
        der = connection.sock.getpeercert(binary_form=True)
        connection.close()
        return ssl.DER_cert_to_PEM_cert(der)

    def pem(path):
        return ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(open(path).read()))

    assert exporter.get('/healthz', context=context)[0] == 200  # no credentials
    health = subprocess.run([BINARY, '--healthcheck=http://127.0.0.1:%d/healthz' % exporter.port],
                            capture_output=True, text=True, timeout=30)
    assert health.returncode == 0, health.stderr  # retried over TLS by itself
    assert exporter.get('/metrics', context=context)[0] == 401
    assert served_cert() == pem(old_cert)

    keep_alive = http.client.HTTPSConnection('127.0.0.1', exporter.port, context=context, timeout=5)
    keep_alive.request('GET', '/metrics', headers=auth('alice', 'a-secret'))
    assert keep_alive.getresponse().read() and True

    # Rotation in place, as cert-manager or a renewed Secret does: no signal.
    shutil.copy(new_key, os.path.join(directory, 'tls.key'))
    shutil.copy(new_cert, os.path.join(directory, 'tls.crt'))
    deadline = time.time() + 10
    while served_cert() != pem(new_cert):
        assert time.time() < deadline, 'the rotated certificate was not served:\n' + exporter.log()
        time.sleep(0.2)
    keep_alive.request('GET', '/metrics', headers=auth('alice', 'a-secret'))
    response = keep_alive.getresponse()
    assert response.status == 200 and b'procevents_build_info' in response.read()

    # New users on SIGHUP.
    write_web({'bob': 'b-secret'})
    reloads = exporter.log().count('web configuration reloaded')
    exporter.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while exporter.log().count('web configuration reloaded') == reloads:
        assert time.time() < deadline, exporter.log()
        time.sleep(0.1)
    assert exporter.get('/metrics', headers=auth('alice', 'a-secret'), context=context)[0] == 401
    assert exporter.get('/metrics', headers=auth('bob', 'b-secret'), context=context)[0] == 200

    # A broken file: refused with a reason, bob still works.
    with open(web, 'w') as f:
        f.write('tls_server_config:\n  cert_file: missing.crt\n  key_file: tls.key\n')
    exporter.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while 'web configuration reload failed' not in exporter.log():
        assert time.time() < deadline, exporter.log()
        time.sleep(0.1)
    status, _, body = exporter.get('/metrics', headers=auth('bob', 'b-secret'), context=context)
    assert status == 200
    assert value(parse_metrics(body), 'procevents_config_last_reload_successful', file='web_config') == 0
    assert value(parse_metrics(body), 'procevents_config_last_reload_successful', file='config') == 1
    assert exporter.proc.poll() is None


def test_config_check(config_file, tmp_path):
    """--config.check: 0 and a one-line summary for good files, 2 and file:line:col: reason for a bad one;
    it serves nothing (it returns at once, and the port it was given stays free)."""
    good = config_file("process_names:\n  - name: '{{.Comm}}'\n    cmdline: ['.+']\nattribution: [unit]\n")
    bad = config_file('max_groups: 5\nattribution: [unit, nosuchlabel]\n', name='bad.yml')
    web = str(tmp_path / 'web.yml')
    with open(web, 'w') as f:
        f.write('basic_auth_users:\n  alice: %s\n' % bcrypt('a-secret'))
    bad_web = str(tmp_path / 'bad_web.yml')
    with open(bad_web, 'w') as f:
        f.write('tls_server_config:\n  cert_file: x.crt\n')

    def check(*args):
        return subprocess.run([BINARY, '--config.check', '--web.listen-address=127.0.0.1:1'] + list(args),
                              capture_output=True, text=True, timeout=20)

    ok = check('--config.file=' + good, '--web.config.file=' + web)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count('\n') == 1 and ok.stdout.startswith('configuration OK: ' + good), ok.stdout
    assert '1 basic auth users' in ok.stdout
    assert check().returncode == 0  # the built-in defaults

    failed = check('--config.file=' + bad)
    assert failed.returncode == 2 and failed.stdout == ''
    assert failed.stderr.startswith(bad + ':2:21: attribution: unknown label "nosuchlabel"'), failed.stderr
    failed = check('--config.file=' + good, '--web.config.file=' + bad_web)
    assert failed.returncode == 2
    assert bad_web + ':2:3: ' in failed.stderr, failed.stderr
    failed = check('--config.file=' + str(tmp_path / 'missing.yml'))
    assert failed.returncode == 2 and 'missing.yml' in failed.stderr


def test_config_reload_metrics_and_landing_page(start_exporter, config_file):
    """A bad file on SIGHUP: successful 0, the success timestamp and the landing page stay; a good one
    after it: successful 1, a later timestamp, and the landing page shows the new rules."""
    path = config_file("process_names:\n  - name: 'first-{{.Comm}}'\n    cmdline: ['.+']\n")
    exporter = start_exporter('--config.file=' + path)
    s = exporter.samples()
    assert value(s, 'procevents_config_last_reload_successful', file='config') == 1
    started = value(s, 'procevents_config_last_reload_success_timestamp_seconds', file='config')
    assert abs(started - time.time()) < 60
    assert 'web_config' not in exporter.scrape()  # no --web.config.file: nothing to report
    assert 'first-{{.Comm}}' in exporter.get('/')[2]

    def reload(text, wanted):
        with open(path, 'w') as f:
            f.write(text)
        exporter.proc.send_signal(signal.SIGHUP)
        return exporter.wait_for(
            lambda s: value(s, 'procevents_config_last_reload_successful', file='config') == wanted and
            value(s, 'procevents_config_last_reload_success_timestamp_seconds', file='config') != 0,
            what='procevents_config_last_reload_successful %d' % wanted)

    time.sleep(0.05)
    s = reload("process_names:\n  - name: 'second'\n    bogus: [\n", 0)
    assert value(s, 'procevents_config_last_reload_success_timestamp_seconds', file='config') == started
    assert 'first-{{.Comm}}' in exporter.get('/')[2]

    time.sleep(0.05)
    s = reload("process_names:\n  - name: 'second-{{.Comm}}'\n    cmdline: ['.+']\n", 1)
    assert value(s, 'procevents_config_last_reload_success_timestamp_seconds', file='config') > started
    page = exporter.get('/')[2]
    assert 'second-{{.Comm}}' in page and 'first-' not in page
