"""nbgrader configuration of the BPTT course. Run nbgrader commands from this folder."""
import os

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "bptt"
