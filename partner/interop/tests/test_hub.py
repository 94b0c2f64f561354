"""A national node pushes to a European hub: two instances on loopback, a dropped connection, a refusal,
a withdrawal of consent.

The node is this test's registry; the hub is another `partner` process with its own database,
reached through a small proxy that can drop a connection after the hub has answered, as a broken
network does. A retry sends the same payload; the hub answers with the receipt it already gave.
"""

import http.client
import io
import json
import os
import socket
import socketserver
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from django.core.management import CommandError, call_command

from partner.cases.consent import withdraw_consent
from partner.cases.models import FormRecord, TumourCase
from partner.cases.records import update_record
from partner.interop.models import PushedCase
from partner.testing import RegistryTestCase

BIN = Path(sys.executable).parent / "partner"

#: Run by the hub: whether analyses count each case, whether it is withdrawn and erased, and the forms it keeps.
HUB_VIEW = """
import json
from partner.cases.models import TumourCase
cases = TumourCase.objects.filter(external_id__startswith="{prefix}")
counted = set(cases.counted().values_list("pk", flat=True))
analysed = set(cases.for_analysis().values_list("pk", flat=True))
print(json.dumps({{
    c.external_id: {{
        "counted": c.pk in counted,
        "analysed": c.pk in analysed,
        "erased": getattr(getattr(c, "withdrawal", None), "erased", None),
        "forms": sorted(r.form.code for r in c.records.all()),
    }}
    for c in cases
}}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy(socketserver.ThreadingTCPServer):
    """Forwards each request to the hub; drops the connection instead of answering while `drops` > 0."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, hub_port: int):
        self.hub_port = hub_port
        self.drops = 0
        self.requests = 0
        super().__init__(("127.0.0.1", 0), ProxyHandler)


class ProxyHandler(socketserver.StreamRequestHandler):
    def handle(self):
        request_line = self.rfile.readline().decode()
        headers = {}
        while (line := self.rfile.readline().decode()) not in ("\r\n", "\n", ""):
            name, _colon, value = line.partition(":")
            headers[name.strip()] = value.strip()
        body = self.rfile.read(int(headers.get("Content-Length", 0)))
        method, path, _version = request_line.split()
        hub = http.client.HTTPConnection("127.0.0.1", self.server.hub_port, timeout=120)
        hub.request(method, path, body=body, headers={k: v for k, v in headers.items() if k.lower() != "host"})
        answer = hub.getresponse()
        data = answer.read()
        self.server.requests += 1
        if self.server.drops > 0:  # the hub did the work; its answer is lost on the way back
            self.server.drops -= 1
            return
        self.wfile.write(f"HTTP/1.1 {answer.status} {answer.reason}\r\n".encode())
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection"):
                self.wfile.write(f"{name}: {value}\r\n".encode())
        self.wfile.write(b"Connection: close\r\n\r\n" + data)


