"""The analysts' console in a real browser (Debian's chromium through chromium-driver).

Run by Tests/Browser/run.sh, which fills a store from the labelled captures, creates the
accounts and starts `hnsensor serve`; this script only talks to the console like a person:
log in as an analyst, open the most urgent incident from the queue with the keyboard, move it
through the CSIRT's five phases to closed, add a note, download the notification report and
compare it with `hnsensor incidents export`, then log in as a viewer and find every change
refused. Screenshots of the queue and the incident page go to the artefacts folder.

Usage: console_e2e.py BASE_URL ARTEFACTS HNSENSOR STORE CONFIG
Each check prints one line; the exit status is the number of failed checks (0: all passed).
"""
import json
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, ARTEFACTS, HNSENSOR, STORE, CONFIG = sys.argv[1:6]
ANALYST = ("analyst1", "analyst-password-1")
VIEWER = ("viewer1", "viewer-password-1")
LIFECYCLE = ["qualification", "containment", "investigation", "remediation", "hardening", "closed"]
# The moves the store allows from each status (IncidentStatus.next), in the form's order.
NEXT = {
    "new": ["qualification", "false-positive", "duplicate"],
    "qualification": ["containment", "investigation", "closed", "false-positive", "duplicate"],
    "containment": ["investigation", "remediation"],
    "investigation": ["containment", "remediation", "closed"],
    "remediation": ["hardening", "closed"],
    "hardening": ["closed"],
    "closed": ["investigation"],
}

failures = 0
checks = 0


def check(ok, what):
    global failures, checks
    checks += 1
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures += 1


def cli(*args):
    return subprocess.run([HNSENSOR, *args, "--store", STORE], check=True, capture_output=True, text=True).stdout


def browser(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000", "--disable-gpu"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": downloads, "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(0)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads, "eventsEnabled": False})
    return driver


def wait(driver, predicate, seconds=10):
    return WebDriverWait(driver, seconds).until(lambda d: predicate(d))


def login(driver, account):
    driver.get(BASE + "/login")
    driver.find_element(By.NAME, "username").send_keys(account[0])
    driver.find_element(By.NAME, "password").send_keys(account[1])
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    wait(driver, lambda d: d.current_url.startswith(BASE + "/incidents"))


def logout(driver):
    driver.find_element(By.CSS_SELECTOR, "form.logout button").click()
    wait(driver, lambda d: "/login" in d.current_url)


def status_of(driver):
    return driver.find_element(By.ID, "status").text.strip()


def submit(driver, form_id):
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "#%s button[type=submit]" % form_id).click()
    wait(driver, lambda d: old != d.find_element(By.TAG_NAME, "html"))


