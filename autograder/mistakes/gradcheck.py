"""Known mistakes in the central-difference gradient checker.

Legend: x is an array of any shape; f maps an array shaped like x to a float.
"""
from . import Mistake, variant

NUMERICAL_GRADIENT = '''
def numerical_gradient(f, x, h=1e-5):
    x_work = np.array(x, dtype=np.float64)
    grad = np.zeros(x_work.shape)
    for i in np.ndindex(x_work.shape):
        old = x_work[i]
        x_work[i] = old + h
        f_plus = f(x_work)
        x_work[i] = old - h
        f_minus = f(x_work)
        x_work[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
'''

TEMPLATES = {"numerical_gradient": NUMERICAL_GRADIENT}

MISTAKES = (
    Mistake("numerical_gradient/one-sided", "A one-sided difference instead of a central one",
            "Evaluate f on both sides of x (x + h and x - h): the one-sided difference is only accurate to O(h).",
            variant(variant(NUMERICAL_GRADIENT, "x_work[i] = old - h", "x_work[i] = old"),
                    "(f_plus - f_minus) / (2 * h)", "(f_plus - f_minus) / h")),
    Mistake("numerical_gradient/denominator-h", "The central difference is divided by h instead of 2h",
            "The two evaluation points are 2h apart.",
            variant(NUMERICAL_GRADIENT, "(f_plus - f_minus) / (2 * h)", "(f_plus - f_minus) / h")),
    Mistake("numerical_gradient/x-not-restored", "x is changed in place and never restored",
            "Work on a copy of x, or put every element back after its two evaluations; the caller's x must not change.",
            variant(variant(NUMERICAL_GRADIENT, "x_work = np.array(x, dtype=np.float64)", "x_work = x"),
                    "        x_work[i] = old\n", "")),
    Mistake("numerical_gradient/first-axis-only", "Only the first axis is iterated",
            "Every element of x needs its own perturbation, whatever the number of dimensions "
            "(numpy can list every index of an array of any shape).",
            variant(variant(NUMERICAL_GRADIENT, "for i in np.ndindex(x_work.shape):", "for i in range(x_work.shape[0]):"),
                    "old = x_work[i]\n", "old = x_work[i].copy()\n")),
)
