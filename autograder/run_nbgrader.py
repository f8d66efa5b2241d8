"""`python -m nbgrader`, as the grading workers run it: one optional import left out.

Importing nbgrader imports jupyter_server's event schemas, and with them jsonschema's optional
`rfc3987_syntax`, which compiles 38 Lark grammars at import: about 1.5 s of CPU of nbgrader's
2.8 s start (measured with `python -X importtime -c "import nbgrader.apps"`). Those grammars only check
IRI formats in JSON schemas, which grading never validates; without the module jsonschema skips that
format check (it imports it under `suppress(ImportError)`). Every worker of `python -m autograder
grade` and the command itself pay nbgrader's start, so this is taken off each of them.
"""
import sys


def skip_iri_grammars():
    """Make `import rfc3987_syntax` raise ImportError in this process (call it before importing nbgrader)."""
    sys.modules.setdefault("rfc3987_syntax", None)


if __name__ == "__main__":
    skip_iri_grammars()
    from nbgrader.apps.nbgraderapp import main
    sys.exit(main())
