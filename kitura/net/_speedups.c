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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

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

static PyObject *
join_head(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_CheckExact(args[0]) || !PyDict_CheckExact(args[1]) || !PyList_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "join_head(status_line: bytes, entries: dict, tail: list)");
        return NULL;
    }
    PyObject *line = args[0], *entries = args[1], *tail = args[2];
    Py_ssize_t total = PyBytes_GET_SIZE(line) + 2;
    Py_ssize_t pos = 0;
    PyObject *key, *entry;
    const char *data = NULL;
    Py_ssize_t len = 0;

    /* Pass 1: check the shapes and add up the size. */
    while (PyDict_Next(entries, &pos, &key, &entry)) {
        if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != 2)
            Py_RETURN_NONE;
        PyObject *name = PyList_GET_ITEM(entry, 0), *values = PyList_GET_ITEM(entry, 1);
        Py_ssize_t name_len;
        if (!latin1_view(name, &data, &name_len) || !PyList_CheckExact(values))
            Py_RETURN_NONE;
        Py_ssize_t count = PyList_GET_SIZE(values);
        for (Py_ssize_t i = 0; i < count; i++) {
            if (!latin1_view(PyList_GET_ITEM(values, i), &data, &len))
                Py_RETURN_NONE;
            total += name_len + 4 + len;
        }
    }
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
    pos = 0;
    while (PyDict_Next(entries, &pos, &key, &entry)) {
        const char *name_data = NULL;
        Py_ssize_t name_len = 0;
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
    for (Py_ssize_t i = 0; i < tail_count; i++) {
        PyObject *part = PyList_GET_ITEM(tail, i);
        memcpy(p, PyBytes_AS_STRING(part), PyBytes_GET_SIZE(part));
        p += PyBytes_GET_SIZE(part);
    }
    *p++ = '\r';
    *p++ = '\n';
    return out;
}

static PyMethodDef speedups_methods[] = {
    {"join_head", (PyCFunction)(void (*)(void))join_head, METH_FASTCALL,
     "join_head(status_line, entries, tail) -> bytes | None\n\nA response head from a status line, "
     "HeadersContainer entries and pre-encoded tail lines; None when a name or value is not latin-1 text."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "kitura.net._speedups",
    "C speedups for kitura.net (join_head).",
    -1,
    speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&speedups_module);
}
