"""What make says leads somewhere that works."""

import shutil
import subprocess

from conftest import ROOT


def make(*args):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=600)


def test_demo_without_the_sandbox_points_to_a_command_that_runs():
    refused = make("demo", "SANDBOX=off")
    assert refused.returncode != 0
    assert "try: make test SANDBOX=off" in refused.stdout
    # the suggested command does not refuse in turn (dry run: nothing is executed)
    assert make("-n", "test", "SANDBOX=off").returncode == 0


def test_the_student_pack_says_how_to_start_as_root():
    from coursekit.pack import README
    assert "--allow-root" in README and "jupyter lab" in README


def test_release_regenerates_only_what_changed(tmp_path):
    """make release runs generate_assignment for an assignment whose source/ changed, and only it."""
    course = tmp_path / "course"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(course)], check=True)
    (course / ".venv").symlink_to(ROOT / ".venv")
    for assignment in sorted((course / "source").iterdir())[2:]:  # two make the point
        shutil.rmtree(assignment)

    def release():
        done = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "release"], cwd=course,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return [line.split()[2] for line in done.stdout.splitlines()
                if line.startswith("nbgrader generate_assignment")]

    everything = release()
    assert everything == sorted(p.name for p in (course / "source").iterdir())
    assert release() == []
    master = course / "source" / "02_reshape" / "02_reshape.ipynb"
    master.write_text(master.read_text() + "\n")
    assert release() == ["02_reshape"]
