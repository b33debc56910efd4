"""Port of KituraNet's HTTPStatusCodeTests (Tests/KituraNetTests/HTTPStatusCodeTests.swift)."""

from kitura.net import HTTPStatusCode, HTTPStatusCodeClass


def test_status_code_creation():
    my_ok = HTTPStatusCode(200)
    assert my_ok is not None
    assert my_ok.status_class == HTTPStatusCodeClass.SUCCESSFUL


def test_invalid_status_code():
    # Swift's failable HTTPStatusCode(rawValue: 418) is nil; in Python HTTPStatusCode(418) is UNKNOWN
    # (the enum's _missing_), which a port compares where Swift compares with nil.
    invalid_status = HTTPStatusCode(418)
    assert invalid_status is HTTPStatusCode.UNKNOWN


def test_class_of_status_code():
    assert HTTPStatusCode.OK.status_class == HTTPStatusCodeClass.SUCCESSFUL
    assert HTTPStatusCode.CONTINUE.status_class == HTTPStatusCodeClass.INFORMATIONAL
    assert HTTPStatusCode.MULTIPLE_CHOICES.status_class == HTTPStatusCodeClass.REDIRECTION
    assert HTTPStatusCode.BAD_REQUEST.status_class == HTTPStatusCodeClass.CLIENT_ERROR
    assert HTTPStatusCode.INTERNAL_SERVER_ERROR.status_class == HTTPStatusCodeClass.SERVER_ERROR
    assert HTTPStatusCode.UNKNOWN.status_class == HTTPStatusCodeClass.INVALID_STATUS


def test_class_of_every_valid_code():
    def verify_class(codes: range, expected_class: HTTPStatusCodeClass) -> None:
        for code in codes:
            status_code = HTTPStatusCode(code)
            if status_code is not HTTPStatusCode.UNKNOWN:
                assert status_code.status_class == expected_class, f"{status_code} should be within {expected_class}"

    verify_class(range(100, 200), HTTPStatusCodeClass.INFORMATIONAL)
    verify_class(range(200, 300), HTTPStatusCodeClass.SUCCESSFUL)
    verify_class(range(300, 400), HTTPStatusCodeClass.REDIRECTION)
    verify_class(range(400, 500), HTTPStatusCodeClass.CLIENT_ERROR)
    verify_class(range(500, 600), HTTPStatusCodeClass.SERVER_ERROR)
