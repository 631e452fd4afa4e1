"""JupyterHub for the class, as nbgrader documents it for one class and one grader.

Students and the instructor are users of this machine. The hub runs as root
and starts each user's JupyterLab as that user (LocalProcessSpawner), from
this checkout's virtual environment. Everyone's nbgrader points at one shared
exchange folder; students get nbgrader's Assignment List, the instructor's
server opens at the course directory with the formgrader. README ("Running
the class on a server") has the steps; `make hub` starts it.

Settings come from the environment:

    COURSEKIT_EXCHANGE    the shared exchange, a folder every user can write
                          (default /srv/nbgrader/exchange, made 1777 if missing)
    COURSEKIT_GROUP       the Unix group whose members are students (default students)
    COURSEKIT_INSTRUCTOR  the instructor's user name (default instructor)
    COURSEKIT_COURSE      the instructor's course directory, this repository cloned
                          (default ~instructor/numpy-for-deep-learning)
    COURSEKIT_HUB_STATE   where the hub keeps its database, cookie secret and
                          proxy pid (default /srv/jupyterhub)
    COURSEKIT_HUB_AUTH    pam (default): the users' system passwords;
                          shared: one password for everyone, COURSEKIT_HUB_PASSWORD
                          (JupyterHub's SharedPasswordAuthenticator: for tests only)
"""

import grp
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub)

HERE = Path(__file__).resolve().parent
BIN = HERE.parent / ".venv" / "bin"
EXCHANGE = os.environ.get("COURSEKIT_EXCHANGE", "/srv/nbgrader/exchange")
GROUP = os.environ.get("COURSEKIT_GROUP", "students")
INSTRUCTOR = os.environ.get("COURSEKIT_INSTRUCTOR", "instructor")
COURSE = os.environ.get("COURSEKIT_COURSE", f"~{INSTRUCTOR}/numpy-for-deep-learning")
STATE = Path(os.environ.get("COURSEKIT_HUB_STATE", "/srv/jupyterhub"))

# nbgrader's exchange: every user writes into it, nobody deletes another's files.
if not os.path.isdir(EXCHANGE):
    os.makedirs(EXCHANGE)
    os.chmod(EXCHANGE, 0o1777)

c.JupyterHub.bind_url = "http://:8000"
STATE.mkdir(parents=True, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]

if os.environ.get("COURSEKIT_HUB_AUTH", "pam") == "shared":
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = os.environ["COURSEKIT_HUB_PASSWORD"]
    c.Authenticator.allowed_users = {INSTRUCTOR, *grp.getgrnam(GROUP).gr_mem}
else:
    c.JupyterHub.authenticator_class = "pam"
    c.PAMAuthenticator.allowed_groups = {GROUP}
    c.Authenticator.allowed_users = {INSTRUCTOR}

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
# JUPYTER_CONFIG_PATH adds folders where Jupyter and nbgrader look for their
# configuration, first before the rest: everyone's nbgrader_config.py (course
# id, exchange), and for students the switches that leave them nbgrader's
# Assignment List without the instructor's tools.
c.Spawner.environment = {
    "COURSEKIT_EXCHANGE": EXCHANGE,
    "JUPYTER_CONFIG_PATH": os.pathsep.join([str(HERE / "students"), str(HERE / "everyone")]),
    "PATH": os.pathsep.join([str(BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
}


def instructor_at_the_course(spawner):
    """The instructor's server opens at the course, whose nbgrader_config.py it reads."""
    if spawner.user.name == INSTRUCTOR:
        course = os.path.expanduser(COURSE)
        spawner.notebook_dir = course
        spawner.environment = dict(
            spawner.environment, COURSEKIT_COURSE=course,
            JUPYTER_CONFIG_PATH=os.pathsep.join([str(HERE / "everyone"), course]))


c.Spawner.pre_spawn_hook = instructor_at_the_course
