"""The GitHub workflow that course forks run is the CI that runs here."""

import yaml

from conftest import ROOT


def test_the_github_workflow_runs_what_ci_runs_here():
    workflow = yaml.safe_load((ROOT / ".github/workflows/test.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML reads a bare `on` as true
    assert "push" in triggers
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    runs = [step.get("run", "").strip() for step in steps]
    assert "bash .ci/run" in runs
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci.splitlines()[-1]  # .ci/run ends with the README's test command
    readme = (ROOT / "README.md").read_text()
    assert "    make test\n" in readme
