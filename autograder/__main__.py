"""`python -m autograder grade|feedback|report|samples|demo ...` (see autograder/cli.py)."""
import sys

from autograder.run_nbgrader import skip_iri_grammars

skip_iri_grammars()         # before anything imports nbgrader: ~1.5 s of CPU saved (run_nbgrader.py)

from autograder.cli import main  # noqa: E402

sys.exit(main())
