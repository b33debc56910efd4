/* HeadersCore: the C twin of headers.py's PyHeadersCore, the storage and the hot
 * methods of a HeadersContainer (made, assigned, looked up, encoded by a response).
 *
 * The map is the same as the Python twin's: lower-cased name -> [name as first given,
 * list of values], decoded on first use from the raw (name, value) bytes pairs a parser
 * saw. HeadersContainer subclasses whichever core is in use and adds the other methods
 * in Python (append with Kitura's merge rules, iteration, first, ...), reading and
 * writing the map through the core's _entries and _raw.
 *
 * configure_headers(check_name, as_list) must be called once before a HeadersCore is
 * assigned to (headers.py does it at import): the Python functions that check a name
 * that is not known yet and turn a value other than a plain str into a list.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_speedups.h"

static PyObject *check_name;  /* headers._check_name */
static PyObject *as_list;     /* headers._as_list */
static PyObject *checked_keys; /* name -> lower-cased key, for names already checked */
static PyObject *S_append, *S_append_one, *S_lower;

#define MAX_CHECKED_KEYS 512

typedef struct {
    PyObject_HEAD
    PyObject *entries;  /* dict */
    PyObject *raw;      /* list of (bytes, bytes), or NULL once decoded */
} Headers;

/* bytes (or bytes-like) decoded as latin-1 */
static PyObject *
latin1(PyObject *data)
{
    if (PyBytes_Check(data))
        return PyUnicode_DecodeLatin1(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), NULL);
    return PyObject_CallMethod(data, "decode", "s", "latin-1");
}

/* The map, decoded from the raw pairs first if need be (a borrowed reference): each
 * pair goes through self._append_one(name, [value]), Kitura's merge rules. */
static PyObject *
entries_of(Headers *self)
{
    if (self->raw == NULL)
        return self->entries;
    PyObject *raw = self->raw;
    self->raw = NULL;
    PyObject *iterator = PyObject_GetIter(raw);
    Py_DECREF(raw);
    if (iterator == NULL)
        return NULL;
    PyObject *pair;
    while ((pair = PyIter_Next(iterator)) != NULL) {
        PyObject *name = NULL, *values = NULL, *result = NULL;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_ValueError, "raw headers must be (name, value) pairs");
        } else if ((name = latin1(PyTuple_GET_ITEM(pair, 0))) != NULL &&
                   (values = PyList_New(1)) != NULL) {
            PyObject *value = latin1(PyTuple_GET_ITEM(pair, 1));
            if (value != NULL) {
                PyList_SET_ITEM(values, 0, value);
                PyObject *args[3] = {(PyObject *)self, name, values};
                result = PyObject_VectorcallMethod(S_append_one, args, 3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
            }
        }
        Py_DECREF(pair);
        Py_XDECREF(name);
        Py_XDECREF(values);
        if (result == NULL) {
            Py_DECREF(iterator);
            return NULL;
        }
        Py_DECREF(result);
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred())
        return NULL;
    return self->entries;
}

/* name.lower(), for any object that has it (as the Python twin). */
static PyObject *
lower(PyObject *name)
{
    return PyObject_CallMethodNoArgs(name, S_lower);
}

/* ---- the mapping --------------------------------------------------------------- */

static PyObject *
Headers_entry_map(Headers *self, PyObject *unused)
{
    return Py_XNewRef(entries_of(self));
}

static PyObject *
Headers_getitem(Headers *self, PyObject *name)
{
    PyObject *entries = entries_of(self);
    if (entries == NULL)
        return NULL;
    PyObject *key = lower(name);
    if (key == NULL)
        return NULL;
    PyObject *entry = PyDict_GetItemWithError(entries, key);
    Py_DECREF(key);
    if (entry == NULL) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    PyObject *values = PySequence_GetItem(entry, 1);
    if (values == NULL)
        return NULL;
    PyObject *copy = PySequence_List(values);
    Py_DECREF(values);
    return copy;
}

/* The lower-cased key of a name given to __setitem__, checked (a token) once. */
static PyObject *
checked_key(PyObject *name)
{
    PyObject *key = PyUnicode_CheckExact(name) ? PyDict_GetItemWithError(checked_keys, name) : NULL;
    if (key != NULL)
        return Py_NewRef(key);
    if (PyErr_Occurred())
        return NULL;
    if (check_name == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "kitura.net._speedups.configure_headers() was not called");
        return NULL;
    }
    PyObject *checked = PyObject_CallOneArg(check_name, name);
    if (checked == NULL)
        return NULL;
    key = lower(checked);
    Py_DECREF(checked);
    if (key != NULL && PyUnicode_CheckExact(name) && PyDict_GET_SIZE(checked_keys) < MAX_CHECKED_KEYS &&
        PyDict_SetItem(checked_keys, name, key) < 0)
        Py_CLEAR(key);
    return key;
}

