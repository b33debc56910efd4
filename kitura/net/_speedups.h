/* What the two C files of kitura.net._speedups share. */
#ifndef KITURA_NET_SPEEDUPS_H
#define KITURA_NET_SPEEDUPS_H

#include <Python.h>

/* _speedups.c: a ServerResponse head, and body when not NULL (see kitura_encode_head there);
 * 1 done, 0 declined, -1 error. */
int kitura_encode_head(PyObject *line, long status, PyObject *entries, Py_ssize_t content_length, long major,
                       long minor, int *keep_alive, int *no_body, int *chunked, PyObject *body, PyObject **head);

/* _response.c: adds the ResponseCore type and configure_response() to the module. */
int kitura_add_response_type(PyObject *module);

/* _headers.c: type() for a HeadersContainer type, made without calling it when its
 * __init__ is HeadersCore's (which does nothing without arguments). */
PyObject *kitura_new_headers(PyObject *type);

/* _headers.c: adds the HeadersCore type and configure_headers() to the module. */
int kitura_add_headers_type(PyObject *module);

/* _request.c: adds the RequestCore type to the module. */
int kitura_add_request_type(PyObject *module);

/* _request.c: request.keep_alive, .method, .http_version_major or .http_version_minor
 * (one of the four below), read from the C fields of a RequestCore. A new reference. */
enum { KITURA_REQUEST_KEEP_ALIVE, KITURA_REQUEST_METHOD, KITURA_REQUEST_MAJOR, KITURA_REQUEST_MINOR };
PyObject *kitura_request_field(PyObject *request, int which);

/* _request.c: a request of type (a RequestCore subtype, made without calling it) with
 * these fields, HTTP/1.<minor>; type(...) called for any other type. A new reference. */
PyObject *kitura_new_request(PyTypeObject *type, PyObject *method, PyObject *url, PyObject *raw_headers,
                             PyObject *body, PyObject *remote_address, int minor, PyObject *scheme,
                             PyObject *local_port);

#endif
