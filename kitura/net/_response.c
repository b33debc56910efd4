/* ResponseCore: the C twin of response.py's PyResponseCore, the state and the hot
 * methods of a ServerResponse (status, headers, write, end, the head).
 *
 * ServerResponse subclasses whichever core is in use and adds the rarely used
 * methods in Python. The two cores behave alike: response.py's PyResponseCore is the
 * reference, and the test suite runs on both (KITURA_NO_EXTENSIONS=1 selects it).
 *
 * write() and end() may be called from any thread. The state they share is guarded as
 * in the Python twin, by a lock that costs nothing when uncontended: a flag set and
 * cleared with the GIL held (so testing and setting it is atomic). A thread finds it
 * set only when the holder released the GIL inside the guarded part (Python code ran
 * there: HeadersContainer.entry_map on raw pairs, py_encode_head, a finalizer); it then
 * waits with the GIL released, so the holder can finish. The connection is called
 * after the lock is released. (A free-threaded build is refused below: the optional
 * extension is then not built and the Python twin serves.)
 *
 * configure_response(headers_type, status_type, status_lines, py_encode_head) must be
 * called once before a ResponseCore is made (response.py does it at import).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sched.h>
#include <stddef.h>

#include "_speedups.h"

/* Bytes write() may hold back before the head goes out chunked (response.FLUSH_AT). */
#define FLUSH_AT (16 * 1024)

static PyObject *headers_type;    /* HeadersContainer */
static PyObject *status_type;     /* HTTPStatusCode */
static PyObject *py_encode_head;  /* http11.py_encode_head: what kitura_encode_head declines */
static PyObject *status_lines[1000];

static PyObject *S_write_response, *S_post_response, *S_complete_response, *S_loop, *S_loop_thread,
    *S_call_soon, *S_call_soon_threadsafe, *S_deferred_flush, *S_entry_map, *S_empty, *S_last_chunk,
    *NO_ENTRIES;

typedef struct {
    PyObject_HEAD
    PyObject *conn;     /* the ResponseConnection, or NULL (None) */
    PyObject *request;
    PyObject *headers;  /* HeadersContainer, made on first use */
    PyObject *pending;  /* what write() held back: NULL, one bytes object, or a list of them */
    PyObject *weakrefs;
    char busy;          /* the guarded part is running (see lock()) */
    unsigned long loop_thread;
    Py_ssize_t pending_size;
    int status;
    char headers_sent, ended, chunked, keep_alive, no_body, flush_scheduled, in_step;
} Response;

#ifdef Py_GIL_DISABLED
#error "ResponseCore's lock relies on the GIL; build without free threading or use the Python twin"
#endif

static void
lock(Response *self)
{
    while (self->busy) {  /* only when the holder released the GIL inside: wait for it */
        Py_BEGIN_ALLOW_THREADS
        sched_yield();
        Py_END_ALLOW_THREADS
    }
    self->busy = 1;
}

#define UNLOCK(self) ((self)->busy = 0)

static int
on_loop_thread(Response *self)
{
    return PyThread_get_thread_ident() == self->loop_thread;
}

/* A body part as bytes: str as UTF-8, bytes-like copied (as response._to_bytes). */
static PyObject *
body_bytes(PyObject *data)
{
    if (PyUnicode_Check(data))
        return PyUnicode_AsUTF8String(data);
    if (PyBytes_CheckExact(data)) {
        Py_INCREF(data);
        return data;
    }
    if (PyBytes_Check(data) || PyByteArray_Check(data) || PyMemoryView_Check(data))
        return PyBytes_FromObject(data);
    PyErr_Format(PyExc_TypeError, "a response body must be str or bytes, not %s", Py_TYPE(data)->tp_name);
    return NULL;
}

