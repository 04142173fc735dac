"""The one compiled part of hydrascope: graph/signals/_kernels.c (template skeletons and
MinHash band keys, ~5x faster than the NumPy path on realistic prompts; see
docs/performance.md). Everything else is in pyproject.toml.

The extension is optional: where no C compiler is found the install still succeeds and
graph.signals.prompts uses its pure-Python path, which gives the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "graph.signals._kernels",
            sources=["graph/signals/_kernels.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
