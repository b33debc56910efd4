"""Port of KituraNet's MonitoringTests (Tests/KituraNetTests/MonitoringTests.swift)."""

import threading

from kitura.net import HTTPStatusCode, Monitor, ServerDelegate, ServerMonitor

from .conftest import CONTENT_TYPES_STRING


class TestServerDelegate(ServerDelegate):
    __test__ = False

    def handle(self, request, response):
        payload_data = CONTENT_TYPES_STRING.encode()
        response.status_code = HTTPStatusCode.OK
        response.headers["Content-Length"] = [str(len(payload_data))]
        response.write(from_=payload_data)
        response.end()


def test_started_finished_http(kitura_net_test):
    started_expectation, finished_expectation = threading.Event(), threading.Event()
    failures = []  # what the monitor's callbacks see (the server logs what they raise)

    class TestMonitor(ServerMonitor):
        def started(self, request, response):
            started_expectation.set()

        def finished(self, request, response):
            if started_expectation.is_set():
                finished_expectation.set()
            else:
                failures.append("Monitoring finished called before Monitoring started")

    Monitor.delegate = TestMonitor()
    try:
        _, kitura_net_test.port = kitura_net_test.start_ephemeral_server(TestServerDelegate())
        responses = []

        def callback(response):
            assert response is not None, "Received a nil response"
            assert response.status_code == HTTPStatusCode.OK
            responses.append(response)

        kitura_net_test.perform_request("get", "/plover", callback)
        assert started_expectation.wait(10) and finished_expectation.wait(10), failures
        assert responses and not failures
    finally:
        Monitor.delegate = None  # the fixture stops the server
