/* RequestCore: the C twin of request.py's PyRequestCore, the fields of a
 * ServerRequest, made in one C call per request.
 *
 * ServerRequest subclasses whichever core is in use and adds its properties and
 * methods (headers, url_url, read, ...) in Python, reading the fields below; each is
 * an object slot as in the Python twin (any value may be assigned to it).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include "_speedups.h"

/* The fields, in the order of REQUEST_FIELDS below; the first four are named in
 * _speedups.h (kitura_request_field). */
enum {
    F_KEEP_ALIVE = KITURA_REQUEST_KEEP_ALIVE, F_METHOD = KITURA_REQUEST_METHOD, F_MAJOR = KITURA_REQUEST_MAJOR,
    F_MINOR = KITURA_REQUEST_MINOR, F_URL, F_REMOTE_ADDRESS, F_WANTS_UPGRADE, F_RAW_HEADERS, F_HEADERS, F_BODY,
    F_BODY_POS, F_SCHEME, F_URL_URL, F_LOCAL_PORT, FIELD_COUNT
};

/* Each field's attribute name (a slot of the Python twin). */
static const char *const REQUEST_FIELDS[FIELD_COUNT] = {
    "keep_alive", "method", "http_version_major", "http_version_minor", "url", "remote_address", "wants_upgrade",
    "_raw_headers", "_headers", "_body", "_body_pos", "_scheme", "_url_url", "_local_port",
};

typedef struct {
    PyObject_HEAD
    PyObject *field[FIELD_COUNT];
    PyObject *weakrefs;
} Request;

static PyObject *EMPTY, *EMPTY_TEXT, *HTTP, *ZERO, *ONE;

/* major, minor = version, with the errors of Python's unpacking */
static int
unpack_version(PyObject *version, PyObject **major, PyObject **minor)
{
    PyObject *pair = PyTuple_CheckExact(version) ? Py_NewRef(version) : NULL;
    if (pair == NULL) {
        if (!PySequence_Check(version)) {
            PyErr_Format(PyExc_TypeError, "cannot unpack non-iterable %.200s object", Py_TYPE(version)->tp_name);
            return -1;
        }
        if ((pair = PySequence_Tuple(version)) == NULL)
            return -1;
    }
    Py_ssize_t size = PyTuple_GET_SIZE(pair);
    if (size != 2) {
        if (size < 2)
            PyErr_Format(PyExc_ValueError, "not enough values to unpack (expected 2, got %zd)", size);
        else
            PyErr_SetString(PyExc_ValueError, "too many values to unpack (expected 2)");
        Py_DECREF(pair);
        return -1;
    }
    *major = Py_NewRef(PyTuple_GET_ITEM(pair, 0));
    *minor = Py_NewRef(PyTuple_GET_ITEM(pair, 1));
    Py_DECREF(pair);
    return 0;
}

/* Every field, as PyRequestCore.__init__ sets them (new references taken). */
static void
fill(Request *self, PyObject *method, PyObject *url, PyObject *raw_headers, PyObject *body, PyObject *remote_address,
     PyObject *major, PyObject *minor, PyObject *scheme, PyObject *local_port)
{
    PyObject *values[FIELD_COUNT] = {
        [F_KEEP_ALIVE] = Py_True, [F_METHOD] = method, [F_MAJOR] = major, [F_MINOR] = minor, [F_URL] = url,
        [F_REMOTE_ADDRESS] = remote_address, [F_WANTS_UPGRADE] = Py_False, [F_RAW_HEADERS] = raw_headers,
        [F_HEADERS] = Py_None, [F_BODY] = body, [F_BODY_POS] = ZERO, [F_SCHEME] = scheme, [F_URL_URL] = Py_None,
        [F_LOCAL_PORT] = local_port,
    };
    for (int i = 0; i < FIELD_COUNT; i++)
        Py_XSETREF(self->field[i], Py_NewRef(values[i]));
}

