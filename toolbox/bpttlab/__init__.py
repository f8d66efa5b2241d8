"""The students' toolbox for the BPTT course: plots, widgets, data and self-checks.

Everything here is safe to ship to students: it contains no reference
implementation of a graded function. Functions that need an RNN take the
student's own functions as arguments. Import the module you need, e.g.
`from bpttlab import checking`.
"""
