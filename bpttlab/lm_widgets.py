"""Notebook 06's sampling widget: a trained language model writes, at a temperature you choose.

Legend: V vocabulary size, n parallel writers.

Dividing the scores by a temperature before the softmax sharpens the next-symbol
distribution (temperature < 1: towards greedy decoding, always the top symbol)
or flattens it (> 1: towards uniform). The widget shows, for one temperature,
- two next-symbol distributions of the model: where the grammar allows two
  symbols, and at a long-range step where it allows exactly one;
- the share of grammatical strings the model writes, against the temperature
  (measured once, when the widget is built), with the current temperature marked;
- as text: the greedy string, and a sample at that temperature (button: a new sample).
Every text is written after the model has read one whole test string, so that it
starts where it was trained to start, after a string's final E.
The model is any bpttlab.charlm.LanguageModel; no graded code lives here.
"""
import html

import numpy as np

from . import reber
from .charlm import generate, grammatical_share, next_symbol_probabilities, split_strings

TEMPERATURES = np.geomspace(0.1, 10.0, 13)       # where the grammatical share is measured


def write(model, n_symbols, temperature, seed=0, n=1, warm_up=""):
    """generate() after reading the string warm_up (so that the model starts in the state it was trained
    in, after a string's end, not from zeros); returns the n texts written, without warm_up."""
    texts = generate(model, n_symbols, temperature, seed=seed, n=n, start=warm_up + "B")
    return [t[len(warm_up):] for t in texts]


def temperature_curve(model, warm_up="", temperatures=TEMPERATURES, writers=24, n_symbols=72, seed=1):
    """Share of grammatical strings written at each temperature: float array shaped like temperatures.

    writers parallel writers per temperature, n_symbols symbols each after reading warm_up, all in one
    batch (one call of the model per symbol).
    """
    temps = np.repeat(np.asarray(temperatures, dtype=np.float64), writers)
    texts = write(model, n_symbols, temps, seed=seed, n=len(temps), warm_up=warm_up)
    return np.array([grammatical_share(texts[i * writers:(i + 1) * writers]) for i in range(len(temperatures))])


def _contexts(stream_strings):
    """Two prompts from two consecutive test strings a, b: (label, prompt, allowed (V,) bool) each.

    "local": a + the first 4 symbols of b (inside the Reber string: two symbols allowed);
    "long-range": a + b up to its inner E (only b's second symbol allowed).
    """
    a, b = stream_strings[0], stream_strings[1]
    local = reber.legal_next(b)[3]
    long_range = reber.legal_next(b)[reber.long_range_step(len(b))]
    return [(f"after {b[:4]}: two allowed", a + b[:4], local),
            (f"after {b[:2]}\N{HORIZONTAL ELLIPSIS}{b[len(b) - 3]}: only {b[1]}, the long-range step", a + b[:len(b) - 2],
             long_range)]


def _colored(text):
    """HTML: the complete strings of a written text, green when grammatical, red when not; the rest grey."""
    pieces, rest = split_strings(text)
    spans = [f'<span style="color:{"#1a7f37" if reber.is_embedded_reber(p) else "#c62828"}">{html.escape(p)}</span>'
             for p in pieces]
    return " ".join(spans + [f'<span style="color:#888">{html.escape(rest)}</span>'])


