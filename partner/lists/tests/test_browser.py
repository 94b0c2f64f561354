"""A coordinator filters the linkage queue by entity, in chromium."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from partner.linkage.models import CandidatePair
from partner.testing import BrowserTestCase


@pytest.mark.browser
class ACoordinatorFiltersTheLinkageQueueByEntity(BrowserTestCase):
    def test_only_the_pairs_of_the_chosen_entity_stay(self):
        acc = self.register(self.padova, "Anna", "Bianchi")
        twin = self.register(self.paris, "Ana", "Bianchi")
        mel = self.register(self.milano, "Luca", "Verdi", morphology="8720/3", topography="C44.5")
        other = self.register(self.paris, "Luc", "Vert", morphology="8720/3", topography="C44.5")
        CandidatePair.objects.create(left=acc.patient, right=twin.patient, similarity=0.97, schema_version="1")
        CandidatePair.objects.create(left=mel.patient, right=other.patient, similarity=0.81, schema_version="1")
        device = TOTPDevice.objects.create(user=self.european, name="phone", confirmed=True)
        page = self.page
        self.log_in(page, self.european)
        page.get_by_label("Six-digit code").fill(f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}")
        with page.expect_navigation():
            page.get_by_role("button", name="Confirm").click()
        page.goto(self.live_server_url + "/linkage/")
        self.assertEqual(page.locator("table.list tbody tr").count(), 2)
        page.get_by_label("Entity").select_option(mel.entity.code)
        with page.expect_navigation():
            page.get_by_role("button", name="Filter").click()
        rows = page.locator("table.list tbody tr")
        self.assertEqual(rows.count(), 1)
        self.assertIn("0.810", rows.first.inner_text())
        self.assertIn(f"entity={mel.entity.code}", page.url)
        self.assertIn("1 pair", page.locator(".count").inner_text())
        self.assertEqual(self.errors, [])
