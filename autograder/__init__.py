"""The BPTT course autograder: fair, diagnostic grading against the reference,
with verdicts computed outside the student's kernel.

How the pieces fit (one module, one job):

- cases.py      For every graded function, the inputs it is checked on: fresh
                random draws at grading time covering the regimes where bugs
                hide (D != H and D == H, T = 1 and T >= 5, N = 1, non-zero h0,
                T not divisible by k, k = 1, k >= T, ...). `cases_for(name, seed)`
                -> list of `Case` (label, args, sizes, expected error, seed); args are plain data only
                (float64 arrays, ints, floats, dicts of arrays, `FunctionSpec`).
- specs.py      `FunctionSpec` (data describing a scalar test function f for
                numerical_gradient) and `build_function(spec)`; its source is
                also sent into the kernel, so it uses numpy only.
- evaluate.py   The evaluator protocol and the in-process evaluator:
                `evaluate(name, args, stand_ins) -> Outcome(outputs, error,
                args_after, stdout)`. `stand_ins` are the other graded
                functions the student's F may call; they are replaced by the
                reference while F is checked, so a bug in a helper costs once.
- mistakes/     The library of known mistakes, per function: source code of a
                complete wrong `def F(...)`, an id, a title and a plain-words hint.
- symptoms.py   Diagnosis by symptom for the failing outputs no known mistake
                explains: the shape of wrongness that explains the student's
                values on every case (a factor N, T or 2, a transpose, time
                steps reversed or shifted, swapped outputs, zeros, overflow on
                large inputs, right only for T = 1 / N = 1 / D == H), from the
                outputs only. `diagnose(name, views, others, runs) -> [Symptom]`.
- relations.py  The table of function-specific symptoms: wrong answers a
                reference computes (the other truncation scheme, full BPTT,
                LSTM gates in another order, ...) and extra regimes of cases;
                active only for graded functions.
- grading.py    `grade_function(name, evaluate, seed) -> FunctionReport`:
                runs the cases, compares every output (caches included) with
                the reference in this process, scores each output, matches the
                known mistakes, diagnoses symptoms, and writes the feedback text.
- hidden.py     `run_hidden_tests(name, namespace)`: what a source notebook's
                hidden test cell runs when the instructor executes it
                (in-process evaluator; prints the report; raises on a loss).
- kernels.py    Starting the kernel that runs a submission (the sandbox plugs in here).
- remote.py     The evaluator that runs the student's function in that kernel
                and hands back plain arrays; stand-ins there are proxies that
                ask this process for the reference's result.
- nbgrader_plugin.py  The nbgrader preprocessor that replaces in-kernel test
                execution: `nbgrader autograde` run from course/ uses it
                through course/nbgrader_config.py.
- cli.py / __main__.py  `python -m autograder grade|feedback|report|demo ...`.
"""