static int
Request_init(Request *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"method", "url", "raw_headers", "body", "remote_address", "http_version", "scheme",
                            "local_port", NULL};
    PyObject *method, *url, *raw_headers, *body = EMPTY, *remote_address = EMPTY_TEXT, *version = NULL,
        *scheme = HTTP, *local_port = Py_None;
    if (kwds == NULL && PyTuple_GET_SIZE(args) == 8) {  /* the connection's call */
        method = PyTuple_GET_ITEM(args, 0);
        url = PyTuple_GET_ITEM(args, 1);
        raw_headers = PyTuple_GET_ITEM(args, 2);
        body = PyTuple_GET_ITEM(args, 3);
        remote_address = PyTuple_GET_ITEM(args, 4);
        version = PyTuple_GET_ITEM(args, 5);
        scheme = PyTuple_GET_ITEM(args, 6);
        local_port = PyTuple_GET_ITEM(args, 7);
    } else if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO|OOOOO:ServerRequest", names, &method, &url,
                                            &raw_headers, &body, &remote_address, &version, &scheme, &local_port)) {
        return -1;
    }
    PyObject *major, *minor;
    if (version == NULL) {
        major = Py_NewRef(ONE);
        minor = Py_NewRef(ONE);
    } else if (unpack_version(version, &major, &minor) < 0) {
        return -1;
    }
    fill(self, method, url, raw_headers, body, remote_address, major, minor, scheme, local_port);
    Py_DECREF(major);
    Py_DECREF(minor);
    return 0;
}

static int
Request_traverse(Request *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    for (int i = 0; i < FIELD_COUNT; i++)
        Py_VISIT(self->field[i]);
    return 0;
}

static int
Request_clear(Request *self)
{
    for (int i = 0; i < FIELD_COUNT; i++)
        Py_CLEAR(self->field[i]);
    return 0;
}

static void
Request_dealloc(Request *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    Request_clear(self);
    type->tp_free((PyObject *)self);
}

/* Filled from REQUEST_FIELDS by kitura_add_request_type. */
static PyMemberDef Request_members[FIELD_COUNT + 1];

static PyTypeObject RequestType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kitura.net._speedups.RequestCore",
    .tp_doc = "The fields of a ServerRequest, in C (request.py's PyRequestCore is the twin).",
    .tp_basicsize = sizeof(Request),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Request_init,
    .tp_dealloc = (destructor)Request_dealloc,
    .tp_traverse = (traverseproc)Request_traverse,
    .tp_clear = (inquiry)Request_clear,
    .tp_weaklistoffset = offsetof(Request, weakrefs),
    .tp_members = Request_members,
};

PyObject *
kitura_request_field(PyObject *request, int which)
{
    PyObject *value = PyObject_TypeCheck(request, &RequestType) ? ((Request *)request)->field[which] : NULL;
    if (value == NULL)  /* another type, or a deleted field (the member's AttributeError) */
        return PyObject_GetAttrString(request, REQUEST_FIELDS[which]);
    return Py_NewRef(value);
}

PyObject *
kitura_new_request(PyTypeObject *type, PyObject *method, PyObject *url, PyObject *raw_headers, PyObject *body,
                   PyObject *remote_address, int minor, PyObject *scheme, PyObject *local_port)
{
    PyObject *minor_obj = minor ? ONE : ZERO;
    if (!PyType_IsSubtype(type, &RequestType) || type->tp_init != RequestType.tp_init)
        return PyObject_CallFunction((PyObject *)type, "OOOOO(OO)OO", method, url, raw_headers, body,
                                     remote_address, ONE, minor_obj, scheme, local_port);
    Request *self = (Request *)type->tp_alloc(type, 0);
    if (self != NULL)
        fill(self, method, url, raw_headers, body, remote_address, ONE, minor_obj, scheme, local_port);
    return (PyObject *)self;
}

int
kitura_add_request_type(PyObject *module)
{
    if ((EMPTY = PyBytes_FromStringAndSize(NULL, 0)) == NULL || (EMPTY_TEXT = PyUnicode_FromString("")) == NULL ||
        (HTTP = PyUnicode_InternFromString("http")) == NULL || (ZERO = PyLong_FromLong(0)) == NULL ||
        (ONE = PyLong_FromLong(1)) == NULL)
        return -1;
    for (int i = 0; i < FIELD_COUNT; i++)
        Request_members[i] = (PyMemberDef){REQUEST_FIELDS[i], T_OBJECT_EX,
                                           offsetof(Request, field) + i * sizeof(PyObject *), 0, NULL};
    if (PyType_Ready(&RequestType) < 0)
        return -1;
    Py_INCREF(&RequestType);
    if (PyModule_AddObject(module, "RequestCore", (PyObject *)&RequestType) < 0) {
        Py_DECREF(&RequestType);
        return -1;
    }
    return 0;
}
