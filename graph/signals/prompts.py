"""Prompt template fingerprints and the distillation signature.

A *skeleton* is a prompt with its slot fillers masked, so that ``"what is 17 * 23?"`` and
``"what is 29 * 31?"`` reduce to the same template. Ingest computes it once per request
(cheap regexes, no MinHash); detection then groups lightly paraphrased skeletons with MinHash
LSH over the distinct skeletons only (see :func:`template_groups`).

>>> skeleton("Think step by step: what is 17 * 23?")
'think step by step: what is <n> * <n>?'
>>> skeleton('Translate "good morning" into French') == skeleton('Translate "hello" into French')
True
>>> skeleton('Summarise: "' + "lorem ipsum " * 500) == skeleton('Summarise: "short text"')
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from graph.arrays import distinct

if TYPE_CHECKING:
    from graph.signals.minhash import Words

try:  # compiled at install when a C compiler is there (setup.py); same results either way
    from graph.signals import _kernels
except ImportError:  # no C compiler at install: the Python path below
    _kernels = None  # type: ignore[assignment]

SKELETON_CHARS = 240
PROMPT_CHARS = 1000  # templates show in the opening; long pasted documents are not read

_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# quoted text to its closing quote, or to the end when the prompt was cut inside a quote
# (every branch starts with its quote character, the lookbehind after it: the regex engine
# can then skip to the next quote character instead of trying each position; 3x faster)
_QUOTED = re.compile(r"\"[^\"]*(?:\"|$)|“[^”]*(?:”|$)|`[^`]*(?:`|$)|'(?<!\w')[^']*(?:'|$)")
# whole words of 8+ hex letters, or holding a digit. Written without backtracking: the
# plain form, r"\b[0-9a-f]{8,}\b|\b\w*\d\w*\b", matches the same spans (a property test
# says so) but backs up through every word it reads; this one is a third faster.
_NUMBERISH = re.compile(r"\b(?:[0-9a-f]{8,}+\b|(?=\w*?\d)\w++)")


def skeleton(prompt: str) -> str:
    """Mask URLs, emails, quoted text, numbers and identifiers; fold case and spaces.

    Each mask runs only when a cheap substring test says it can match: this is on the
    ingest hot path (one call per request).
    """
    text = prompt[:PROMPT_CHARS].lower()
    if "http" in text or "www." in text:
        text = _URL.sub("<url>", text)
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    text = _QUOTED.sub("<q>", text)
    return " ".join(_mask_numbers(text).split())[:SKELETON_CHARS]


def skeletons(prompts: Sequence[str | None]) -> list[str | None]:
    """:func:`skeleton` of each prompt (``None`` for a missing or empty one), in compiled code
    when it was built (``graph/signals/_kernels.c``: ~2 against ~8 us a realistic prompt;
    prompts that are not ASCII in their first :data:`PROMPT_CHARS` characters, the part a
    skeleton reads, still go through :func:`skeleton`).

    >>> skeletons(["Call me at 555-0100", None, "", "Café at 9"])
    ['call me at <n>-<n>', None, None, 'café at <n>']
    """
    if _kernels is not None:
        result: list[str | None] = _kernels.skeletons(
            prompts, skeleton, PROMPT_CHARS, SKELETON_CHARS
        )
        return result
    return [skeleton(p) if p else None for p in prompts]


# digits -> "1", a-f -> "2", anything else -> "0" (for ASCII text)
_NUMBER_MARKS = bytes(
    49 if chr(b) in "0123456789" else 50 if chr(b) in "abcdef" else 48 for b in range(256)
)


def _mask_numbers(text: str) -> str:
    """``_NUMBERISH.sub("<n>", text)``, run only over the stretch of the text that can match.

    In ASCII text a match holds a digit or is a word of eight or more hex letters; one
    ``translate`` marks those characters, and ``find``/``rfind`` give the first and last. The
    regex then runs from the space before the first to the space after the last: a space is
    no word character, so word boundaries there are what they are in the whole text, and no
    match crosses one. Most prompts hold no number at all (nothing runs), and most that do
    hold a few in one place (the regex costs ~50 ns a character it reads). Other text runs
    the regex whole (its digits and word characters then include other scripts').
    """
    if not text.isascii():
        return _NUMBERISH.sub("<n>", text)
    marks = text.encode("ascii").translate(_NUMBER_MARKS)
    spans = [
        (i, marks.rfind(mark) + len(mark))
        for mark in (b"1", b"22222222")
        if (i := marks.find(mark)) >= 0
    ]
    if not spans:
        return text
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    start = text.rfind(" ", 0, first) + 1
    end = text.find(" ", last)
    if end < 0:
        end = len(text)
    return text[:start] + _NUMBERISH.sub("<n>", text[start:end]) + text[end:]


_SIGNATURES: dict[str, re.Pattern[str]] = {
    "reasoning": re.compile(
        r"step[- ]by[- ]step|show (all )?(of )?your (reasoning|work|thinking)"
        r"|chain[- ]of[- ]thought"
        r"|reason(ing)? (through|carefully)|explain your reasoning|think (carefully|aloud)"
    ),
    "agentic": re.compile(
        r"tool[_ ]call|function[_ ]call|<tool|\btools?\b.*\bjson\b|observation:|action input"
        r"|you are an? (autonomous )?agent|available tools"
    ),
    "grading": re.compile(
        r"\brubric\b|grade (the|this)|score (the|this) (following )?(answer|response)"
        r"|rate the (answer|response)|on a scale of"
    ),
}
# Every alternative of a class's pattern holds one of these phrases: a class whose phrases are
# all absent cannot match, and substring tests cost a fraction of the pattern (this runs once
# per new template at ingest). The phrases are as long as the patterns allow: single words
# ("show", "think", "scale") let half of realistic prose through to the patterns (~8.6 us a
# template); these let ~1 in 20 through.
_SIGNATURE_WORDS: dict[str, tuple[str, ...]] = {
    "reasoning": (
        "by step",
        "by-step",
        "your reasoning",
        "your work",
        "your thinking",
        "of thought",
        "of-thought",
        "reason through",
        "reasoning through",
        "reason carefully",
        "reasoning carefully",
        "think carefully",
        "think aloud",
    ),
    "agentic": (
        "tool",  # tool_call, tool call, <tool, available tools, and "tools ... json"
        "function_call",
        "function call",
        "observation:",
        "action input",
        "agent",
    ),
    "grading": (
        "rubric",
        "grade the",
        "grade this",
        "score the",
        "score this",
        "rate the answer",
        "rate the response",
        "on a scale of",
    ),
}
#: The distillation signature classes a template can carry.
SIGNATURES: tuple[str, ...] = tuple(_SIGNATURES)


def signature(skel: str) -> str | None:
    """The distillation signature a template carries, if any.

    >>> signature("think step by step: what is <n> * <n>?")
    'reasoning'
    >>> signature("translate <q> into french") is None
    True
    """
    for name, pattern in _SIGNATURES.items():
        if any(map(skel.__contains__, _SIGNATURE_WORDS[name])) and pattern.search(skel):
            return name
    return None


# Words that carry no content: what a rewrite adds or drops freely, and the masks.
_STOPWORDS_TEXT = """
a an the and or but of to in on at by for with from as is are be it its this that these
those you your i me my we our they them their he she his her then than so if not no do
does can could would should will shall may might must please kindly here there what
which who how when where why all each every any some one <q> <n> <url> <email> like want
need just also into onto about after before while
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
CONTENT_SIMILARITY = 0.8  # content words are a coarser view: ask for more agreement
MIN_CONTENT_WORDS = 12  # a short prompt's few words are shared by strangers


#: MinHash values per view and LSH bands: 16 bands of 4 values.
NUM_PERM = 64
BANDS = 16
#: The seed stored band keys are computed with (``graph.build.BuildParams.template_seed``).
TEMPLATE_SEED = 1
#: Bits kept of each MinHash value (b-bit MinHash): a band's four values pack into one
#: uint32, and a template's 32 band keys into 128 bytes (what ingest stores).
VALUE_BITS = 32 // (NUM_PERM // BANDS)
#: Two unrelated values agree by chance this often (subtracted when estimating similarity).
_CHANCE = 2.0**-VALUE_BITS


def band_keys(skeletons: Sequence[str], *, seed: int = TEMPLATE_SEED) -> np.ndarray:
    """``(len(skeletons), 2 * BANDS)`` uint32 LSH band keys under the two views of
    :func:`template_groups`: columns ``0..BANDS-1`` from 4-word shingles, the rest from
    content words. Each MinHash value is kept to its low ``VALUE_BITS`` bits (b-bit MinHash)
    and a band's four values are packed into one uint32, so a band key is the band itself,
    not a hash of it: equal keys are equal bands, and the keys hold the whole signature,
    which is what verifying a candidate pair needs. Computed once per new skeleton (ingest
    workers store them); detection groups on the integers alone.

    >>> keys = band_keys(["a b c d e", "a b c d e", "x y z"])
    >>> keys.shape, keys.dtype, bool((keys[0] == keys[1]).all()), bool((keys[0] == keys[2]).any())
    ((3, 32), dtype('uint32'), True, False)
    """
    if _kernels is not None:
        return _compiled_features(skeletons, seed)[0]
    from graph.signals.minhash import Words  # here: ingest workers import this module

    return _band_keys(Words.of(skeletons), seed)


def _compiled_features(texts: Sequence[str], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`band_keys` and the word counts from ``graph/signals/_kernels.c``: the same
    split, word hashes (pandas' SipHash), shingles, permutations and 8-bit packing as
    :func:`_band_keys`, per text in C with no per-word arrays (so no chunking either)."""
    from graph.signals.minhash import PANDAS_HASH_KEY, SHINGLE_WORDS, WORD_BITS, permutations

    assert _kernels is not None
    bands = np.empty((len(texts), 2 * BANDS), dtype=np.uint32)
    counts = np.empty(len(texts), dtype=np.int32)
    a1, b1 = permutations(NUM_PERM, seed)
    a2, b2 = permutations(NUM_PERM, seed + 1)
    _kernels.band_keys(
        texts,
        PANDAS_HASH_KEY,
        stopword_hashes(),
        a1,
        b1,
        a2,
        b2,
        SHINGLE_WORDS,
        (1 << WORD_BITS) - 1,
        bands,
        counts,
    )
    return bands, counts


def stopword_hashes() -> np.ndarray:
    """The sorted word hashes of :data:`STOPWORDS` (what the content view leaves out)."""
    from graph.signals.minhash import sorted_hashes

    return sorted_hashes(STOPWORDS)


def _band_keys(words: Words, seed: int) -> np.ndarray:
    """:func:`band_keys` of texts already split and hashed (once, for both views)."""
    from graph.signals.minhash import signatures

    n = len(words)
    out = np.empty((n, 2 * BANDS), dtype=np.uint32)
    if n == 0:
        return out
    views = (
        signatures(words, num_perm=NUM_PERM, seed=seed),
        signatures(words, num_perm=NUM_PERM, seed=seed + 1, k=1, drop=STOPWORDS),
    )
    for v, sig in enumerate(views):
        low = np.ascontiguousarray(sig.astype(np.uint8))  # (n, NUM_PERM), band by band
        out[:, v * BANDS : (v + 1) * BANDS] = low.view("<u4")
    return out


def pack_bands(bands: np.ndarray) -> list[bytes]:
    """Each template's band keys as the 128 bytes ingest stores (little-endian uint32s).

    >>> k = band_keys(["a b c d e", "f g h i j"])
    >>> back = np.frombuffer(b"".join(pack_bands(k)), "<u4").reshape(2, 2 * BANDS)
    >>> bool((back == k).all())
    True
    """
    raw = packed_bands(bands)
    return [raw[i : i + BAND_BYTES] for i in range(0, len(raw), BAND_BYTES)]


#: Bytes of one template's stored band keys.
BAND_BYTES = 4 * 2 * BANDS


def packed_bands(bands: np.ndarray) -> bytes:
    """All templates' band keys as one run of :data:`BAND_BYTES`-byte values, in order (what
    :func:`pack_bands` cuts up)."""
    return np.ascontiguousarray(bands, dtype="<u4").tobytes()


def word_counts(skeletons: Sequence[str]) -> np.ndarray:
    """Words per skeleton (content matches need :data:`MIN_CONTENT_WORDS` on both sides)."""
    return np.fromiter((len(s.split()) for s in skeletons), dtype=np.int32, count=len(skeletons))


def signature_codes(skeletons: Sequence[str]) -> np.ndarray:
    """:func:`signature` of each skeleton as a code: 0 for none, ``1 + i`` for
    ``SIGNATURES[i]``.

    The word guard runs once over the batch: each phrase is looked for in the skeletons
    joined by newlines (no phrase holds one, so a match lies within one skeleton), and only
    the skeletons holding a phrase go through :func:`signature` (3.3 against 6.1 us a
    realistic template, one skeleton at a time).

    >>> signature_codes(["think step by step", "hello there"]).tolist()
    [1, 0]
    """
    code = {name: i + 1 for i, name in enumerate(SIGNATURES)}
    out = np.zeros(len(skeletons), dtype=np.int16)
    for lo in range(0, len(skeletons), FEATURE_CHUNK):
        part = skeletons[lo : lo + FEATURE_CHUNK]
        for i in _holding_a_phrase(part).tolist():
            out[lo + i] = code.get(signature(part[i]) or "", 0)
    return out


def _holding_a_phrase(texts: Sequence[str]) -> np.ndarray:
    """Indexes of the texts that hold one of the word guard's phrases: one pass over each text
    in compiled code (``graph/signals/_kernels.c``) when it was built, else one ``find`` per
    phrase over the texts joined (C speed, but a pass per phrase)."""
    if _kernels is not None:
        return np.asarray(_kernels.phrase_hits(texts, _GUARD_PHRASES), dtype=np.int64)
    joined = "\n".join(texts)
    ends = np.cumsum([len(t) + 1 for t in texts])
    found: list[int] = []
    for phrase in _GUARD_PHRASES:
        at = joined.find(phrase)
        while at >= 0:
            i = int(np.searchsorted(ends, at, side="right"))
            found.append(i)
            at = joined.find(phrase, int(ends[i]))  # the next text: one hit a text is enough
    return distinct(np.asarray(found, dtype=np.int64))


_GUARD_PHRASES = tuple(dict.fromkeys(p for ps in _SIGNATURE_WORDS.values() for p in ps))


#: Skeletons hashed at a time: the per-word arrays of a block of unique prompts (~2M words)
#: raised an ingest worker's peak by more than 100 MiB.
FEATURE_CHUNK = 4096


def grouping_features(
    skeletons: Sequence[str], *, seed: int = TEMPLATE_SEED
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What template grouping reads of each skeleton: :func:`band_keys`, :func:`word_counts`
    and :func:`signature_codes`, the band keys computed ``FEATURE_CHUNK`` skeletons at a
    time (the keys of a skeleton do not depend on its neighbours). Ingest stores these;
    detection computes them for templates that have none stored."""
    if _kernels is not None:
        bands_, counts_ = _compiled_features(skeletons, seed)
        return bands_, counts_, signature_codes(skeletons)
    from graph.signals.minhash import Words

    bands, counts = [band_keys([], seed=seed)], [np.zeros(0, dtype=np.int32)]
    for i in range(0, len(skeletons), FEATURE_CHUNK):
        words = Words.of(skeletons[i : i + FEATURE_CHUNK])  # split once: keys and word counts
        bands.append(_band_keys(words, seed))
        counts.append(words.counts.astype(np.int32))
    return np.concatenate(bands), np.concatenate(counts), signature_codes(skeletons)


def template_groups(
    skeletons: Sequence[str],
    *,
    seed: int = TEMPLATE_SEED,
    min_similarity: float = 0.55,
) -> np.ndarray:
    """Group near-duplicate skeletons with MinHash LSH, under two views: 4-word shingles
    (light edits) and content words (a model rewrite: synonyms swapped, sentences reordered,
    politeness added, which breaks most shingles but keeps most content words).

    Returns one group label per skeleton; labels are the index of a representative.
    The cost is linear in the number of distinct skeletons, not in requests. The keys come
    from :func:`band_keys`; :func:`groups_from_bands` does the grouping (ingest stores the
    keys, and detection calls it on the stored ones).

    >>> template_groups(["summarise the text <q> in <n> words please now",
    ...                  "summarise the text <q> in <n> words please today",
    ...                  "write a poem about the sea"]).tolist()
    [0, 0, 2]
    """
    return groups_from_bands(
        band_keys(skeletons, seed=seed), word_counts(skeletons), min_similarity=min_similarity
    )


def groups_from_bands(
    bands: np.ndarray, words: np.ndarray, *, min_similarity: float = 0.55
) -> np.ndarray:
    """Group templates by their :func:`band_keys` and word counts: per band, a group-by on
    the key gives the candidate pairs (a self-join on (band, key)); each candidate is kept
    when enough of the two signatures agree; groups are the connected components. Only
    integers are read, so the same grouping runs on keys stored at ingest and on keys
    computed here from skeleton texts. Labels are the index of each group's first template.
    """
    n = len(bands)
    labels = np.arange(n)
    if bands.dtype != np.uint32:  # e.g. 64-bit keys of 16-bit values (before migration 0006)
        raise TypeError(f"band keys must be uint32 (8-bit MinHash values), not {bands.dtype}")
    if n < 2:
        return labels
    s1, d1 = _similar_pairs(bands[:, :BANDS], min_similarity)
    s2, d2 = _similar_pairs(bands[:, BANDS:], CONTENT_SIMILARITY)
    long_enough = (words[s2] >= MIN_CONTENT_WORDS) & (words[d2] >= MIN_CONTENT_WORDS)
    s_, d_ = np.r_[s1, s2[long_enough]], np.r_[d1, d2[long_enough]]
    from scipy.sparse import coo_matrix  # here: ingest workers import this module, not scipy
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(s_)), (s_, d_)), shape=(n, n))
    comp = connected_components(graph, directed=False)[1]
    first = np.full(comp.max() + 1, n)
    np.minimum.at(first, comp, np.arange(n))
    return first[comp]


