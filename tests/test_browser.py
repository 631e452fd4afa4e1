"""In a real browser: a student runs an exercise in JupyterLab, an instructor opens the formgrader.

Chromium and its driver come from the distribution (`make test` installs them
as root with apt, as it does bubblewrap); without them these tests skip and
say what to install. Screenshots go to .coursekit-cache/browser/.
"""

import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT, copy_course, free_port, nbgrader
from coursekit import pack

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SHOTS = ROOT / ".coursekit-cache" / "browser"
TOKEN = "coursekit-browser-test"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="no browser: install chromium and chromium-driver (apt-get install chromium "
           "chromium-driver; make test does it when run as root on Debian or Ubuntu)")


@pytest.fixture
def lab(tmp_path):
    """Start JupyterLab on a folder; yield a function that opens a path in Chromium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    servers, drivers = [], []

    def start(folder, path, **env):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
             "--ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", "--allow-root",
             "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={folder}"],
            cwd=folder, env=dict(os.environ, **env), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"lab-{port}.log", "w"))
        servers.append(server)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / f"lab-{port}.log").read_text()
                time.sleep(0.5)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,1600"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        drivers.append(driver)
        driver.get(f"{base}/{path}?token={TOKEN}")
        return driver

    yield start
    for driver in drivers:
        driver.quit()
    for server in servers:
        server.terminate()
        server.wait(timeout=30)


def wait_for(driver, condition, seconds=90):
    deadline = time.monotonic() + seconds
    while not condition(driver):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def page_text(driver):
    return driver.execute_script("return document.body.innerText")


def test_a_student_runs_an_exercise_from_the_pack_and_sees_every_check_pass(lab, tmp_path):
    out = tmp_path / "student-pack"
    pack.build(out)
    exercise = out / "release/01_sigmoid/01_sigmoid.ipynb"
    shutil.copy(ROOT / "submitted/sample-correct/01_sigmoid/01_sigmoid.ipynb", exercise)
    # the kernel imports the pack's own check helper
    driver = lab(out, "lab/tree/release/01_sigmoid/01_sigmoid.ipynb", PYTHONPATH=str(out))
    assert wait_for(driver, lambda d: d.execute_script(
        "const app = window.jupyterapp; const w = app && app.shell.currentWidget;"
        "return !!(w && w.sessionContext && w.sessionContext.session"
        " && w.sessionContext.session.kernel && w.content && w.content.widgets.length);"))
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    passed = ["✔ basic_sigmoid(1) gives the expected result",
              "✔ sigmoid(array([1, 2, 3])) gives the expected result",
              "✔ sigmoid_derivative(array([1, 2, 3])) gives the expected result"]
    seen = wait_for(driver, lambda d: all(line in page_text(d) for line in passed))
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / "exercise-01_sigmoid.png"))
    assert seen, page_text(driver)[-2000:]
    assert not [line for line in page_text(driver).splitlines() if line.startswith("✘")]


def test_the_formgrader_shows_the_assignments(lab, tmp_path):
    empty = tmp_path / "nobody"
    empty.mkdir()
    course = copy_course(tmp_path / "course", submitted=empty)
    assert nbgrader("generate_assignment", "01_sigmoid", "--force", cwd=course).returncode == 0
    driver = lab(course, "formgrader")
    shown = wait_for(driver, lambda d: "01_sigmoid" in page_text(d), seconds=60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / "formgrader.png"))
    assert shown, page_text(driver)[-2000:]
    assert "exchange directory" not in page_text(driver).lower()
