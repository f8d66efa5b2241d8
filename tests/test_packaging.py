"""Packaging: the two distributions and the two install routes agree, the packages import, the graded API matches the contract."""
import inspect
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import solutions

ROOT = Path(__file__).resolve().parents[1]

# CONTRACT.md §2: every graded function's parameters, in order (name, default or EMPTY).
EMPTY = inspect.Parameter.empty
CONTRACT_SIGNATURES = {
    "rnn_step_forward": [("x_t", EMPTY), ("h_prev", EMPTY), ("Wx", EMPTY), ("Wh", EMPTY), ("b", EMPTY)],
    "rnn_forward": [("x", EMPTY), ("h0", EMPTY), ("Wx", EMPTY), ("Wh", EMPTY), ("b", EMPTY)],
    "numerical_gradient": [("f", EMPTY), ("x", EMPTY), ("h", 1e-5)],
    "rnn_step_backward": [("dh_next", EMPTY), ("cache", EMPTY)],
    "rnn_backward": [("dh", EMPTY), ("cache", EMPTY)],
    "gradient_contributions": [("dh", EMPTY), ("cache", EMPTY)],
    "rnn_backward_truncated": [("dh", EMPTY), ("cache", EMPTY), ("k", EMPTY)],
    "rnn_backward_chunked": [("dh", EMPTY), ("cache", EMPTY), ("k", EMPTY)],
    "step_jacobians": [("cache", EMPTY)],
    "gradient_norms_through_time": [("dh_last", EMPTY), ("cache", EMPTY)],
    "scale_to_spectral_radius": [("W", EMPTY), ("rho", EMPTY)],
    "clip_grad_norm": [("grads", EMPTY), ("max_norm", EMPTY)],
    "temporal_softmax_loss": [("scores", EMPTY), ("y", EMPTY)],
}


def normalise(requirement):
    """'Foo_Bar >= 1.0' -> 'foo-bar>=1.0' (PEP 503 name, no spaces)."""
    requirement = requirement.replace(" ", "")
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower() + requirement[len(name):]


def environment_yml():
    """(conda dependencies, pip list) of environment.yml, read without PyYAML.

    Handles the block-list layout used there: `dependencies:` then `- item`
    lines, one of which is `- pip:` followed by a deeper `- item` list.
    """
    conda, pip = [], []
    in_deps, pip_indent = False, None
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            in_deps = line == "dependencies:"
            continue
        if not in_deps:
            continue
        item = line.strip()
        assert item.startswith("- "), f"environment.yml: unexpected line under dependencies: {raw!r}"
        item = item[2:].strip().strip("'\"")
        if pip_indent is not None and indent > pip_indent:
            pip.append(item)
        elif item == "pip:":
            pip_indent = indent
        else:
            pip_indent = None
            conda.append(item)
    return conda, pip


def pyproject(folder=ROOT):
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


def toolbox():
    """The students' toolbox's [project] table (toolbox/pyproject.toml)."""
    return pyproject(ROOT / "toolbox")


LOCAL = ("-e ./toolbox", "-e .")   # environment.yml installs both distributions from the work tree


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    conda, pip = environment_yml()
    for local in LOCAL:
        assert local in pip, f"environment.yml must install both distributions (`- {local}` in its pip list)"
    assert pip.index("-e ./toolbox") < pip.index("-e ."), \
        "environment.yml must install the toolbox before the instructor's package (which depends on it)"
    from_yml = sorted(normalise(r) for r in pip if r not in LOCAL)
    from_toml = sorted(normalise(r) for r in pyproject()["dependencies"] if not normalise(r).startswith("bpttlab"))
    assert from_toml, "pyproject.toml lists no dependencies"
    assert from_yml == from_toml, (f"only in environment.yml: {sorted(set(from_yml) - set(from_toml))}; "
                                   f"only in pyproject.toml: {sorted(set(from_toml) - set(from_yml))}")