/* One chunk of a chunked body (http11.encode_chunk): empty data gives b"". */
static PyObject *
encode_chunk(PyObject *data)
{
    Py_ssize_t len = PyBytes_GET_SIZE(data);
    if (len == 0) {
        Py_INCREF(S_empty);
        return S_empty;
    }
    char size[32];
    int size_len = snprintf(size, sizeof(size), "%zx\r\n", len);
    PyObject *out = PyBytes_FromStringAndSize(NULL, size_len + len + 2);
    if (out == NULL)
        return NULL;
    char *p = PyBytes_AS_STRING(out);
    memcpy(p, size, size_len);
    memcpy(p + size_len, PyBytes_AS_STRING(data), len);
    p[size_len + len] = '\r';
    p[size_len + len + 1] = '\n';
    return out;
}

/* a + b, consuming the reference to a (and to b when steal_b). */
static PyObject *
concat(PyObject *a, PyObject *b, int steal_b)
{
    if (a == NULL || b == NULL) {
        Py_XDECREF(a);
        if (steal_b)
            Py_XDECREF(b);
        return NULL;
    }
    PyBytes_Concat(&a, b);
    if (steal_b)
        Py_DECREF(b);
    return a;
}

static PyObject *
get_headers(Response *self)
{
    if (self->headers == NULL) {
        self->headers = kitura_new_headers(headers_type);
        if (self->headers == NULL)
            return NULL;
    }
    return self->headers;
}

/* The head (PyResponseCore._head), followed by body when it is not NULL and the
 * response has one; content_length -1: the body is streamed. Call with the lock held. */
static PyObject *
encode_head(Response *self, Py_ssize_t content_length, PyObject *body)
{
    /* No headers were looked at: none to encode (no container, no map is made for it;
     * neither encoder changes the map it is given). */
    PyObject *entries = self->headers == NULL ? Py_NewRef(NO_ENTRIES)
                                              : PyObject_CallMethodNoArgs(self->headers, S_entry_map);
    if (entries == NULL)
        return NULL;
    PyObject *head = NULL, *major_obj = NULL, *minor_obj = NULL, *encoded = NULL;
    major_obj = kitura_request_field(self->request, KITURA_REQUEST_MAJOR);
    minor_obj = major_obj ? kitura_request_field(self->request, KITURA_REQUEST_MINOR) : NULL;
    if (minor_obj == NULL)
        goto done;
    long major = PyLong_AsLong(major_obj), minor = PyLong_AsLong(minor_obj);
    if (PyErr_Occurred())
        goto done;
    int keep_alive = self->keep_alive, no_body = self->no_body, chunked = 0;
    PyObject *line = status_lines[self->status];
    int encoded_here = 0;
    if (line != NULL && PyDict_CheckExact(entries)) {
        encoded_here = kitura_encode_head(line, self->status, entries, content_length, major, minor, &keep_alive,
                                          &no_body, &chunked, body, &head);
        if (encoded_here < 0)
            goto done;
    }
    if (!encoded_here) {
        PyObject *length = content_length < 0 ? Py_NewRef(Py_None) : PyLong_FromSsize_t(content_length);
        if (length == NULL)
            goto done;
        encoded = PyObject_CallFunction(py_encode_head, "iONOOOO", self->status, entries, length,
                                        self->keep_alive ? Py_True : Py_False, self->no_body ? Py_True : Py_False,
                                        major_obj, minor_obj);
        if (encoded == NULL)
            goto done;
        if (!PyTuple_Check(encoded) || PyTuple_GET_SIZE(encoded) != 4 ||
            !PyBytes_Check(PyTuple_GET_ITEM(encoded, 0))) {
            PyErr_SetString(PyExc_TypeError, "py_encode_head must return (bytes, bool, bool, bool)");
            goto done;
        }
        keep_alive = PyObject_IsTrue(PyTuple_GET_ITEM(encoded, 1));
        no_body = PyObject_IsTrue(PyTuple_GET_ITEM(encoded, 2));
        chunked = PyObject_IsTrue(PyTuple_GET_ITEM(encoded, 3));
        if (keep_alive < 0 || no_body < 0 || chunked < 0)
            goto done;
        head = Py_NewRef(PyTuple_GET_ITEM(encoded, 0));
        if (body != NULL && PyBytes_GET_SIZE(body) && !no_body)
            head = concat(head, body, 0);
        if (head == NULL)
            goto done;
    }
    self->keep_alive = (char)keep_alive;
    self->no_body = (char)no_body;
    self->chunked = (char)chunked;
    self->headers_sent = 1;
done:
    Py_DECREF(entries);
    Py_XDECREF(major_obj);
    Py_XDECREF(minor_obj);
    Py_XDECREF(encoded);
    return head;
}

