"""How busy the machine is, for tests that wait on something a loaded machine makes slow.

A test may bound a wait (a per-cell timeout, a browser waiting for Run All) or
judge a speed target (a slider redraw within 1 s). When the wait runs out or
the target is missed on a machine loaded by other work, the test cannot tell
a slow machine from a broken course: it then says so (pytest.skip with the
load and what it was waiting for) instead of failing on a timing assumption.
On a machine not loaded by other work, the same event is a failure.
"""
import os

# Loaded by other work: a 1-minute load average above this many times the cores. A test's own processes
# (a kernel, JupyterLab and Chromium in the browser suite) account for a load of about 2-3 on 2 cores.
LOADED_PER_CORE = 2.0


def machine_load():
    """(1-minute load average, number of cores, whether the machine counts as loaded by other work)."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    return load, cores, load > LOADED_PER_CORE * cores


def load_text():
    """'load average 7.3 on 2 cores (loaded by other work)': for messages about waits that ran out."""
    load, cores, loaded = machine_load()
    return f"load average {load:.1f} on {cores} cores" + (" (loaded by other work)" if loaded else "")
