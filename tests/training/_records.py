"""Engine records built by hand for tests that look inside the compiled chunk."""

import numpy as np

from jaxperc.training.loop import compiled_chunk
from jaxperc.training.state import Models, Setup, initial_state


def models(m: int, **changes) -> Models:
    """M plain gd models (float32, learning rate 0.1, no L2), fields overridable."""
    zeros = np.zeros(m, np.int32)
    record = Models(
        seed=np.arange(m),
        learning_rate=np.full(m, 0.1, np.float32),
        l2=np.zeros(m, np.float32),
        target_index=zeros,
        weight_index=zeros,
        standardizer_index=zeros,
        hparams={},
        init=None,
        opt_state=None,
        step=zeros,
    )
    return record._replace(**changes)


def chunk_temp_bytes(spec, data, record: Models, d: int) -> int:
    """XLA's scratch memory for a 4-epoch chunk of these models (float32)."""
    setup = Setup(spec, data, d, "normal", 0.01, np.float32, None, None)
    state = initial_state(setup, record)
    lowered = compiled_chunk(spec).lower(state, data, np.zeros(0, np.int32), 4)
    return lowered.compile().memory_analysis().temp_size_in_bytes
