"""The embedded Reber grammar: strings with one long-range dependency.

Legend: N batch size, T time steps, V vocabulary size (7 here).

The Reber grammar (Reber 1967; the graph used by Cleeremans, Servan-Schreiber
& McClelland 1989) generates strings such as BTXSE or BPVVE by a walk through
a small graph, taking each of two branches with probability 1/2:

    node 0 --B--> 1
    node 1 --T--> 2   node 1 --P--> 3
    node 2 --S--> 2   node 2 --X--> 4
    node 3 --T--> 3   node 3 --V--> 5
    node 4 --X--> 3   node 4 --S--> 6
    node 5 --P--> 4   node 5 --V--> 6
    node 6 --E--> end

The embedded Reber grammar (Hochreiter & Schmidhuber 1997, section 5.1) wraps
a Reber string as B c <Reber string> c E, where c is T or P with probability
1/2. Every symbol inside is predictable from the last few symbols, except
the second-to-last one: it must equal c, the second symbol, which is as far
back as the whole inner string is long. A model predicts it only if it can
remember c for that long.

The vocabulary has a FIXED order, VOCAB = ("B", "T", "P", "S", "X", "V", "E"),
so index 0 is B, 1 is T, ..., 6 is E, in every run.
"""
import numpy as np

VOCAB = ("B", "T", "P", "S", "X", "V", "E")
INDEX = {symbol: i for i, symbol in enumerate(VOCAB)}      # symbol -> index, in VOCAB's order

# node -> ((symbol, next node), (symbol, next node)); node 6 ends with E.
_GRAPH = {
    1: (("T", 2), ("P", 3)),
    2: (("S", 2), ("X", 4)),
    3: (("T", 3), ("V", 5)),
    4: (("X", 3), ("S", 6)),
    5: (("P", 4), ("V", 6)),
}
_END = 6


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, np.random.default_rng(seed); got {type(rng).__name__}")


def reber_string(rng):
    """One string of the Reber grammar, e.g. "BTSSXXTVVE" (starts with B, ends with E).

    rng: a numpy Generator (np.random.default_rng(seed)); each branch is taken
    with probability 1/2.
    """
    _check_rng(rng)
    symbols, node = ["B"], 1
    while node != _END:
        symbol, node = _GRAPH[node][rng.integers(2)]
        symbols.append(symbol)
    return "".join(symbols) + "E"


def embedded_reber_string(rng):
    """One string of the embedded Reber grammar: "B" + c + reber_string + c + "E", c = T or P.

    rng: a numpy Generator (np.random.default_rng(seed)).
    """
    _check_rng(rng)
    c = "TP"[rng.integers(2)]
    return "B" + c + reber_string(rng) + c + "E"


def embedded_reber_strings(n, seed):
    """A list of n embedded Reber strings drawn from np.random.default_rng(seed) (same seed, same list)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a whole number >= 0; got {n!r}")
    rng = np.random.default_rng(seed)
    return [embedded_reber_string(rng) for _ in range(n)]


def encode(string):
    """The indices of a string's symbols in VOCAB: int array of shape (len(string),)."""
    unknown = sorted(set(string) - set(VOCAB))
    if unknown:
        raise ValueError(f"symbols {unknown} are not in the vocabulary {''.join(VOCAB)}")
    return np.array([INDEX[s] for s in string], dtype=np.int64)


def decode(indices):
    """The string spelled by symbol indices (any int array-like of values in 0..V-1)."""
    indices = np.asarray(indices)
    if indices.size and (indices.min() < 0 or indices.max() >= len(VOCAB)):
        raise ValueError(f"indices must be in 0..{len(VOCAB) - 1}; got {indices.min()}..{indices.max()}")
    return "".join(VOCAB[i] for i in indices.ravel())


def _walk_reber(inner):
    """Legal next symbols after each prefix of a Reber string (a list of sets); ValueError if not one."""
    if len(inner) < 2 or inner[0] != "B":
        raise ValueError(f"{inner!r} is not a Reber string (it must start with B)")
    legal, node = [], 1
    for i, symbol in enumerate(inner[1:], start=1):
        if node == _END:
            legal.append({"E"})
            if symbol != "E" or i != len(inner) - 1:
                raise ValueError(f"{inner!r} is not a Reber string (E expected at position {i})")
            return legal
        options = dict(_GRAPH[node])
        legal.append(set(options))
        if symbol not in options:
            raise ValueError(f"{inner!r} is not a Reber string: {symbol!r} cannot follow {inner[:i]!r}")
        node = options[symbol]
    raise ValueError(f"{inner!r} is not a Reber string (it does not end with E)")


def legal_next(string):
    """Which symbols may follow each prefix of an embedded Reber string.

    Returns a bool array of shape (len(string) - 1, V): entry [t, v] is True
    when VOCAB[v] may follow string[:t+1]. Raises ValueError if the string is
    not in the embedded Reber grammar. At t = len(string) - 3 (the inner
    string's E has just been read) exactly one symbol is legal: the second one.
    """
    if len(string) < 4 or string[0] != "B" or string[1] not in "TP" or string[-1] != "E" \
            or string[-2] != string[1]:
        raise ValueError(f"{string!r} is not an embedded Reber string (B c ... c E with c = T or P)")
    sets = [{"T", "P"}, {"B"}] + _walk_reber(string[2:-2]) + [{string[1]}, {"E"}]
    allowed = np.zeros((len(string) - 1, len(VOCAB)), dtype=bool)
    for t, symbols in enumerate(sets):
        allowed[t, [INDEX[s] for s in symbols]] = True
    return allowed


def is_embedded_reber(string):
    """True when string belongs to the embedded Reber grammar (e.g. a sample from a model)."""
    try:
        legal_next(string)
    except ValueError:
        return False
    return True


def long_range_step(length):
    """The step t at which the input is the inner E and the target is the second symbol: length - 3.

    length: number of symbols of the embedded Reber string (input steps are 0..length-2).
    """
    if length < 9:
        raise ValueError(f"an embedded Reber string has at least 9 symbols; got length {length}")
    return length - 3
