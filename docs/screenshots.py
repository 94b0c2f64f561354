"""Take the README's screenshots from a running demo registry (`make run` in another terminal).

    .venv/bin/python docs/screenshots.py [http://127.0.0.1:8000]

Uses Debian's chromium, headless, at 1,280 px, and poppler's pdftoppm for the pages of PDFs (poppler-utils).
Pages are captured as the demo users see them; the script registers and edits a case of its own and sets up
the European coordinator's authenticator, so run it once on a freshly built demo registry, never on real data.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, sync_playwright

OUT = Path(__file__).parent / "screenshots"
PASSWORD = "demo-registry-2026"
DESKTOP = {"width": 1280, "height": 860}


def log_in(page: Page, base: str, username: str) -> None:
    """Log in; a user without a second factor lands on My work."""
    page.goto(base + "/accounts/login/")
    page.fill('[name="username"]', username)
    page.fill('[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click("main form button.primary")


def fill_date(scope: Page | Locator, name: str, day: str, month: str, year: str) -> None:
    """A date that may be partial is three boxes: day, month and year."""
    for part, value in (("day", day), ("month", month), ("year", year)):
        scope.locator(f'[name$="{name}_{part}"]').fill(value)


def second_factor(page: Page) -> None:
    """Answer the authenticator set-up (or the code prompt) with the code of the key the page shows."""
    import base64

    from django_otp.oath import totp

    if not page.locator("main code").count():
        raise SystemExit("a coordinator's authenticator is already set up: take the screenshots on a fresh demo")
    key = page.locator("main code").first.inner_text().strip()
    code = totp(base64.b32decode(key), step=30, t0=0, digits=6)
    page.fill('[name="token"]', f"{code:06d}")
    with page.expect_navigation():
        page.click("main form button.primary")


def register_acc(page: Page, base: str) -> str:
    """Register an adrenocortical carcinoma with one surgery, failing the first save on a Weiss score
    out of range; returns the case page's address."""
    page.goto(base + "/cases/new/")
    page.fill('[name="identity-given_names"]', "Screenshot")
    page.fill('[name="identity-family_names"]', "Example")
    page.fill('[name="identity-date_of_birth"]', "2011-04-03")
    page.select_option('[name="identity-sex"]', "female")
    page.select_option('[name="identity-country_of_birth"]', "IT")
    page.fill('[name="diagnosis-diagnosis_date"]', "2023-05-06")
    page.fill('[name="diagnosis-morphology"]', "8370/3")
    page.fill('[name="diagnosis-topography"]', "C74.0")
    page.press('[name="diagnosis-topography"]', "Tab")
    page.wait_for_selector('[name="acc-acc_virilisation"]')
    treatment = page.locator('[data-rows="treatment"]')
    treatment.locator("[data-add-row]").click()
    row = treatment.locator(".rows > .row").first
    row.locator('[data-field="line_type"]').select_option("surgery")
    fill_date(row, "treatment_start_date", "20", "5", "2023")
    row.locator('[data-field="surgery_type"]').select_option("resection_primary")
    page.locator("#module .message").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollBy(0, -330)")
    page.screenshot(path=OUT / "new-case-module.png")
    # A Weiss score of 12 (it goes to 9): the page comes back with the summary of its errors on top.
    page.fill('[name="acc-acc_weiss_score"]', "12")
    with page.expect_navigation():
        page.click("main form button.primary")
    page.wait_for_selector("[data-error-summary]")
    page.screenshot(path=OUT / "error-summary.png")
    page.fill('[name="acc-acc_weiss_score"]', "4")
    with page.expect_navigation():
        page.click("main form button.primary")
    return page.url


def import_check(page: Page, base: str) -> None:
    """The check of a file with two rows refused: a centre not the user's and a date that does not exist."""
    header = (
        "external_id,centre,given_names,family_names,date_of_birth,sex,country_of_birth,"
        "diagnosis_date,morphology,topography"
    )
    rows = [
        "SHOT-1,IT-PD,Anna,Esempio,2012-03-04,female,IT,2023-01-10,8370/3,C74.0",
        "SHOT-2,FR-PA,Marie,Exemple,2013-06-07,female,FR,2023-02-11,8720/3,C44.5",
        "SHOT-3,IT-PD,Luca,Esempio,2014-08-09,male,IT,2024-02-31,8370/3,C74.0",
    ]
    page.goto(base + "/import/")
    page.set_input_files(
        '[name="file"]',
        files=[{"name": "cases.csv", "mimeType": "text/csv", "buffer": "\n".join([header, *rows]).encode()}],
    )
    page.select_option('[name="status"]', "draft")
    with page.expect_navigation():
        page.click("main form button.primary")
    page.wait_for_selector("#job-status:not([hx-get])", timeout=120_000)  # the worker checks the file
    page.screenshot(path=OUT / "import-check.png")


def public_pages(browser: Browser, base: str) -> None:
    """The public website as a visitor sees it, without logging in: the start page, the statistics, the
    tumours and the dictionary at desktop width, the start page on a phone."""
    desktop = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    desktop.goto(base + "/")
    desktop.screenshot(path=OUT / "home.png", full_page=True)
    desktop.goto(base + "/dictionary/")
    desktop.screenshot(path=OUT / "dictionary.png", full_page=True)
    desktop.goto(base + "/statistics/")
    desktop.screenshot(path=OUT / "public-statistics.png", full_page=True)
    desktop.goto(base + "/tumours/")
    desktop.screenshot(path=OUT / "public-tumours.png")
    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True).new_page()
    phone.goto(base + "/")
    phone.screenshot(path=OUT / "public-phone.png")


