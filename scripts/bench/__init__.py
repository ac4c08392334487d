"""jaxperc beside hand-written JAX programs, NumPy, PyTorch and scikit-learn.

Run ``python scripts/bench`` from the repository root (``--help`` for options).
One idea per module:

- :mod:`.workloads`: the problems S1–S4 and their variants, and who runs them;
- :mod:`.baselines`: the plain and the hand-blocked JAX programs;
- :mod:`.peers`: NumPy, PyTorch and scikit-learn contenders;
- :mod:`.machine`: the machine's limits (matmul rate, bandwidth) and memory probes;
- :mod:`.timing`: the correctness gate and interleaved timing;
- :mod:`.coldstart`: compile and start-up times in fresh processes;
- :mod:`.extras`: early convergence, block sizes, import and CLI times;
- :mod:`.csvload`: time and memory of ``jaxperc.data.load_csv`` on a large file;
- :mod:`.userlevel`: time to an answer against scikit-learn;
- :mod:`.targets`: the targets and their verdicts;
- :mod:`.report`: text, JSON and Markdown (``performance.md.tmpl``);
- :mod:`.run`: the command line.
"""
