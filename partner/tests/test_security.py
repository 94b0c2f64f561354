"""Production settings pass Django's deployment check; every page carries the security headers and a
Content Security Policy that no template needs to weaken."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.test import Client

from partner.testing import RegistryTestCase

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(ROOT.glob("partner/**/templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(src|nonce)=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_the_deployment_check_is_clean_with_production_settings(tmp_path: Path) -> None:
    # Browser tests allow async-unsafe calls in this process; a deployment never does.
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    for name in ("SECRET_KEY_FILE", "PARTNER_PSEUDONYM_KEY_FILE", "PARTNER_LINKAGE_KEY_FILE"):
        path = tmp_path / name.lower()
        path.write_text(secrets.token_urlsafe(48))
        env[name] = str(path)
    env.update(
        {
            "DEBUG": "false",
            "ALLOWED_HOSTS": "registry.example.org",
            "PARTNER_BEHIND_TLS_PROXY": "true",
            "PARTNER_SSL_REDIRECT": "true",
            "PARTNER_VAR_DIR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "partner.settings",
        }
    )
    run = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


def test_no_template_holds_an_inline_script_without_the_nonce_or_an_inline_handler() -> None:
    offenders = []
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        offenders += [f"{template.relative_to(ROOT)}: {m.group(0)}" for m in INLINE_SCRIPT.finditer(text)]
        offenders += [f"{template.relative_to(ROOT)}: {m.group(0)}" for m in INLINE_HANDLER.finditer(text)]
    assert offenders == []


class Headers(RegistryTestCase):
    def test_a_page_carries_the_policy_and_the_other_security_headers(self) -> None:
        response = Client().get("/")
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        self.assertEqual(directives["default-src"], "'self'")
        self.assertEqual(directives["object-src"], "'none'")
        self.assertEqual(directives["frame-ancestors"], "'none'")
        self.assertNotIn("unsafe-inline", directives["script-src"])
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["Referrer-Policy"], "same-origin")

    def test_the_page_of_long_work_runs_no_inline_script(self) -> None:
        from django.template.loader import render_to_string
        from django.test import RequestFactory

        from partner.jobs.models import Job

        job = Job(kind="import", title="Check of x.csv", user=self.dm_padova)
        request = RequestFactory().get("/jobs/")
        request.user = self.dm_padova
        page = render_to_string("jobs/job.html", {"job": job, "total": 3, "done": 1, "percent": 33}, request=request)
        self.assertIn('hx-trigger="every 1s"', page)  # its progress is fetched by htmx, under the policy
        self.assertNotIn("<script>", page.split("</head>")[1])


class NoStoreTests(RegistryTestCase):
    """What a member sees and what the API answers stays in no browser's or proxy's cache."""

    def test_a_case_page_is_not_stored(self) -> None:
        case = self.register(self.padova)
        self.sign_in(self.client, self.dm_padova)
        response = self.client.get(f"/cases/{case.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-store", response["Cache-Control"])

    def test_an_api_answer_is_not_stored_whoever_asks(self) -> None:
        from partner.accounts.models import ApiToken

        _token, key = ApiToken.issue(self.dm_padova, "script")
        answer = Client().get("/api/cases", headers={"authorization": f"Bearer {key}"})
        self.assertEqual(answer.status_code, 200)
        self.assertIn("no-store", answer["Cache-Control"])
        self.assertIn("no-store", Client().get("/api/cases").get("Cache-Control", ""))

    def test_the_public_home_page_is_left_to_caches(self) -> None:
        response = Client().get("/")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("no-store", response.get("Cache-Control", ""))

    def test_static_files_are_left_to_caches_even_for_a_signed_in_user(self) -> None:
        from django.test import override_settings

        with override_settings(WHITENOISE_USE_FINDERS=True):
            client = Client()  # WhiteNoise reads its settings when the client's handler starts
            self.sign_in(client, self.dm_padova)
            response = client.get("/static/partner/partner.css")
        self.assertEqual(response.status_code, 200)
        self.assertIn("max-age", response["Cache-Control"])
        self.assertNotIn("no-store", response["Cache-Control"])
