"""One long stream of symbols for a language model, cut into windows for stateful truncated BPTT.

Legend: N batch size (parallel streams), k window length (the truncation),
L stream length, S steps per parallel stream, V vocabulary size.

A language model is trained on one long text, not on separate sentences: the
text is cut into N equally long pieces read side by side (row n of a batch
continues where row n of the previous batch stopped), and each update reads
the next window of k steps of every piece. The hidden state is carried from
one window to the next; the gradient is not (truncated BPTT as deep-learning
frameworks do it: PyTorch's word_language_model example, `h.detach()`).

The stream here is made of embedded Reber strings written one after the
other (bpttlab.reber): "...BPBTXSEPE" + "BTBPVVETE" + ... Every next symbol
is one of at most two, chosen with probability 1/2, so the best possible loss
is known exactly; the one symbol that needs a long memory is the second-to-last
symbol of each string (it repeats the second one).
"""
from dataclasses import dataclass

import numpy as np

from . import reber


@dataclass(frozen=True)
class ReberStream:
    """Embedded Reber strings written one after the other, with what a perfect model would know.

    ids: int array of shape (L,), the symbols (indices into reber.VOCAB);
    allowed: bool array of shape (L - 1, V): allowed[t, v] is True when symbol v may follow ids[:t+1]
      (after a string's final E the next string's B is the only one);
    long_range: int array of shape (M,), the steps t whose next symbol is a string's second-to-last
      one (one per string but the last): it must repeat the symbol read at step t - distance;
    distance: int array of shape (M,), how many steps back that symbol was read (string length - 4);
    strings: the strings, in order.
    """
    ids: np.ndarray
    allowed: np.ndarray
    long_range: np.ndarray
    distance: np.ndarray
    strings: tuple

    def __len__(self):
        return len(self.ids)

    def text(self, start=0, stop=80):
        """The symbols ids[start:stop] as a string."""
        return reber.decode(self.ids[start:stop])


def reber_stream(n_strings, seed):
    """A ReberStream of n_strings (>= 2) embedded Reber strings drawn from np.random.default_rng(seed)."""
    if isinstance(n_strings, bool) or not isinstance(n_strings, (int, np.integer)) or n_strings < 2:
        raise ValueError(f"n_strings must be a whole number >= 2; got {n_strings!r}")
    strings = reber.embedded_reber_strings(n_strings, seed)
    after_end = np.zeros((1, len(reber.VOCAB)), dtype=bool)
    after_end[0, reber.INDEX["B"]] = True                      # a string's last E: the next string's B follows
    allowed, long_range, distance, offset = [], [], [], 0
    for s in strings:
        allowed += [reber.legal_next(s), after_end]
        long_range.append(offset + reber.long_range_step(len(s)))
        distance.append(len(s) - 4)                              # from step offset + 1 (c read) to the long-range step
        offset += len(s)
    ids = np.concatenate([reber.encode(s) for s in strings])
    return ReberStream(ids=ids, allowed=np.concatenate(allowed)[:len(ids) - 1],
                       long_range=np.array(long_range), distance=np.array(distance), strings=tuple(strings))


def best_losses(stream):
    """The lowest loss per symbol any model can reach on the stream, with and without remembering.

    Every step offers m = 1 or 2 equally likely symbols (stream.allowed), so a
    perfect model pays ln m per step. A model that forgets the second symbol of
    each string can only guess the long-range one: ln 2 more at those steps.
    Returns (perfect, forgetful): floats, in nats per symbol (perplexity = exp).
    """
    choices = stream.allowed.sum(axis=1)                       # (L - 1,) how many symbols may come next
    perfect = np.log(choices).sum()
    return float(perfect / len(choices)), float((perfect + len(stream.long_range) * np.log(2)) / len(choices))


class Windows:
    """Consecutive windows of k steps from N parallel pieces of one stream: the batches of stateful TBPTT.

    The stream ids (L,) are cut into N pieces of S = (L - 1) // N steps, read
    side by side: inputs x (N, S) and targets y (N, S), y[n, s] the symbol after
    x[n, s] (teacher forcing: the model always reads the true text). Window j
    is x[:, j k:(j + 1) k]; the last window of a pass may be shorter. After the
    last window the next call starts again at window 0 and says so.
    """

    def __init__(self, ids, N, k):
        ids = np.asarray(ids)
        for name, value in (("N", N), ("k", k)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1; got {value!r}")
        S = (len(ids) - 1) // N
        if S < 1:
            raise ValueError(f"a stream of {len(ids)} symbols is too short for N = {N} parallel pieces")
        self.x = ids[:N * S].reshape(N, S)                  # piece n holds ids[n S:(n + 1) S]
        self.y = ids[1:N * S + 1].reshape(N, S)             # ... and the symbol after each one
        self.N, self.k, self.S = N, k, S
        self.start = 0

    def __len__(self):
        """Windows in one pass over the stream."""
        return -(-self.S // self.k)

    def next(self):
        """(x_ids, y_ids, restart): int arrays of shape (N, k) (or shorter at the end of a pass), and True
        when this window starts a new pass (the state carried so far belongs to the end of the stream)."""
        restart = self.start == 0
        stop = min(self.start + self.k, self.S)
        x_ids, y_ids = self.x[:, self.start:stop], self.y[:, self.start:stop]
        self.start = 0 if stop == self.S else stop
        return x_ids, y_ids, restart
