"""Port of KituraNet's LargePayloadTests (Tests/KituraNetTests/LargePayloadTests.swift)."""

from kitura.net import HTTP, HTTPStatusCode, ServerDelegate

from .conftest import CONTENT_TYPES_STRING


class TestServerDelegate(ServerDelegate):
    __test__ = False

    def handle(self, request, response):
        if request.method.upper() == "GET":
            self.handle_get(request, response)
        else:
            self.handle_post(request, response)

    def handle_get(self, request, response):
        payload = "[" + CONTENT_TYPES_STRING + ("," + CONTENT_TYPES_STRING) * 321 + "]"
        payload_data = payload.encode()
        response.headers["Content-Length"] = [str(len(payload_data))]
        response.write(from_=payload_data)
        response.end()

    def handle_post(self, request, response):
        body = bytearray()
        length = request.read_all_data(into=body)
        result = f"Read {length} bytes"
        response.headers["Content-Type"] = ["text/plain"]
        response.headers["Content-Length"] = [str(len(result))]
        response.end(text=result)


delegate = TestServerDelegate()


def test_large_posts(kitura_net_test):
    t = kitura_net_test

    def task(expectation):
        payload = "[" + CONTENT_TYPES_STRING + "," + CONTENT_TYPES_STRING + CONTENT_TYPES_STRING + "," + CONTENT_TYPES_STRING + "]"

        def callback(response):
            assert response.status_code == HTTPStatusCode.OK
            expected_result = f"Read {len(payload)} bytes"
            data = bytearray()
            count = response.read_all_data(into=data)
            assert count == len(expected_result)
            assert data.decode() == expected_result
            expectation.fulfill()

        t.perform_request("post", "/largepost", callback, request_modifier=lambda request: request.write(from_=payload))

    t.perform_server_test(delegate, task, use_ssl=False)


def test_large_gets(kitura_net_test):
    t = kitura_net_test

    def task(expectation):
        def callback(response):
            assert response.status_code == HTTPStatusCode.OK
            data = bytearray()
            assert response.read_all_data(into=data) == (len(CONTENT_TYPES_STRING) + 1) * 322 + 1
            expectation.fulfill()

        request = HTTP.request(f"http://localhost:{t.port}/largepost", callback)
        request.end()

    t.perform_server_test(delegate, task, socket_type="tcp", use_ssl=False)
