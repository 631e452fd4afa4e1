"""What make says leads somewhere that works."""

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
