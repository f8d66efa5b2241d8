"""Drive the course in JupyterLab from a real browser (Debian's Chromium through Python Playwright).

Used by tests/test_browser.py. Two pieces:

- `JupyterServer`: `jupyter lab` on a free loopback port with a random
  token, serving one folder; started in its own process group and stopped
  by its process id.
- `NotebookPage`: one notebook open in a Playwright page: Run All, wait for
  the kernel's "| Idle" in the status bar, read errors, widgets, sliders and
  the images they drive, save screenshots.

Never run `playwright install` (it downloads browsers): the browser is the
system Chromium, `apt-get install chromium`.
"""
import json
import os
import signal
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from machine_load import load_text

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# Status bar text once the kernel is connected and idle (the toolbar's circle turns idle earlier).
IDLE = '.jp-StatusBar-TextItem:has-text("| Idle")'


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    """`jupyter lab` serving root_dir on 127.0.0.1:<free port> with a random token.

    Its output goes to log_path. start() waits until the REST API answers;
    stop() shuts its kernels down through the REST API, then ends the
    server's process group, by the process id of the server it started.
    """

    def __init__(self, root_dir, log_path, startup_timeout=180.0):
        self.root_dir = Path(root_dir)
        self.log_path = Path(log_path)
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.process = None

    @property
    def settings_dir(self):
        return self.log_path.parent / "lab-settings"

    def _write_settings(self):
        """Fresh user settings: every cell kept in the page (no windowing, so the test sees all
        outputs), no notifications popping over the notebook."""
        folder = self.settings_dir / "@jupyterlab" / "notebook-extension"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
        folder = self.settings_dir / "@jupyterlab" / "apputils-extension"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, relative_path):
        """The URL that opens relative_path (from root_dir) alone, in a fresh JupyterLab workspace of its own
        (no tabs restored from an earlier page), token included."""
        workspace = Path(relative_path).stem.replace(".", "-")
        return (f"{self.base_url}/lab/workspaces/{workspace}/tree/{Path(relative_path).as_posix()}"
                f"?reset&token={self.token}")

    def _api(self, method, path):
        req = urllib.request.Request(f"{self.base_url}/api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self):
        """Shut down every kernel this server runs (through its REST API); returns how many."""
        kernels = self._api("GET", "kernels")
        for kernel in kernels:
            self._api("DELETE", f"kernels/{kernel['id']}")
        return len(kernels)

    def start(self):
        jupyter = Path(sys.executable).with_name("jupyter")
        cmd = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}", "--allow-root",
               f"--ServerApp.root_dir={self.root_dir}",
               # nothing from the network at run time: no news feed, no update check
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               f"--LabApp.user_settings_dir={self.settings_dir}", f"--LabApp.workspaces_dir={self.settings_dir}",
               # window.jupyterapp: lets the test read the notebook model (the outputs the kernel sent)
               "--LabApp.expose_app_in_browser=True"]
        self._write_settings()
        bindir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(cmd, cwd=self.root_dir, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with status {self.process.returncode}; "
                                   f"see {self.log_path}:\n{self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/api/status?token={self.token}", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {self.startup_timeout} s ({load_text()}); "
                           f"see {self.log_path}")

    def stop(self):
        """SIGTERM the process group this server leads (server + kernels), SIGKILL after 10 s."""
        if self.process is None:
            return
        pid = self.process.pid
        if self.process.poll() is None:
            try:
                self.shutdown_kernels()          # kernels run in sessions of their own: not in the group
            except (urllib.error.URLError, OSError):
                pass
            try:
                os.killpg(pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._log.close()
        self.process = None


def launch_chromium(playwright):
    """Debian's Chromium, headless, with the flags that keep it off the network."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} not found: install it with `apt-get install chromium` "
                           "(never `playwright install`)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


class NotebookPage:
    """One notebook open in JupyterLab in a Playwright page.

    page: a playwright.sync_api.Page; server: a started JupyterServer;
    relative_path: the notebook's path from the server's root_dir.
    """

    def __init__(self, page, server, relative_path, shots_dir):
        self.page = page
        self.server = server
        self.relative_path = relative_path
        self.shots_dir = Path(shots_dir)
        self.shots_dir.mkdir(parents=True, exist_ok=True)
        self.stem = Path(relative_path).stem
        # the notebook's own panel (the visible one): every query below stays inside it
        self.panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first

    # ------------------------------------------------------------------ opening and running

    def open(self, timeout_ms=180_000):
        """Open the notebook and wait until its kernel is connected and idle."""
        self.page.goto(self.server.notebook_url(self.relative_path))
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout_ms)
        dialog = self.page.locator(".jp-Dialog .jp-mod-accept")   # kernel choice, if no kernelspec
        if dialog.count():
            dialog.first.click()
        self.wait_idle(timeout_ms)

    def wait_idle(self, timeout_ms):
        self.page.locator(IDLE).first.wait_for(state="visible", timeout=timeout_ms)

    def run_all(self, timeout_ms=120_000):
        """Run -> Run All Cells from the menu bar, then wait until every cell has run and the kernel is idle."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        self.page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        # the kernel goes busy, then idle; an execution prompt "[*]" stays while any cell waits
        deadline = time.monotonic() + timeout_ms / 1000
        self.page.wait_for_timeout(500)
        while time.monotonic() < deadline:
            busy = self.panel.locator('.jp-InputArea-prompt:has-text("[*]")').count()
            idle = self.page.locator(IDLE).count()
            if not busy and idle:
                break
            self.page.wait_for_timeout(250)
        else:
            raise TimeoutError(f"{self.relative_path}: Run All did not finish within {timeout_ms / 1000:.0f} s "
                               f"({load_text()})")
        self.page.wait_for_timeout(500)    # last outputs and widget views render

    def unexecuted_code_cells(self):
        """Prompts of code cells that did not run (empty "[ ]:")."""
        prompts = self.panel.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        return [p for p in prompts if p.strip() in ("[ ]:", "[\u00a0]:")]

    # ------------------------------------------------------------------ what the notebook shows

    def model_outputs(self):
        """Every output of the notebook's model (what the kernel sent), as nbformat dicts, in cell order."""
        return self.page.evaluate("""() => {
            const model = window.jupyterapp.shell.currentWidget.content.model;
            const outputs = [];
            for (const cell of model.cells) outputs.push(...(cell.toJSON().outputs || []));
            return outputs;
        }""")

    def error_outputs(self):
        """Every error output, as "ename: evalue" plus the traceback's last line.

        Read from the notebook's model: JupyterLab 4.6 renders a traceback
        with the stderr mime type, so the page alone cannot tell it from a warning.
        """
        return [f"{o.get('ename')}: {o.get('evalue')}\n{(o.get('traceback') or [''])[-1]}"
                for o in self.model_outputs() if o.get("output_type") == "error"]

    def stderr_outputs(self):
        """Text written to stderr (warnings, for instance), from the notebook's model."""
        return ["".join(o.get("text", "")) for o in self.model_outputs()
                if o.get("output_type") == "stream" and o.get("name") == "stderr"]

    def expected_widget_views(self):
        """How many widget views the kernel sent: outputs of that mime type in the notebook's model."""
        return sum(1 for o in self.model_outputs() if WIDGET_MIME in (o.get("data") or {}))

    def widget_views(self):
        """Top-level widget outputs of the notebook's cells, as (rendered: bool, text) in page order.

        Rendered: the output holds a widget's DOM and no "Error displaying
        widget" / "Loading widget..." placeholder (what JupyterLab shows when
        the widget model is missing or never arrives).
        """
        return self.panel.evaluate("""panel => {
            const outs = [...panel.querySelectorAll(
                '.jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output')];
            return outs.filter(o => !o.hasAttribute('data-mime-type')).map(o => {
                const text = o.innerText || '';
                const broken = /Error displaying widget|Loading widget/.test(text);
                return [!broken && o.querySelector(':scope > .jupyter-widgets') !== null, text.slice(0, 120)];
            });
        }""")

    def sliders(self):
        """Every slider widget, as (description, locator) in page order."""
        found = []
        loc = self.panel.locator(".widget-slider")
        for i in range(loc.count()):
            s = loc.nth(i)
            found.append((s.locator(".widget-label").first.inner_text().strip(), s))
        return found

    @staticmethod
    def readout(slider):
        return slider.locator(".widget-readout").first.inner_text().strip()

    @staticmethod
    def driven_images(slider):
        """The img elements of the widget box around slider (the figure(s) its output shows)."""
        box = slider.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea-output')][1]")
        return box.locator("img")

    def image_digests(self, slider):
        """A short digest (length and 32-bit FNV-1a hash of src) of each image the slider's widget shows."""
        return self.driven_images(slider).evaluate_all("""imgs => imgs.map(img => {
            const s = img.src || '';
            let h = 0x811c9dc5;
            for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
            return s.length + ':' + h.toString(16);
        })""")

    def move_slider(self, slider):
        """Click the slider's handle and press ArrowRight once (ArrowLeft at the maximum), as a student would.

        Returns (the key pressed, time.monotonic() just before the press): a redraw is timed from
        the key press, not from the scrolling and clicking that bring the handle into focus.
        """
        handle = slider.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        key = "ArrowLeft" if at_max else "ArrowRight"
        handle.click()
        pressed = time.monotonic()
        handle.press(key)
        return key, pressed

    def wait_for_change(self, slider, old_readout, old_images, started, timeout_s=30.0):
        """Poll until both the readout and the driven images differ from before.

        started: time.monotonic() just before the key press. Returns
        (readout, images, seconds since started): the first state with both
        changed, or the last state seen once timeout_s has passed. The
        timeout only bounds the wait for a change that never comes; how fast
        the change came is the caller's to judge (a late change is still
        measured and reported).
        """
        while True:
            readout, images = self.readout(slider), self.image_digests(slider)
            elapsed = time.monotonic() - started
            if readout != old_readout and images and images != old_images:
                return readout, images, elapsed
            if elapsed > timeout_s:
                return readout, images, elapsed
            self.page.wait_for_timeout(15)

    # ------------------------------------------------------------------ written answers (notebook 07)

    def reveal_model_answer(self, text, button_text="Show the model answer and rubric", timeout_ms=30_000):
        """Type `text` into the first answer box (a widget Textarea) as a student would, then click the
        reveal button. Returns (disabled before typing, disabled after typing, text of the box's output
        after the click)."""
        box = self.panel.locator(".widget-textarea textarea").first
        box.scroll_into_view_if_needed()
        button = self.panel.locator("button", has_text=button_text).first
        before = button.is_disabled()
        box.click()
        box.press_sequentially(text, delay=5)
        self.page.wait_for_function("b => !b.disabled", arg=button.element_handle(), timeout=timeout_ms)
        after = button.is_disabled()
        button.click()
        area = box.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea-output')][1]")
        area.get_by_text("Model answer", exact=False).first.wait_for(state="visible", timeout=timeout_ms)
        return before, after, area.inner_text()

    def screenshot(self, name, locator):
        """Save a PNG of locator as <shots_dir>/<notebook>__<name>.png; returns its path."""
        path = self.shots_dir / f"{self.stem}__{name}.png"
        locator.screenshot(path=str(path))
        return path

    def screenshot_notebook(self, max_tiles=40):
        """Screenshots of the whole notebook, top to bottom, one per screenful:
        <shots_dir>/<notebook>__page<NN>.png. Returns the paths."""
        scroller = self.panel.locator(".jp-WindowedPanel-outer").first
        paths = []
        scroller.evaluate("e => { e.scrollTop = 0; }")
        for i in range(max_tiles):
            self.page.wait_for_timeout(150)
            path = self.shots_dir / f"{self.stem}__page{i:02d}.png"
            self.page.screenshot(path=str(path))
            paths.append(path)
            moved = scroller.evaluate("""e => {
                const before = e.scrollTop;
                e.scrollTop = before + Math.floor(e.clientHeight * 0.9);
                return e.scrollTop > before;
            }""")
            if not moved:
                break
        return paths