/* Hold back one more part (most responses have one: no list is made for it). */
static int
add_pending(Response *self, PyObject *data)
{
    PyObject *pending = self->pending;
    if (pending == NULL) {
        self->pending = Py_NewRef(data);
        return 0;
    }
    if (PyBytes_CheckExact(pending)) {
        PyObject *parts = PyList_New(2);
        if (parts == NULL)
            return -1;
        PyList_SET_ITEM(parts, 0, pending);
        PyList_SET_ITEM(parts, 1, Py_NewRef(data));
        self->pending = parts;
        return 0;
    }
    return PyList_Append(pending, data);
}

/* What write() held back, joined, emptying it. */
static PyObject *
take_pending(Response *self)
{
    PyObject *pending = self->pending;
    self->pending = NULL;
    self->pending_size = 0;
    if (pending == NULL)
        return Py_NewRef(S_empty);
    if (PyBytes_CheckExact(pending))
        return pending;
    PyObject *data = _PyBytes_Join(S_empty, pending);
    Py_DECREF(pending);
    return data;
}

/* The head (chunked) and what was written so far (PyResponseCore._flush_pending). Call
 * with the lock held. */
static PyObject *
flush_pending(Response *self)
{
    PyObject *out = encode_head(self, -1, NULL);
    if (out == NULL)
        return NULL;
    PyObject *data = take_pending(self);
    if (data == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    if (PyBytes_GET_SIZE(data) && !self->no_body)
        out = self->chunked ? concat(out, encode_chunk(data), 1) : concat(out, data, 0);
    Py_DECREF(data);
    return out;
}

/* Call self.conn.<name>(self, data[, keep_alive]). */
static int
call_conn(Response *self, PyObject *name, PyObject *data, int with_keep_alive)
{
    PyObject *args[4] = {self->conn, (PyObject *)self, data, self->keep_alive ? Py_True : Py_False};
    PyObject *result = PyObject_VectorcallMethod(name, args, (with_keep_alive ? 4 : 3) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                                 NULL);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    return 0;
}

/* conn.loop.call_soon(fn, *args) on the loop thread, else call_soon_threadsafe, which
 * raises RuntimeError when the loop is closed: so is the connection, nothing to do. */
static int
call_soon(Response *self, PyObject *fn, PyObject *arg1, PyObject *arg2, PyObject *arg3)
{
    PyObject *loop = PyObject_GetAttr(self->conn, S_loop);
    if (loop == NULL)
        return -1;
    int threadsafe = !on_loop_thread(self);
    PyObject *args[5] = {loop, fn, arg1, arg2, arg3};
    size_t count = arg1 == NULL ? 2 : 5;
    PyObject *result = PyObject_VectorcallMethod(threadsafe ? S_call_soon_threadsafe : S_call_soon, args,
                                                 count | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    Py_DECREF(loop);
    if (result == NULL) {
        if (threadsafe && PyErr_ExceptionMatches(PyExc_RuntimeError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

static int
schedule_flush(Response *self)
{
    PyObject *flush = PyObject_GetAttr((PyObject *)self, S_deferred_flush);
    if (flush == NULL)
        return -1;
    int done = call_soon(self, flush, NULL, NULL, NULL);
    Py_DECREF(flush);
    return done;
}

/* The one argument of write(from_=) / end(text=None), positional or by name. */
static int
one_argument(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const char *name, const char *method,
             int optional, PyObject **value)
{
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    if (nargs + nkw == 1 &&
        (nkw == 0 || PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), name) == 0)) {
        *value = args[0];
        return 0;
    }
    if (optional && nargs + nkw == 0) {
        *value = NULL;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "%s() takes %s argument, %s", method, optional ? "at most one" : "one", name);
    return -1;
}

/* ---- methods --------------------------------------------------------------- */

static PyObject *
Response_write(Response *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *from;
    if (one_argument(args, nargs, kwnames, "from_", "write", 0, &from) < 0)
        return NULL;
    PyObject *data = body_bytes(from);
    if (data == NULL)
        return NULL;
    PyObject *out = NULL;
    int schedule = 0;
    lock(self);
    if (self->ended) {
        UNLOCK(self);
        Py_DECREF(data);
        PyErr_SetString(PyExc_RuntimeError, "write() after end(): the response is complete");
        return NULL;
    }
    if (self->headers_sent) {
        if (PyBytes_GET_SIZE(data) && !self->no_body)
            out = self->chunked ? encode_chunk(data) : Py_NewRef(data);
        else
            out = Py_NewRef(S_empty);
    } else {
        if (add_pending(self, data) < 0) {
            UNLOCK(self);
            Py_DECREF(data);
            return NULL;
        }
        self->pending_size += PyBytes_GET_SIZE(data);
        if (self->pending_size < FLUSH_AT) {
            schedule = !self->flush_scheduled;
            self->flush_scheduled = 1;
            out = Py_NewRef(S_empty);
        } else {
            out = flush_pending(self);
        }
    }
    UNLOCK(self);
    Py_DECREF(data);
    if (out == NULL)
        return NULL;
    int failed = 0;
    if (self->conn != NULL) {
        if (PyBytes_GET_SIZE(out)) {
            /* post_response waits while the client is not reading */
            failed = call_conn(self, on_loop_thread(self) ? S_write_response : S_post_response, out, 0);
        } else if (schedule) {
            /* Inside the handler's first step finish_step() flushes, if the response is
             * still open then: same turn, no callback per request. */
            if (!on_loop_thread(self) || !self->in_step)
                failed = schedule_flush(self);
        }
    }
    Py_DECREF(out);
    if (failed)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Response_finish_step(Response *self, PyObject *unused)
{
    self->in_step = 0;
    if (self->flush_scheduled && !self->ended && self->conn != NULL && schedule_flush(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Response_deferred_flush(Response *self, PyObject *unused)
{
    if (self->ended)  /* the common case (write then end from a worker): nothing to do */
        Py_RETURN_NONE;
    lock(self);
    self->flush_scheduled = 0;
    if (self->ended || self->headers_sent || self->pending == NULL) {
        UNLOCK(self);
        Py_RETURN_NONE;
    }
    PyObject *out = flush_pending(self);
    UNLOCK(self);
    if (out == NULL)
        return NULL;
    int failed = self->conn != NULL ? call_conn(self, S_write_response, out, 0) : 0;
    Py_DECREF(out);
    if (failed)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Response_end(Response *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *text;
    if (one_argument(args, nargs, kwnames, "text", "end", 1, &text) < 0)
        return NULL;
    PyObject *data = text == NULL || text == Py_None ? Py_NewRef(S_empty) : body_bytes(text);
    if (data == NULL)
        return NULL;
    PyObject *out = NULL;
    lock(self);
    if (self->ended) {
        UNLOCK(self);
        Py_DECREF(data);
        Py_RETURN_NONE;
    }
    if (!self->headers_sent) {
        if (self->pending != NULL) {
            if (PyBytes_GET_SIZE(data) && add_pending(self, data) < 0) {
                UNLOCK(self);
                Py_DECREF(data);
                return NULL;
            }
            Py_DECREF(data);
            data = take_pending(self);
            if (data == NULL) {
                UNLOCK(self);
                return NULL;
            }
        }
        out = encode_head(self, PyBytes_GET_SIZE(data), data);
    } else if (self->no_body) {
        out = Py_NewRef(S_empty);
    } else if (self->chunked) {
        out = concat(encode_chunk(data), S_last_chunk, 0);
    } else {
        out = Py_NewRef(data);
    }
    if (out != NULL)
        self->ended = 1;
    UNLOCK(self);
    Py_DECREF(data);
    if (out == NULL)
        return NULL;
    int failed = 0;
    if (self->conn != NULL) {
        if (on_loop_thread(self)) {
            failed = call_conn(self, S_complete_response, out, 1);
        } else {
            PyObject *complete = PyObject_GetAttr(self->conn, S_complete_response);
            failed = complete == NULL ? -1 : call_soon(self, complete, (PyObject *)self, out,
                                                       self->keep_alive ? Py_True : Py_False);
            Py_XDECREF(complete);
        }
    }
    Py_DECREF(out);
    if (failed)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Response_head(Response *self, PyObject *arg)
{
    Py_ssize_t length = -1;
    if (arg != Py_None) {
        length = PyLong_AsSsize_t(arg);
        if (length < 0) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "_head(content_length): a length >= 0 or None");
            return NULL;
        }
    }
    return encode_head(self, length, NULL);
}

static PyObject *
Response_close_after(Response *self, PyObject *unused)
{
    if (!self->headers_sent)
        self->keep_alive = 0;
    Py_RETURN_NONE;
}

static PyObject *
Response_reset(Response *self, PyObject *unused)
{
    if (self->headers_sent) {
        PyErr_SetString(PyExc_RuntimeError, "reset() after the response head was sent");
        return NULL;
    }
    PyObject *headers = kitura_new_headers(headers_type);
    if (headers == NULL)
        return NULL;
    self->status = 200;
    Py_XSETREF(self->headers, headers);
    lock(self);
    PyObject *pending = self->pending;
    self->pending = NULL;
    self->pending_size = 0;
    UNLOCK(self);
    Py_XDECREF(pending);
    Py_RETURN_NONE;
}

/* ---- attributes ------------------------------------------------------------ */

static PyObject *
Response_get_status_code(Response *self, void *closure)
{
    return PyObject_CallFunction(status_type, "i", self->status);
}

static int
Response_set_status_code(Response *self, PyObject *value, void *closure)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "status_code cannot be deleted");
        return -1;
    }
    if (self->headers_sent) {
        PyErr_SetString(PyExc_RuntimeError, "the status cannot change once the response head was sent");
        return -1;
    }
    if (value == Py_None) {
        self->status = 200;
        return 0;
    }
    PyObject *number = PyLong_Check(value) ? Py_NewRef(value) : PyNumber_Long(value);
    if (number == NULL)
        return -1;
    int overflow = 0;
    long code = PyLong_AsLongAndOverflow(number, &overflow);
    if (code == -1 && PyErr_Occurred()) {
        Py_DECREF(number);
        return -1;
    }
    if (overflow || code < 100 || code > 999) {
        if (overflow || code != -1) {
            PyObject *text = PyObject_Str(number);
            if (text != NULL)
                PyErr_Format(PyExc_ValueError, "HTTP status code must be in 100..999, got %U", text);
            Py_XDECREF(text);
            Py_DECREF(number);
            return -1;
        }
        code = 200;  /* Kitura's .unknown */
    }
    Py_DECREF(number);
    self->status = (int)code;
    return 0;
}

static PyObject *
Response_get_status(Response *self, void *closure)
{
    return PyLong_FromLong(self->status);
}

static PyObject *
Response_get_headers(Response *self, void *closure)
{
    return Py_XNewRef(get_headers(self));
}

static int
Response_set_headers(Response *self, PyObject *value, void *closure)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "headers cannot be deleted");
        return -1;
    }
    Py_XSETREF(self->headers, Py_NewRef(value));
    return 0;
}

static PyObject *
Response_get_headers_sent(Response *self, void *closure)
{
    return PyBool_FromLong(self->headers_sent);
}

static PyObject *
Response_get_ended(Response *self, void *closure)
{
    return PyBool_FromLong(self->ended);
}

static PyObject *
Response_get_on_loop_thread(Response *self, void *closure)
{
    return PyBool_FromLong(self->conn != NULL && on_loop_thread(self));
}

static PyObject *
Response_get_request(Response *self, void *closure)
{
    return Py_NewRef(self->request);
}

static PyObject *
Response_get_conn(Response *self, void *closure)
{
    return Py_NewRef(self->conn != NULL ? self->conn : Py_None);
}

/* ---- life cycle ------------------------------------------------------------ */

static PyObject *
Response_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (headers_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "kitura.net._speedups.configure_response() was not called");
        return NULL;
    }
    Response *self = (Response *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->request = Py_NewRef(Py_None);
    self->status = 200;
    self->keep_alive = 1;
    self->in_step = 1;
    return (PyObject *)self;
}

static int
Response_init(Response *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"conn", "request", NULL};
    PyObject *conn, *request;
    if (kwds == NULL && PyTuple_GET_SIZE(args) == 2) {  /* the connection's call */
        conn = PyTuple_GET_ITEM(args, 0);
        request = PyTuple_GET_ITEM(args, 1);
    } else if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:ServerResponse", names, &conn, &request)) {
        return -1;
    }
    PyObject *keep_alive = kitura_request_field(request, KITURA_REQUEST_KEEP_ALIVE);
    if (keep_alive == NULL)
        return -1;
    int alive = PyObject_IsTrue(keep_alive);
    Py_DECREF(keep_alive);
    PyObject *method = kitura_request_field(request, KITURA_REQUEST_METHOD);
    if (method == NULL || alive < 0) {
        Py_XDECREF(method);
        return -1;
    }
    int head = PyUnicode_Check(method) && PyUnicode_CompareWithASCIIString(method, "HEAD") == 0;
    Py_DECREF(method);
    unsigned long loop_thread = 0;
    if (conn != Py_None) {
        PyObject *ident = PyObject_GetAttr(conn, S_loop_thread);
        if (ident == NULL)
            return -1;
        loop_thread = PyLong_AsUnsignedLong(ident);
        Py_DECREF(ident);
        if (PyErr_Occurred())
            return -1;
    }
    Py_XSETREF(self->conn, conn == Py_None ? NULL : Py_NewRef(conn));
    Py_XSETREF(self->request, Py_NewRef(request));
    self->loop_thread = loop_thread;
    self->keep_alive = (char)alive;
    self->no_body = (char)head;
    /* A new response is inside its handler's first step, run on the loop by the
     * connection, until the connection calls finish_step(). */
    self->in_step = 1;
    return 0;
}

