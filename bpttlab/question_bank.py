"""The exam-review question bank: concept questions on every notebook of the course, tagged by notebook and topic.

Legend: N batch, T time steps, D input size, H hidden size, V vocabulary
size, k truncation length. Notation as in the course: h_t is the state
after reading x_t (t = 0..T-1), h_{-1} the state before step 0 (the
argument `h0`), row vectors, so a step is h_t = tanh(x_t Wx + h_{t-1} Wh + b).

Every multiple-choice question says, for each option, why it is right or
wrong; every numeric question names the typical wrong numbers. The LSTM,
randomized-truncation, checkpointing and language-model questions follow
the course contract (their functions and semantics), whatever the wording of
the notebooks. Questions are plain data (see quiz.py); tests check that
each one has exactly one right option, an explanation per option, and
numeric answers computed independently.
"""
import math

from .quiz import NumericQuestion, choice

# Topics, in course order.
SHAPES = "shapes and transposes"
UNROLLING = "unrolling and memory"
BPTT = "BPTT: two sources, shared weights"
JACOBIAN = "Jacobian layout"
GRADCHECK = "gradient checking"
SCHEMES = "what each truncation scheme drops"
K_VS_L = "k vs the dependency length"
RANDOMIZED = "randomized truncation"
CHECKPOINTING = "checkpointing"
VANISHING = "vanishing and exploding"
CLIPPING = "clipping by value vs by norm"
LSTM = "the LSTM cell path"
LANGUAGE_MODEL = "language model"

NB1, NB2, NB3, NB4, NB5, NB6 = ("01_unrolling", "02_bptt", "03_truncation", "04_vanishing_exploding",
                                "05_gated_cells", "06_language_model")

