/* Optional C speedups for the WebSocket core: apply_mask (RFC 6455 5.3),
 * parse_message, the fast path for a read that is exactly one whole message, and
 * text_frame, a str framed as a server's text frame in one step.
 *
 * apply_mask(data, mask) -> bytes XORs `data` (any contiguous buffer) with
 * the 4-byte `mask` repeated. The body works 16 bytes per step with two
 * uint64 XORs (memcpy loads/stores: alignment-safe, compiled to plain moves),
 * then 8, then a byte tail. mask.py falls back to pure Python when this
 * module was not built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>

/* Releasing the GIL costs ~0.1 us; 64 KiB are masked in ~1.5 us, so only
 * payloads of 1 MiB and more (~25 us) let other threads run meanwhile. */
#define RELEASE_GIL_AT (1 << 20)

#define MASK16(i)                          \
    do {                                   \
        memcpy(&a, in + (i), 8);           \
        memcpy(&b, in + (i) + 8, 8);       \
        a ^= m64;                          \
        b ^= m64;                          \
        memcpy(out + (i), &a, 8);          \
        memcpy(out + (i) + 8, &b, 8);      \
    } while (0)

/* XOR n bytes from in to out with the 4-byte key m repeated: 16 bytes per step with
 * two uint64 XORs, then 8, then a byte tail. Byte i uses m[i % 4]; the 8-byte key is
 * the mask twice, and every block starts at a multiple of 4. */
static void
unmask_into(unsigned char *out, const unsigned char *in, Py_ssize_t n, const unsigned char *m)
{
    Py_ssize_t i = 0;
    unsigned char m8[8];
    uint64_t m64, a, b;

    memcpy(m8, m, 4);
    memcpy(m8 + 4, m, 4);
    memcpy(&m64, m8, 8);
    for (; i + 16 <= n; i += 16) {
        MASK16(i);
    }
    for (; i + 8 <= n; i += 8) {
        memcpy(&a, in + i, 8);
        a ^= m64;
        memcpy(out + i, &a, 8);
    }
    for (; i < n; i++) {
        out[i] = in[i] ^ m[i & 3];
    }
}

static PyObject *
apply_mask(PyObject *self, PyObject *args)
{
    Py_buffer data, mask;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*:apply_mask", &data, &mask)) {
        return NULL;
    }
    if (mask.len != 4) {
        PyErr_SetString(PyExc_ValueError, "mask must contain 4 bytes");
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, data.len);
    if (result == NULL) {
        goto done;
    }
    {
        const unsigned char *in = (const unsigned char *)data.buf;
        const unsigned char *m = (const unsigned char *)mask.buf;
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
        if (data.len >= RELEASE_GIL_AT) {
            Py_BEGIN_ALLOW_THREADS
            unmask_into(out, in, data.len, m);
            Py_END_ALLOW_THREADS
        }
        else {
            unmask_into(out, in, data.len, m);
        }
    }
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&mask);
    return result;
}

#define STACK_TEXT 512

/* parse_message(data, limit) -> str | bytes | None
 *
 * When `data` (exactly a bytes object) is one whole masked frame with FIN set,
 * no RSV bits, opcode text or binary, any payload length encoding, nothing
 * after it, and a payload of at most `limit` bytes: the unmasked payload,
 * decoded (str) for text, bytes for binary. None for anything else, invalid
 * UTF-8 included: the caller then takes its general path, which reports it.
 * The pure-Python twin is frames.py_parse_message. */