def test_environment_yml_python_satisfies_requires_python():
    conda, _ = environment_yml()
    pythons = [c for c in conda if re.match(r"python\b", c)]
    assert len(pythons) == 1, f"environment.yml must pin python once; found {pythons}"
    version = re.fullmatch(r"python\s*=+\s*(\d+)\.(\d+)(?:\.\*)?", pythons[0])
    assert version, f"unexpected python entry {pythons[0]!r}"
    wanted = tuple(int(v) for v in version.groups())
    for clause in pyproject()["requires-python"].split(","):
        m = re.fullmatch(r"\s*(>=|<=|==|!=|>|<)\s*(\d+)\.(\d+)\s*", clause)
        assert m, f"unexpected requires-python clause {clause!r}"
        op, bound = m.group(1), (int(m.group(2)), int(m.group(3)))
        ok = {">=": wanted >= bound, ">": wanted > bound, "<": wanted < bound, "<=": wanted <= bound,
              "==": wanted == bound, "!=": wanted != bound}[op]
        assert ok, f"environment.yml's {pythons[0]} does not satisfy requires-python {clause.strip()!r}"


def test_the_instructors_package_depends_on_the_toolbox_at_its_own_version():
    version = toolbox()["version"]
    pins = [normalise(r) for r in pyproject()["dependencies"] if normalise(r).startswith("bpttlab")]
    assert pins == [f"bpttlab=={version}"], f"pyproject.toml must pin bpttlab=={version} (toolbox/pyproject.toml)"
    assert pyproject()["version"] == version, "the two distributions are released together, at one version"


def test_the_toolbox_needs_nothing_of_the_instructors_tools():
    names = sorted(re.match(r"[a-z0-9-]+", normalise(r)).group(0) for r in toolbox()["dependencies"])
    assert names == ["ipywidgets", "matplotlib", "numpy", "threadpoolctl", "tqdm"]
    shared = {normalise(r) for r in pyproject()["dependencies"]}
    for requirement in toolbox()["dependencies"]:
        assert normalise(requirement) in shared, f"{requirement}: pin it as in pyproject.toml"


def test_both_distributions_support_python_3_11_to_3_13():
    assert pyproject()["requires-python"] == ">=3.11,<3.14"
    assert toolbox()["requires-python"] == ">=3.11"


def test_the_oracle_extra_pins_the_torch_the_tests_use_on_python_3_11_only():
    """torch==2.13.0 is a local wheel for 3.11; elsewhere the extra must not download gigabytes."""
    extras = pyproject()["optional-dependencies"]
    torch = [normalise(r) for r in extras["oracle"] if normalise(r).startswith("torch")]
    assert torch == ['torch==2.13.0;python_version=="3.11"']


def test_packages_import_from_the_installation(tmp_path):
    """Run from an unrelated folder, so that the installed packages are imported, not the work tree's."""
    code = ("import solutions, autograder, bpttlab\n"
            "print(solutions.__file__, autograder.__file__, bpttlab.__file__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"import failed:\n{done.stderr}"


@pytest.mark.parametrize("name", list(CONTRACT_SIGNATURES))
def test_contract_function_is_graded_with_the_contract_signature(name):
    assert name in solutions.GRADED_FUNCTIONS, f"{name} is missing from solutions.GRADED_FUNCTIONS"
    fn = getattr(solutions, name, None)
    assert callable(fn), f"solutions.{name} does not exist"
    params = [(q.name, q.default) for q in inspect.signature(fn).parameters.values()]
    assert params == CONTRACT_SIGNATURES[name]
    kinds = {q.kind for q in inspect.signature(fn).parameters.values()}
    assert kinds <= {inspect.Parameter.POSITIONAL_OR_KEYWORD}, f"{name}: parameters must be plain (positional or keyword)"


def test_graded_functions_exist_once_each():
    graded = solutions.GRADED_FUNCTIONS
    assert len(set(graded)) == len(graded), "a name is listed twice in GRADED_FUNCTIONS"
    for name in graded:
        assert callable(getattr(solutions, name, None)), f"solutions.{name} is listed but not defined"
