/* C speedups for kitura.net: encoding a response head in one pass.
 *
 * join_head(status_line, entries, tail) -> bytes | None
 *
 *   status_line  bytes, e.g. b"HTTP/1.1 200 OK\r\n"
 *   entries      dict of HeadersContainer entries: key -> [name: str, values: list[str]]
 *   tail         list of bytes (pre-encoded lines: Date, Content-Length, ...)
 *
 * Returns status_line, a "name: value\r\n" line per value, the tail lines and the
 * blank line, with names and values encoded as latin-1. Returns None when a name or
 * value is not a str whose characters all fit in latin-1 (or the entries are not
 * shaped as above): the caller then takes the pure-Python path, which encodes the
 * whole head as UTF-8 in that case (http11.py).
 *
 * parse_request(data, pos, max_request_line, max_header_size, max_header_count,
 *               size_limit) -> tuple | None
 *
 *   The request that starts at data[pos:], when it is complete in data and plain:
 *   (method: str, target: bytes, headers: list[(name, value)], body: bytes | bytearray,
 *   minor: 0 | 1, keep_alive: bool, end: int, upgrade: bool). upgrade is True for a plain
 *   WebSocket-style upgrade request (GET, HTTP/1.1, no Content-Length, one Upgrade field,
 *   one Connection field that lists "upgrade" and at most "keep-alive" besides): llhttp
 *   stops after its head, so end is where the head ends and what follows is the
 *   upgraded protocol's. None for anything else: an incomplete request, a method other
 *   than the seven common ones, a target that is not origin-form, Transfer-Encoding,
 *   Expect, any other Upgrade, a Connection value other than close/keep-alive (or the
 *   upgrade list above), a Host that is missing (HTTP/1.1), repeated or not a reg-name,
 *   a limit reached, any byte outside the conservative sets below. The caller then
 *   feeds data[pos:] to httptools, which is the reference parser: it accepts or
 *   rejects (with the right status) everything this one declines.
 *   With four more arguments (request_type, remote_address, scheme, local_port) it
 *   returns (request, keep_alive, end, upgrade): the request made in the same call, as
 *   request_type(method, target, headers, body, remote_address, (1, minor), scheme,
 *   local_port) would make it.
 *
 * encode_head(status_lines, status, entries, content_length, keep_alive, no_body,
 *             major, minor) -> (head, keep_alive, no_body, chunked) | None
 *
 *   The whole response head of ServerResponse, as http11.py's py_encode_head makes it:
 *   status line, header lines, Date (cached for the second), the framing line
 *   (Content-Length, or Transfer-Encoding: chunked when content_length is None on
 *   HTTP/1.1), the Connection line. None when the entries hold Transfer-Encoding or
 *   Connection, a status has no prebuilt line, or a name or value is not latin-1:
 *   the pure-Python twin decides those.
 *
 * ResponseCore (in _response.c, built into this module): the state and hot methods of
 * a ServerResponse; response.py's PyResponseCore is its pure-Python twin.
 * HeadersCore (in _headers.c): the storage and hot methods of a HeadersContainer;
 * headers.py's PyHeadersCore is its pure-Python twin. RequestCore (in _request.c): the
 * fields of a ServerRequest; request.py's PyRequestCore is its pure-Python twin.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <time.h>

#include "_speedups.h"

/* 1-byte kind strings hold their characters (all < 256) as latin-1 bytes. */
static int
latin1_view(PyObject *s, const char **data, Py_ssize_t *len)
{
    if (!PyUnicode_CheckExact(s))
        return 0;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0) {
        PyErr_Clear();
        return 0;
    }
#endif
    if (PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND)
        return 0;
    *data = (const char *)PyUnicode_1BYTE_DATA(s);
    *len = PyUnicode_GET_LENGTH(s);
    return 1;
}

/* The bytes of the header lines of HeadersContainer entries ("name: value\r\n" per
 * value), or -1 when an entry is not shaped [name: str, values: list[str]] or a name
 * or value is not latin-1 text. */
