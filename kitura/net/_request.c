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

typedef struct {
    PyObject_HEAD
    PyObject *method, *url, *remote_address, *major, *minor, *raw_headers, *headers, *body, *body_pos, *scheme,
        *url_url, *local_port, *keep_alive, *wants_upgrade;
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
    Py_XSETREF(self->method, Py_NewRef(method));
    Py_XSETREF(self->url, Py_NewRef(url));
    Py_XSETREF(self->remote_address, Py_NewRef(remote_address));
    Py_XSETREF(self->major, major);
    Py_XSETREF(self->minor, minor);
    Py_XSETREF(self->raw_headers, Py_NewRef(raw_headers));
    Py_XSETREF(self->headers, Py_NewRef(Py_None));
    Py_XSETREF(self->body, Py_NewRef(body));
    Py_XSETREF(self->body_pos, Py_NewRef(ZERO));
    Py_XSETREF(self->scheme, Py_NewRef(scheme));
    Py_XSETREF(self->url_url, Py_NewRef(Py_None));
    Py_XSETREF(self->local_port, Py_NewRef(local_port));
    Py_XSETREF(self->keep_alive, Py_NewRef(Py_True));
    Py_XSETREF(self->wants_upgrade, Py_NewRef(Py_False));
    return 0;
}

static int
Request_traverse(Request *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->method);
    Py_VISIT(self->url);
    Py_VISIT(self->remote_address);
    Py_VISIT(self->major);
    Py_VISIT(self->minor);
    Py_VISIT(self->raw_headers);
    Py_VISIT(self->headers);
    Py_VISIT(self->body);
    Py_VISIT(self->body_pos);
    Py_VISIT(self->scheme);
    Py_VISIT(self->url_url);
    Py_VISIT(self->local_port);
    Py_VISIT(self->keep_alive);
    Py_VISIT(self->wants_upgrade);
    return 0;
}

static int
Request_clear(Request *self)
{
    Py_CLEAR(self->method);
    Py_CLEAR(self->url);
    Py_CLEAR(self->remote_address);
    Py_CLEAR(self->major);
    Py_CLEAR(self->minor);
    Py_CLEAR(self->raw_headers);
    Py_CLEAR(self->headers);
    Py_CLEAR(self->body);
    Py_CLEAR(self->body_pos);
    Py_CLEAR(self->scheme);
    Py_CLEAR(self->url_url);
    Py_CLEAR(self->local_port);
    Py_CLEAR(self->keep_alive);
    Py_CLEAR(self->wants_upgrade);
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

#define FIELD(name, field) {name, T_OBJECT_EX, offsetof(Request, field), 0, NULL}

static PyMemberDef Request_members[] = {
    FIELD("method", method),
    FIELD("url", url),
    FIELD("remote_address", remote_address),
    FIELD("http_version_major", major),
    FIELD("http_version_minor", minor),
    FIELD("keep_alive", keep_alive),
    FIELD("wants_upgrade", wants_upgrade),
    FIELD("_raw_headers", raw_headers),
    FIELD("_headers", headers),
    FIELD("_body", body),
    FIELD("_body_pos", body_pos),
    FIELD("_scheme", scheme),
    FIELD("_url_url", url_url),
    FIELD("_local_port", local_port),
    {NULL, 0, 0, 0, NULL},
};

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
kitura_request_field(PyObject *request, const char *name)
{
    if (!PyObject_TypeCheck(request, &RequestType))
        return PyObject_GetAttrString(request, name);
    Request *r = (Request *)request;
    PyObject *value = NULL;
    switch (name[0]) {  /* the four the response reads */
    case 'k': value = r->keep_alive; break;
    case 'm': value = r->method; break;
    case 'h': value = name[14] == 'a' ? r->major : r->minor; break;  /* http_version_m(a)jor / m(i)nor */
    }
    if (value == NULL)  /* deleted: the AttributeError of the member */
        return PyObject_GetAttrString(request, name);
    return Py_NewRef(value);
}

PyObject *
kitura_new_request(PyTypeObject *type, PyObject *method, PyObject *url, PyObject *raw_headers, PyObject *body,
                   PyObject *remote_address, int minor, PyObject *scheme, PyObject *local_port)
{
    PyObject *minor_obj = minor ? ONE : ZERO;
    if (!PyType_IsSubtype(type, &RequestType) || type->tp_init != RequestType.tp_init) {
        PyObject *version = Py_BuildValue("(OO)", ONE, minor_obj);
        if (version == NULL)
            return NULL;
        PyObject *request = PyObject_CallFunction((PyObject *)type, "OOOOONOO", method, url, raw_headers, body,
                                                  remote_address, version, scheme, local_port);
        return request;
    }
    Request *self = (Request *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->method = Py_NewRef(method);
    self->url = Py_NewRef(url);
    self->remote_address = Py_NewRef(remote_address);
    self->major = Py_NewRef(ONE);
    self->minor = Py_NewRef(minor_obj);
    self->raw_headers = Py_NewRef(raw_headers);
    self->headers = Py_NewRef(Py_None);
    self->body = Py_NewRef(body);
    self->body_pos = Py_NewRef(ZERO);
    self->scheme = Py_NewRef(scheme);
    self->url_url = Py_NewRef(Py_None);
    self->local_port = Py_NewRef(local_port);
    self->keep_alive = Py_NewRef(Py_True);
    self->wants_upgrade = Py_NewRef(Py_False);
    return (PyObject *)self;
}

int
kitura_add_request_type(PyObject *module)
{
    if ((EMPTY = PyBytes_FromStringAndSize(NULL, 0)) == NULL || (EMPTY_TEXT = PyUnicode_FromString("")) == NULL ||
        (HTTP = PyUnicode_InternFromString("http")) == NULL || (ZERO = PyLong_FromLong(0)) == NULL ||
        (ONE = PyLong_FromLong(1)) == NULL)
        return -1;
    if (PyType_Ready(&RequestType) < 0)
        return -1;
    Py_INCREF(&RequestType);
    if (PyModule_AddObject(module, "RequestCore", (PyObject *)&RequestType) < 0) {
        Py_DECREF(&RequestType);
        return -1;
    }
    return 0;
}
