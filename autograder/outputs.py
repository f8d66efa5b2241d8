"""Outputs of a submission's cells are untrusted: bounded in bytes while they arrive.

A kernel can print gigabytes, display a 500 MB image or raise an exception
whose message is the size of the disk; nbclient keeps every output in memory
and nbgrader's LimitOutput counts lines only (stream text and traceback lines,
never images or HTML). `OutputBudget.admit` is called for every output as it
arrives (autograder/nbgrader_plugin.py's GradeOutsideKernel.output) and keeps
at most:

- MAX_STREAM_BYTES of printed text per cell (stdout and stderr together);
- MAX_OUTPUT_BYTES per rich output (an image, HTML, JSON; a plot is ~50 KB);
- MAX_TRACEBACK_BYTES per error (its message and traceback);
- MAX_NOTEBOOK_BYTES for all the outputs of the notebook together.

What is cut is replaced by a line saying so, in the notebook (so also in the
feedback), and `notes()` sums it up per cell for the results. Single messages
above kernels.MAX_MESSAGE_BYTES never reach this point: the grader's sockets
drop them on arrival.
"""
import json

MAX_STREAM_BYTES = 256 * 1024
MAX_OUTPUT_BYTES = 2 * 2 ** 20
MAX_TRACEBACK_BYTES = 64 * 1024
MAX_NOTEBOOK_BYTES = 16 * 2 ** 20


def _size(value):
    return len(value) if isinstance(value, str) else len(json.dumps(value, default=str))


def rich_size(out):
    """Bytes of a display_data / execute_result output: its data and metadata."""
    return sum(_size(v) for v in out.get("data", {}).values()) + _size(out.get("metadata", {}))


def _kb(n):
    return f"{n / 1024:.0f} KB" if n < 2 ** 20 else f"{n / 2 ** 20:.1f} MB"


class OutputBudget:
    """What the notebook's outputs may still take; `admit(out, cell_index)` -> the output to keep or None."""

    def __init__(self):
        self.total = 0
        self.stream = {}          # cell index -> bytes of printed text kept
        self.cut = {}             # cell index -> bytes not kept

    def _room(self):
        return MAX_NOTEBOOK_BYTES - self.total

    def _drop(self, cell_index, n):
        self.cut[cell_index] = self.cut.get(cell_index, 0) + n

    def admit(self, out, cell_index):
        """The output as it may be kept (possibly shortened, or a note in its place), or None to drop it."""
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
            used = self.stream.get(cell_index, 0)
            room = max(0, min(MAX_STREAM_BYTES - used, self._room()))
            if len(text) <= room:
                self.stream[cell_index] = used + len(text)
                self.total += len(text)
                return out
            first_cut = cell_index not in self.cut
            self._drop(cell_index, len(text) - room)
            kept = text[:room] + (f"\n[... output cut: this cell printed more than {_kb(MAX_STREAM_BYTES)} "
                                  "(the rest is not kept)]\n" if first_cut else "")
            if not kept:
                return None
            self.stream[cell_index] = MAX_STREAM_BYTES
            self.total += len(kept)
            out["text"] = kept
            return out
        if kind == "error":
            ename, evalue = str(out.get("ename", ""))[:200], str(out.get("evalue", ""))
            lines, kept_bytes = [], len(ename)
            evalue_kept = evalue[:min(len(evalue), MAX_TRACEBACK_BYTES // 4)]
            kept_bytes += len(evalue_kept)
            for line in out.get("traceback", []):
                line = str(line)
                if kept_bytes + len(line) > MAX_TRACEBACK_BYTES:
                    lines.append(f"[... traceback cut at {_kb(MAX_TRACEBACK_BYTES)}]")
                    break
                lines.append(line)
                kept_bytes += len(line)
            original = len(ename) + len(evalue) + sum(len(str(l)) for l in out.get("traceback", []))
            if kept_bytes > self._room():
                self._drop(cell_index, original)
                return None
            if original > kept_bytes:
                self._drop(cell_index, original - kept_bytes)
                if len(evalue_kept) < len(evalue):
                    evalue_kept += f" [... message cut at {_kb(len(evalue_kept))}]"
            out["ename"], out["evalue"], out["traceback"] = ename, evalue_kept, lines
            self.total += kept_bytes
            return out
        if kind in ("display_data", "execute_result"):
            size = rich_size(out)
            if size <= MAX_OUTPUT_BYTES and size <= self._room():
                self.total += size
                return out
            self._drop(cell_index, size)
            kinds = ", ".join(sorted(out.get("data", {}))) or "empty"
            why = (f"larger than {_kb(MAX_OUTPUT_BYTES)}" if size > MAX_OUTPUT_BYTES
                   else f"the notebook's outputs reached {_kb(MAX_NOTEBOOK_BYTES)}")
            note = f"[output cut: a {kinds} output of {_kb(size)} was not kept ({why})]\n"
            self.total += len(note)
            return {"output_type": "stream", "name": "stdout", "text": note}
        return out

    def admit_update(self, data, metadata):
        """May a display be updated in place with this data (update_display_data)?"""
        size = _size(data) + _size(metadata or {})
        if size <= MAX_OUTPUT_BYTES and size <= self._room():
            self.total += size
            return True
        return False

    def notes(self):
        """One line per cell whose output was cut, for the results."""
        return [f"cell {i}: {_kb(n)} of output was not kept (limits: {_kb(MAX_STREAM_BYTES)} of printed text "
                f"per cell, {_kb(MAX_OUTPUT_BYTES)} per image or rich output, {_kb(MAX_NOTEBOOK_BYTES)} per notebook)"
                for i, n in sorted(self.cut.items())]