class HubPushTests(RegistryTestCase):
    @classmethod
    def setUpClass(cls):
        # The hub first, in its own process and database: a hub that does not start fails the class
        # before the test database's transaction is opened.
        cls.folder = Path(tempfile.mkdtemp())
        cls.db = cls.folder / "hub.sqlite3"
        cls.env = {
            **os.environ,
            "DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{cls.db}",
            "PARTNER_VAR_DIR": str(cls.folder),
        }
        for args in (["migrate", "--no-input"], ["dictionary", "load"], ["demo", "--patients", "0"]):
            subprocess.run([BIN, *args], env=cls.env, check=True, capture_output=True)
        made = subprocess.run(
            [BIN, "token", "create", "nc.italy"], env=cls.env, check=True, capture_output=True, text=True
        )
        cls.token_file = cls.folder / "token"
        cls.token_file.write_text(made.stdout.strip())
        port = free_port()
        log = cls.folder / "hub.log"
        with log.open("wb") as out:
            cls.hub = subprocess.Popen(
                [BIN, "runserver", f"127.0.0.1:{port}", "--noreload"], env=cls.env, stdout=out, stderr=out
            )
        # A loaded machine may take a while to start the hub; one that did not start says why.
        deadline = time.monotonic() + 180
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if cls.hub.poll() is not None or time.monotonic() > deadline:
                    cls.hub.kill()
                    raise RuntimeError(f"the hub did not start on port {port}:\n{log.read_text()}") from None
                time.sleep(0.2)
        cls.proxy = Proxy(port)
        threading.Thread(target=cls.proxy.serve_forever, daemon=True).start()
        cls.url = f"http://127.0.0.1:{cls.proxy.server_address[1]}"
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.shutdown()
        cls.proxy.server_close()
        cls.hub.terminate()
        cls.hub.wait(timeout=20)
        super().tearDownClass()

    def hub_rows(self, table):
        with sqlite3.connect(self.db) as connection:
            return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def at_hub(self, prefix):
        """The hub's cases whose identifier starts with `prefix`, as its own registry sees them."""
        ran = subprocess.run(
            [BIN, "shell", "-c", HUB_VIEW.format(prefix=prefix)],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(ran.stdout.strip().splitlines()[-1])

    def validated(self, centre, given, **kwargs):
        case = self.register(
            centre,
            given=given,
            diagnosis={
                "diagnosis_date": "2024-02-10",
                "morphology": "8370/3",
                "topography": "C74.0",
                "basis_of_diagnosis": "7",
            },
            status={"patient_status": "alive", "last_contact_date": "2025-01-10"},
            consent={"consent_reuse": "given", "consent_date": "2024-02-12"},
            **kwargs,
        )
        TumourCase.objects.filter(pk=case.pk).update(status="validated")
        return case

    def push(self, stderr=None):
        out = io.StringIO()
        token = str(self.token_file)
        call_command("hub", "push", "--to", self.url, "--token-file", token, stdout=out, stderr=stderr or io.StringIO())
        return out.getvalue()

    def test_a_push_survives_a_lost_answer_sends_only_changes_and_a_refused_case_changes_nothing(self):
        giulia = self.validated(self.padova, "Giulia")
        self.validated(self.milano, "Marco")
        self.register(self.padova, given="Draft")  # not validated: stays at the node
        cases_before = self.hub_rows("cases_tumourcase")

        self.proxy.drops = 1
        answer = self.push()
        self.assertIn("2 cases received", answer)
        self.assertIn("2 new", answer)
        self.assertEqual(self.proxy.requests, 2)  # the first answer was lost, the retry got the receipt
        self.assertEqual(self.hub_rows("cases_tumourcase"), cases_before + 2)
        self.assertEqual(self.hub_rows("interop_pushreceipt"), 1)
        self.assertEqual(PushedCase.objects.count(), 2)

        self.assertIn("nothing to send", self.push())

        record = FormRecord.objects.get(case=giulia, form__code="status")
        update_record(
            dictionary=self.dictionary,
            case=giulia,
            form_code="status",
            number=1,
            values=record.values | {"last_contact_date": "2025-06-01"},
            version=record.version,
            user=self.dm_padova,
        )
        TumourCase.objects.filter(pk=giulia.pk).update(status="validated")
        updated = self.push()
        self.assertIn("1 cases received", updated)
        self.assertIn("1 updated", updated)
        self.assertEqual(self.hub_rows("cases_tumourcase"), cases_before + 2)

        paris = self.validated(self.paris, "Léa")  # not Italy's to send: the hub refuses the whole push
        self.validated(self.padova, "Anna")
        receipts = self.hub_rows("interop_pushreceipt")
        report = io.StringIO()
        with self.assertRaisesMessage(CommandError, "the hub refused the push (422)"):
            self.push(stderr=report)
        self.assertIn(f"FR-PA-{paris.pk}, centre: no centre with this code that you may import into", report.getvalue())
        self.assertEqual(self.hub_rows("cases_tumourcase"), cases_before + 2)
        self.assertEqual(self.hub_rows("interop_pushreceipt"), receipts)
        self.assertFalse(PushedCase.objects.filter(case=paris).exists())

    def test_a_withdrawal_at_the_node_reaches_the_hub_once_and_erases_there_what_the_node_erased(self):
        # Identifiers of this test's own: the hub's registry outlives each test's node.
        sara = self.validated(self.padova, "Sara")
        luca = self.validated(self.milano, "Luca")
        TumourCase.objects.filter(pk=sara.pk).update(external_id="W-SARA")
        TumourCase.objects.filter(pk=luca.pk).update(external_id="W-LUCA")
        self.assertIn("2 new", self.push())
        before = self.at_hub("W-")
        self.assertEqual(
            {k: (v["counted"], v["erased"]) for k, v in before.items()},
            {"W-SARA": (True, None), "W-LUCA": (True, None)},
        )
        self.assertIn("diagnosis", before["W-SARA"]["forms"])

        withdraw_consent(
            case=sara, withdrawn_on=sara.created.date(), erase=True, user=self.dm_padova, reason="asked by the parents"
        )
        withdraw_consent(case=luca, withdrawn_on=luca.created.date(), erase=False, user=self.nc_italy)
        out = io.StringIO()
        call_command("hub", "push", "--to", self.url, "--dry-run", stdout=out)
        self.assertIn("would send 0 cases and 2 withdrawals of consent", out.getvalue())

        self.proxy.drops = 1
        requests = self.proxy.requests
        receipts = self.hub_rows("interop_pushreceipt")
        withdrawals = self.hub_rows("cases_consentwithdrawal")
        answer = self.push()
        self.assertEqual(self.proxy.requests, requests + 2)  # the first answer was lost; the retry got the receipt
        self.assertIn("0 cases received", answer)
        self.assertIn("2 withdrawals of consent taken by the hub (1 erased there)", answer)
        self.assertIn("W-SARA (IT-PD), withdrawn on", answer)
        self.assertIn("W-LUCA (IT-MI), withdrawn on", answer)
        self.assertEqual(self.hub_rows("interop_pushreceipt"), receipts + 1)
        self.assertEqual(self.hub_rows("cases_consentwithdrawal"), withdrawals + 2)

        after = self.at_hub("W-")
        self.assertEqual(
            after["W-SARA"], {"counted": False, "analysed": False, "erased": True, "forms": ["consent", "registration"]}
        )
        self.assertEqual(
            (after["W-LUCA"]["counted"], after["W-LUCA"]["analysed"], after["W-LUCA"]["erased"]), (False, False, False)
        )
        self.assertIn("diagnosis", after["W-LUCA"]["forms"])  # withdrawn without erasure: kept, out of analyses
        receipt = int(answer.split()[1].rstrip(":"))
        taken = PushedCase.objects.filter(case__in=[sara, luca]).values_list("withdrawal_receipt", flat=True)
        self.assertEqual(list(taken), [receipt, receipt])

        self.assertIn("nothing to send", self.push())
        self.assertEqual(self.hub_rows("interop_pushreceipt"), receipts + 1)
