# Types of the compiled module built from _kernels.c (see graph.signals.prompts).
from collections.abc import Callable, Sequence

import numpy as np

def skeletons(
    prompts: Sequence[str | None],
    fallback: Callable[[str], str],
    prompt_chars: int,
    skeleton_chars: int,
    /,
) -> list[str | None]: ...
def band_keys(
    texts: Sequence[str],
    key: bytes,
    drop: np.ndarray,
    a1: np.ndarray,
    b1: np.ndarray,
    a2: np.ndarray,
    b2: np.ndarray,
    shingle_words: int,
    word_mask: int,
    bands: np.ndarray,
    words: np.ndarray,
    /,
) -> None: ...
def phrase_hits(texts: Sequence[str], phrases: Sequence[str], /) -> list[int]: ...