static int
Response_traverse(Response *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->conn);
    Py_VISIT(self->request);
    Py_VISIT(self->headers);
    Py_VISIT(self->pending);
    return 0;
}

static int
Response_clear(Response *self)
{
    Py_CLEAR(self->conn);
    Py_CLEAR(self->request);
    Py_CLEAR(self->headers);
    Py_CLEAR(self->pending);
    return 0;
}

static void
Response_dealloc(Response *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    Response_clear(self);
    type->tp_free((PyObject *)self);
}

static PyMethodDef Response_methods[] = {
    {"write", (PyCFunction)(void (*)(void))Response_write, METH_FASTCALL | METH_KEYWORDS,
     "write(from_): add to the body (see ServerResponse.write)."},
    {"end", (PyCFunction)(void (*)(void))Response_end, METH_FASTCALL | METH_KEYWORDS,
     "end(text=None): complete the response."},
    {"finish_step", (PyCFunction)Response_finish_step, METH_NOARGS,
     "The connection ran the handler's first step: flush what it wrote without ending."},
    {"_deferred_flush", (PyCFunction)Response_deferred_flush, METH_NOARGS,
     "On the loop: send what write() buffered, unless end() already did."},
    {"_head", (PyCFunction)Response_head, METH_O, "_head(content_length): encode the head (None: streamed)."},
    {"close_after", (PyCFunction)Response_close_after, METH_NOARGS,
     "Close the connection after this response, unless its head went out already."},
    {"reset", (PyCFunction)Response_reset, METH_NOARGS,
     "Forget the status and headers set so far (only before the head was sent)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Response_getset[] = {
    {"status_code", (getter)Response_get_status_code, (setter)Response_set_status_code, NULL, NULL},
    {"status", (getter)Response_get_status, NULL, NULL, NULL},
    {"headers", (getter)Response_get_headers, (setter)Response_set_headers, NULL, NULL},
    {"headers_sent", (getter)Response_get_headers_sent, NULL, NULL, NULL},
    {"ended", (getter)Response_get_ended, NULL, NULL, NULL},
    {"on_loop_thread", (getter)Response_get_on_loop_thread, NULL, NULL, NULL},
    {"request", (getter)Response_get_request, NULL, NULL, NULL},
    {"_conn", (getter)Response_get_conn, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ResponseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kitura.net._speedups.ResponseCore",
    .tp_doc = "The state and hot methods of a ServerResponse, in C (response.py's PyResponseCore is the twin).",
    .tp_basicsize = sizeof(Response),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = Response_new,
    .tp_init = (initproc)Response_init,
    .tp_dealloc = (destructor)Response_dealloc,
    .tp_traverse = (traverseproc)Response_traverse,
    .tp_clear = (inquiry)Response_clear,
    .tp_weaklistoffset = offsetof(Response, weakrefs),
    .tp_methods = Response_methods,
    .tp_getset = Response_getset,
};

static PyObject *
configure_response(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "configure_response(headers_type, status_type, status_lines: dict, py_encode_head)");
        return NULL;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(args[2], &pos, &key, &value)) {
        long code = PyLong_AsLong(key);
        if (code == -1 && PyErr_Occurred())
            return NULL;
        if (code >= 0 && code < 1000 && PyBytes_CheckExact(value))
            Py_XSETREF(status_lines[code], Py_NewRef(value));
    }
    Py_XSETREF(headers_type, Py_NewRef(args[0]));
    Py_XSETREF(status_type, Py_NewRef(args[1]));
    Py_XSETREF(py_encode_head, Py_NewRef(args[3]));
    Py_RETURN_NONE;
}