static Py_ssize_t
entries_size(PyObject *entries)
{
    Py_ssize_t total = 0, pos = 0, len = 0, name_len = 0;
    PyObject *key, *entry;
    const char *data = NULL;
    while (PyDict_Next(entries, &pos, &key, &entry)) {
        if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != 2)
            return -1;
        PyObject *name = PyList_GET_ITEM(entry, 0), *values = PyList_GET_ITEM(entry, 1);
        if (!latin1_view(name, &data, &name_len) || !PyList_CheckExact(values))
            return -1;
        Py_ssize_t count = PyList_GET_SIZE(values);
        for (Py_ssize_t i = 0; i < count; i++) {
            if (!latin1_view(PyList_GET_ITEM(values, i), &data, &len))
                return -1;
            total += name_len + 4 + len;
        }
    }
    return total;
}

/* Write the header lines entries_size measured; returns the end. The dict and lists
 * are not touched in between (no Python code runs). */
static char *
write_entries(char *p, PyObject *entries)
{
    Py_ssize_t pos = 0, len = 0, name_len = 0;
    PyObject *key, *entry;
    const char *data = NULL, *name_data = NULL;
    while (PyDict_Next(entries, &pos, &key, &entry)) {
        latin1_view(PyList_GET_ITEM(entry, 0), &name_data, &name_len);
        PyObject *values = PyList_GET_ITEM(entry, 1);
        Py_ssize_t count = PyList_GET_SIZE(values);
        for (Py_ssize_t i = 0; i < count; i++) {
            latin1_view(PyList_GET_ITEM(values, i), &data, &len);
            memcpy(p, name_data, name_len);
            p += name_len;
            *p++ = ':';
            *p++ = ' ';
            memcpy(p, data, len);
            p += len;
            *p++ = '\r';
            *p++ = '\n';
        }
    }
    return p;
}

static PyObject *
join_head(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_CheckExact(args[0]) || !PyDict_CheckExact(args[1]) || !PyList_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "join_head(status_line: bytes, entries: dict, tail: list)");
        return NULL;
    }
    PyObject *line = args[0], *entries = args[1], *tail = args[2];
    Py_ssize_t total = PyBytes_GET_SIZE(line) + 2;
    Py_ssize_t lines = entries_size(entries);
    if (lines < 0)
        Py_RETURN_NONE;
    total += lines;
    Py_ssize_t tail_count = PyList_GET_SIZE(tail);
    for (Py_ssize_t i = 0; i < tail_count; i++) {
        PyObject *part = PyList_GET_ITEM(tail, i);
        if (!PyBytes_CheckExact(part)) {
            PyErr_SetString(PyExc_TypeError, "join_head: tail items must be bytes");
            return NULL;
        }
        total += PyBytes_GET_SIZE(part);
    }

    /* Pass 2: copy. The dict and lists are not touched in between (no Python code runs). */
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL)
        return NULL;
    char *p = PyBytes_AS_STRING(out);
    memcpy(p, PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line));
    p += PyBytes_GET_SIZE(line);
    p = write_entries(p, entries);
    for (Py_ssize_t i = 0; i < tail_count; i++) {
        PyObject *part = PyList_GET_ITEM(tail, i);
        memcpy(p, PyBytes_AS_STRING(part), PyBytes_GET_SIZE(part));
        p += PyBytes_GET_SIZE(part);
    }
    *p++ = '\r';
    *p++ = '\n';
    return out;
}


/* ---- encode_head ---------------------------------------------------------- */

static time_t date_second = 0;
static char date_line[64];
static Py_ssize_t date_line_len = 0;

static void
refresh_date(void)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    if (now == date_second && date_line_len)
        return;
    struct tm tm;
    gmtime_r(&now, &tm);
    date_line_len = snprintf(date_line, sizeof(date_line), "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                             days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
                             tm.tm_min, tm.tm_sec);
    date_second = now;
}

static PyObject *KEY_DATE, *KEY_CONTENT_LENGTH, *KEY_TRANSFER_ENCODING, *KEY_CONNECTION;

