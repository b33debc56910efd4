"""Builds the optional C speedups; the package works without them (pure-Python fallback)."""
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "kitura.websocket._speedups",
            sources=["kitura/websocket/_speedups.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        Extension(
            "kitura.net._speedups",
            sources=["kitura/net/_speedups.c", "kitura/net/_response.c", "kitura/net/_headers.c",
                     "kitura/net/_request.c"],
            depends=["kitura/net/_speedups.h"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
    ]
)
