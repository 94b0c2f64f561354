"""gunicorn's configuration for the registry (docs/deploy.md).

    gunicorn --config deploy/gunicorn.conf.py

nginx in front ends TLS and talks to gunicorn over a unix socket in /run/partner (systemd's
RuntimeDirectory of partner.service). Anything given on gunicorn's command line wins over this
file, e.g. `--bind 127.0.0.1:8000` for a proxy on another port or `--workers 3`.
"""

from __future__ import annotations

import os

from gunicorn.glogging import Logger as _Logger

from partner.accounts.logs import escape_controls as _escape_controls

# Names starting with "_" are this file's own; every other name is a gunicorn setting.

wsgi_app = "partner.wsgi:application"
bind = ["unix:/run/partner/gunicorn.sock"]
#: The socket is readable and writable by the service's group, which nginx's user joins (docs/deploy.md).
umask = 0o007

# A save runs the quality rules in Python, so one process per core (and one more, to cover for a worker
# being replaced) does the computing; threads let each process wait on the database for several
# requests at once. Each worker holds its own copy of the dictionary and of pandas. Each thread keeps
# one database connection open (CONN_MAX_AGE): workers x threads must stay well below PostgreSQL's
# max_connections, with room for the nightly jobs.
worker_class = "gthread"
workers = min((os.cpu_count() or 1) + 1, 9)
threads = 4
#: A worker that stops answering its master for this long is replaced. With threads, a long
#: request (a streamed import, a hub push) does not count: the worker's main loop keeps answering.
timeout = 120
graceful_timeout = 60
keepalive = 5
# The longest request line nginx passes by default (8 KB), so gunicorn never answers a line nginx
# accepted with its own HTML page.
limit_request_line = 8190
#: A worker is replaced after about this many requests, so a slow growth of memory cannot add up.
max_requests = 2000
max_requests_jitter = 200

# nginx sets X-Forwarded-Proto; gunicorn believes it only from these peers (a unix socket is always
# believed). Django reads it through PARTNER_BEHIND_TLS_PROXY.
forwarded_allow_ips = "127.0.0.1,::1"

# To the journal, through standard output and error; without the query string, which may hold
# search terms a log reader should not see. The connection has no address on the unix socket: the
# client's is in nginx's X-Forwarded-For. The request id is the one Django's log records carry.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '%({x-forwarded-for}i)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}o)s'


class _EscapingLogger(_Logger):
    """The path is written decoded, so /%0A... would start a line of its own: every value of an access log
    line has its control characters escaped (\\n, \\x1b)."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: _escape_controls(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = _EscapingLogger
capture_output = True
proc_name = "partner"
