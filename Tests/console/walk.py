#!/usr/bin/env python3
"""Walks the Herald console in headless Chromium (Debian's chromium and
chromedriver, driven by Selenium), against a daemon the caller started.

The flow of the seeds: log in, make an HTTP endpoint with a bad URL (the
error shows by the field), fix it, make a policy that uses it, see the
count 1, follow it, try to delete the endpoint (refused, naming the
policy), test-send (the outcome shows, the receiver got it), edit, delete.
Then the same create flow for a third-party plugin's form ("ticket", a C
test plugin), deliveries and dead letters, explain, captures (as root), the
channels page, a phone-width look, and another team's token that sees none
of it. Saves a screenshot of each page into --shots. Exits 1 on the first
failed check, naming it.
"""
import argparse, json, os, re, sys, time, urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

parser = argparse.ArgumentParser()
parser.add_argument("--base", required=True)
parser.add_argument("--token", required=True)
parser.add_argument("--other-token", required=True)
parser.add_argument("--admin-token", required=True)
parser.add_argument("--receiver", required=True)
parser.add_argument("--outbox", required=True, help="the ticket plugin's file")
parser.add_argument("--shots", required=True)
parser.add_argument("--pcap", action="store_true", help="a pcap endpoint 'capture' exists (root only)")
args = parser.parse_args()
os.makedirs(args.shots, exist_ok=True)
downloads = os.path.join(args.shots, "downloads")
os.makedirs(downloads, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
step_number = 0


def step(name):
    global step_number
    step_number += 1
    print(f"step {step_number}: {name}", flush=True)


def fail(message):
    shot("failure")
    console = [entry["message"] for entry in driver.get_log("browser")]
    print(f"FAILED: {message}\nbrowser console: {console}", file=sys.stderr, flush=True)
    driver.quit()
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def shot(name):
    driver.save_screenshot(os.path.join(args.shots, f"{step_number:02d}-{name}.png"))


def wait(condition, what, timeout=10):
    try:
        return WebDriverWait(driver, timeout).until(lambda _: condition())
    except TimeoutException:
        fail(f"timed out waiting for {what}")


def css(selector, root=None):
    return (root or driver).find_elements(By.CSS_SELECTOR, selector)


def visible(selector, text=None, root=None):
    """The first shown element matching selector (and containing text), waited for."""
    def found():
        try:
            for element in css(selector, root):
                if element.is_displayed() and (text is None or text in element.text):
                    return element
        except StaleElementReferenceException:
            pass  # the page was drawn anew meanwhile: look again
        return None
    return wait(found, f"{selector!r}" + (f" with {text!r}" if text else ""))


def heading(text):
    visible("main h1", text)


def go(hash_path):
    url = f"{args.base}/ui/#{hash_path}"
    if driver.current_url == url:
        driver.refresh()  # the same address again would not draw the page anew
    else:
        driver.get(url)


def reload_until(hash_path, selector, predicate, what, timeout=15):
    """Reloads a page until an element matching selector has text that predicate accepts."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        go(hash_path)
        time.sleep(0.5)
        try:
            for element in css(selector):
                if predicate(element.text):
                    return element
        except StaleElementReferenceException:
            pass
    fail(f"timed out waiting for {what}")


def field(path):
    return visible(f'.field[data-field="{path}"]')


def control(path):
    return field(path).find_element(By.CSS_SELECTOR, "input, textarea, select")


def fill(path, value):
    element = control(path)
    element.clear()
    element.send_keys(value)


def field_error(path):
    return visible(f'.field[data-field="{path}"] > .field-error').text


def row(name, attribute="data-endpoint"):
    return visible(f'tr[{attribute}="{name}"]')


def cell(row_element, heading_text):
    headings = [th.text for th in css("thead th", row_element.find_element(By.XPATH, "ancestor::table"))]
    return row_element.find_elements(By.CSS_SELECTOR, "td")[headings.index(heading_text)]


def result_for(name):
    return visible(f'tr.result[data-result-for="{name}"]')


def button(text, root=None):
    return visible("button, a.button", text, root)


def submit():
    visible('form.edit button[type="submit"]').click()


def api(method, path, body=None, token=None):
    request = urllib.request.Request(f"{args.base}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token or args.token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None


def received():
    with urllib.request.urlopen(f"{args.receiver}/_requests", timeout=10) as response:
        return json.loads(response.read())


def labelled():
    """Every form control on the page has a name a screen reader reads: a label, aria-label or aria-labelledby."""
    missing = driver.execute_script("""
        return [...document.querySelectorAll('main input, main select, main textarea')]
          .filter((c) => c.type !== 'hidden' && c.labels.length === 0 && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby'))
          .map((c) => c.outerHTML.slice(0, 120));""")
    check(not missing, f"controls without a label: {missing}")


def log_in(token):
    go("/login")
    element = visible('input[name="token"]')
    element.clear()
    element.send_keys(token, Keys.ENTER)  # the keyboard alone logs in


# --- log in -----------------------------------------------------------------
step("the root redirects to the console, which asks for a token")
driver.get(args.base + "/")
check(driver.current_url.startswith(f"{args.base}/ui/"), f"/ did not lead to /ui/: {driver.current_url}")
heading("Log in")
shot("login")
visible('input[name="token"]').send_keys("not-a-token", Keys.ENTER)
check("not one Herald knows" in visible('form.login .field-error').text, "an unknown token was not refused")
log_in(args.token)
heading("Push endpoints")
check("Team ops" in visible("header .who").text, "the header does not name the team")

# --- an HTTP endpoint, a bad URL first ---------------------------------------
step("a new HTTP endpoint with a bad URL shows the error by the URL field")
go("/endpoints/http")
button("New HTTP endpoint").click()
heading("New HTTP endpoint")
levels = {box.get_attribute("value"): box.is_selected() for box in css('.field[data-field="levels"] input[type=checkbox]')}
check(levels == {"Critical": True, "Error": True, "Warning": True, "Info": False, "Recovery": True},
      f"the default levels are not all but Info: {levels}")
check(control("config.url").tag_name == "textarea" and "template" in field("config.url").text, "the URL is not shown as a template")
check(control("config.method").get_attribute("placeholder") == "POST", "the method's default is not shown")
check("Verify the server certificate" in field("config.tls_verify").text, "a description is not shown as help")
check(control("config.tls_verify").is_selected(), "tls_verify does not start at its default, true")
fill("name", "web-hook")
fill("push_frequency", "e")  # a number input's bad text reads as empty: it must not pass as 0
submit()
check("not a whole number" in field_error("push_frequency"), "bad text in push frequency was not refused")
fill("push_frequency", "0")
fill("config.url", "ftp://127.0.0.1/alerts")
button("Add headers entry").click()
visible(".pair-key").send_keys("X-Team")
visible(".pair-value").send_keys("ops")
submit()
error = field_error("config.url")
check("http://" in error, f"the URL error is not by the field: {error!r}")
check(control("config.url").get_attribute("aria-invalid") == "true", "the URL field is not marked invalid")
check("Not saved" in visible(".form-errors").text, "no summary of the error")
labelled()
shot("endpoint-bad-url")

step("fixed, it is made and listed with no policy")
fill("config.url", args.receiver + "/console/{{ id }}")
submit()
heading("Push endpoints")
hook = row("web-hook")
check(cell(hook, "Policies").text == "0", "a new endpoint does not show 0 policies")
check(cell(hook, "State").text == "up", f"state: {cell(hook, 'State').text}")
made = api("GET", "/api/v1/endpoints/web-hook")
check(made["config"] == {"url": args.receiver + "/console/{{ id }}", "headers": {"X-Team": "ops"}},
      f"the endpoint was stored as {made['config']}")
check(made["levels"] == ["Critical", "Error", "Warning", "Recovery"], f"levels stored as {made['levels']}")
shot("endpoints")

# --- a policy that uses it -----------------------------------------------------
step("a policy using it")
go("/policies")
heading("Alert policies")
button("New policy").click()
heading("New policy")
fill("name", "critical-web")
fill("matchers", 'severity="critical"')
visible('.field[data-field="endpoints"] label', "web-hook").click()
labelled()
shot("policy-form")
submit()
heading("Alert policies")
check("web-hook" in row("critical-web", "data-policy").text, "the policy does not list its endpoint")
button("Edit", row("critical-web", "data-policy")).click()
heading("Edit policy critical-web")
fill("matchers", 'severity="critical"\nenv!~"dev|test"')
submit()
heading("Alert policies")
check(api("GET", "/api/v1/policies/critical-web")["matchers"] == ['severity="critical"', 'env!~"dev|test"'],
      "the policy's edited matchers were not stored")

step("the endpoint's count is 1 and leads to the policy")
go("/endpoints/http")
count = cell(row("web-hook"), "Policies").find_element(By.TAG_NAME, "a")
check(count.text == "1", f"count is {count.text}")
count.click()
heading("Policies using web-hook")
check(len(css("tr[data-policy]")) == 1 and row("critical-web", "data-policy"), "the count's page does not show the policy")
shot("policies-of-endpoint")

step("deleting the endpoint is refused, naming the policy")
go("/endpoints/http")
button("Delete", row("web-hook")).click()
button("Delete", result_for("web-hook")).click()
refusal = visible('tr.result[data-result-for="web-hook"] .notice.error').text
check("critical-web" in refusal, f"the refusal does not name the policy: {refusal!r}")
shot("delete-refused")

step("test-send shows the outcome and the receiver got it")
before = len(received())
button("Test", row("web-hook")).click()
outcome = visible('tr.result[data-result-for="web-hook"] .notice', "delivered").text
check("Test of web-hook: delivered" in outcome, outcome)
arrivals = [request for request in received()[before:] if request["path"].startswith("/console/")]
check(len(arrivals) == 1, f"the receiver got {len(arrivals)} test requests")
check(dict((k.lower(), v) for k, v in arrivals[0]["headers"]).get("x-team") == "ops", "the header set in the form did not arrive")
shot("test-send")

step("edit: a push cycle, a frequency, no Recovery; the header stays")
button("Edit", row("web-hook")).click()
heading("Edit web-hook")
check(control("name").get_attribute("readonly") is not None, "the name can be changed in an edit")
fill("push_cycle", "5m")
fill("push_frequency", "3")
visible('.field[data-field="levels"] label', "Recovery").click()
shot("endpoint-edit")
submit()
heading("Push endpoints")
hook = row("web-hook")
check(cell(hook, "Push cycle").text == "5m" and cell(hook, "Push frequency").text == "3", hook.text)
check("Recovery" not in cell(hook, "Levels").text, cell(hook, "Levels").text)
edited = api("GET", "/api/v1/endpoints/web-hook")
check(edited["push_cycle"] == 300 and edited["push_frequency"] == 3 and edited["config"]["headers"] == {"X-Team": "ops"},
      f"stored after the edit: {edited}")

# --- deliveries, dead letters, explain --------------------------------------------
step("deliveries: an alert's delivery and its attempts")
accepted = api("POST", "/api/v1/events", {"name": "DiskFull", "level": "Critical", "object_id": "db-1",
                                            "labels": {"severity": "critical"}, "id": "console-ev-1"})
check(accepted["accepted"] == 1, accepted)
delivered = reload_until("/deliveries?endpoint=web-hook", "tr[data-delivery]",
                         lambda text: "console-ev-1" in text and "delivered" in text, "the delivery to be delivered")
heading("Deliveries")
button("Show", delivered).click()
check("ok" in visible("tr.detail").text, "the attempt is not shown")
shot("deliveries")

step("dead letters: filter, replay one")
api("POST", "/api/v1/events", {"name": "Unreachable", "level": "Critical", "object_id": "db-2",
                               "labels": {"kind": "deadletter"}, "id": "console-ev-2"})
dead = reload_until("/deliveries?status=dead", "tr[data-delivery]", lambda text: "console-ev-2" in text, "a dead letter")
heading("Dead letters")
check("dead-end" in dead.text and "HTTP 400" in dead.text, dead.text)
check(Select(visible("form.filters select[name=status]")).first_selected_option.get_attribute("value") == "dead",
      "the status filter does not show the page's filter")
shot("dead-letters")
button("Replay", dead).click()
visible("tr[data-delivery] .notice", "Replayed")
reload_until("/deliveries?status=dead", "tr[data-delivery]", lambda text: "console-ev-2" in text, "the replayed one to be dead again")
button("Replay every dead letter").click()
visible("main h1 + .notice.ok", "Replayed 1 dead letter")

step("explain: the policy matched and the endpoint pushed")
go("/explain")
heading("Explain an event")
visible("form.filters input[name=id]").send_keys("console-ev-1", Keys.ENTER)
heading("Event console-ev-1")
route = visible("section.card tbody tr", "web-hook")
check("critical-web" in route.text and "pushed" in route.text, route.text)
shot("explain")

# --- delete ---------------------------------------------------------------------
step("delete the policy, then the endpoint")
go("/policies")
button("Delete", row("critical-web", "data-policy")).click()
button("Delete", result_for("critical-web")).click()
visible("tr.result .notice", "Deleted critical-web")
go("/endpoints/http")
button("Delete", row("web-hook")).click()
button("Delete", result_for("web-hook")).click()
visible("tr.result .notice", "Deleted web-hook")
go("/endpoints/http")
heading("Push endpoints")
wait(lambda: not css('tr[data-endpoint="web-hook"]'), "the endpoint to be gone")
check(not [e for e in api("GET", "/api/v1/endpoints") if e["name"] == "web-hook"], "the endpoint is still in the API")

# --- a third party's form --------------------------------------------------------------
step("a third-party plugin's form: every kind of field, and its own field error")
go("/endpoints/ticket")
button("New ticket endpoint").click()
heading("New ticket endpoint")
check(control("config.project").tag_name == "select", "an enum is not a select")
check(control("config.priority").get_attribute("type") == "number", "an integer is not a number input")
check(control("config.api_key").get_attribute("type") == "password", "a secret is not a password input")
check("secret: not set" in field("config.api_key").text, "the secret's state is not shown")
check("template" in field("config.title").text, "the template field is not marked")
fill("name", "tickets")
fill("config.outbox", args.outbox)
Select(control("config.project")).select_by_visible_text("NET")
fill("config.priority", "2")
fill("config.weight", "1.5")
control("config.notify").click()
fill("config.assignees", "alice@example.com\nbob")
button("Add labels entry").click()
visible(".pair-key").send_keys("component")
visible(".pair-value").send_keys("alerting")
fill("config.api_key", "k-123")
fill("config.title", "[{{ level }}] {{ name }}")
submit()
error = field_error("config.assignees")
check("not an address: bob" in error, f"the plugin's error is not by its field: {error!r}")
shot("ticket-error")
labelled()
fill("config.assignees", "alice@example.com\nbob@example.com")
submit()
heading("Push endpoints")
row("tickets")
stored = api("GET", "/api/v1/endpoints/tickets")["config"]
expected = {"outbox": args.outbox, "project": "NET", "priority": 2, "weight": 1.5, "notify": True,
            "assignees": ["alice@example.com", "bob@example.com"], "labels": {"component": "alerting"},
            "api_key": "(set)", "title": "[{{ level }}] {{ name }}"}
check(stored == expected and type(stored["priority"]) is int and type(stored["notify"]) is bool,
      f"stored {stored}, expected {expected}")
button("Test", row("tickets")).click()
visible('tr.result[data-result-for="tickets"] .notice', "delivered")
shot("ticket-endpoints")

step("editing keeps the secret it does not show")
button("Edit", row("tickets")).click()
heading("Edit tickets")
check("secret: set" in field("config.api_key").text and control("config.api_key").get_attribute("value") == "",
      "the secret is shown, or not shown as set")
fill("config.priority", "4")
shot("ticket-edit")
submit()
heading("Push endpoints")
button("Test", row("tickets")).click()
visible('tr.result[data-result-for="tickets"] .notice', "delivered")

# --- captures ---------------------------------------------------------------------------
if args.pcap:
    step("captures: the pcap endpoint's file, downloaded")
    api("POST", "/api/v1/events", {"name": "Flood", "level": "Critical", "object_id": "edge-1",
                                   "labels": {"kind": "capture"}, "id": "console-ev-3"})
    # A capture's file is listed as soon as it is opened; its header reaches the disk a moment later.
    reload_until("/captures", "section.card tbody tr", lambda text: "capture-" in text and not re.search(r"\s0 B\s", text),
                 "a capture file with data to be listed", timeout=20)
    shot("captures")
    name = visible("section.card tbody tr td").text
    button("Download").click()
    path = os.path.join(downloads, name)
    wait(lambda: os.path.exists(path) and os.path.getsize(path) >= 24, f"{path} to be downloaded")
    with open(path, "rb") as file:
        magic = file.read(4)
    check(magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"),
          f"the download is not a pcap file: {magic!r}")
else:
    print("skipped the captures step: packet capture needs root", flush=True)

step("the PCAP form: the levels that start and stop a capture as level checkboxes")
go("/endpoints/pcap/new")
heading("New PCAP endpoint")
for path, expected in [("config.enable_levels", ["Critical", "Error", "Warning"]), ("config.disable_levels", ["Recovery"])]:
    boxes = css(f'.field[data-field="{path}"] input[type=checkbox]')
    check([box.get_attribute("value") for box in boxes] == ["Critical", "Error", "Warning", "Info", "Recovery"],
          f"{path} is not drawn as level checkboxes")
    check([box.get_attribute("value") for box in boxes if box.is_selected()] == expected, f"{path} does not start at its default")
shot("pcap-form")

# --- channels ----------------------------------------------------------------------------------
step("the channels page lists the plugins")
go("/channels")
heading("Channels")
ticket = visible('tr[data-channel="ticket"]')
check("0.3.1" in ticket.text and "Opens a ticket per alert" in ticket.text and "worker process" in ticket.text, ticket.text)
check(visible('tr[data-channel="http"]'), "http is not listed")
shot("channels")

# --- a phone's width ----------------------------------------------------------------------------
step("at a phone's width nothing needs a sideways scroll, and every button is on the screen")
driver.set_window_size(390, 844)
for page, name in [("/endpoints/ticket", "Push endpoints"), ("/endpoints/ticket/new", "New ticket endpoint"),
                   ("/policies", "Alert policies"), ("/deliveries", "Deliveries"), ("/explain/console-ev-1", "Event console-ev-1")]:
    go(page)
    heading(name)
    overflow = driver.execute_script("""
        // Boxes that scroll their content sideways (what is hidden for screen readers only is 1px wide).
        const wide = [...document.querySelectorAll('main *')].filter((e) => e.clientWidth > 1
          && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible');
        return [document.documentElement.scrollWidth - window.innerWidth, wide.map((e) => e.className || e.tagName)];""")
    check(overflow[0] <= 1 and not overflow[1], f"{page} scrolls sideways at a phone's width: {overflow}")
    outside = driver.execute_script("""
        return [...document.querySelectorAll('main button, main a.button')]
          .filter((b) => b.getBoundingClientRect().right > window.innerWidth + 1).map((b) => b.textContent);""")
    check(not outside, f"{page}: buttons off the screen at a phone's width: {outside}")
    shot("phone-" + page.strip("/").replace("/", "-"))
driver.set_window_size(1280, 1000)

# --- another team --------------------------------------------------------------------------------
step("another team's token sees none of it")
button("Log out").click()
log_in(args.other_token)
heading("Push endpoints")
check("Team dev" in visible("header .who").text, "the header does not name team dev")
go("/endpoints/ticket")
heading("Push endpoints")
visible(".notice", "No ticket endpoint yet")
go("/policies")
heading("Alert policies")
visible(".notice", "No policy yet")
go("/deliveries")
heading("Deliveries")
visible(".notice", "No delivery matches")
go("/endpoint/tickets/edit")
visible(".notice.error", "no such endpoint")
go("/explain/console-ev-1")
visible(".notice.error", "no event with this id")
shot("other-team")

step("an admin picks the team")
button("Log out").click()
log_in(args.admin_token)
heading("Push endpoints")
team = Select(visible("header .who select"))
check(sorted(option.text for option in team.options) == ["dev", "ops"], "the admin's team choice")
team.select_by_visible_text("ops")
go("/endpoints/ticket")
row("tickets")
shot("admin")
Select(visible("header .who select")).select_by_visible_text("dev")
go("/endpoints/http")
check(not css('tr[data-endpoint="dead-end"]'), "team dev's page shows ops's endpoint")
button("New HTTP endpoint").click()
heading("New HTTP endpoint")
check(control("team").get_attribute("value") == "dev", "the form is not for the picked team")
fill("name", "dev-hook")
fill("config.url", args.receiver + "/dev/{{ id }}")
submit()
row("dev-hook")
made = api("GET", "/api/v1/endpoints/dev-hook", token=args.admin_token)
check(made["team"] == "dev", f"the admin's endpoint went to team {made['team']}")

# The API's expected refusals (401, 400, 409) show as network errors; a script error would not.
errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE" and entry["source"] != "network"]
check(not errors, f"the browser logged script errors: {errors}")
driver.quit()
print(f"console walk: {step_number} steps passed", flush=True)
