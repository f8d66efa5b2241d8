"""Which cells of a submission grading does not need to run (`python -m autograder grade`, by default).

Grading checks the student's functions by calling them on fresh inputs (remote.py); the course's
exploration cells (plots, widgets, self-checks, training runs) only show things. In 03, 05 and 06 they
are most of a notebook's running time. A code cell is left out of a graded run when all of these hold:

1. it is a plain cell (not an answer, test or provided cell of nbgrader);
2. its source is, up to trailing white space, one of the course's own plain cells of that notebook
   (course/source/): a cell the student wrote or edited always runs;
3. it parses as Python, and no cell that does run reads a name it binds. A cell reads the names it
   loads at module level, and those a function body loads without binding them itself (a function
   reads globals when the grader calls it); the graded functions' names count as read by the grader.
   This closes over the kept cells: a cell kept because of a name it binds keeps, in turn, the cells
   binding what it reads.

If any cell that runs looks up names dynamically (`globals()`, `eval`, `get_ipython()`, a frame's
`f_globals`, ...) or cannot be parsed (an IPython magic), every cell runs. The cells left out are the
course author's, which change no state other cells see but through the names they bind; see
tests/test_needed_cells.py and the CLI test that compares scores with plain `nbgrader autograde`.
"""
import ast

from nbgrader import utils

# a kept cell that uses one of these may read any global: nothing is left out
DYNAMIC_NAMES = frozenset({"globals", "locals", "vars", "eval", "exec", "dir", "get_ipython", "__main__",
                           "__builtins__", "__import__"})
DYNAMIC_ATTRIBUTES = frozenset({"f_globals", "f_locals", "__globals__", "__dict__", "user_ns", "modules"})


class _Everything:
    """The names a star import binds: every name."""

    def __and__(self, other):
        return bool(other)


EVERYTHING = _Everything()


def normalized(source):
    """A cell's source compared line by line without trailing white space."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def is_plain(cell):
    """A code cell that nbgrader neither grades, marks as an answer, nor locks."""
    return cell.cell_type == "code" and not (utils.is_grade(cell) or utils.is_solution(cell)
                                              or utils.is_locked(cell))


def course_plain_sources(course_notebook):
    """The normalized sources of the plain code cells of the course's own version of a notebook."""
    return {normalized(c.source) for c in course_notebook.cells if is_plain(c) and c.source.strip()}


def _root_name(node):
    """`a` for a, a.b, a[0].c(...): the name an attribute or item assignment changes."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = _FUNCTIONS + _COMPREHENSIONS


def _binds(node):
    """The names one node binds in its scope: assignment and deletion targets, definitions, imports
    (`*` for a star import), `except ... as`, and match captures."""
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        return {node.id}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {alias.asname or alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
        return {node.name}
    if isinstance(node, ast.MatchMapping) and node.rest:
        return {node.rest}
    return set()


def _local_names(scope):
    """The names local to a function, lambda or comprehension: its parameters or targets, and every name
    its own body binds (nested scopes excluded), less those it declares global."""
    if isinstance(scope, _COMPREHENSIONS):
        return {n.id for g in scope.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
    a = scope.args
    names = {arg.arg for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if arg}
    declared = set()
    todo = list(scope.body) if isinstance(scope.body, list) else [scope.body]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        names |= _binds(node)
        if not isinstance(node, _SCOPES):
            todo.extend(ast.iter_child_nodes(node))
    return names - declared


def _global_reads(node, local=frozenset(), into=None):
    """The names `node` loads that are not local to a function or comprehension around them: the
    module-level names it reads (a function's body reads them when it is called)."""
    into = set() if into is None else into
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
        into.add(node.id)
    if isinstance(node, _FUNCTIONS):
        # decorators, defaults and annotations are evaluated where the function is defined
        outside = [*getattr(node, "decorator_list", []), *node.args.defaults,
                   *[d for d in node.args.kw_defaults if d is not None]]
        for child in outside:
            _global_reads(child, local, into)
        inner = local | _local_names(node)
        for child in (node.body if isinstance(node.body, list) else [node.body]):
            _global_reads(child, inner, into)
        return into
    if isinstance(node, _COMPREHENSIONS):
        inner = local | _local_names(node)
        for child in ast.iter_child_nodes(node):
            _global_reads(child, inner, into)
        return into
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        into.update(node.names)
    for child in ast.iter_child_nodes(node):
        _global_reads(child, local, into)
    return into


def names_of(source):
    """(bound, read, dynamic) for a cell's source; None when it does not parse as Python.

    bound: names the cell may bind: assigned, deleted, imported, defined or changed through an attribute
    or item, at any depth (EVERYTHING for a star import); read: the module-level names it loads, inside
    function bodies too; dynamic: whether it may read any global by name.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    bound, every_name, dynamic = set(), set(), False
    for node in ast.walk(tree):
        bound |= _binds(node)
        if isinstance(node, ast.Name):
            every_name.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            dynamic |= any(alias.name.split(".")[0] == "__main__" for alias in node.names)
        elif isinstance(node, ast.Attribute):
            dynamic |= node.attr in DYNAMIC_ATTRIBUTES
            if not isinstance(node.ctx, ast.Load):
                bound.add(_root_name(node))
        elif isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
            bound.add(_root_name(node))
    bound.discard(None)
    dynamic |= bool(every_name & DYNAMIC_NAMES)
    return (EVERYTHING if "*" in bound else bound), _global_reads(tree), dynamic


def cells_not_needed(cells, run, course_sources, graded_names):
    """Indices among `run` (the code cells grading would run, in order) that it may leave out.

    cells: the notebook's cells; course_sources: course_plain_sources of the course's notebook;
    graded_names: the graded functions' names (read by the grader). Returns a sorted list.
    """
    candidates, kept = {}, []
    for i in run:
        cell, names = cells[i], names_of(cells[i].source)
        if names is not None and is_plain(cell) and normalized(cell.source) in course_sources:
            candidates[i] = names
        else:
            kept.append(names)
    if any(names is None or names[2] for names in kept):
        return []                                       # a magic or a dynamic lookup: it may read anything
    needed = set(graded_names).union(*(read for _, read, _ in kept))
    changed = True
    while changed:                                      # keep whatever binds a needed name, then what it reads
        changed = False
        for i, (bound, read, dynamic) in list(candidates.items()):
            if bound & needed:
                if dynamic:
                    return []
                del candidates[i]
                needed |= read
                changed = True
    return sorted(candidates)