/* "Content-Length: <n>\r\n" at tail[len:] (snprintf is most of a head's cost); the new length. */
static Py_ssize_t
write_content_length(char *tail, Py_ssize_t len, Py_ssize_t content_length)
{
    char digits[24];
    int count = 0;
    size_t n = (size_t)content_length;
    do {
        digits[count++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    memcpy(tail + len, "Content-Length: ", 16);
    len += 16;
    while (count)
        tail[len++] = digits[--count];
    tail[len++] = '\r';
    tail[len++] = '\n';
    return len;
}

/* The head of a ServerResponse into *head (a new bytes object; followed by body, when
 * not NULL, unless the response has none), updating *keep_alive, *no_body and *chunked
 * as py_encode_head does: 1 done, 0 declined (the Python twin
 * decides: Transfer-Encoding or Connection among the entries, a name or value that is
 * not latin-1 text), -1 error. Shared with the response type (_response.c). */
int
kitura_encode_head(PyObject *line, long status, PyObject *entries, Py_ssize_t content_length, long major,
                   long minor, int *keep_alive, int *no_body, int *chunked, PyObject *body, PyObject **head)
{
    int has_date = 0, has_length = 0;
    if (PyDict_GET_SIZE(entries)) {
        if (PyDict_Contains(entries, KEY_TRANSFER_ENCODING) || PyDict_Contains(entries, KEY_CONNECTION))
            return 0;
        has_date = PyDict_Contains(entries, KEY_DATE);
        has_length = PyDict_Contains(entries, KEY_CONTENT_LENGTH);
        if (has_date < 0 || has_length < 0)
            return -1;
    }
    char tail[160];
    Py_ssize_t tail_len = 0;
    if (!has_date) {
        refresh_date();
        memcpy(tail, date_line, date_line_len);
        tail_len = date_line_len;
    }
    *chunked = 0;
    if ((status >= 100 && status < 200) || status == 204 || status == 304) {
        *no_body = 1;
    } else if (content_length >= 0) {
        if (!has_length)
            tail_len = write_content_length(tail, tail_len, content_length);
    } else if (!has_length) {
        if (major == 1 && minor >= 1) {
            *chunked = 1;
            if (!*no_body) {
                memcpy(tail + tail_len, "Transfer-Encoding: chunked\r\n", 28);
                tail_len += 28;
            }
        } else {
            *keep_alive = 0;  /* HTTP/1.0: the body ends when the connection closes */
        }
    }
    if (!*keep_alive) {
        memcpy(tail + tail_len, "Connection: close\r\n", 19);
        tail_len += 19;
    } else if (minor == 0) {
        memcpy(tail + tail_len, "Connection: keep-alive\r\n", 24);
        tail_len += 24;
    }

    Py_ssize_t lines = entries_size(entries);
    if (lines < 0)
        return 0;
    Py_ssize_t body_len = body != NULL && !*no_body ? PyBytes_GET_SIZE(body) : 0;
    Py_ssize_t total = PyBytes_GET_SIZE(line) + lines + tail_len + 2 + body_len;
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL)
        return -1;
    char *p = PyBytes_AS_STRING(out);
    memcpy(p, PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line));
    p += PyBytes_GET_SIZE(line);
    p = write_entries(p, entries);
    memcpy(p, tail, tail_len);
    p += tail_len;
    *p++ = '\r';
    *p++ = '\n';
    if (body_len)
        memcpy(p, PyBytes_AS_STRING(body), body_len);
    *head = out;
    return 1;
}

static PyObject *
encode_head(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8 || !PyDict_CheckExact(args[0]) || !PyLong_CheckExact(args[1]) || !PyDict_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "encode_head(status_lines: dict, status: int, entries: dict, "
                                         "content_length, keep_alive, no_body, major, minor)");
        return NULL;
    }
    PyObject *line = PyDict_GetItemWithError(args[0], args[1]);
    if (line == NULL) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    if (!PyBytes_CheckExact(line))
        Py_RETURN_NONE;
    long status = PyLong_AsLong(args[1]);
    Py_ssize_t content_length = args[3] == Py_None ? -1 : PyLong_AsSsize_t(args[3]);
    int keep_alive = PyObject_IsTrue(args[4]);
    int no_body = PyObject_IsTrue(args[5]);
    long major = PyLong_AsLong(args[6]), minor = PyLong_AsLong(args[7]);
    if (PyErr_Occurred())
        return NULL;
    int chunked = 0;
    PyObject *head = NULL;
    int done = kitura_encode_head(line, status, args[2], content_length, major, minor, &keep_alive, &no_body,
                                  &chunked, NULL, &head);
    if (done < 0)
        return NULL;
    if (done == 0)
        Py_RETURN_NONE;
    return Py_BuildValue("(NNNN)", head, PyBool_FromLong(keep_alive), PyBool_FromLong(no_body),
                         PyBool_FromLong(chunked));
}