def pdf_page(browser: Browser, base: str, username: str, path: str, out: str, page_number: int = 1) -> None:
    """A page of a PDF the user downloads, as an image (poppler's pdftoppm at 60 dpi): what it prints."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, base, username)
    response = context.request.get(base + path)
    if "/jobs/" in response.url:  # a report's PDF is drawn by the worker: its job's page offers it when ready
        page.goto(response.url)
        page.wait_for_selector("a[href$='/download/']", timeout=120_000)
        path = page.locator("a[href$='/download/']").first.get_attribute("href") or path
        response = context.request.get(base + path)
    if not response.body().startswith(b"%PDF"):
        raise SystemExit(f"{path} gave no PDF ({response.status})")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "document.pdf"
        source.write_bytes(response.body())
        n = str(page_number)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", n, "-l", n, "-singlefile", source, Path(tmp) / "page"], check=True
        )
        shutil.copy(Path(tmp) / "page.png", OUT / out)
    context.close()


def pdf_pages(browser: Browser, base: str) -> None:
    """The first page of the report's PDF, as the researcher downloads it, and of a letter of the panel, as
    the Padova clinician who asked reads it (in the language chosen with the request)."""
    pdf_page(browser, base, "researcher", "/reports/ACC/report.pdf", "report-pdf.png")
    pdf_page(browser, base, "clinician.padova", first_letter(browser, base), "letter.png")


def first_letter(browser: Browser, base: str) -> str:
    """The address of the letter of the most recent request of the clinician that was answered."""
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, base, "clinician.padova")
    page.goto(base + "/consult/?status=sent")
    with page.expect_navigation():
        page.locator("main table tbody tr a").first.click()
    href = page.locator('a[href$="/letter.pdf"]').first.get_attribute("href")
    page.close()
    assert href, "no letter on the request's page"
    return href


def main(base: str) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        first = browser.new_page(viewport=DESKTOP)
        log_in(first, base, "dm.padova")
        assert first.url.endswith("/work/"), first.url
        first.screenshot(path=OUT / "worklist.png", full_page=True)
        case_url = register_acc(first, base)
        first.goto(case_url)
        overview = first.locator("table.form-overview").bounding_box()
        assert overview, "the case page has no overview of its forms"
        first.screenshot(
            path=OUT / "case-overview.png",
            full_page=True,
            clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": overview["y"] + overview["height"] + 24},
        )
        import_check(first, base)
        # Two people edit the same case: the second save meets the first one's values.
        second = browser.new_context(viewport=DESKTOP).new_page()
        log_in(second, base, "clinician.padova")
        first.goto(case_url + "edit/")
        second.goto(case_url + "edit/")
        second.fill('[name="diagnosis-diagnosis_date"]', "2023-05-08")
        with second.expect_navigation():
            second.click("main form button.primary")
        first.fill('[name="diagnosis-diagnosis_date"]', "2023-05-09")
        with first.expect_navigation():
            first.click("main form button.primary")
        first.screenshot(path=OUT / "conflict.png")
        first.goto(case_url + "history/")
        first.screenshot(path=OUT / "history.png")
        # Quality control, as the Paris data manager: a case with something to look at, then the dashboard.
        paris = browser.new_context(viewport=DESKTOP).new_page()
        log_in(paris, base, "dm.paris")
        paris.goto(base + "/quality/findings/?status=open&severity=query")
        with paris.expect_navigation():
            paris.locator("main table tbody tr td a").first.click()
        paris.locator("#quality-heading").evaluate("e => e.scrollIntoView({block: 'start'})")
        paris.evaluate("window.scrollBy(0, -20)")
        paris.screenshot(path=OUT / "quality-case.png")
        # The European coordinator's dashboard: coordinators set up a second factor at their first log-in.
        europe = browser.new_context(viewport=DESKTOP).new_page()
        log_in(europe, base, "ec.europe")
        second_factor(europe)
        europe.goto(base + "/cases/?country=IT&status=submitted&entity=ACC&sort=-diagnosis_date")
        europe.screenshot(path=OUT / "filtered-list.png", full_page=True)
        europe.goto(base + "/quality/?by=country")
        europe.wait_for_selector("#dashboard-figures .cards", timeout=120_000)  # the worker computes the figures
        europe.screenshot(path=OUT / "quality-dashboard.png", full_page=True)
        europe.goto(base + "/consult/dashboard/")
        europe.screenshot(path=OUT / "consult-dashboard.png", full_page=True)
        # A consultation as an expert of its panel reads it: one with the panel if there is one.
        expert = browser.new_context(viewport=DESKTOP).new_page()
        log_in(expert, base, "expert.acc")
        expert.goto(base + "/consult/")
        rows = expert.locator("main table tbody tr")
        open_rows = rows.filter(has_text="with the panel")
        row = open_rows.first if open_rows.count() else rows.first
        with expert.expect_navigation():
            row.locator("a").first.click()
        expert.screenshot(path=OUT / "consult-request.png")
        # A report as the researcher sees it: the whole registry, small counts hidden.
        researcher = browser.new_context(viewport=DESKTOP).new_page()
        log_in(researcher, base, "researcher")
        researcher.goto(base + "/reports/ACC/")
        researcher.screenshot(path=OUT / "report.png", full_page=True)
        pdf_pages(browser, base)
        public_pages(browser, base)
        browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