static PyObject *
parse_message(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *data, *result;
    const unsigned char *p;
    Py_ssize_t n, len, start;
    long long limit;
    int overflow;
    unsigned char b0, b1;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "parse_message(data, limit) takes 2 arguments");
        return NULL;
    }
    data = args[0];
    limit = PyLong_AsLongLongAndOverflow(args[1], &overflow);
    if (limit == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow > 0) {
        limit = LLONG_MAX;
    }
    if (!PyBytes_CheckExact(data)) {
        Py_RETURN_NONE;
    }
    n = PyBytes_GET_SIZE(data);
    p = (const unsigned char *)PyBytes_AS_STRING(data);
    if (n < 6) {
        Py_RETURN_NONE;
    }
    b0 = p[0];
    b1 = p[1];
    if ((b0 != 0x81 && b0 != 0x82) || !(b1 & 0x80)) {
        Py_RETURN_NONE;
    }
    len = b1 & 0x7F;
    start = 6;
    if (len == 126) {
        if (n < 8) {
            Py_RETURN_NONE;
        }
        len = ((Py_ssize_t)p[2] << 8) | p[3];
        start = 8;
    }
    else if (len == 127) {
        /* A 64-bit length (a message of 64 KiB or more); one with its most significant
         * bit set (RFC 6455 5.2) cannot match the size of data: None. */
        unsigned long long wide = 0;
        int i;
        if (n < 14) {
            Py_RETURN_NONE;
        }
        for (i = 0; i < 8; i++) {
            wide = (wide << 8) | p[2 + i];
        }
        start = 14;
        if (wide != (unsigned long long)(n - start)) {
            Py_RETURN_NONE;
        }
        len = n - start;
    }
    if (n != start + len || (long long)len > limit) {
        Py_RETURN_NONE;
    }
    if (b0 == 0x82) {
        result = PyBytes_FromStringAndSize(NULL, len);
        if (result != NULL) {
            unmask_into((unsigned char *)PyBytes_AS_STRING(result), p + start, len, p + start - 4);
        }
        return result;
    }
    {
        unsigned char stack[STACK_TEXT];
        unsigned char *buf = stack;
        if (len > STACK_TEXT) {
            buf = PyMem_Malloc(len);
            if (buf == NULL) {
                return PyErr_NoMemory();
            }
        }
        unmask_into(buf, p + start, len, p + start - 4);
        result = PyUnicode_DecodeUTF8((const char *)buf, len, NULL);
        if (buf != stack) {
            PyMem_Free(buf);
        }
        if (result == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        return result;
    }
}

/* text_frame(text) -> bytes
 *
 * A server's final uncompressed text frame carrying `text` (a str) as UTF-8:
 * the shortest header and the payload in one bytes object, made with one copy
 * of an ASCII str's characters (a non-ASCII str is encoded first, not cached in
 * the str). UnicodeEncodeError for a str that is not valid Unicode (a lone
 * surrogate), as str.encode("utf-8"). The pure-Python twin is frames.py_text_frame. */
static PyObject *
text_frame(PyObject *self, PyObject *text)
{
    PyObject *encoded = NULL, *result;
    const char *utf8;
    Py_ssize_t n, head;
    unsigned char *p;

    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "text_frame() takes a str, not %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) {
        return NULL;
    }
#endif
    if (PyUnicode_IS_ASCII(text)) {
        utf8 = (const char *)PyUnicode_DATA(text);
        n = PyUnicode_GET_LENGTH(text);
    }
    else {
        encoded = PyUnicode_AsUTF8String(text);
        if (encoded == NULL) {
            return NULL;
        }
        utf8 = PyBytes_AS_STRING(encoded);
        n = PyBytes_GET_SIZE(encoded);
    }
    head = n < 126 ? 2 : (n < 0x10000 ? 4 : 10);
    result = PyBytes_FromStringAndSize(NULL, head + n);
    if (result != NULL) {
        p = (unsigned char *)PyBytes_AS_STRING(result);
        p[0] = 0x81;  /* FIN | OP_TEXT */
        if (head == 2) {
            p[1] = (unsigned char)n;
        }
        else if (head == 4) {
            p[1] = 126;
            p[2] = (unsigned char)(n >> 8);
            p[3] = (unsigned char)n;
        }
        else {
            unsigned long long len = (unsigned long long)n;
            int i;
            p[1] = 127;
            for (i = 0; i < 8; i++) {
                p[2 + i] = (unsigned char)(len >> (56 - 8 * i));
            }
        }
        memcpy(p + head, utf8, n);
    }
    Py_XDECREF(encoded);
    return result;
}

static PyMethodDef speedups_methods[] = {
    {"text_frame", text_frame, METH_O,
     "text_frame(text) -> bytes\n\nA server's final uncompressed text frame carrying the str text as UTF-8."},
    {"parse_message", (PyCFunction)(void (*)(void))parse_message, METH_FASTCALL,
     "parse_message(data, limit) -> str | bytes | None\n\nThe payload of a read that is exactly one whole "
     "masked text (decoded) or binary message of at most limit bytes, else None."},
    {"apply_mask", apply_mask, METH_VARARGS,
     "apply_mask(data, mask) -> bytes\n\nXOR data with the 4-byte mask repeated (RFC 6455 5.3)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "kitura.websocket._speedups",
    "C speedups for kitura.websocket (apply_mask, parse_message, text_frame).",
    0,
    speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&speedups_module);
}