/* ---- parse_request -------------------------------------------------------- */

static unsigned char TCHAR[256];    /* RFC 9110 5.6.2 token characters */
static unsigned char TARGET[256];   /* origin-form target: unreserved, sub-delims, ":@/?%" */
static unsigned char HOSTCHAR[256]; /* reg-name: unreserved, sub-delims, "%" */
static unsigned char VALUE[256];    /* field value: visible ASCII, SP, HTAB */

static PyObject *METHOD_GET, *METHOD_HEAD, *METHOD_POST, *METHOD_PUT, *METHOD_DELETE,
    *METHOD_OPTIONS, *METHOD_PATCH, *EMPTY_BYTES;

static void
init_tables(void)
{
    const char *tchar = "!#$%&'*+-.^_`|~";
    const char *sub = "-._~!$&'()*+,;=";
    for (int c = 0; c < 256; c++) {
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        TCHAR[c] = alnum || (c && strchr(tchar, c) != NULL);
        HOSTCHAR[c] = alnum || (c && strchr(sub, c) != NULL) || c == '%';
        TARGET[c] = HOSTCHAR[c] || c == ':' || c == '@' || c == '/' || c == '?';
        VALUE[c] = (c >= 0x20 && c < 0x7f) || c == '\t';
    }
}

/* ASCII case-insensitive: does p[0:len] equal the lower-case word? */
static int
lower_is(const char *p, Py_ssize_t len, const char *word, Py_ssize_t word_len)
{
    if (len != word_len)
        return 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c += 32;
        if (c != word[i])
            return 0;
    }
    return 1;
}

#define IS(p, len, word) lower_is((p), (len), (word), (Py_ssize_t)(sizeof(word) - 1))

static PyObject *
method_of(const char *p, Py_ssize_t len)
{
    switch (len) {
    case 3:
        if (memcmp(p, "GET", 3) == 0) return METHOD_GET;
        if (memcmp(p, "PUT", 3) == 0) return METHOD_PUT;
        return NULL;
    case 4:
        if (memcmp(p, "POST", 4) == 0) return METHOD_POST;
        if (memcmp(p, "HEAD", 4) == 0) return METHOD_HEAD;
        return NULL;
    case 5:
        return memcmp(p, "PATCH", 5) == 0 ? METHOD_PATCH : NULL;
    case 6:
        return memcmp(p, "DELETE", 6) == 0 ? METHOD_DELETE : NULL;
    case 7:
        return memcmp(p, "OPTIONS", 7) == 0 ? METHOD_OPTIONS : NULL;
    }
    return NULL;
}