static PyMethodDef configure_def = {
    "configure_response", (PyCFunction)(void (*)(void))configure_response, METH_FASTCALL,
    "configure_response(headers_type, status_type, status_lines, py_encode_head): what ResponseCore uses."};

#define INTERN(var, text)                                  \
    do {                                                   \
        if ((var = PyUnicode_InternFromString(text)) == NULL) \
            return -1;                                     \
    } while (0)

int
kitura_add_response_type(PyObject *module)
{
    INTERN(S_write_response, "write_response");
    INTERN(S_post_response, "post_response");
    INTERN(S_complete_response, "complete_response");
    INTERN(S_loop, "loop");
    INTERN(S_loop_thread, "loop_thread");
    INTERN(S_call_soon, "call_soon");
    INTERN(S_call_soon_threadsafe, "call_soon_threadsafe");
    INTERN(S_deferred_flush, "_deferred_flush");
    INTERN(S_entry_map, "entry_map");
    if ((S_empty = PyBytes_FromStringAndSize(NULL, 0)) == NULL)
        return -1;
    if ((S_last_chunk = PyBytes_FromString("0\r\n\r\n")) == NULL || (NO_ENTRIES = PyDict_New()) == NULL)
        return -1;
    if (PyType_Ready(&ResponseType) < 0)
        return -1;
    Py_INCREF(&ResponseType);
    if (PyModule_AddObject(module, "ResponseCore", (PyObject *)&ResponseType) < 0) {
        Py_DECREF(&ResponseType);
        return -1;
    }
    PyObject *configure = PyCFunction_NewEx(&configure_def, NULL, NULL);
    if (configure == NULL)
        return -1;
    if (PyModule_AddObject(module, "configure_response", configure) < 0) {
        Py_DECREF(configure);
        return -1;
    }
    return 0;
}