def main():
    downloads = os.path.join(ARTEFACTS, "downloads")
    os.makedirs(downloads, exist_ok=True)
    for name in os.listdir(downloads):
        os.remove(os.path.join(downloads, name))
    expected = json.loads(cli("incidents", "list", "--format", "json"))
    check(len(expected) > 0, "the replayed store holds %d incidents" % len(expected))
    urgent = expected[0]["id"]
    driver = browser(downloads)
    try:
        # Wrong password: the form answers with an error, no session.
        driver.get(BASE + "/login")
        driver.find_element(By.NAME, "username").send_keys(ANALYST[0])
        driver.find_element(By.NAME, "password").send_keys("not-the-password")
        driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".flash.error"))
        check("/login" in driver.current_url, "a wrong password keeps the browser on the login page with a message")

        # The analyst's queue, most urgent first, opened with the keyboard.
        login(driver, ANALYST)
        rows = driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr[data-href]")
        shown = [int(r.get_attribute("data-href").rsplit("/", 1)[1]) for r in rows]
        open_ids = [i["id"] for i in expected if i["status"] not in ("closed", "false-positive", "duplicate")]
        check(shown == open_ids[:len(shown)] and len(shown) > 0,
              "the queue lists the open incidents in the CLI's order (%s)" % shown[:6])
        driver.save_screenshot(os.path.join(ARTEFACTS, "queue.png"))
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("j")
        body.send_keys("j")
        body.send_keys("k")
        selected = driver.find_elements(By.CSS_SELECTOR, "#queue tr.selected")
        check(len(selected) == 1 and selected[0].get_attribute("data-href") == "/incidents/%d" % urgent,
              "j, j, k selects the first row")
        body.send_keys(Keys.ENTER)
        wait(driver, lambda d: d.current_url.endswith("/incidents/%d" % urgent))
        check(True, "Enter opens the most urgent incident (%d)" % urgent)
        reason = driver.find_element(By.ID, "priority-reason").text
        check(reason == expected[0]["priority_reason"], "the incident page spells out the priority reason")
        driver.save_screenshot(os.path.join(ARTEFACTS, "incident.png"))

        # Through the lifecycle: only the allowed next statuses are offered.
        def offered():
            return [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "next-status")).options]
        for target in LIFECYCLE:
            now = status_of(driver)
            check(offered() == NEXT[now], "from %s the form offers exactly %s (%s)" % (now, NEXT[now], offered()))
            if target not in offered():
                break
            Select(driver.find_element(By.ID, "next-status")).select_by_value(target)
            submit(driver, "status-form")
            check(status_of(driver) == target, "moved to %s" % target)
        check(offered() == NEXT["closed"], "a closed incident offers only reopening (%s)" % offered())

        driver.find_element(By.CSS_SELECTOR, "#note-form textarea").send_keys("Checked with the hospital's IT: contained.")
        submit(driver, "note-form")
        audit = driver.find_element(By.ID, "audit").text
        check("Checked with the hospital's IT: contained." in audit, "the note is in the audit trail")
        check(audit.count(ANALYST[0]) >= len(LIFECYCLE) + 1, "every change is an audit entry naming the analyst")

        driver.find_element(By.ID, "export-report").click()
        path = os.path.join(downloads, "incident-%d-report.md" % urgent)
        try:
            wait(driver, lambda d: os.path.exists(path), 15)
        except Exception:
            pass
        downloaded = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        reference = cli("incidents", "export", str(urgent), "--format", "report", "--config", CONFIG)
        check(downloaded == reference, "the downloaded report is the file `incidents export --format report` writes")
        logout(driver)

        # The viewer reads, and every form is refused.
        login(driver, VIEWER)
        driver.get(BASE + "/incidents/%d" % urgent)
        check(status_of(driver) == "closed", "the viewer sees the analyst's changes")
        forms = [f.get_attribute("id") for f in driver.find_elements(By.CSS_SELECTOR, "main form")]
        check(forms == [], "the viewer's incident page has no form (%s)" % forms)
        check(not driver.find_elements(By.ID, "export-report"), "the viewer's incident page has no export")
        token = driver.find_element(By.CSS_SELECTOR, "form.logout input[name=csrf_token]").get_attribute("value")
        for fields in ({"note": "viewer note"}, {"assignee": VIEWER[0]}, {"reported": "true"}, {"status": "new"}):
            driver.execute_script("""
                var f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];
                var all = arguments[1];
                for (var k in all) { var i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = all[k]; f.appendChild(i); }
                document.body.appendChild(f); f.submit();""", "/incidents/%d/update" % urgent, dict(fields, csrf_token=token))
            wait(driver, lambda d: "/update" in d.current_url)
            heading = driver.find_element(By.TAG_NAME, "h1").text
            check(heading.startswith("403"), "a viewer's forged %s form is refused (%s)" % (list(fields)[0], heading))
            driver.get(BASE + "/incidents/%d" % urgent)
        for fmt in ("misp", "stix", "report"):
            driver.get(BASE + "/incidents/%d/export?format=%s" % (urgent, fmt))
            heading = driver.find_element(By.TAG_NAME, "h1").text
            check(heading.startswith("403"), "the viewer's %s export is refused (%s)" % (fmt, heading))
        check(os.listdir(downloads) == [os.path.basename(path)], "nothing was downloaded for the viewer (%s)" % os.listdir(downloads))
        driver.get(BASE + "/accounts")
        heading = driver.find_element(By.TAG_NAME, "h1").text
        check(heading.startswith("403"), "the viewer cannot open the accounts page (%s)" % heading)
        shown = json.loads(cli("incidents", "show", str(urgent), "--format", "json"))
        actors = {e.get("actor") for e in shown.get("audit", [])}
        check(VIEWER[0] not in actors, "the store's audit trail has no entry by the viewer")
    finally:
        driver.quit()
    print("%d of %d browser checks passed" % (checks - failures, checks))
    return failures


if __name__ == "__main__":
    sys.exit(min(main(), 100))