/* uri-host [":" port] with a reg-name host, as request_checks.valid_host's first rule. */
static int
plain_host(const char *p, const char *end)
{
    while (p < end && HOSTCHAR[(unsigned char)*p])
        p++;
    if (p < end && *p == ':') {
        p++;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p == end;
}

/* A Connection value that is a comma-separated list of "upgrade" and "keep-alive" tokens
 * (case-insensitive, OWS around each) naming "upgrade": sets the flags, returns 1.
 * Anything else (close among others, an unknown or empty token) returns 0: declined. */
static int
upgrade_tokens(const char *p, const char *end, int *conn_upgrade, int *keep_alive)
{
    int up = 0, alive = 0;
    while (p <= end) {
        const char *comma = p;
        while (comma < end && *comma != ',')
            comma++;
        const char *a = p, *b = comma;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (IS(a, b - a, "upgrade"))
            up = 1;
        else if (IS(a, b - a, "keep-alive"))
            alive = 1;
        else
            return 0;
        p = comma + 1;
    }
    if (!up)
        return 0;
    *conn_upgrade = 1;
    *keep_alive |= alive;
    return 1;
}

static PyObject *
parse_request(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 && !(nargs == 10 && PyType_Check(args[6]))) {
        PyErr_SetString(PyExc_TypeError, "parse_request(data, pos, max_request_line, max_header_size, "
                                         "max_header_count, size_limit[, request_type, remote_address, scheme, "
                                         "local_port])");
        return NULL;
    }
    if (!PyBytes_CheckExact(args[0]))
        Py_RETURN_NONE;
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    Py_ssize_t max_line = PyLong_AsSsize_t(args[2]);
    Py_ssize_t max_fields = PyLong_AsSsize_t(args[3]);
    Py_ssize_t max_count = PyLong_AsSsize_t(args[4]);
    Py_ssize_t size_limit = args[5] == Py_None ? -1 : PyLong_AsSsize_t(args[5]);
    if (PyErr_Occurred())
        return NULL;
    Py_ssize_t size = PyBytes_GET_SIZE(args[0]);
    if (pos < 0 || pos >= size)
        Py_RETURN_NONE;
    const char *start = PyBytes_AS_STRING(args[0]);
    const char *p = start + pos, *end = start + size;

    /* request-line = method SP origin-form SP HTTP-version CRLF */
    const char *q = p;
    while (q < end && q - p < 8 && *q != ' ')
        q++;
    if (q >= end || *q != ' ')
        Py_RETURN_NONE;
    PyObject *method = method_of(p, q - p);
    if (method == NULL)
        Py_RETURN_NONE;
    const char *target = ++q;
    while (q < end && TARGET[(unsigned char)*q])
        q++;
    Py_ssize_t target_len = q - target;
    if (q >= end || *q != ' ' || target_len == 0 || *target != '/' || target_len > max_line)
        Py_RETURN_NONE;
    q++;
    if (end - q < 10 || memcmp(q, "HTTP/1.", 7) != 0 || (q[7] != '0' && q[7] != '1') || q[8] != '\r' ||
        q[9] != '\n')
        Py_RETURN_NONE;
    int minor = q[7] - '0';
    p = q + 10;

    PyObject *headers = PyList_New(0);
    if (headers == NULL)
        return NULL;
    Py_ssize_t count = 0, field_bytes = 0, content_length = -1;
    int hosts = 0, close = 0, keep_alive = 0, connections = 0, upgrades = 0, conn_upgrade = 0;
    for (;;) {
        if (end - p < 2)
            goto decline;
        if (*p == '\r') {
            if (p[1] != '\n')
                goto decline;
            p += 2;
            break;
        }
        const char *name = p;
        while (p < end && TCHAR[(unsigned char)*p])
            p++;
        Py_ssize_t name_len = p - name;
        if (p >= end || *p != ':' || name_len == 0)
            goto decline;
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *value = p;
        while (p < end && VALUE[(unsigned char)*p])
            p++;
        if (end - p < 3 || p[0] != '\r' || p[1] != '\n' || p[2] == ' ' || p[2] == '\t')
            goto decline;  /* incomplete, a control byte, or an obs-fold continuation */
        const char *value_end = p;
        while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
            value_end--;
        Py_ssize_t value_len = value_end - value;
        p += 2;
        count++;
        field_bytes += name_len + value_len + 4;
        if (count > max_count || field_bytes > max_fields)
            goto decline;
        switch (name_len) {
        case 4:
            if (IS(name, name_len, "host")) {
                if (++hosts > 1 || !plain_host(value, value_end))
                    goto decline;
            }
            break;
        case 6:
            if (IS(name, name_len, "expect"))
                goto decline;
            break;
        case 7:
            if (IS(name, name_len, "upgrade")) {
                if (++upgrades > 1 || value_len == 0)
                    goto decline;
            }
            break;
        case 10:
            if (IS(name, name_len, "connection")) {
                connections++;
                if (IS(value, value_len, "close"))
                    close = 1;
                else if (IS(value, value_len, "keep-alive"))
                    keep_alive = 1;
                else if (!upgrade_tokens(value, value_end, &conn_upgrade, &keep_alive))
                    goto decline;
            }
            break;
        case 14:
            if (IS(name, name_len, "content-length")) {
                if (content_length >= 0 || value_len == 0 || value_len > 15)
                    goto decline;
                content_length = 0;
                for (Py_ssize_t i = 0; i < value_len; i++) {
                    if (value[i] < '0' || value[i] > '9')
                        goto decline;
                    content_length = content_length * 10 + (value[i] - '0');
                }
                if (size_limit >= 0 && content_length > size_limit)
                    goto decline;
            }
            break;
        case 16:
            if (IS(name, name_len, "proxy-connection"))
                goto decline;
            break;
        case 17:
            if (IS(name, name_len, "transfer-encoding"))
                goto decline;
            break;
        }
        PyObject *pair = PyTuple_New(2);
        if (pair == NULL)
            goto error;
        PyObject *n = PyBytes_FromStringAndSize(name, name_len);
        PyObject *v = n == NULL ? NULL : PyBytes_FromStringAndSize(value, value_len);
        if (v == NULL) {
            Py_XDECREF(n);
            Py_DECREF(pair);
            goto error;
        }
        PyTuple_SET_ITEM(pair, 0, n);
        PyTuple_SET_ITEM(pair, 1, v);
        int failed = PyList_Append(headers, pair);
        Py_DECREF(pair);
        if (failed < 0)
            goto error;
    }
    if (minor == 1 && hosts == 0)
        goto decline;
    /* A WebSocket-style upgrade only: GET on HTTP/1.1 without a body, one Upgrade field,
     * one Connection field naming the upgrade token. llhttp stops after such a head
     * (HPE_PAUSED_UPGRADE): the bytes after it are not parsed here either. */
    int upgrade = upgrades || conn_upgrade;
    if (upgrade && (!upgrades || !conn_upgrade || connections != 1 || method != METHOD_GET || minor != 1 ||
                    content_length >= 0))
        goto decline;
    PyObject *body;
    if (content_length > 0) {
        if (end - p < content_length)
            goto decline;
        body = PyByteArray_FromStringAndSize(p, content_length);
        if (body == NULL)
            goto error;
        p += content_length;
    } else {
        body = EMPTY_BYTES;
        Py_INCREF(body);
    }
    PyObject *url = PyBytes_FromStringAndSize(target, target_len);
    if (url == NULL) {
        Py_DECREF(body);
        goto error;
    }
    /* as llhttp_should_keep_alive: HTTP/1.1 unless a close token, HTTP/1.0 only with keep-alive */
    int alive = minor == 1 ? !close : keep_alive;
    if (nargs == 10) {
        /* (request, keep_alive, end, upgrade): the request made here (a RequestCore subtype) */
        PyObject *request = kitura_new_request((PyTypeObject *)args[6], method, url, headers, body, args[7], minor,
                                               args[8], args[9]);
        Py_DECREF(url);
        Py_DECREF(body);
        Py_DECREF(headers);
        PyObject *end_obj = request ? PyLong_FromSsize_t(p - start) : NULL;
        PyObject *result = end_obj ? PyTuple_New(4) : NULL;
        if (result == NULL) {
            Py_XDECREF(request);
            Py_XDECREF(end_obj);
            return NULL;
        }
        PyTuple_SET_ITEM(result, 0, request);
        PyTuple_SET_ITEM(result, 1, PyBool_FromLong(alive));
        PyTuple_SET_ITEM(result, 2, end_obj);
        PyTuple_SET_ITEM(result, 3, PyBool_FromLong(upgrade));
        return result;
    }
    PyObject *end_obj = PyLong_FromSsize_t(p - start), *result = end_obj ? PyTuple_New(8) : NULL;
    if (result == NULL) {
        Py_XDECREF(end_obj);
        Py_DECREF(url);
        Py_DECREF(body);
        goto error;
    }
    PyTuple_SET_ITEM(result, 0, Py_NewRef(method));
    PyTuple_SET_ITEM(result, 1, url);
    PyTuple_SET_ITEM(result, 2, headers);
    PyTuple_SET_ITEM(result, 3, body);
    PyTuple_SET_ITEM(result, 4, PyLong_FromLong(minor));  /* 0 or 1: small ints, never NULL */
    PyTuple_SET_ITEM(result, 5, PyBool_FromLong(alive));
    PyTuple_SET_ITEM(result, 6, end_obj);
    PyTuple_SET_ITEM(result, 7, PyBool_FromLong(upgrade));
    return result;
decline:
    Py_DECREF(headers);
    Py_RETURN_NONE;
error:
    Py_DECREF(headers);
    return NULL;
}