/* A plain str without CR, LF or NUL: stored as it is. */
static int
plain_value(PyObject *value)
{
    if (!PyUnicode_CheckExact(value))
        return 0;
    Py_ssize_t len = PyUnicode_GET_LENGTH(value);
    int kind = PyUnicode_KIND(value);
    const void *data = PyUnicode_DATA(value);
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '\r' || c == '\n' || c == 0)
            return 0;
    }
    return 1;
}

static int
Headers_setitem(Headers *self, PyObject *name, PyObject *value)
{
    PyObject *entries = entries_of(self);
    if (entries == NULL)
        return -1;
    if (value == NULL || value == Py_None) {  /* del headers[name], or headers[name] = None */
        PyObject *key = lower(name);
        if (key == NULL)
            return -1;
        int found = PyDict_Contains(entries, key);
        int done = found > 0 ? PyDict_DelItem(entries, key) : found;
        Py_DECREF(key);
        return done;
    }
    PyObject *key = checked_key(name);
    if (key == NULL)
        return -1;
    PyObject *values;
    if (plain_value(value)) {
        values = PyList_New(1);
        if (values != NULL)
            PyList_SET_ITEM(values, 0, Py_NewRef(value));
    } else {
        values = PyObject_CallOneArg(as_list, value);
    }
    PyObject *entry = values == NULL ? NULL : PyList_New(2);
    if (entry == NULL) {
        Py_DECREF(key);
        Py_XDECREF(values);
        return -1;
    }
    PyList_SET_ITEM(entry, 0, Py_NewRef(name));
    PyList_SET_ITEM(entry, 1, values);
    int done = PyDict_SetItem(entries, key, entry);
    Py_DECREF(key);
    Py_DECREF(entry);
    return done;
}

static Py_ssize_t
Headers_length(Headers *self)
{
    PyObject *entries = entries_of(self);
    return entries == NULL ? -1 : PyDict_GET_SIZE(entries);
}

static int
Headers_contains(Headers *self, PyObject *name)
{
    if (!PyUnicode_Check(name))
        return 0;
    PyObject *entries = entries_of(self);
    if (entries == NULL)
        return -1;
    PyObject *key = lower(name);
    if (key == NULL)
        return -1;
    int found = PyDict_Contains(entries, key);
    Py_DECREF(key);
    return found;
}

/* ---- life cycle ---------------------------------------------------------------- */

static PyObject *
Headers_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Headers *self = (Headers *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->entries = PyDict_New();
    if (self->entries == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
Headers_init(Headers *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"initial", NULL};
    PyObject *initial = Py_None;
    if (kwds == NULL && PyTuple_GET_SIZE(args) == 0)  /* HeadersContainer(): the common call */
        return 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:HeadersContainer", names, &initial))
        return -1;
    if (initial == Py_None)
        return 0;
    PyObject *iterator = PyObject_GetIter(initial);
    if (iterator == NULL)
        return -1;
    PyObject *item;
    while ((item = PyIter_Next(iterator)) != NULL) {
        /* for name, value in initial: the errors of Python's unpacking */
        PyObject *result = NULL, *pair = PySequence_Check(item) ? PySequence_Tuple(item) : NULL;
        if (pair == NULL && !PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "cannot unpack non-iterable %.200s object", Py_TYPE(item)->tp_name);
        else if (pair != NULL && PyTuple_GET_SIZE(pair) < 2)
            PyErr_Format(PyExc_ValueError, "not enough values to unpack (expected 2, got %zd)", PyTuple_GET_SIZE(pair));
        else if (pair != NULL && PyTuple_GET_SIZE(pair) > 2)
            PyErr_SetString(PyExc_ValueError, "too many values to unpack (expected 2)");
        else if (pair != NULL) {
            PyObject *call[3] = {(PyObject *)self, PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1)};
            result = PyObject_VectorcallMethod(S_append, call, 3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
        }
        Py_XDECREF(pair);
        Py_DECREF(item);
        if (result == NULL) {
            Py_DECREF(iterator);
            return -1;
        }
        Py_DECREF(result);
    }
    Py_DECREF(iterator);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *
Headers_from_raw(PyObject *cls, PyObject *raw)
{
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "from_raw is a class method");
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)cls;
    Headers *self = (Headers *)type->tp_new(type, NULL, NULL);
    if (self == NULL)
        return NULL;
    self->raw = Py_NewRef(raw);
    return (PyObject *)self;
}