#: Candidate pairs verified at a time (their unpacked values: 64 bytes each per side).
PAIR_CHUNK = 1 << 18
#: Bands checked at once (threads: NumPy releases the GIL in the sorts and compares).
BAND_THREADS = 2


def _similar_pairs(bands: np.ndarray, min_similarity: float) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs from LSH bands (templates next to each other among those with the
    same key in a band), kept when their estimated Jaccard (share of equal MinHash values,
    unpacked from the keys) reaches ``min_similarity``: one shared band is a weak hint, and
    unverified pairs chain unrelated templates together through connected components once
    there are thousands of skeletons. Each band's candidates are checked before the next
    band's are made: on real prose the content view makes ~10 candidates a template (strangers
    share content words), and only the verified ones (~0.5%) are kept."""
    n = len(bands)
    # each template's signature as whole 64-bit words: np.take of word rows is ~6x faster
    # than fancy-indexing byte rows; the values are compared byte by byte after the gather
    words = np.ascontiguousarray(bands, dtype=np.uint32).view(np.uint64)
    # equal values needed: the share estimates the similarity once chance agreement is taken
    # out, (share - chance) / (1 - chance) >= min_similarity
    width = 8 * words.shape[1]
    need = int(np.ceil(width * (min_similarity * (1 - _CHANCE) + _CHANCE) - 1e-9))
    index = np.arange(n, dtype=np.uint64)
    low = np.uint64(0xFFFFFFFF)
    # each band's keys side by side: a column of the (templates x bands) array is read a
    # cache line per template (12.7M templates: 0.105 s a band against 0.014 s)
    columns = np.ascontiguousarray(bands.T)

    def one_band(band: int) -> list[tuple[np.ndarray, np.ndarray]]:
        # (key, index) packed into one uint64 and sorted by value: the order of a stable
        # argsort on the key, several times faster (measured 0.04 against 0.23 s at 2.2M)
        packed = (columns[band].astype(np.uint64) << np.uint64(32)) | index
        packed.sort()
        order = (packed & low).astype(np.int64)
        key = packed >> np.uint64(32)
        same = np.flatnonzero(key[1:] == key[:-1])
        del packed, key
        out = []
        for lo in range(0, len(same), PAIR_CHUNK):  # (pairs x values) bytes at a time
            s_c, d_c = order[same[lo : lo + PAIR_CHUNK]], order[same[lo : lo + PAIR_CHUNK] + 1]
            a = np.take(words, s_c, axis=0).view(np.uint8)
            b = np.take(words, d_c, axis=0).view(np.uint8)
            ok = np.count_nonzero(a == b, axis=1) >= need  # not a float mean: 3x faster
            out.append((s_c[ok], d_c[ok]))
        return out

    # bands are independent and NumPy's sorts, gathers and compares release the GIL: two
    # threads (this service's machines have two cores) halve the wall time at 12.7M
    # templates; the pairs are the same whatever the order they come in
    with ThreadPoolExecutor(max_workers=BAND_THREADS) as pool:
        found = [p for part in pool.map(one_band, range(bands.shape[1])) for p in part]
    src = [np.zeros(0, dtype=np.int64), *(s for s, _ in found)]
    dst = [np.zeros(0, dtype=np.int64), *(d for _, d in found)]
    return np.concatenate(src), np.concatenate(dst)