/* ---- first_step ------------------------------------------------------------ */

static PyObject *STEP_DONE;

/* coro.send(None) without the StopIteration of a coroutine that returns at once (most
 * handlers): STEP_DONE then, else what it yielded; what it raised propagates. */
static PyObject *
first_step(PyObject *self, PyObject *coro)
{
    PyObject *result = NULL;
    PySendResult status = PyIter_Send(coro, Py_None, &result);
    if (status == PYGEN_ERROR)
        return NULL;
    if (status == PYGEN_RETURN) {
        Py_DECREF(result);
        return Py_NewRef(STEP_DONE);
    }
    return result;
}

static PyMethodDef speedups_methods[] = {
    {"first_step", (PyCFunction)first_step, METH_O,
     "first_step(coro) -> yielded | STEP_DONE\n\ncoro.send(None), with STEP_DONE for a coroutine that "
     "returned (no StopIteration)."},
    {"join_head", (PyCFunction)(void (*)(void))join_head, METH_FASTCALL,
     "join_head(status_line, entries, tail) -> bytes | None\n\nA response head from a status line, "
     "HeadersContainer entries and pre-encoded tail lines; None when a name or value is not latin-1 text."},
    {"encode_head", (PyCFunction)(void (*)(void))encode_head, METH_FASTCALL,
     "encode_head(status_lines, status, entries, content_length, keep_alive, no_body, major, minor)"
     " -> (head, keep_alive, no_body, chunked) | None\n\nA ServerResponse head; None: the Python twin decides."},
    {"parse_request", (PyCFunction)(void (*)(void))parse_request, METH_FASTCALL,
     "parse_request(data, pos, max_request_line, max_header_size, max_header_count, size_limit)"
     " -> tuple | None\n\nA plain, complete request at data[pos:], or None (httptools decides)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "kitura.net._speedups",
    "C speedups for kitura.net (join_head, encode_head, parse_request, ResponseCore, HeadersCore, RequestCore).",
    -1,
    speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    init_tables();
    METHOD_GET = PyUnicode_InternFromString("GET");
    METHOD_HEAD = PyUnicode_InternFromString("HEAD");
    METHOD_POST = PyUnicode_InternFromString("POST");
    METHOD_PUT = PyUnicode_InternFromString("PUT");
    METHOD_DELETE = PyUnicode_InternFromString("DELETE");
    METHOD_OPTIONS = PyUnicode_InternFromString("OPTIONS");
    METHOD_PATCH = PyUnicode_InternFromString("PATCH");
    EMPTY_BYTES = PyBytes_FromStringAndSize(NULL, 0);
    KEY_DATE = PyUnicode_InternFromString("date");
    KEY_CONTENT_LENGTH = PyUnicode_InternFromString("content-length");
    KEY_TRANSFER_ENCODING = PyUnicode_InternFromString("transfer-encoding");
    KEY_CONNECTION = PyUnicode_InternFromString("connection");
    if (!KEY_DATE || !KEY_CONTENT_LENGTH || !KEY_TRANSFER_ENCODING || !KEY_CONNECTION)
        return NULL;
    if (!METHOD_GET || !METHOD_HEAD || !METHOD_POST || !METHOD_PUT || !METHOD_DELETE || !METHOD_OPTIONS ||
        !METHOD_PATCH || !EMPTY_BYTES)
        return NULL;
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL)
        return NULL;
    STEP_DONE = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
    if (STEP_DONE == NULL || PyModule_AddObjectRef(module, "STEP_DONE", STEP_DONE) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    if (kitura_add_response_type(module) < 0 || kitura_add_headers_type(module) < 0 ||
        kitura_add_request_type(module) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
