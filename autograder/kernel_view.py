"""What a grading kernel may see of the machine: an allow-list, never a deny-list.

A submission must not reach the reference (`solutions`), the grader
(`autograder`), the course folder or anything else of the instructor's,
wherever they are installed: a system Python under /usr, the official Python
Docker images (/usr/local), a checkout under /usr/local/src, a venv, an
editable install. So the sandbox (sandbox.py) builds the kernel's file system
from what is *allowed*, not from the whole system minus known places:

- system files: the folders of SYSTEM_DIRS, the entries of USR_SHARE and ETC
  (shared libraries, fonts, time zones, the dynamic loader's cache, ...);
- the kernel's Python: its interpreter, its standard library and its shared
  library, and nothing else of its installation;
- Python packages: every folder on the kernel's sys.path (site-packages, and
  any folder a .pth file adds) is shown *filtered*: an empty read-only folder
  holding only the files of the distributions a student kernel needs
  (KERNEL_DISTRIBUTIONS and everything they require, from their metadata) and
  the students' toolbox (KERNEL_PACKAGES, wherever it is installed, editable
  or not). Every other site-packages or dist-packages folder inside a visible
  system folder is shown empty.

`kernel_view(python)` computes this once per grader process by running a
probe in the kernel's own interpreter (stdlib only: it works for a kernel
Python that cannot import the grader, as on Gradescope). `KernelView.describe()`
lists it for `python -m autograder sandbox-check`.
"""
import functools
import inspect
import json
import os
import subprocess
import sys
from dataclasses import dataclass

# Distributions a student kernel needs; their requirements (Requires-Dist without extras) are followed.
# "bpttlab" counts once it is a distribution of its own (the student edition); until then it is a package.
KERNEL_DISTRIBUTIONS = ("ipykernel", "numpy", "matplotlib", "ipywidgets", "bpttlab")
# Top-level packages shown wherever they are installed (an editable checkout included).
KERNEL_PACKAGES = ("bpttlab",)
# System folders shown whole, read-only (binaries and shared libraries; /usr/local, /usr/src, /opt, /home,
# /root, /srv, /var are not).
SYSTEM_DIRS = ("/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/libexec")
USR_SHARE = ("fonts", "fontconfig", "zoneinfo", "locale", "i18n", "terminfo", "mime", "X11", "matplotlib")
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf", "localtime", "timezone",
       "hosts", "host.conf", "gai.conf", "fonts", "alternatives", "mime.types", "os-release", "matplotlibrc")
PACKAGE_FOLDER_NAMES = ("site-packages", "dist-packages")


def _probe(roots, packages):
    """KERNEL SIDE (run with the kernel's Python, stdlib only): the kernel's sys.path and what it may import.

    Returns {"executable", "prefix", "base_prefix", "stdlib", "sys_path",
             "allowed": {folder: [entry names]}, "packages": {name: folder}, "distributions": [names]}.
    """
    import importlib.metadata as md
    import importlib.util
    import os
    import re
    import sys
    import sysconfig

    def norm(name):
        return re.sub(r"[-_.]+", "-", name).lower()

    def marker_ok(marker):
        if "extra" in marker:
            return False                      # optional extras are not installed for the kernel
        try:
            from packaging.markers import Marker
            return Marker(marker).evaluate()
        except Exception:                     # packaging missing or an odd marker: follow it if installed
            return True

    found, queue = {}, list(roots)
    while queue:
        name = norm(queue.pop())
        if name in found:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        found[name] = dist
        for req in dist.requires or []:
            spec, _, marker = req.partition(";")
            if marker.strip() and not marker_ok(marker.strip()):
                continue
            m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
            if m:
                queue.append(m.group(1))

    allowed = {}
    for dist in found.values():
        folder = os.path.realpath(str(dist.locate_file("")))
        names = allowed.setdefault(folder, set())
        meta = getattr(dist, "_path", None)
        if meta is not None:
            names.add(os.path.basename(str(meta)))
        for f in dist.files or []:
            top = f.parts[0] if f.parts else ""
            if top in ("", "..", "__pycache__") or top.endswith(".pth") or os.path.isabs(str(f)):
                continue
            names.add(top)
    places = {}
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            places[name] = os.path.realpath(list(spec.submodule_search_locations)[0])
    return {"executable": sys.executable, "prefix": sys.prefix, "base_prefix": sys.base_prefix,
            "stdlib": sysconfig.get_path("stdlib"), "sys_path": [p for p in sys.path if p],
            "allowed": {k: sorted(v) for k, v in allowed.items()}, "packages": places,
            "distributions": sorted(found)}