static int
Headers_traverse(Headers *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->entries);
    Py_VISIT(self->raw);
    return 0;
}

static int
Headers_clear(Headers *self)
{
    Py_CLEAR(self->entries);
    Py_CLEAR(self->raw);
    return 0;
}

static void
Headers_dealloc(Headers *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Headers_clear(self);
    type->tp_free((PyObject *)self);
}

/* ---- _entries and _raw, for the Python methods of HeadersContainer ---------------- */

static PyObject *
Headers_get_entries(Headers *self, void *closure)
{
    return Py_NewRef(self->entries);
}

static int
Headers_set_entries(Headers *self, PyObject *value, void *closure)
{
    if (value == NULL || !PyDict_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "_entries must be a dict");
        return -1;
    }
    Py_XSETREF(self->entries, Py_NewRef(value));
    return 0;
}

static PyObject *
Headers_get_raw(Headers *self, void *closure)
{
    return Py_NewRef(self->raw != NULL ? self->raw : Py_None);
}

static int
Headers_set_raw(Headers *self, PyObject *value, void *closure)
{
    Py_XSETREF(self->raw, value == NULL || value == Py_None ? NULL : Py_NewRef(value));
    return 0;
}

static PyMethodDef Headers_methods[] = {
    {"entry_map", (PyCFunction)Headers_entry_map, METH_NOARGS,
     "The container's own map, lower-cased name -> [name as first given, values] (see HeadersContainer)."},
    {"from_raw", (PyCFunction)Headers_from_raw, METH_O | METH_CLASS,
     "A container over parser output, materialized on first use."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Headers_getset[] = {
    {"_entries", (getter)Headers_get_entries, (setter)Headers_set_entries, NULL, NULL},
    {"_raw", (getter)Headers_get_raw, (setter)Headers_set_raw, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMappingMethods Headers_mapping = {
    .mp_length = (lenfunc)Headers_length,
    .mp_subscript = (binaryfunc)Headers_getitem,
    .mp_ass_subscript = (objobjargproc)Headers_setitem,
};

static PySequenceMethods Headers_sequence = {
    .sq_contains = (objobjproc)Headers_contains,
};

static PyTypeObject HeadersType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kitura.net._speedups.HeadersCore",
    .tp_doc = "The storage and hot methods of a HeadersContainer, in C (headers.py's PyHeadersCore is the twin).",
    .tp_basicsize = sizeof(Headers),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = Headers_new,
    .tp_init = (initproc)Headers_init,
    .tp_dealloc = (destructor)Headers_dealloc,
    .tp_traverse = (traverseproc)Headers_traverse,
    .tp_clear = (inquiry)Headers_clear,
    .tp_methods = Headers_methods,
    .tp_getset = Headers_getset,
    .tp_as_mapping = &Headers_mapping,
    .tp_as_sequence = &Headers_sequence,
};

PyObject *
kitura_new_headers(PyObject *type)
{
    if (PyType_Check(type) && PyType_IsSubtype((PyTypeObject *)type, &HeadersType) &&
        ((PyTypeObject *)type)->tp_init == HeadersType.tp_init)
        return ((PyTypeObject *)type)->tp_new((PyTypeObject *)type, NULL, NULL);
    return PyObject_CallNoArgs(type);
}

static PyObject *
configure_headers(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "configure_headers(check_name, as_list)");
        return NULL;
    }
    Py_XSETREF(check_name, Py_NewRef(args[0]));
    Py_XSETREF(as_list, Py_NewRef(args[1]));
    Py_RETURN_NONE;
}

static PyMethodDef configure_def = {
    "configure_headers", (PyCFunction)(void (*)(void))configure_headers, METH_FASTCALL,
    "configure_headers(check_name, as_list): what HeadersCore calls for names and values off its fast path."};

int
kitura_add_headers_type(PyObject *module)
{
    if ((S_append = PyUnicode_InternFromString("append")) == NULL ||
        (S_append_one = PyUnicode_InternFromString("_append_one")) == NULL ||
        (S_lower = PyUnicode_InternFromString("lower")) == NULL || (checked_keys = PyDict_New()) == NULL)
        return -1;
    if (PyType_Ready(&HeadersType) < 0)
        return -1;
    Py_INCREF(&HeadersType);
    if (PyModule_AddObject(module, "HeadersCore", (PyObject *)&HeadersType) < 0) {
        Py_DECREF(&HeadersType);
        return -1;
    }
    PyObject *configure = PyCFunction_NewEx(&configure_def, NULL, NULL);
    if (configure == NULL)
        return -1;
    if (PyModule_AddObject(module, "configure_headers", configure) < 0) {
        Py_DECREF(configure);
        return -1;
    }
    return 0;
}
