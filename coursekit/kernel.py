"""The kernel graded notebooks run in: ipykernel's, without its debugger.

`python -m coursekit.kernel -f CONNECTION_FILE` starts what `python -m
ipykernel_launcher` starts, except that debugpy cannot be imported: ipykernel
then runs without a debugger, which nobody attaches to a grading kernel, and
does not load debugpy at every start (0.08 s of CPU a kernel, a quarter of
its start-up).  coursekit.sandbox starts kernels this way.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    try:
        here = Path.cwd()
    except FileNotFoundError:  # its folder was removed as it started: grading was stopped
        sys.exit(1)
    # as ipykernel_launcher: no imports from the working folder while starting
    if sys.path[0] == "" or Path(sys.path[0]) == here:
        del sys.path[0]
    sys.modules["debugpy"] = None  # `import debugpy` raises ImportError
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