@dataclass(frozen=True)
class KernelView:
    """The kernel's file system, as (source, destination) pairs shown read-only.

    python: the interpreter the kernel runs (the path it is called by);
    readonly: ((source, dest), ...) bound read-only, folders or files, outer before inner;
    filtered: ((folder, ((source, name), ...)), ...): `folder` shown as an empty read-only folder holding
      only `name` entries, each bound from `source` (folders with no entries are shown empty);
    distributions: the distributions the kernel can import, besides the standard library;
    search_path: the filtered folders on the kernel's sys.path, in its order (the first holds PATH_FILE).
    """
    python: str
    readonly: tuple
    filtered: tuple
    distributions: tuple
    search_path: tuple = ()
    PATH_FILE = "_bptt_kernel_paths.pth"

    def path_file(self):
        """The text of a .pth file that puts the filtered folders on sys.path in the kernel's own order (the
        .pth files that put them there are not shown), or "" when site-packages is the only one."""
        extra = self.search_path[1:]
        return "".join(f"{p}\n" for p in extra) if extra else ""

    def describe(self):
        """Plain lines: what the kernel sees."""
        lines = [f"interpreter: {self.python}"]
        lines += [f"read-only: {dest}" for _, dest in self.readonly]
        for folder, entries in self.filtered:
            shown = ", ".join(name for _, name in entries) or "nothing"
            lines.append(f"filtered: {folder} shows only: {shown}")
        lines.append(f"importable distributions: {', '.join(self.distributions)}")
        return lines


def _within(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _python_files(info):
    """(source, dest) of the interpreter, pyvenv.cfg and the base installation's shared libraries."""
    out = [(info["executable"], info["executable"])]
    cfg = os.path.join(os.path.dirname(os.path.dirname(info["executable"])), "pyvenv.cfg")
    if info["prefix"] != info["base_prefix"] and os.path.isfile(cfg):
        out.append((cfg, cfg))
    lib = os.path.join(info["base_prefix"], "lib")
    if not any(_within(lib, d) for d in SYSTEM_DIRS) and os.path.isdir(lib):
        out += [(os.path.join(lib, n), os.path.join(lib, n)) for n in sorted(os.listdir(lib))
                if n.startswith("libpython") and ".so" in n]
    return out


def _package_folders_inside(folders):
    """site-packages / dist-packages folders one or two levels below python3* folders of `folders`."""
    found = set()
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        candidates = [folder] + [os.path.join(folder, n) for n in os.listdir(folder)
                                 if n.startswith("python") and os.path.isdir(os.path.join(folder, n))]
        for c in candidates:
            for name in PACKAGE_FOLDER_NAMES:
                path = os.path.join(c, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    found.add(path)
    return found


def build_view(info):
    """The KernelView from a probe result (see _probe)."""
    stdlib = info["stdlib"]
    readonly = _python_files(info)
    if not any(_within(stdlib, d) for d in SYSTEM_DIRS):
        readonly.append((stdlib, stdlib))
    shown = [stdlib] + [d for d in SYSTEM_DIRS if os.path.isdir(d)]
    filtered, on_path = {}, []
    for path in info["sys_path"]:
        real = os.path.realpath(path)
        if not os.path.isdir(real):
            continue
        if _within(real, stdlib) and os.path.basename(real) not in PACKAGE_FOLDER_NAMES:
            continue                            # the standard library and lib-dynload: shown whole
        on_path.append(real)
        entries = filtered.setdefault(real, {})
        for name in info["allowed"].get(real, []):
            source = os.path.join(real, name)
            if os.path.lexists(source):
                entries[name] = source
    site = next(iter(filtered), None)
    for name, place in info["packages"].items():
        folder = next((f for f in filtered if os.path.realpath(f) == os.path.dirname(place)), site)
        if folder is not None:
            filtered[folder][name] = place      # editable or elsewhere: shown inside a filtered folder
    for path in _package_folders_inside([os.path.dirname(stdlib), *shown]):
        filtered.setdefault(path, {})           # visible but not the kernel's: shown empty
    ordered = sorted(filtered.items(), key=lambda item: item[0].count("/"))
    return KernelView(
        python=info["executable"], readonly=tuple(readonly),
        filtered=tuple((folder, tuple((src, name) for name, src in sorted(entries.items())))
                       for folder, entries in ordered),
        distributions=tuple(info["distributions"]), search_path=tuple(dict.fromkeys(on_path)))


@functools.lru_cache(maxsize=4)
def kernel_view(python=None):
    """The KernelView of a kernel run by `python` (default: this interpreter), probed once per process."""
    python = python or sys.executable
    code = (inspect.getsource(_probe) + "\nimport json\n"
            f"print(json.dumps(_probe({list(KERNEL_DISTRIBUTIONS)!r}, {list(KERNEL_PACKAGES)!r})))")
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONNOUSERSITE": "1", "LANG": "C.UTF-8"}
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, cwd="/", timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"could not list what the kernel's Python ({python}) needs: {done.stderr[-2000:]}")
    info = json.loads(done.stdout)
    info["executable"] = python if os.path.isabs(python) else info["executable"]
    return build_view(info)
