"""hydrascope's compiled parts, both on ingest's per-byte and per-prompt paths (see
docs/performance.md); everything else is in pyproject.toml:

- graph/signals/_kernels.c: template skeletons and MinHash band keys (graph.signals.prompts);
- app/ingest/_cardscan.c: the byte scan for card numbers (app.ingest.cards);
- app/core/_digests.c: 64-bit BLAKE2b digests of many values in one call (app.core.hashing).

All are optional: where no C compiler is found the install still succeeds and the modules
use their Python paths, which give the same results (tests compare the two).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "graph.signals._kernels",
            sources=["graph/signals/_kernels.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        Extension(
            "app.ingest._cardscan",
            sources=["app/ingest/_cardscan.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        Extension(
            "app.core._digests",
            sources=["app/core/_digests.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
    ]
)
