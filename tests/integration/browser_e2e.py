#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""End-to-end browser session test: headless Chromium (Debian's chromium
driven through chromedriver by Debian's python3-selenium) against a running
web server with bouncer in front of examples/env.cgi.

open the protected page -> lands on the login form -> a wrong password
(the form again, with a message) -> log in -> back on the
page, which shows the user's name -> whoami page, Log out -> protected again.
Takes a screenshot at each step into --artifacts. Prints TAP-like "ok N - ..."
/ "not ok N - ..." lines and a closing "N passed, M failed"; exits 1 on any
failure, 2 when the browser cannot be started at all.
"""

import argparse
import os
import shutil
import sys
import tempfile
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 10  # seconds for every wait: bounded, never a bare sleep


class Run:
    def __init__(self, driver, artifacts):
        self.d = driver
        self.artifacts = artifacts
        self.passed = 0
        self.failed = 0
        self.shots = []

    def _n(self):
        return self.passed + self.failed

    def ok(self, what):
        self.passed += 1
        print("ok %d - %s" % (self._n(), what), flush=True)

    def fail(self, what, detail=""):
        self.failed += 1
        print("not ok %d - %s" % (self._n(), what), flush=True)
        lines = [detail] if detail else []
        lines.append("url: %s" % self.url())
        lines.append("page source (tail):")
        lines.extend(self.source_tail().splitlines())
        for line in lines:
            print("#     %s" % line, flush=True)

    def check(self, cond, what, detail=""):
        if cond:
            self.ok(what)
        else:
            self.fail(what, detail)
        return cond

    def url(self):
        try:
            return self.d.current_url
        except WebDriverException as e:
            return "(unknown: %s)" % e.__class__.__name__

    def source_tail(self, n=1200):
        try:
            src = self.d.page_source
        except WebDriverException as e:
            return "(no page source: %s)" % e.__class__.__name__
        return src[-n:]

    def wait(self, cond, what):
        """Waits up to WAIT s for cond(driver); records a failure on timeout."""
        try:
            WebDriverWait(self.d, WAIT).until(cond)
            return True
        except TimeoutException:
            self.fail(what, "timed out after %d s" % WAIT)
            return False

    def shot(self, name):
        path = os.path.join(self.artifacts, name)
        try:
            ok = self.d.save_screenshot(path)
        except WebDriverException as e:
            ok = False
            print("# screenshot %s failed: %s" % (path, e), flush=True)
        if ok and os.path.getsize(path) > 0:
            self.shots.append(path)
            self.ok("screenshot %s" % path)
        else:
            self.fail("screenshot %s" % path)


def path_and_query(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def on_login_form(d):
    """The login page with both fields, or False."""
    if urllib.parse.urlsplit(d.current_url).path != "/auth/login":
        return False
    return (d.find_elements(By.CSS_SELECTOR, "form input[name=username]")
            and d.find_elements(By.CSS_SELECTOR, "form input[name=password]"))


def text_of(d):
    try:
        return d.find_element(By.TAG_NAME, "body").text
    except WebDriverException:
        return ""


def expect_login_form(r, protected, step):
    """Asserts the browser sits on /auth/login?next=<protected>."""
    if not r.wait(on_login_form, "%s: lands on the login form" % step):
        return False
    r.ok("%s: lands on the login form (%s)" % (step, path_and_query(r.url())))
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.url()).query)
    r.check(q.get("next", [""])[0] == protected,
            "%s: the login URL carries next=%s" % (step, protected),
            "next=%r" % q.get("next"))
    pw = r.d.find_element(By.CSS_SELECTOR, "form input[name=password]")
    r.check(pw.get_attribute("type") == "password",
            "%s: the password field is type=password" % step)
    r.check(r.d.find_elements(By.CSS_SELECTOR,
                              "form button[type=submit], form input[type=submit],"
                              " form button:not([type])"),
            "%s: the form has a submit button" % step)
    labels = r.d.find_elements(By.CSS_SELECTOR, "label")
    r.check(len(labels) >= 2, "%s: the fields have labels (accessibility)" % step,
            "%d label elements" % len(labels))
    return True


def submit_login(d, user, password):
    """Fills the login form as a person would and submits it."""
    u = d.find_element(By.CSS_SELECTOR, "form input[name=username]")
    u.clear()
    u.send_keys(user)
    pw = d.find_element(By.CSS_SELECTOR, "form input[name=password]")
    pw.clear()
    pw.send_keys(password)
    buttons = d.find_elements(By.CSS_SELECTOR,
                              "form button[type=submit], form input[type=submit],"
                              " form button:not([type])")
    if buttons:
        buttons[0].click()
    else:
        pw.submit()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--protected", default="/app/")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    a = ap.parse_args()

    with open(a.password_file, encoding="utf-8") as f:
        password = f.read().rstrip("\n")
    os.makedirs(a.artifacts, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="bnc-chromium-")

    opts = webdriver.ChromeOptions()
    opts.binary_location = a.chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1000,700",
                "--user-data-dir=" + profile):
        opts.add_argument(arg)
    log_path = os.path.join(a.artifacts, "chromedriver.log")
    try:
        service = Service(a.chromedriver, log_path=log_path)
    except TypeError:  # older selenium: log_path under another name
        service = Service(a.chromedriver)
    try:
        driver = webdriver.Chrome(service=service, options=opts)
    except WebDriverException as e:
        print("not ok 1 - start chromium through chromedriver")
        print("#     %s" % str(e).strip().replace("\n", "\n#     "))
        print("0 passed, 1 failed")
        shutil.rmtree(profile, ignore_errors=True)
        return 2
    driver.set_page_load_timeout(WAIT)
    r = Run(driver, a.artifacts)
    protected = a.protected
    try:
        r.ok("chromium %s started headless" %
             driver.capabilities.get("browserVersion", "?"))

        # 1. The protected page without a session: the login form.
        driver.get(a.base + protected)
        if not expect_login_form(r, protected, "step 1, protected page"):
            return 1
        r.shot("01-login.png")

        # 1b. A wrong password: the form again, with a message, still
        # carrying next (the form posts to /auth/login without a query).
        submit_login(driver, a.user, "wrong-" + password)
        if r.wait(on_login_form, "step 1b: a wrong password shows the login form again"):
            r.ok("step 1b: a wrong password shows the login form again")
            body = text_of(driver)
            r.check("Unable to log in" in body or "incorrect" in body.lower()
                    or "invalid" in body.lower(),
                    "step 1b: the page says the login failed", body[:400])
            r.check(driver.find_element(By.CSS_SELECTOR, "form input[name=password]")
                    .get_attribute("value") == "",
                    "step 1b: the password is not echoed back into the form")
            r.check("sessionid" not in {c["name"] for c in driver.get_cookies()},
                    "step 1b: no session cookie after a wrong password")
            r.shot("01b-login-failed.png")

        # 2. Log in: back on the protected page, which names the user.
        submit_login(driver, a.user, password)
        if r.wait(lambda d: urllib.parse.urlsplit(d.current_url).path == protected,
                  "step 2: after login the browser is back on %s" % protected):
            r.ok("step 2: after login the browser is back on %s" % protected)
        r.wait(lambda d: "REMOTE_USER=" in text_of(d),
               "step 2: the protected page has loaded")
        body = text_of(driver)
        r.check(("REMOTE_USER=%s" % a.user) in body.splitlines(),
                "step 2: the page shows the user's name (REMOTE_USER=%s)" % a.user,
                body[:400])
        r.check("AUTH_TYPE=Session" in body.splitlines(),
                "step 2: the page was let in by the session (AUTH_TYPE=Session)",
                body[:400])
        cookies = {c["name"]: c for c in driver.get_cookies()}
        sc = cookies.get("sessionid")
        r.check(sc is not None and sc.get("httpOnly") is True,
                "step 2: the browser holds an HttpOnly sessionid cookie", repr(sc))
        r.check(sc is not None and sc.get("sameSite") == "Lax",
                "step 2: the sessionid cookie is SameSite=Lax", repr(sc))
        r.check("csrftoken" in cookies, "step 2: the browser holds the csrftoken cookie")
        js_cookies = driver.execute_script("return document.cookie") or ""
        r.check("sessionid=" not in js_cookies and "csrftoken=" in js_cookies,
                "step 2: scripts see csrftoken but not sessionid",
                "document.cookie names: %s" % ", ".join(
                    c.split("=", 1)[0].strip() for c in js_cookies.split(";") if c))
        r.shot("02-protected.png")

        # 3. whoami in HTML, then its Log out button.
        driver.get(a.base + "/auth/whoami")
        r.wait(lambda d: "Signed in as" in text_of(d),
               "step 3: /auth/whoami says 'Signed in as'")
        r.check(a.user in text_of(driver), "step 3: whoami names %s" % a.user,
                text_of(driver)[:400])
        r.shot("02b-whoami.png")
        logout = [e for e in driver.find_elements(By.CSS_SELECTOR,
                                                  "button, input[type=submit]")
                  if "log out" in (e.text or e.get_attribute("value") or "").lower()]
        if r.check(logout, "step 3: whoami has a Log out button"):
            logout[0].click()
            r.wait(lambda d: urllib.parse.urlsplit(d.current_url).path != "/auth/whoami",
                   "step 3: Log out leaves the whoami page")
            r.ok("step 3: after Log out the browser is at %s" % path_and_query(r.url()))
            names = {c["name"] for c in driver.get_cookies()}
            r.check("sessionid" not in names,
                    "step 3: the sessionid cookie is gone after Log out",
                    "cookies: %s" % sorted(names))
        r.shot("03-logged-out.png")

        # 4. The protected page again: the login form again.
        driver.get(a.base + protected)
        expect_login_form(r, protected, "step 4, protected page after logout")
        body = text_of(driver)
        r.check(("REMOTE_USER=%s" % a.user) not in body,
                "step 4: the protected content is not shown")
        r.shot("04-protected-again.png")
    except WebDriverException as e:
        r.fail("the browser run went through without a WebDriver error",
               "%s: %s" % (e.__class__.__name__, str(e).strip()[:600]))
    finally:
        try:
            driver.quit()
        except WebDriverException:
            pass
        shutil.rmtree(profile, ignore_errors=True)
        for p in r.shots:
            print("# artifact: %s" % p)
        print("%d passed, %d failed" % (r.passed, r.failed), flush=True)
    return 0 if r.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
