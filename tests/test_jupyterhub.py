"""The class on JupyterHub, as deploy/ sets it up: two students and the instructor, one exchange.

A real hub (deploy/jupyterhub_config.py, run as root, its proxy from
deploy/node_modules) starts each user's JupyterLab as that system user. The
instructor releases 01_sigmoid from a course directory of their own; one
student fetches it in headless Chromium through nbgrader's Assignment List,
the other through the same extension's REST API; each puts in a notebook
(one right, one wrong) and submits; the instructor collects, grades and
releases feedback; each student fetches it and finds their own score.

The test creates system users and a group (useradd, groupadd) and removes
them afterwards, so it needs root; it needs Chromium and its driver (as
tests/test_browser.py), and node and npm for the proxy (`make test`
installs them as root on Debian or Ubuntu). Elsewhere it skips, saying what
it lacks. What the hub writes (database, cookie secret, proxy pid) goes to a
temporary folder.
"""

import contextlib
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from conftest import ROOT, copy_course, free_port
from test_browser import CHROMIUM, DRIVER, SHOTS, page_text, wait_for

DEPLOY = ROOT / "deploy"
PROXY = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"
BIN = Path(sys.executable).parent
COURSE_ID = "numpy-for-deep-learning"
GROUP = "ck-hub-students"
INSTRUCTOR = "ck-hub-teacher"
# each student, the sample they put in, and the score it earns on 01_sigmoid (tests/samples.py)
STUDENTS = {"ck-hub-ann": ("sample-correct", "5.0 / 5.0"),
            "ck-hub-ben": ("sample-partly-wrong", "2.0 / 5.0")}
PASSWORD = secrets.token_urlsafe(16)


def lacking():
    """What this machine lacks for the test, as a sentence; None if nothing."""
    if os.geteuid() != 0:
        return "needs root: it creates system users (useradd) and runs JupyterHub as root"
    tools = ["useradd", "userdel", "groupadd", "groupdel", "runuser", "node", "npm"]
    if [tool for tool in tools if not shutil.which(tool)]:
        return (f"needs {', '.join(tool for tool in tools if not shutil.which(tool))} "
                "(apt-get install passwd util-linux nodejs npm; make test installs node and npm "
                "when run as root on Debian or Ubuntu)")
    if not (CHROMIUM and DRIVER):
        return "no browser: install chromium and chromium-driver (apt-get install chromium chromium-driver)"
    return None


LACKING = lacking()
pytestmark = pytest.mark.skipif(LACKING is not None, reason=str(LACKING))


@contextlib.contextmanager
def passable_to_everyone(*paths):
    """Let every user pass through the folders above `paths` while the test runs.

    The hub starts each user's server with this environment's Python, and
    that user must reach it. On a server it lives where everyone can (see
    README); on CI and this kind of machine it is pyenv's, under /root (mode
    700): those folders get o+x (pass, not list) and their modes back after.
    """
    changed = {}
    for path in paths:
        for folder in [*reversed(Path(path).parents), Path(path)]:
            mode = folder.stat().st_mode
            if folder.is_dir() and not mode & stat.S_IXOTH and folder not in changed:
                changed[folder] = mode
                folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
    try:
        yield
    finally:
        for folder, mode in changed.items():
            folder.chmod(stat.S_IMODE(mode))


def sh(*command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=300, **kwargs)
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done


def remove_users():
    """Remove the test's users and group, their processes first (by process id)."""
    for user in [INSTRUCTOR, *STUDENTS]:
        pids = subprocess.run(["pgrep", "-u", user], capture_output=True, text=True).stdout.split()
        for pid in pids:
            subprocess.run(["kill", "-9", pid], capture_output=True)
        subprocess.run(["userdel", "-r", user], capture_output=True)
    subprocess.run(["groupdel", GROUP], capture_output=True)


@pytest.fixture
def python_for_everyone():
    """This environment's Python, reachable by the test's users for the test."""
    with passable_to_everyone(Path(os.path.realpath(sys.executable)).parent, BIN, ROOT):
        yield