QUESTIONS = (
    # ------------------------------------------------------------ shapes and transposes
    choice("row_vector_product", NB1, SHAPES,
           "States are row vectors: h_prev has shape (N, H). Which expression is the recurrent term of "
           "a step for the whole batch?",
           ("h_prev @ Wh",
            "(N, H) times (H, H) gives (N, H): one row per sequence, as the contract writes "
            "h_t = tanh(x_t Wx + h_{t-1} Wh + b)."),
           [("Wh @ h_prev",
             "(H, H) times (N, H) fails unless N = H, and when N = H it runs and mixes the sequences of the "
             "batch instead of the hidden units."),
            ("h_prev @ Wh.T",
             "That is the column-vector habit (Wh h) written for rows: with a square Wh it runs without "
             "an error and computes the transposed map, so the numbers are wrong."),
            ("h_prev * Wh",
             "* is element-wise: it broadcasts only by accident (N = 1 or N = H) and is not a matrix product.")]),
    choice("dx_transpose", NB2, SHAPES,
           "In rnn_step_backward, da = dL/da has shape (N, H) and the step computed a = x_t @ Wx + ... "
           "with Wx of shape (D, H). Which line gives dx_t?",
           ("dx_t = da @ Wx.T",
            "For a = u W (rows), dL/du = da W^T: (N, H) times (H, D) = (N, D), the shape of x_t."),
           [("dx_t = da @ Wx",
             "(N, H) times (D, H) only runs when D = H, and then gives wrong numbers: a test with D = H "
             "cannot see this bug."),
            ("dx_t = x_t.T @ da",
             "That is dWx, of shape (D, H): the gradient of the weights, not of the input."),
            ("dx_t = Wx @ da.T",
             "(D, H) times (H, N) gives (D, N), the transpose of the right answer: rows are samples in this course.")]),
    choice("why_d_ne_h", NB2, SHAPES,
           "Why do the self-checks and the autograder try cases with D != H?",
           ("A missing transpose of Wx raises an error only when D != H; with D == H it runs and returns "
            "wrong numbers.",
            "A (D, H) matrix used where its transpose belongs has the right shape exactly when D == H, so "
            "only a rectangular case exposes it (the autograder's cases include both)."),
           [("Because numpy multiplies rectangular matrices faster.",
             "Speed has nothing to do with it: the point is to make shape bugs visible."),
            ("Because the contract forbids D == H.",
             "D == H is allowed, and graded cases include it; it just cannot reveal a transposed Wx."),
            ("Because with D == H every gradient is zero.",
             "Nothing makes gradients vanish when D == H; the trouble is that wrong code also runs.")]),
    choice("bias_gradient", NB2, SHAPES,
           "At one step, da has shape (N, H). What is that step's contribution to db?",
           ("da summed over the rows (the batch): shape (H,).",
            "b is added to every row, so its gradient adds up the rows' gradients: da.sum(axis=0)."),
           [("da itself, shape (N, H).",
             "A gradient has the shape of what it is the gradient of: b has shape (H,)."),
            ("da averaged over the rows, shape (H,).",
             "The loss's gradient with respect to a shared parameter is the SUM of the samples' gradients; "
             "any averaging belongs in the loss itself (temporal_softmax_loss divides by N)."),
            ("The sum of all entries of da, one number.",
             "b has one entry per hidden unit: sum over the batch only, not over the units.")]),
    choice("dWx_shape", NB2, SHAPES,
           "x has shape (N, T, D) and h has shape (N, T, H). What is the shape of dWx returned by rnn_backward?",
           ("(D, H)",
            "The same as Wx: a gradient has the shape of the array it is the gradient of."),
           [("(T, D, H)",
             "The weights are shared by all steps: their gradient is the sum over t, not one per step."),
            ("(N, D, H)",
             "The batch is summed too: dWx = sum over t of x_t^T da_t already sums over the N rows."),
            ("(H, D)",
             "That is the shape of Wx^T: check which side x_t sits on in x_t Wx.")]),

    # ------------------------------------------------------------ unrolling and memory
    choice("shared_weights", NB1, UNROLLING,
           "Unrolled over T steps, an RNN is a T-layer feed-forward network. What is different from an "
           "ordinary T-layer network?",
           ("All layers share Wx, Wh and b, so the gradient of each weight is the SUM of its T per-step terms.",
            "The weights are shared across steps; backpropagation through the unrolled graph adds up the "
            "contribution of every step (dWh = sum over s of h_{s-1}^T da_s)."),
           [("Every layer has its own Wh, so BPTT computes T separate gradients and keeps them apart.",
             "Unrolling draws T uses of ONE matrix; there is one Wh and one gradient for it."),
            ("Only the last layer has weights; the other layers are fixed.",
             "Every step uses Wx, Wh and b; that is why every step contributes to their gradients."),
            ("The gradient of Wh is the AVERAGE of its per-step terms.",
             "The chain rule adds the contributions of every use of a variable: a sum, not an average.")]),
    choice("what_to_store", NB1, UNROLLING,
           "What must the forward pass keep so that BPTT can run over a sequence of T steps (batch N, hidden H)?",
           ("Every hidden state h_t for t = 0..T-1, and h_{-1} = h0: about N*T*H numbers, growing with T.",
            "Every step's backward needs h_{s-1} (for dWh) and 1 - h_s^2 (tanh'), so memory grows linearly "
            "with T; truncation, or recomputing states at the price of time (checkpointing), makes long "
            "sequences affordable."),
           [("Only the last hidden state h_{T-1}: N*H numbers.",
             "The backward pass of step s needs that step's states; the last one alone cannot give them "
             "(tanh cannot be run backwards reliably)."),
            ("The T Jacobians, each H x H, but no hidden states.",
             "That is more memory (T*N*H*H) and still misses h_{s-1}, which dWh needs."),
            ("Nothing: the backward pass recomputes the states from the end.",
             "Recomputing needs a stored state to start from: that is checkpointing, which keeps some "
             "states and pays extra forward steps.")]),
    choice("h_index", NB1, UNROLLING,
           "In the course's indexing, what is h[:, 0], the first entry of the h returned by rnn_forward?",
           ("The state after reading x[:, 0]; the state before it is the argument h0, written h_{-1}.",
            "h[:, t] is the state after reading x[:, t]; h0 is not part of h. That is why the maths writes "
            "the initial state as h_{-1}."),
           [("The initial state h0.",
             "h0 is passed in and kept in the cache, but h starts with the state AFTER the first input."),
            ("The pre-activation of step 0.",
             "h holds tanh outputs; the pre-activations are not stored (tanh' is computed from h)."),
            ("The state before reading x[:, 0].",
             "That is h0 (h_{-1}); h[:, 0] has already read x[:, 0].")]),
    choice("unrolled_parameters", NB1, UNROLLING,
           "An RNN with H = 128 runs over T = 1000 steps. How many recurrent parameters does the unrolled "
           "network have?",
           ("128 * 128 = 16 384, used 1000 times.",
            "Unrolling repeats the computation, not the parameters: one Wh, used at every step."),
           [("1000 * 128 * 128, one Wh per step.",
             "That would be an ordinary deep network with untied layers; an RNN ties them."),
            ("128, one per hidden unit.",
             "Wh maps every unit to every unit: H * H numbers."),
            ("It depends on the batch size N.",
             "Parameters do not depend on N; only activations (and the cache) do.")]),
    NumericQuestion(
        "cache_numbers", NB1, UNROLLING,
        "How many float64 numbers does the sequence cache (x, h0, Wx, Wh, h) hold for N = 2, T = 10, D = 3, H = 4?",
        176.0,
        "x: N*T*D = 60, h0: N*H = 8, Wx: D*H = 12, Wh: H*H = 16, h: N*T*H = 80; in total 176.",
        "Count each of the five arrays: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), h (N, T, H).",
        traps=((116.0, "You left out x: the backward pass needs x_t for dWx."),
               (168.0, "You left out h0: step 0's dWh term needs the state before it."),
               (140.0, "That is only the part that grows with T (x and h); h0, Wx and Wh are in the cache too.")),
        rel_tol=0.0, abs_tol=0.5),

    # ------------------------------------------------------------ BPTT
    choice("two_sources", NB2, BPTT,
           "In full BPTT, for t < T-1, the total gradient at h_t is ...",
           ("dh[:, t] plus the gradient carried back from step t+1: (dL/dh_{t+1} * (1 - h_{t+1}^2)) @ Wh^T.",
            "h_t feeds the output at step t (dh[:, t]) and the next state h_{t+1}; both paths add up. The "
            "carried part passes back through step t+1's tanh and Wh."),
           [("dh[:, t] only.",
             "That drops everything later in the sequence: the classic 'forgot the carried gradient' bug."),
            ("Only the gradient carried back from step t+1.",
             "That drops the output at step t itself: every step's dh[:, t] must be added."),
            ("dh[:, t] plus dL/dh_{t+1} @ Wh^T.",
             "The carried part must first pass through tanh at step t+1: multiply by 1 - h_{t+1}^2 before Wh^T.")]),
    choice("dh0_meaning", NB2, BPTT,
           "rnn_backward returns dh0. Which gradient is it?",
           ("dL/dh_{-1}, at the initial state: what step 0 sends back, (dL/dh at step 0, times tanh') @ Wh^T.",
            "h0 is the state before step 0 (h_{-1}), so its gradient is one more step back than the total "
            "gradient at the first state."),
           [("The total gradient at the first state h[:, 0], before going back through step 0.",
             "That is one step short: the autograder names this mistake 'dh0 is one step short'."),
            ("dh[:, 0], the output's gradient at the first state.",
             "That is only the direct part at the first state, and still one step short of h0."),
            ("Zero, because h0 is not a weight.",
             "The chain rule gives every input a gradient; whether a caller learns h0 (or carries it, as the "
             "language model does) is the caller's business.")]),
    choice("weights_sum", NB2, BPTT,
           "After full BPTT, dWh equals ...",
           ("the sum over t of h_{t-1}^T da_t, with h_{-1} = h0.",
            "One term per step, each using the state that step read; the weights are shared, so the terms add."),
           [("h_{T-1}^T da_{T-1}, the last step's term.",
             "That is what overwriting (dWh = ... instead of +=) leaves: only one step's term survives."),
            ("the sum over t of h_t^T da_t.",
             "Step t reads h_{t-1}: its term multiplies the state before the step, not after."),
            ("the average over t of h_{t-1}^T da_t.",
             "The loss is a sum over steps and the chain rule adds every use of Wh: no division by T.")]),
    choice("wrap_bug", NB2, BPTT,
           "At t = 0 a student's rnn_backward reads the previous state as h[:, t - 1]. What happens?",
           ("No error: numpy reads h[:, -1], the LAST state, so step 0's dWh term is wrong.",
            "Negative indices count from the end in numpy. At t = 0 the previous state is h0; use it explicitly."),
           [("An IndexError at t = 0.",
             "Index -1 is valid in numpy: that is why this bug is silent."),
            ("It reads zeros, which is correct when h0 = 0.",
             "It reads the last state, not zeros; and a test with h0 = 0 hides other bugs too."),
            ("numpy returns h0 automatically.",
             "numpy knows nothing of h0: h[:, -1] is the last column of h.")]),
    choice("backward_order", NB2, BPTT,
           "In which order must rnn_backward process the steps, and why?",
           ("t = T-1 down to 0: the total gradient at h_t needs what step t+1 sends back.",
            "The carried gradient creates a chain from the end of the sequence to the start."),
           [("t = 0 up to T-1, like the forward pass.",
             "At step 0 you would need the gradient from every later step, which is not computed yet."),
            ("Any order: the steps are independent.",
             "They are not: each step's backward needs the gradient carried from the step after it."),
            ("All steps at once, in parallel over t.",
             "Only the per-step products that do not depend on the carried gradient (such as dWx from da) "
             "can be batched after the loop; the loop itself is sequential.")]),
    choice("contributions_triangle", NB2, BPTT,
           "Why is C[t, s] (gradient_contributions) zero for s > t?",
           ("A loss at step t depends only on steps up to t: its signal never travels forward in time.",
            "The signal of L_t starts at h_t and goes back through t, t-1, ..., 0."),
           [("Because tanh' is zero there.",
             "tanh' is never exactly zero; the reason is causality."),
            ("Because truncation drops those terms.",
             "gradient_contributions is full BPTT: nothing is truncated."),
            ("Because C is symmetric and its upper half is stored elsewhere.",
             "C is lower-triangular, not symmetric: the loss step and the deposit step play different roles.")]),

    # ------------------------------------------------------------ Jacobian layout
    choice("jacobian_layout", NB4, JACOBIAN,
           "With row vectors, h_t = tanh(x_t Wx + h_{t-1} Wh + b). The step Jacobian J_t with "
           "J_t[i, j] = d h_t[i] / d h_{t-1}[j] is ...",
           ("diag(1 - h_t^2) @ Wh^T",
            "h_t[i] depends on h_{t-1}[j] through Wh[j, i], times tanh' of unit i: row i is scaled by "
            "1 - h_t[i]^2, so J_t = diag(1 - h_t^2) Wh^T."),
           [("diag(1 - h_t^2) @ Wh",
             "Entry (i, j) would use Wh[i, j]; but h_{t-1}[j] reaches h_t[i] through Wh[j, i] (rows times Wh)."),
            ("Wh^T @ diag(1 - h_t^2)",
             "The tanh derivative belongs to the OUTPUT unit i, so it scales rows: it multiplies from the left."),
            ("diag(1 - h_{t-1}^2) @ Wh^T",
             "tanh' is taken at the step's output h_t, not at its input h_{t-1}.")]),
    choice("gradient_through_jacobian", NB4, JACOBIAN,
           "g = dL/dh_t is a row vector (1 x H). With J_t as in the course (J_t[i, j] = d h_t[i] / d h_{t-1}[j]), "
           "the gradient at h_{t-1} is ...",
           ("g @ J_t",
            "dL/dh_{t-1}[j] = sum over i of g[i] J_t[i, j]: a row vector times the Jacobian."),
           [("J_t @ g^T",
             "That sums over j instead of i: it would be right for J_t^T, not J_t."),
            ("g @ J_t^T",
             "That treats J_t as if its rows were the inputs; with the course's layout, rows are outputs."),
            ("g @ Wh^T",
             "That skips tanh': J_t = diag(1 - h_t^2) Wh^T, so g is first multiplied by 1 - h_t^2.")]),
    choice("jacobian_order", NB4, JACOBIAN,
           "d h_t / d h_{t-3} equals ...",
           ("J_t @ J_{t-1} @ J_{t-2}",
            "The chain rule composes the outer step first: h_t depends on h_{t-1}, which depends on h_{t-2}, ..."),
           [("J_{t-2} @ J_{t-1} @ J_t",
             "Matrices do not commute; with J[i, j] = d out[i] / d in[j] the latest step comes first."),
            ("J_t^3",
             "Each step has its own tanh derivative, so the Jacobians differ from step to step."),
            ("J_t + J_{t-1} + J_{t-2}",
             "Chained dependencies multiply; sums appear when one variable is used by several paths.")]),
    NumericQuestion(
        "scalar_jacobian", NB4, JACOBIAN,
        "A one-unit RNN (H = 1) with Wh = 0.5 is in state h_t = 0.6. What is the step Jacobian d h_t / d h_{t-1}?",
        0.32,
        "(1 - h_t^2) * Wh = (1 - 0.36) * 0.5 = 0.32.",
        "J_t = diag(1 - h_t^2) Wh^T; with one unit it is a product of two numbers.",
        traps=((0.5, "That is Wh alone: the tanh derivative 1 - h_t^2 is missing."),
               (0.64, "That is the tanh derivative alone: multiply by Wh."),
               (0.2, "tanh'(a) = 1 - tanh(a)^2 = 1 - h_t^2, not 1 - h_t.")),
        rel_tol=0.0, abs_tol=2e-3),

    # ------------------------------------------------------------ gradient checking
    choice("central_difference_error", NB2, GRADCHECK,
           "The central difference (f(x + h) - f(x - h)) / (2h) approximates f'(x) with an error of order ...",
           ("h^2 (plus a round-off error of about eps * |f| / h).",
            "The odd terms of the Taylor series cancel; h = 1e-5 balances the two errors in float64."),
           [("h",
             "That is the one-sided difference (f(x + h) - f(x)) / h."),
            ("h^3",
             "The h^2 f'''(x) / 6 term does not cancel."),
            ("zero: it is exact in float64.",
             "It is exact only for quadratic functions, and rounding always adds eps * |f| / h.")]),
    choice("tiny_step", NB2, GRADCHECK,
           "Why not take h = 1e-12 for the most accurate numerical gradient?",
           ("Round-off grows like eps * |f| / h: at h = 1e-12 it is about 1e-4 relative, far worse than at h = 1e-5.",
            "Subtracting two nearly equal values of f loses digits; a step too small amplifies that loss."),
           [("Because float64 cannot represent 1e-12.",
             "It can (down to about 1e-308); the problem is the difference f(x + h) - f(x - h)."),
            ("It is the best choice: the error h^2 = 1e-24 is negligible.",
             "The truncation error is tiny, but the round-off error explodes."),
            ("Because the check would take longer.",
             "The cost does not depend on h.")]),
    choice("weak_check", NB2, GRADCHECK,
           "A backward pass passes a gradient check on one case with T = 1, h0 = 0 and D = H. Which bugs can "
           "still hide?",
           ("All three: a dropped carried gradient (needs T > 1), h[:, t-1] or zeros at t = 0 (needs h0 != 0), "
            "a missing transpose of Wx (needs D != H).",
            "Weak cases hide the classic bugs; the self-checks and the autograder use T >= 3, h0 != 0 and D != H."),
           [("None: a passing gradient check proves the code right.",
             "It proves the code right on that one case; T = 1, h0 = 0 and D = H make several bugs invisible."),
            ("Only a missing transpose of Wx.",
             "With T = 1 nothing is carried back either, and with h0 = 0 reading the wrong state at t = 0 may not show."),
            ("Only a dropped carried gradient.",
             "With D = H a missing transpose also runs, and with h0 = 0 a zeros-for-h0 bug is invisible.")]),

    # ------------------------------------------------------------ what each truncation scheme drops
    choice("chunked_boundary", NB3, SCHEMES,
           "In chunked truncated BPTT with chunk length k (what frameworks do with h = h.detach()), what "
           "happens at a chunk boundary?",
           ("The hidden state is carried into the next chunk, but no gradient flows back across the boundary.",
            "The forward pass keeps its memory; only the backward pass is cut. That is why a model can "
            "sometimes use information older than k steps (it is in the state) without ever being credited "
            "for keeping it (Sutskever 2013)."),
           [("Both the hidden state and the gradient are reset to zero.",
             "Resetting the state would throw away the context; detach() keeps the value and cuts the graph."),
            ("The gradient is carried back across the boundary, but the hidden state is reset.",
             "It is the other way round: the value is carried, the gradient is not."),
            ("The weights are averaged over the two chunks.",
             "Truncation changes the gradient, not how the weights are stored.")]),
    choice("sliding_vs_chunked", NB3, SCHEMES,
           "Which scheme gives EVERY loss L_t exactly k steps of credit (or all its steps, if t < k)?",
           ("A sliding window of length k (rnn_backward_truncated).",
            "Each loss gets its own last k steps; it costs O(T k) instead of O(T) for chunks."),
           [("Chunks of length k (rnn_backward_chunked).",
             "In a chunk, the loss at its first step gets 1 step of credit and the one at its last step gets k."),
            ("Both schemes.",
             "Only the window moves with the loss; chunk boundaries are fixed."),
            ("Neither scheme.",
             "The sliding window does exactly that: steps t, t-1, ..., t-k+1.")]),
    choice("dh0_window", NB3, SCHEMES,
           "Sliding-window truncation (rnn_backward_truncated) with T = 10 and k = 3: which losses send a "
           "signal into dh0?",
           ("L_0, L_1 and L_2: the windows that reach step 0 (t <= k - 1).",
            "The window of L_t covers steps t, ..., t-k+1; only when it includes step 0 does the signal go on into h0."),
           [("All ten losses.",
             "The other windows stop before step 0; their signal is dropped there."),
            ("Only L_0.",
             "L_1 and L_2 also reach step 0 within 3 steps (1 + 1 and 2 + 1 steps)."),
            ("None: truncation never sends anything to h0.",
             "Full BPTT is the case k >= T; the windows that reach step 0 do continue into h0.")]),
    NumericQuestion(
        "chunk_credit", NB3, SCHEMES,
        "Chunked truncation with k = 4 over T = 12 steps: through how many steps (its own step included) "
        "is the signal of the loss L_9 propagated?",
        2.0,
        "The chunks are [0, 4), [4, 8), [8, 12); L_9 is in the last one and goes back through steps 9 and 8 only.",
        "Find the chunk that holds step 9; the signal stops at its first step.",
        traps=((4.0, "That is the sliding window: chunks stop at the fixed boundary at step 8."),
               (10.0, "That is full BPTT (steps 9 down to 0)."),
               (1.0, "Inside its chunk the signal does go back: steps 9 and 8.")),
        rel_tol=0.0, abs_tol=0.5),
    NumericQuestion(
        "kept_pairs", NB3, SCHEMES,
        "Full BPTT over T = 20 steps links T(T+1)/2 = 210 (loss step t, earlier step s) pairs. How many of "
        "them does the sliding window with k = 5 keep?",
        90.0,
        "L_t keeps min(t + 1, k) steps: 1 + 2 + 3 + 4 for t = 0..3, then 5 for each of the 16 losses "
        "t = 4..19: 10 + 80 = 90.",
        "Count per loss: how many steps does L_t keep, for small t and for large t?",
        traps=((100.0, "T * k counts 5 steps for every loss; the first four losses have fewer steps to keep."),
               (210.0, "That is full BPTT: nothing dropped."),
               (80.0, "Add the first losses (t = 0..3), which keep all their 1, 2, 3 and 4 steps.")),
        rel_tol=0.0, abs_tol=0.5),
    choice("truncation_cost", NB3, SCHEMES,
           "About how many one-step backward operations does the sliding window cost over T steps with window k?",
           ("T * k: every loss is propagated through its own k steps.",
            "The windows overlap, so the same step is traversed once per loss that reaches it; chunks cost O(T)."),
           [("T, like full BPTT.",
             "Full BPTT and chunks mix all losses' signals into one backward walk; windows cannot, since each "
             "loss must stop at its own point."),
            ("k",
             "k is the cost of one loss's window; there are T losses."),
            ("T^2 / 2",
             "That is one separate walk per loss back to step 0, not a window of k.")]),
    choice("weighted_chunks", NB3, SCHEMES,
           "rnn_backward_weighted(dh, cache, xi) scales the link from step t into h_{t-1} by xi[t]. Which xi "
           "gives rnn_backward_chunked with k = 3 and T = 7?",
           ("[1, 1, 1, 0, 1, 1, 0]",
            "The chunks are [0, 3), [3, 6), [6, 7): links are cut at the chunk starts t = 3 and 6; xi[0] = 1 "
            "because the first chunk does reach h0."),
           [("[0, 1, 1, 0, 1, 1, 0]",
             "xi[0] scales what step 0 sends into h0; chunking keeps that link (dh0 gets the first chunk's signal)."),
            ("[1, 1, 0, 1, 1, 0, 1]",
             "That cuts at t = 2 and 5; the chunks start at t = k, 2k, ... = 3, 6."),
            ("[1, 0, 0, 1, 0, 0, 1]",
             "That keeps only the links at the chunk starts, the opposite of what chunking does.")]),

    # ------------------------------------------------------------ k vs the dependency length
    choice("k_for_echo", NB3, K_VS_L,
           "A delayed-echo task asks for the input from L = 8 steps ago (y_t = x_{t-8}). With chunked truncated "
           "BPTT, which k lets a tanh RNN learn it reliably?",
           ("k >= L + 1 = 9; k = L is a grey zone and k = L/2 stays near chance.",
            "Within a chunk, a loss is linked to steps at most k - 1 back: k - 1 >= L is needed for ANY loss "
            "to be credited for the input L steps back."),
           [("k = L/2 = 4: the carried state brings the rest.",
             "The state carries information forward, but no gradient ever tells the network to keep it: "
             "accuracy stays near chance."),
            ("Any k, given enough training.",
             "Truncation is a bias, not noise: more training does not bring back the dropped terms."),
            ("k = 1 with a large enough hidden state.",
             "With k = 1 no gradient crosses even one step, whatever the size of the state.")]),
    choice("grey_zone", NB3, K_VS_L,
           "A model trained with chunked TBPTT, k shorter than a dependency, sometimes still uses information "
           "older than k steps. Why?",
           ("The forward pass is not truncated: the state can carry the information, but nothing trains the "
            "network to keep it.",
            "Only the backward pass is cut; whatever the state happens to remember is available, just never "
            "reinforced (Sutskever 2013)."),
           [("Truncation is unbiased, so long dependencies are learned on average.",
             "Truncation drops the long-range terms every time: the gradient is biased."),
            ("The gradient crosses chunk boundaries with a reduced weight.",
             "detach() cuts it entirely: nothing crosses."),
            ("The bias b stores the information.",
             "b is the same at every step and cannot hold a particular input.")]),
    choice("bias_not_noise", NB3, K_VS_L,
           "How does the truncated gradient differ from the full one?",
           ("Systematically: the dropped long-range terms are missing from every estimate (a bias).",
            "No amount of averaging over batches brings them back; only a longer k (or reweighted random "
            "truncation) does."),
           [("By random noise that averages out over many batches.",
             "The dropped terms are dropped every time: their absence does not average out."),
            ("Not at all once k >= 2.",
             "Every term linking a loss to a step k or more steps back is dropped, whatever k < T."),
            ("Only in dh0.",
             "dWx, dWh, db and dx lose the long-range terms too.")]),

    # ------------------------------------------------------------ randomized truncation
    choice("reweighting", NB3, RANDOMIZED,
           "Randomized truncation keeps each backward link with probability p. What makes the gradient "
           "estimate unbiased (Tallec & Ollivier 2017)?",
           ("Multiplying every kept link by 1/p (xi[t] = Bernoulli(p)/p), so each term's expectation equals its "
            "full-BPTT value.",
            "A term that crosses d links survives with probability p^d and is then multiplied by p^-d: its "
            "expectation is the term itself."),
           [("The randomness alone: random cut points average out.",
             "Without 1/p, a term d links back is kept with probability p^d: on average it is p^d times too "
             "small, still biased."),
            ("A larger batch.",
             "More samples average the noise, not the bias."),
            ("Drawing one random k per sequence and truncating there.",
             "That is still a truncation without reweighting: long terms stay under-counted.")]),
    choice("random_variance", NB3, RANDOMIZED,
           "With xi[t] = Bernoulli(p)/p, what happens as p falls?",
           ("The estimate stays unbiased but its variance grows: long-range terms survive rarely, with a large "
            "weight p^-d when they do.",
            "That is the trade-off of randomized truncation: cheaper backward passes, noisier gradients."),
           [("The bias grows.",
             "The 1/p reweighting keeps every term's expectation right, whatever p > 0."),
            ("The variance falls, because fewer terms are kept.",
             "Fewer but larger terms: the variance grows."),
            ("Nothing changes.",
             "p decides how often links survive; the spread of the estimate depends on it.")]),
    NumericQuestion(
        "random_factor", NB3, RANDOMIZED,
        "Randomized truncation with xi[t] = Bernoulli(0.5)/0.5, independent per link. A term crosses d = 3 "
        "backward links. By what factor is it multiplied when it survives?",
        8.0,
        "Each surviving link is multiplied by 1/p = 2: three links give 2^3 = 8. It survives with probability "
        "0.5^3 = 1/8, so its expectation is the term itself.",
        "Every link the term crosses contributes its own factor xi[t].",
        traps=((2.0, "That is one link's factor; the term crosses three."),
               (0.125, "That is the probability that it survives, not the factor it gets.")),
        rel_tol=0.0, abs_tol=1e-3),

    # ------------------------------------------------------------ checkpointing
    choice("checkpoint_exact", NB3, CHECKPOINTING,
           "rnn_backward_checkpointed keeps only the states that enter steps 0, every, 2*every, ... and "
           "recomputes the rest. Its gradients are ...",
           ("exactly those of rnn_backward (to round-off): it trades time for memory, not accuracy.",
            "Each segment's states are recomputed from its checkpoint during the backward pass (Chen et al. "
            "2016; Gruslys et al. 2016)."),
           [("those of truncated BPTT with k = every.",
             "Nothing is cut: every link is still followed, with recomputed states."),
            ("an unbiased but noisy estimate.",
             "Recomputation is deterministic: the result is the exact gradient."),
            ("exact only when T is a multiple of every.",
             "The last segment may be shorter; the gradient is exact for any T.")]),
    choice("checkpoint_every", NB3, CHECKPOINTING,
           "Checkpointed BPTT holds about T/every checkpoints plus one segment of every recomputed states. "
           "Which `every` minimises the states held for T = 100?",
           ("every = 10 (about sqrt(T)): 10 checkpoints + 10 recomputed states.",
            "T/every + every is smallest at every = sqrt(T)."),
           [("every = 1",
             "That keeps a checkpoint at every step: all 100 states, like full BPTT."),
            ("every = 100",
             "One checkpoint, but then the whole sequence is one segment of 100 recomputed states."),
            ("every = 50",
             "2 checkpoints + 50 recomputed states = 52, more than 20.")]),
    choice("checkpoint_cost", NB3, CHECKPOINTING,
           "How much extra computation does checkpointed BPTT cost, compared with full BPTT?",
           ("About one extra forward pass: every segment is recomputed once from its checkpoint.",
            "Memory O(T/every + every) is bought with roughly one more forward pass."),
           [("None.",
             "The states that were not kept have to be recomputed."),
            ("`every` extra forward passes.",
             "Each step is recomputed once, not `every` times."),
            ("One extra backward pass per checkpoint.",
             "The backward pass is done once; only forward steps are repeated.")]),

    # ------------------------------------------------------------ vanishing and exploding
    choice("sufficient_vanishing", NB4, VANISHING,
           "For h_t = tanh(x_t Wx + h_{t-1} Wh + b), which condition guarantees that dL/dh_s shrinks "
           "geometrically as s moves away from t (Pascanu, Mikolov & Bengio 2013)?",
           ("The largest singular value of Wh is below 1.",
            "||dh_t/dh_{t-1}|| <= ||diag(1 - h_t^2)|| * sigma_max(Wh) <= sigma_max(Wh), so sigma_max(Wh) < 1 is "
            "sufficient."),
           [("The spectral radius of Wh is below 1.",
             "The spectral radius decides the long run of a LINEAR recurrence, but a non-normal Wh can still "
             "make the norm grow for a while: it bounds no single step."),
            ("The largest singular value of Wh is above 1.",
             "That is necessary for exploding gradients, not sufficient for vanishing ones."),
            ("Every entry of Wh is below 1 in absolute value.",
             "Many entries below 1 can still add up to a matrix norm far above 1.")]),
    NumericQuestion(
        "linear_decay", NB4, VANISHING,
        "A linear recurrence h_t = h_{t-1} Wh with Wh = 0.9 * (an orthogonal matrix): after how many steps d "
        "does the norm of the gradient carried back d steps (the product of d step Jacobians) first fall "
        "below 1e-4? (a whole number)",
        88.0,
        "0.9^d < 1e-4 when d > ln(1e-4) / ln(0.9) = 87.4, so d = 88. With tanh and unit-size inputs, "
        "saturation makes it happen far sooner (notebook 04).",
        "An orthogonal matrix keeps norms, so the product has norm 0.9^d; take logarithms.",
        traps=((87.0, "0.9^87 is about 1.06e-4, still above 1e-4: round up."),),
        rel_tol=0.0, abs_tol=0.5),
    choice("non_normal", NB4, VANISHING,
           "Wh has spectral radius 0.9 but largest singular value 1.7. In a linear RNN, the norm of a product of "
           "d step Jacobians ...",
           ("can grow for a few steps before it decays like 0.9^d.",
            "Eigenvalues decide the long run (Gelfand's formula); singular values bound how much a few steps "
            "can amplify on the way."),
           [("decays like 0.9^d from the first step.",
             "That holds for normal matrices (e.g. 0.9 times an orthogonal one), where singular values equal "
             "eigenvalue moduli."),
            ("grows like 1.7^d forever.",
             "The spectral radius 0.9 < 1 forces decay in the long run."),
            ("stays constant.",
             "Neither 0.9 nor 1.7 is 1; the norm changes.")]),
    choice("saturation", NB4, VANISHING,
           "With inputs of unit size, a tanh RNN's gradients vanish much sooner than rho^d. Why?",
           ("Saturated units have 1 - h^2 << 1, which shrinks the gradient at every step on top of Wh.",
            "The bound uses |tanh'| <= 1; in practice tanh' is often much smaller."),
           [("Because tanh'(a) can exceed 1.",
             "tanh' is at most 1 (at a = 0)."),
            ("Because the spectral radius grows during the forward pass.",
             "Wh does not change during a forward pass."),
            ("Because of floating-point round-off.",
             "The decay is real, not a rounding artefact; float64 would show it down to 1e-300.")]),
    NumericQuestion(
        "spectral_radius", NB4, VANISHING,
        "What is the spectral radius of Wh = [[0, 2], [0.5, 0]]?",
        1.0,
        "The eigenvalues solve lambda^2 = 2 * 0.5 = 1: lambda = +1 and -1, so rho = 1. Its largest "
        "singular value is 2: the matrix is far from normal.",
        "The spectral radius is the largest modulus of an eigenvalue; for a 2 x 2 matrix solve "
        "lambda^2 - trace * lambda + det = 0.",
        traps=((2.0, "That is the largest singular value (the 2-norm), not the spectral radius."),
               (2.0616, "That is the Frobenius norm, not the spectral radius."),
               (0.0, "The diagonal is zero, but the eigenvalues are not: solve lambda^2 = 1.")),
        rel_tol=0.0, abs_tol=2e-3),

    # ------------------------------------------------------------ clipping by value vs by norm
    choice("clipping_direction", NB4, CLIPPING,
           "Global-norm clipping with threshold c replaces the gradient g by ...",
           ("g * min(1, c / ||g||): the same direction, length at most c.",
            "Norm clipping (Pascanu et al. 2013) keeps the direction of the whole gradient (over all weights "
            "together) and only bounds the step length."),
           [("sign(g) * c, element by element.",
             "That throws away every magnitude and changes the direction."),
            ("each entry clipped to [-c, c].",
             "That is clipping by value: it can change the direction of the gradient."),
            ("g / ||g||, always of length 1.",
             "Small gradients must pass unchanged; and the length is c, not 1.")]),
    choice("value_vs_norm", NB4, CLIPPING,
           "g = (3, 0.1) and c = 1. Clipping by value (each entry into [-1, 1]) gives (1, 0.1); clipping by "
           "norm gives about (0.9994, 0.0333). What does the comparison show?",
           ("Clipping by value changed the direction of g; clipping by norm kept it.",
            "(1, 0.1) points elsewhere than (3, 0.1); the norm-clipped vector is g / ||g|| times 1, parallel to g."),
           [("Both keep the direction.",
             "(1, 0.1) is not a multiple of (3, 0.1)."),
            ("Clipping by value is the method of Pascanu et al. 2013.",
             "They clip the norm, to keep the direction."),
            ("Clipping by norm changes only the largest entry.",
             "It multiplies every entry by the same factor.")]),
    choice("clip_vanishing", NB4, CLIPPING,
           "Does gradient-norm clipping help against vanishing gradients?",
           ("No: it only shrinks gradients that are too large; a vanishing gradient is already small.",
            "Clipping tames exploding gradients (cliffs in the loss); vanishing needs other cures: gating "
            "(LSTM), initialisation, shorter paths."),
           [("Yes: it rescales every gradient to length c.",
             "Only gradients longer than c are rescaled: min(1, c / ||g||) never exceeds 1."),
            ("Yes, if c is small enough.",
             "A smaller c shrinks more; it never enlarges a small gradient."),
            ("Only for LSTMs.",
             "Clipping does the same thing whatever the model.")]),
    NumericQuestion(
        "clip_value", NB4, CLIPPING,
        "The gradients are dWh = [[3, 0], [0, 0]] and db = [4, 0]. After clipping the global norm to 1, "
        "what is the entry dWh[0, 0]?",
        0.6,
        "The global norm is sqrt(3^2 + 4^2) = 5 > 1, so every array is multiplied by 1/5: 3/5 = 0.6.",
        "The global norm is taken over ALL entries of ALL arrays together.",
        traps=((3.0, "The global norm 5 is above 1, so the gradients must be scaled."),
               (1.0, "That is per-array clipping (dWh by its own norm 3) or clipping by value; norm clipping uses "
                     "one global norm, sqrt(3^2 + 4^2) = 5.")),
        rel_tol=0.0, abs_tol=1e-3),
    NumericQuestion(
        "clip_factor", NB4, CLIPPING,
        "The global gradient norm is 10 and the clipping threshold is 5. By what factor is every array multiplied?",
        0.5,
        "min(1, c / ||g||) = min(1, 5/10) = 0.5.",
        "The factor is min(1, threshold / norm).",
        traps=((2.0, "That is norm / threshold: the factor shrinks the gradient, so it is at most 1."),
               (5.0, "5 is the new norm, not the factor.")),
        rel_tol=0.0, abs_tol=1e-3),

    # ------------------------------------------------------------ the LSTM cell path
    choice("cell_path", NB5, LSTM,
           "LSTM: c_t = f_t * c_{t-1} + i_t * g_t. Along the cell path alone (not through h), dL/dc_{t-1} = ...",
           ("dL/dc_t * f_t (element-wise)",
            "The cell update is additive: going back one step multiplies by the forget gate only, with no "
            "weight matrix and no squashing derivative."),
           [("dL/dc_t * f_t * (1 - c_t^2)",
             "No tanh is applied between c_{t-1} and c_t; tanh(c_t) appears only on the way to h_t."),
            ("dL/dc_t @ Wh^T",
             "The cell path has no matrix: Wh acts on h, inside the gates."),
            ("dL/dc_t * i_t",
             "i_t scales the new candidate g_t, not the old cell state.")]),
    choice("why_lstm", NB5, LSTM,
           "Why can LSTM gradients survive over many more steps than a tanh RNN's?",
           ("With forget gates near 1, each step back along the cell path multiplies by f close to 1, with no "
            "weight matrix and no tanh' in between.",
            "The additive cell path (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000) avoids the "
            "repeated diag(tanh') Wh^T products of notebook 04."),
           [("Because LSTMs are trained without BPTT.",
             "LSTMs are trained with BPTT like any RNN; their cell path is what changes."),
            ("Because the sigmoid's derivative is larger than tanh's.",
             "sigmoid' is at most 1/4, smaller than tanh' (at most 1)."),
            ("Because LSTM gradients cannot explode.",
             "They can, through the recurrent weights: LSTMs are still trained with clipping.")]),
    choice("gate_order", NB5, LSTM,
           "In the course (PyTorch's order), a = x_t Wx + h_prev Wh + b of shape (N, 4H) is split into four blocks "
           "of H columns. In which order?",
           ("i, f, g, o",
            "input, forget, candidate (tanh), output: i = sigmoid(a[:, :H]), f = sigmoid(a[:, H:2H]), "
            "g = tanh(a[:, 2H:3H]), o = sigmoid(a[:, 3H:])."),
           [("i, f, o, g",
             "That is CS231n's order; with the course's weights it puts tanh on the output gate's block."),
            ("f, i, g, o",
             "The forget gate is the second block, not the first."),
            ("g, i, f, o",
             "The candidate is the third block.")]),
    choice("forget_bias", NB5, LSTM,
           "Why initialise the forget-gate bias to a positive value (for example 1)?",
           ("So that f starts near 1: the cell remembers and gradients flow along the cell path from the first "
            "updates on (Gers et al. 2000; Jozefowicz et al. 2015).",
            "sigmoid(1) = 0.73, sigmoid(5) = 0.99: the cell path then multiplies gradients by nearly 1 per step."),
           [("So that the cell forgets faster.",
             "A positive bias pushes f towards 1: the cell forgets more slowly."),
            ("To prevent exploding gradients.",
             "f <= 1 bounds the cell path, but exploding gradients come through the recurrent weights; clipping "
             "handles them."),
            ("It makes no difference after the first update.",
             "Training starts from it and long-range gradients exist from the start; measurably better "
             "(Jozefowicz et al. 2015).")]),
    choice("lstm_still_clip", NB5, LSTM,
           "Does an LSTM still need gradient clipping?",
           ("Yes: gating cures vanishing along the cell path, but gradients through the recurrent weights can "
            "still explode.",
            "Gating does not bound the h path; language models with LSTMs are trained with norm clipping."),
           [("No: gates are sigmoids, so every gradient is bounded by 1.",
             "The gates bound the cell path's factor f, not the products through Wh in every gate."),
            ("No: LSTMs cannot have large gradients.",
             "They can; clipping is standard practice for them."),
            ("Only when the forget bias is negative.",
             "Exploding gradients do not depend on that bias alone.")]),
    NumericQuestion(
        "cell_path_factor", NB5, LSTM,
        "The forget gate is f = 0.9 in every unit at every step. Along the cell path alone, by what factor is "
        "dL/dc scaled after going back 20 steps?",
        0.9 ** 20,
        "Each step multiplies by f: 0.9^20 = 0.12; with f = 0.99 it would be 0.82. No weight matrix and no "
        "tanh' enter along this path.",
        "Each step back along the cell path multiplies by f.",
        traps=((18.0, "Factors multiply, they do not add: f^20, not 20 f."),
               (0.9, "That is one step; go back 20.")),
        rel_tol=1e-2, abs_tol=2e-3),
    choice("sigmoid_derivative", NB5, LSTM,
           "For a gate s = sigmoid(a), ds/da in terms of s is ...",
           ("s * (1 - s)",
            "sigmoid'(a) = sigmoid(a) (1 - sigmoid(a)), at most 1/4 (at a = 0)."),
           [("s",
             "That is the derivative of exp, not of the sigmoid."),
            ("1 - s^2",
             "That is tanh's derivative in terms of its output."),
            ("1 - s",
             "The factor s is missing.")]),

    # ------------------------------------------------------------ language model
    NumericQuestion(
        "uniform_loss", NB6, LANGUAGE_MODEL,
        "A language model with V = 8 symbols predicts the uniform distribution at every step. What is "
        "temporal_softmax_loss for one sequence (N = 1) of T = 5 steps? (natural log)",
        5 * math.log(8),
        "Each step costs -ln(1/8) = ln 8 = 2.079; the loss sums over the T = 5 steps: 10.40.",
        "The loss of one step is -ln p(target); the course's loss sums over time and averages over the batch.",
        traps=((math.log(8), "That is one step; the loss sums over the T = 5 steps."),
               (15.0, "That is in bits (log2 8 = 3 per step); the loss uses the natural log.")),
        rel_tol=2e-3, abs_tol=0.0),
    choice("softmax_gradient", NB6, LANGUAGE_MODEL,
           "temporal_softmax_loss sums over the T steps and averages over the N sequences. Its gradient "
           "dscores[n, t] is ...",
           ("(softmax(scores[n, t]) - onehot(y[n, t])) / N",
            "d(-log p_y)/d scores = p - onehot(y) at every step; the loss divides by N, so does its gradient."),
           [("softmax(scores[n, t]) - onehot(y[n, t])",
             "The loss is divided by N, so its gradient is too."),
            ("(onehot(y[n, t]) - softmax(scores[n, t])) / N",
             "The sign is wrong: raising the target's score lowers the loss."),
            ("(softmax(scores[n, t]) - onehot(y[n, t])) / (N * T)",
             "The course's loss sums over time steps; only the batch is averaged.")]),
    choice("stable_softmax", NB6, LANGUAGE_MODEL,
           "Why subtract max_v scores[n, t, v] before exponentiating?",
           ("exp overflows for large scores, and subtracting one constant per row leaves the softmax unchanged.",
            "softmax(s - m) = softmax(s) for any constant m; with m = max, every exp is at most 1."),
           [("To make the distribution more peaked.",
             "The probabilities are exactly the same; temperature changes peakedness, not this shift."),
            ("To make the loss positive.",
             "-log p is always >= 0 anyway."),
            ("To make the gradient smaller.",
             "The gradient p - onehot(y) is unchanged.")]),
    choice("stateful_tbptt", NB6, LANGUAGE_MODEL,
           "Training on one long text with stateful truncated BPTT: between two consecutive batches, the hidden "
           "state is ...",
           ("carried over as a value (the last state becomes the next h0), with its gradient cut (detach()).",
            "The model keeps its context across batches while each backward pass stays k steps long."),
           [("reset to zeros.",
             "That throws away the context at every batch boundary; the model can never use more than k "
             "characters of context."),
            ("carried over and backpropagated through all earlier batches.",
             "Then the backward pass (and the memory) would grow with the whole text: that is full BPTT."),
            ("averaged over the batch.",
             "Each sequence in the batch keeps its own state.")]),
    choice("teacher_forcing", NB6, LANGUAGE_MODEL,
           "While the character model is trained, the input at step t is ...",
           ("the true previous character from the data (teacher forcing).",
            "The targets are the inputs shifted by one; the model's own samples are used only when generating."),
           [("the character the model sampled at step t-1.",
             "That is generation; training on its own (early, bad) samples is slow and unstable."),
            ("the target of step t.",
             "Then the model would only learn to copy its input."),
            ("a random character.",
             "The model learns from the real text's context.")]),
    choice("embedding_accumulate", NB6, LANGUAGE_MODEL,
           "Embedding by rows: x_t Wx becomes Wx[x_ids[:, t]]. If the same id appears twice in a batch, its row "
           "of dWx must ...",
           ("receive the sum of both gradients (np.add.at); dWx[ids] += d keeps only one of them.",
            "With repeated indices, numpy's buffered fancy-index += writes each row once; np.add.at accumulates."),
           [("receive the average of both gradients.",
             "The loss is a sum over uses: gradients add."),
            ("receive only the last occurrence's gradient.",
             "That is exactly the fancy-indexing bug: every occurrence contributes."),
            ("stay zero, since the id is repeated.",
             "Every use of the row contributes to its gradient.")]),
    choice("temperature", NB6, LANGUAGE_MODEL,
           "Sampling divides the scores by a temperature tau before the softmax. As tau goes to 0, sampling ...",
           ("becomes greedy: it always picks the most likely character.",
            "Dividing by a small tau stretches the gaps between scores, and the softmax puts all mass on the maximum."),
           [("becomes uniform.",
             "That is tau going to infinity."),
            ("does not change.",
             "Scaling the scores changes every probability except in ties."),
            ("produces more surprising text.",
             "Less: high temperatures make text more surprising.")]),
    NumericQuestion(
        "chunk_memory", NB6, LANGUAGE_MODEL,
        "Chunked TBPTT on a long stream, chunk length k = 25, batch N = 32, hidden H = 128: how many "
        "hidden-state numbers must be kept for one backward pass (the chunk's states plus the state carried in)?",
        (25 + 1) * 32 * 128,
        "One chunk of k states plus the state carried in: (k + 1) * N * H = 26 * 32 * 128 = 106 496, "
        "whatever the length of the stream.",
        "Count states per chunk, then numbers per state.",
        traps=((25 * 32 * 128, "Add the state carried in: step 0 of the chunk needs it."),),
        rel_tol=0.0, abs_tol=0.5),
    NumericQuestion(
        "perplexity", NB6, LANGUAGE_MODEL,
        "A character model's average cross-entropy is ln 4 = 1.386 nats per character. What is its perplexity?",
        4.0,
        "Perplexity = exp(average loss per step) = exp(ln 4) = 4: as uncertain as a fair choice among 4 characters.",
        "Perplexity is the exponential of the loss per step.",
        traps=((math.log(4), "That is the loss itself; perplexity is its exponential."),
               (2.0, "That is the loss in bits (log2 4); perplexity is exp of the loss in nats, or 2 to the bits.")),
        rel_tol=1e-2, abs_tol=0.0),
)
