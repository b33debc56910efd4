"""Port of KituraNet's BufferListTests (Tests/KituraNetTests/BufferListTests.swift).

``BufferList`` is KituraNet's internal byte buffer over NIO's ``ByteBuffer`` (fill into
Swift arrays, unsafe pointers, NSMutableData, rewind). Python code uses ``bytearray``;
the behaviour apps see, ``read(into=)`` appending and counting, is tested with the
request and response classes (test_client_e2e.py, tests/net). Nothing is left to port.
"""

import pytest

REASON = "BufferList is KituraNet's internal NIO ByteBuffer wrapper; Python uses bytearray (no such type to test)"


@pytest.mark.skip(reason=REASON)
def test_append_unsafe_pointer_length(): ...


@pytest.mark.skip(reason=REASON)
def test_append_data(): ...


@pytest.mark.skip(reason=REASON)
def test_fill_array(): ...


@pytest.mark.skip(reason=REASON)
def test_fill_data(): ...


@pytest.mark.skip(reason=REASON)
def test_fill_mutable_data(): ...


@pytest.mark.skip(reason=REASON)
def test_fill_unsafe_mutable_pointer(): ...


@pytest.mark.skip(reason=REASON)
def test_rewind(): ...


@pytest.mark.skip(reason=REASON)
def test_data_and_count(): ...
