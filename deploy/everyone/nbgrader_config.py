"""nbgrader's settings for every user's server on the hub (see ../jupyterhub_config.py).

The place nbgrader's documentation gives them is /etc/jupyter/nbgrader_config.py;
the hub adds this folder to each server's JUPYTER_CONFIG_PATH instead.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "numpy-for-deep-learning"
c.Exchange.root = os.environ["COURSEKIT_EXCHANGE"]

# The instructor's server: the formgrader grades the course directory.
if os.environ.get("COURSEKIT_COURSE"):
    c.CourseDirectory.root = os.environ["COURSEKIT_COURSE"]
