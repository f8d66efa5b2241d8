"""`python -m autograder grade|feedback|report|samples|demo ...` (see autograder/cli.py)."""
import sys

from autograder.cli import main

sys.exit(main())
