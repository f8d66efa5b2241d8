"""The course's explanatory figures: 01's unrolled graph with outputs and losses, 02's gradient flowing backward.

Legend: T time steps, H hidden size.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import solutions  # noqa: E402
from bpttlab import bptt_plots, unrolling  # noqa: E402


@pytest.mark.parametrize("T", [1, 6, 13])
def test_the_unrolled_graph_shows_an_output_and_a_loss_per_step(T):
    plot = unrolling.UnrolledPlot(16, 8)
    plot.update(unrolling.unrolled_view(solutions.rnn_forward, T, T_max=16))
    for nodes, row in ((plot.x_nodes, 0), (plot.h_nodes, 1), (plot.y_nodes, 2), (plot.loss_nodes, 3)):
        xy = nodes.get_offsets()
        first = -1 if row == 1 else 0                                # h_{-1} = h0 sits left of step 0
        assert np.array_equal(xy[:, 0], np.arange(first, T)) and np.all(xy[:, 1] == row)
    for arrows, y0 in ((plot.wy_arrows, 1.16), (plot.loss_arrows, 2.16)):
        xy = arrows.get_offsets()
        on_screen = xy[:, 0] > -50                                  # unused arrows are parked off-screen
        assert np.array_equal(xy[on_screen, 0], np.arange(T)) and np.allclose(xy[on_screen, 1], y0)
        assert np.allclose(arrows.V[on_screen], 0.68) and np.allclose(arrows.U, 0)
    title = plot.title.get_text()
    assert "Wy" in title and "L = L\u2080" in title
    shown = [lab.get_text() for lab in plot.loss_labels if lab.get_visible()]
    assert shown[0] == "L\u2080" and shown[-1] == "L" + unrolling._sub(T - 1)
    for labels in (plot.h_labels, plot.y_labels):                   # a label never sits on its Wy / loss arrow
        for t in range(T):
            x, _ = labels[t].get_position()
            assert x == t if T <= 12 else x > t + 0.1
    plt.close("all")


def test_the_unrolled_graph_relabels_when_T_shrinks_again():
    plot = unrolling.UnrolledPlot(24, 8)
    for T in (24, 6):
        plot.update(unrolling.unrolled_view(solutions.rnn_forward, T, T_max=24))
    assert [lab.get_position() for lab in plot.h_labels[:6]] == [(t, 1) for t in range(6)]
    assert {lab.get_ha() for lab in plot.h_labels[:6]} == {"center"}
    plt.close("all")


def test_the_gradient_flow_figure_marks_the_two_sources_at_h_t():
    fig = bptt_plots.gradient_flow_figure(T=4, t=1)
    texts = " | ".join(t.get_text() for t in fig.axes[0].texts)
    assert "dh[:, 1]" in texts and "carried back from step 2" in texts and "dh0" in texts
    bold = [p for p in fig.axes[0].patches if p.get_linewidth() > 2]
    assert len(bold) == 2                                          # the two sources at h_1, and only they
    starts = sorted(tuple(np.round(p._posA_posB[0], 2)) for p in bold)
    assert starts == [(1.08, 2.0), (2.0, 0.92)]                     # down from y_1, back from h_2
    with pytest.raises(ValueError, match="t must be a step"):
        bptt_plots.gradient_flow_figure(T=4, t=3)
    plt.close("all")