@pytest.fixture
def hub(python_for_everyone):
    """deploy/'s hub on free local ports, with the test's users; yields a dict of what it made."""
    if not PROXY.exists():
        sh("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=DEPLOY)
    if subprocess.run([PROXY, "--version"], capture_output=True).returncode != 0:
        pytest.skip(f"configurable-http-proxy does not run with this node ({shutil.which('node')})")
    folder = Path(tempfile.mkdtemp(prefix="coursekit-hub-"))
    folder.chmod(0o755)  # the users reach the exchange inside
    exchange = folder / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)  # as nbgrader's /srv/nbgrader/exchange
    remove_users()  # left by an interrupted run
    server = None
    try:
        sh("groupadd", GROUP)
        for user in STUDENTS:
            sh("useradd", "--create-home", "-K", "HOME_MODE=0700", "--groups", GROUP, user)
        sh("useradd", "--create-home", "-K", "HOME_MODE=0700", INSTRUCTOR)
        (folder / "nothing").mkdir()
        course = copy_course(folder / "course", submitted=folder / "nothing")
        sh("chown", "-R", f"{INSTRUCTOR}:", course)
        course.chmod(0o700)  # the answers and the gradebook are the instructor's alone
        env = dict(os.environ, COURSEKIT_EXCHANGE=str(exchange), COURSEKIT_GROUP=GROUP,
                   COURSEKIT_INSTRUCTOR=INSTRUCTOR, COURSEKIT_COURSE=str(course),
                   COURSEKIT_HUB_STATE=str(folder / "hub"), COURSEKIT_HUB_AUTH="shared",
                   COURSEKIT_HUB_PASSWORD=PASSWORD)
        port, hub_port, proxy_port = free_port(), free_port(), free_port()
        log = folder / "hub.log"
        with open(log, "w") as errors:
            server = subprocess.Popen(
                [BIN / "jupyterhub", "-f", DEPLOY / "jupyterhub_config.py",
                 f"--JupyterHub.bind_url=http://127.0.0.1:{port}",
                 f"--JupyterHub.hub_bind_url=http://127.0.0.1:{hub_port}",
                 f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{proxy_port}"],
                cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=errors)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/hub/api/", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield {"url": base, "course": course, "exchange": exchange, "log": log}
    finally:
        if server is not None:
            server.terminate()  # the hub stops the users' servers and its proxy
            server.wait(timeout=60)
        remove_users()
        shutil.rmtree(folder, ignore_errors=True)


def as_instructor(hub, *command):
    """Run a command as the instructor in the course directory, as their terminal would."""
    return sh("runuser", "-u", INSTRUCTOR, "--", "env", f"PATH={BIN}:/usr/bin:/bin",
              f"COURSEKIT_EXCHANGE={hub['exchange']}", *map(str, command), cwd=hub["course"])


class User:
    """A hub user through the REST API: logged in with the password, with a token of their own."""

    def __init__(self, hub, name):
        self.name, self.hub = name, hub["url"]
        self.url = f"{self.hub}/user/{name}"  # their server, through the hub's proxy
        session = requests.Session()
        session.get(f"{self.hub}/hub/login").raise_for_status()
        xsrf = session.cookies.get("_xsrf")
        logged_in = session.post(f"{self.hub}/hub/login", allow_redirects=False,
                                 data={"username": name, "password": PASSWORD, "_xsrf": xsrf})
        assert logged_in.status_code == 302, logged_in.text[-2000:]
        # the hub's API takes a logged-in browser's requests with the session's xsrf token
        xsrf = session.cookies.get("_xsrf")
        made = session.post(f"{self.hub}/hub/api/users/{name}/tokens", json={"note": "test"},
                            headers={"X-XSRFToken": xsrf})
        assert made.status_code == 201, made.text
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"token {made.json()['token']}"

    def start(self):
        """Start the user's server and wait until it answers."""
        started = self.api.post(f"{self.hub}/hub/api/users/{self.name}/server")
        assert started.status_code in (201, 202), started.text
        deadline = time.monotonic() + 90
        while not self.api.get(f"{self.hub}/hub/api/users/{self.name}").json()["servers"].get(
                "", {}).get("ready"):
            assert time.monotonic() < deadline, f"{self.name}'s server did not start"
            time.sleep(0.2)
        return self

    def get(self, path, **kwargs):
        return self.api.get(f"{self.url}/{path}", **kwargs)

    def post(self, path, **kwargs):
        return self.api.post(f"{self.url}/{path}", **kwargs)

    def assignments(self, action=None):
        """nbgrader's Assignment List: the list, or an action (fetch, submit, fetch_feedback)."""
        data = {"course_id": COURSE_ID, "assignment_id": "01_sigmoid"}
        done = self.post(f"assignments/{action}", data=data) if action else self.get(
            "assignments", params={"course_id": COURSE_ID})
        done.raise_for_status()
        answer = done.json()
        assert answer["success"], answer.get("value")
        return {(a["assignment_id"], a["status"]) for a in answer["value"]}


def fetch_in_the_browser(hub, name):
    """Log in to the hub in Chromium, open nbgrader's Assignment List and fetch 01_sigmoid."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        driver.get(f"{hub['url']}/hub/login")
        driver.find_element(By.ID, "username_input").send_keys(name)
        driver.find_element(By.ID, "password_input").send_keys(PASSWORD)
        driver.find_element(By.ID, "login_submit").click()
        driver.get(f"{hub['url']}/user/{name}/lab")

        def click(xpath):
            found = wait_for(driver, lambda d: d.find_elements(By.XPATH, xpath), seconds=60)
            assert found, page_text(driver)[-2000:]
            driver.find_element(By.XPATH, xpath).click()

        click("//div[contains(@class, 'lm-MenuBar-itemLabel') and text()='Nbgrader']")
        click("//div[contains(@class, 'lm-Menu-itemLabel') and text()='Assignment List']")
        click("//div[@id='released_assignments_list']//button[text()='Fetch']")
        fetched = wait_for(driver, lambda d: d.find_elements(
            By.XPATH, "//div[@id='fetched_assignments_list']//*[text()='01_sigmoid']"), seconds=30)
        driver.save_screenshot(str(SHOTS / "jupyterhub-assignment-list.png"))
        assert fetched, page_text(driver)[-2000:]
    finally:
        driver.quit()


def test_two_students_fetch_submit_and_get_their_own_feedback_through_the_hub(hub):
    # release/ is as `make release` left it: the instructor releases 01_sigmoid while the
    # users' servers start, then records it in the gradebook while the students work
    with ThreadPoolExecutor(4) as pool:
        released = pool.submit(as_instructor, hub, BIN / "nbgrader", "release_assignment",
                               "01_sigmoid")
        *students, instructor = pool.map(lambda name: User(hub, name).start(),
                                         [*STUDENTS, INSTRUCTOR])
        released.result()
        in_the_gradebook = pool.submit(as_instructor, hub, BIN / "nbgrader",
                                       "generate_assignment", "01_sigmoid", "--force")
        ann, ben = students
        # students have the Assignment List, not the formgrader (deploy/students/)
        assert ann.get("formgrader").status_code == 404
        assert ann.assignments() == {("01_sigmoid", "released")}
        # the course nbgrader's configuration names (deploy/everyone/), as the UI lists it
        assert ben.get("courses").json() == {"success": True, "value": [COURSE_ID]}

        in_the_browser = pool.submit(fetch_in_the_browser, hub, ann.name)
        assert ben.assignments("fetch") == {("01_sigmoid", "fetched")}
        in_the_browser.result()
        assert ann.assignments() == {("01_sigmoid", "fetched")}
        for student in students:
            sample, _ = STUDENTS[student.name]
            notebook = ROOT / "submitted" / sample / "01_sigmoid/01_sigmoid.ipynb"
            put = student.api.put(f"{student.url}/api/contents/01_sigmoid/01_sigmoid.ipynb",
                                  json={"type": "notebook", "format": "json",
                                        "content": json.loads(notebook.read_text())})
            assert put.status_code in (200, 201), put.text
            assert ("01_sigmoid", "submitted") in student.assignments("submit")
        in_the_gradebook.result()

    as_instructor(hub, BIN / "nbgrader", "collect", "01_sigmoid")
    graded = as_instructor(hub, BIN / "python", "-m", "coursekit.grade")
    assert "Every submission was graded." in graded.stdout, graded.stdout
    as_instructor(hub, BIN / "nbgrader", "release_feedback", "01_sigmoid")
    # the instructor's own server is the course's formgrader
    shown = instructor.get("formgrader/api/assignments")
    assert shown.status_code == 200, shown.text[-2000:]
    assert {a["name"]: a["num_submissions"] for a in shown.json()}["01_sigmoid"] == 2

    for student in students:
        student.assignments("fetch_feedback")
        folders = student.get("api/contents/01_sigmoid/feedback").json()["content"]
        assert len(folders) == 1  # one submission, one feedback folder named by its time
        page = student.get(f"files/{folders[0]['path']}/01_sigmoid.html")
        page.raise_for_status()
        _, score = STUDENTS[student.name]
        assert f"01_sigmoid (Score: {score})" in page.text
        assert page.text.count("01_sigmoid (Score:") == 1  # theirs, nobody else's