class TemperatureView:
    """The widget's figure and text for one temperature; update() is what a slider move runs.

    model: a trained LanguageModel; stream_strings: at least two strings of the test stream (for the prompts).
    """

    def __init__(self, model, stream_strings, n_symbols=80, curve=None):
        from matplotlib.figure import Figure

        from .unrolling import fix_xlabel
        self.model, self.n_symbols = model, n_symbols
        self.warm_up = stream_strings[0]                          # writing starts after a whole string
        self.contexts = _contexts(stream_strings)
        self.scores = []                                          # next-symbol scores after each prompt, (V,)
        for _, prompt, _ in self.contexts:
            scores, _ = model.run(model.params, reber.encode(prompt)[None, :], model.zero_state(1))
            self.scores.append(scores[0, -1])
        self.curve = temperature_curve(model, self.warm_up) if curve is None else np.asarray(curve)
        self.greedy = write(model, n_symbols, 0.0, warm_up=self.warm_up)[0]

        V = len(reber.VOCAB)
        self.fig = Figure(figsize=(10, 3.0), dpi=80)
        self.fig.subplots_adjust(left=0.04, right=0.985, bottom=0.17, top=0.86, wspace=0.12)
        ax_bars, ax_curve = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
        width = 0.4
        self.bars = []
        for i, (label, _, allowed) in enumerate(self.contexts):
            x = np.arange(V) + (i - 0.5) * width
            bars = ax_bars.bar(x, np.zeros(V), width, color=f"C{i}", label=label)
            for v in np.flatnonzero(allowed):                     # the allowed symbols are outlined in black
                bars[v].set_edgecolor("k")
                bars[v].set_linewidth(1.5)
            self.bars.append(bars)
        ax_bars.set_xticks(range(V), reber.VOCAB)
        ax_bars.set_ylim(0, 1.02)
        ax_bars.set_yticks([0, 0.5, 1], ["0", "0.5", "1"])      # few fixed texts: a render draws every one
        ax_bars.legend(fontsize=8, loc="upper left")
        self.bars_title = ax_bars.set_title("", fontsize=9, y=1.0)
        ax_curve.semilogx(TEMPERATURES, self.curve, "o-", color="C2", ms=3)
        self.marker = ax_curve.axvline(1.0, color="C3", lw=2)
        ax_curve.set(xlim=(TEMPERATURES[0], TEMPERATURES[-1]), ylim=(-0.03, 1.03), xlabel="temperature (log scale)")
        ax_curve.set_xticks([0.1, 1, 10], ["0.1", "1", "10"])
        ax_curve.set_xticks([], minor=True)
        ax_curve.set_yticks([0, 0.5, 1], ["0", "0.5", "1"])
        ax_curve.set_title("Share of the strings it writes that are in the grammar", fontsize=9, y=1.0)
        for ax in (ax_bars, ax_curve):
            fix_xlabel(ax)

    def update(self, temperature, seed=0):
        """Redraw for one temperature (> 0) and sample seed; returns (figure, sample text)."""
        for bars, scores in zip(self.bars, self.scores):
            for bar, p in zip(bars, next_symbol_probabilities(scores, temperature)):
                bar.set_height(p)
        self.marker.set_xdata([temperature, temperature])
        self.bars_title.set_text(f"{self.model.name}, temperature {temperature:.2f}: p(next symbol); "
                                 f"outlined: allowed")
        sample = write(self.model, self.n_symbols, temperature, seed=seed, warm_up=self.warm_up)[0]
        return self.fig, sample

    def text_html(self, temperature, sample):
        """The greedy string and the sample, coloured string by string, as HTML."""
        return (f"<div style='font-family:monospace;font-size:13px;line-height:1.6'>"
                f"<b>greedy</b> (temperature 0, always the top symbol): {_colored(self.greedy)}<br>"
                f"<b>sampled</b> at temperature {temperature:.2f}: {_colored(sample)}<br>"
                f"<span style='color:#666'>green: a string of the grammar; red: not; grey: unfinished</span></div>")


def temperature_widget(model, stream_strings, temperature=1.0, show=True, curve=None):
    """A slider (temperature, log scale from 0.1 to 10) and a "new sample" button over a TemperatureView.

    Returns (widget, view). curve: the grammatical share at TEMPERATURES, if already measured.
    """
    import ipywidgets as widgets
    from IPython.display import display

    from .unrolling import figure_image
    view = TemperatureView(model, stream_strings, curve=curve)
    slider = widgets.FloatLogSlider(value=temperature, base=10, min=-1, max=1, step=0.05,
                                    description="temperature", readout_format=".2f",
                                    style={"description_width": "initial"})
    button = widgets.Button(description="new sample", tooltip="draw another sample at this temperature")
    text = widgets.HTML()
    out = widgets.Output()
    seed = [0]

    def redraw(*_):
        fig, sample = view.update(slider.value, seed[0])
        text.value = view.text_html(slider.value, sample)
        with out:
            out.clear_output(wait=True)
            display(figure_image(fig))

    def new_sample(_):
        seed[0] += 1
        redraw()

    slider.observe(redraw, names="value")
    button.on_click(new_sample)
    redraw()
    box = widgets.VBox([widgets.HBox([slider, button]), text, out])
    if show:
        display(box)
    return box, view
