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

/* ------------------------------------------------------------ plain_handshake
 *
 * plain_handshake(pairs) -> (key, head, protocol, extensions, origin) | None
 *
 * The C twin of handshake.py_plain_handshake (the reference: see its docstring):
 * one pass over the raw (name, value) header pairs of an upgrade request; for a
 * plain request (Sec-WebSocket-Key and -Version exactly once, the version exactly
 * "13", the key exactly 22 base64 digits and "==", Sec-WebSocket-Protocol,
 * -Extensions and Origin at most once each) the key, the 101 head with its
 * Sec-WebSocket-Accept (SHA-1 below, RFC 3174) and the three other values as
 * latin-1 str or None; None for every other request (the general path answers it).
 */

#define ROL32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define SHA1_ROUND(f, k)                          \
    do {                                          \
        t = ROL32(a, 5) + (f) + e + (k) + w[i];   \
        e = d;                                    \
        d = c;                                    \
        c = ROL32(b, 30);                         \
        b = a;                                    \
        a = t;                                    \
    } while (0)

/* One 64-byte block into the SHA-1 state h (RFC 3174 6.1). */
static void
sha1_compress(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80], a, b, c, d, e, t;
    int i;
    for (i = 0; i < 16; i++) {
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16) | ((uint32_t)p[4 * i + 2] << 8)
               | (uint32_t)p[4 * i + 3];
    }
    for (i = 16; i < 80; i++) {
        w[i] = ROL32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    }
    a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
    for (i = 0; i < 20; i++) {
        SHA1_ROUND((b & c) | (~b & d), 0x5A827999u);
    }
    for (; i < 40; i++) {
        SHA1_ROUND(b ^ c ^ d, 0x6ED9EBA1u);
    }
    for (; i < 60; i++) {
        SHA1_ROUND((b & c) | (b & d) | (c & d), 0x8F1BBCDCu);
    }
    for (; i < 80; i++) {
        SHA1_ROUND(b ^ c ^ d, 0xCA62C1D6u);
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

static const char B64_DIGITS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
static const char HEAD_101[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: ";

/* ASCII case-insensitive: does name (n bytes) equal lower (already lower-case)? */
static int
name_is(const char *name, Py_ssize_t n, const char *lower, Py_ssize_t lower_n)
{
    Py_ssize_t i;
    if (n != lower_n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }
        if (c != (unsigned char)lower[i]) {
            return 0;
        }
    }
    return 1;
}

static int
is_b64_digit(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static PyObject *
plain_handshake(PyObject *self, PyObject *pairs)
{
    static const struct { const char *name; Py_ssize_t n; } fields[5] = {
        {"sec-websocket-key", 17},
        {"sec-websocket-version", 21},
        {"sec-websocket-protocol", 22},
        {"sec-websocket-extensions", 24},
        {"origin", 6},
    };
    PyObject *seq, *found[5] = {NULL, NULL, NULL, NULL, NULL};
    PyObject *result = NULL, *key = NULL, *head = NULL, *texts[3] = {NULL, NULL, NULL};
    Py_ssize_t count, i;
    const char *kp;
    unsigned char digest[20];
    uint32_t sha[5];
    unsigned char blocks[128];
    char *out;

    seq = PySequence_Fast(pairs, "plain_handshake() takes a sequence of (name, value) pairs");
    if (seq == NULL) {
        return NULL;
    }
    count = PySequence_Fast_GET_SIZE(seq);
    for (i = 0; i < count; i++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(seq, i), *name, *value;
        Py_ssize_t n;
        int f;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            goto decline;  /* not as the parser gives them: the general path */
        }
        name = PyTuple_GET_ITEM(pair, 0);
        value = PyTuple_GET_ITEM(pair, 1);
        if (!PyBytes_Check(name) || !PyBytes_Check(value)) {
            goto decline;
        }
        n = PyBytes_GET_SIZE(name);
        if (n != 6 && (n < 17 || n > 24)) {
            continue;
        }
        for (f = 0; f < 5; f++) {
            if (name_is(PyBytes_AS_STRING(name), n, fields[f].name, fields[f].n)) {
                if (found[f] != NULL) {
                    goto decline;  /* repeated: the general path merges and checks */
                }
                found[f] = value;
                break;
            }
        }
    }
    if (found[1] == NULL || PyBytes_GET_SIZE(found[1]) != 2 || memcmp(PyBytes_AS_STRING(found[1]), "13", 2) != 0) {
        goto decline;
    }
    if (found[0] == NULL || PyBytes_GET_SIZE(found[0]) != 24) {
        goto decline;
    }
    kp = PyBytes_AS_STRING(found[0]);
    for (i = 0; i < 22; i++) {
        if (!is_b64_digit((unsigned char)kp[i])) {
            goto decline;
        }
    }
    if (kp[22] != '=' || kp[23] != '=') {
        goto decline;
    }

    /* SHA-1 of the key and the GUID: 60 bytes, padded (RFC 3174 4) into two blocks. */
    memset(blocks, 0, sizeof(blocks));
    memcpy(blocks, kp, 24);
    memcpy(blocks + 24, WS_GUID, 36);
    blocks[60] = 0x80;
    blocks[126] = (unsigned char)((60 * 8) >> 8);
    blocks[127] = (unsigned char)(60 * 8);
    sha[0] = 0x67452301u; sha[1] = 0xEFCDAB89u; sha[2] = 0x98BADCFEu; sha[3] = 0x10325476u; sha[4] = 0xC3D2E1F0u;
    sha1_compress(sha, blocks);
    sha1_compress(sha, blocks + 64);
    for (i = 0; i < 20; i++) {
        digest[i] = (unsigned char)(sha[i / 4] >> (24 - 8 * (i % 4)));
    }
    head = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(sizeof(HEAD_101) - 1) + 28 + 4);
    if (head == NULL) {
        goto error;
    }
    out = PyBytes_AS_STRING(head);
    memcpy(out, HEAD_101, sizeof(HEAD_101) - 1);
    out += sizeof(HEAD_101) - 1;
    for (i = 0; i < 21; i += 3) {  /* 20 bytes: six whole groups, then 2 bytes and "=" */
        uint32_t v = ((uint32_t)digest[i] << 16) | ((uint32_t)digest[i + 1] << 8)
                     | (i + 2 < 20 ? (uint32_t)digest[i + 2] : 0);
        *out++ = B64_DIGITS[(v >> 18) & 63];
        *out++ = B64_DIGITS[(v >> 12) & 63];
        *out++ = B64_DIGITS[(v >> 6) & 63];
        *out++ = i + 2 < 20 ? B64_DIGITS[v & 63] : '=';
    }
    memcpy(out, "\r\n\r\n", 4);

    key = PyUnicode_DecodeASCII(kp, 24, NULL);
    if (key == NULL) {
        goto error;
    }
    for (i = 0; i < 3; i++) {
        PyObject *value = found[2 + i];
        if (value == NULL) {
            texts[i] = Py_NewRef(Py_None);
        }
        else {
            texts[i] = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), NULL);
            if (texts[i] == NULL) {
                goto error;
            }
        }
    }
    result = PyTuple_Pack(5, key, head, texts[0], texts[1], texts[2]);
error:
    Py_XDECREF(key);
    Py_XDECREF(head);
    Py_XDECREF(texts[0]);
    Py_XDECREF(texts[1]);
    Py_XDECREF(texts[2]);
    Py_DECREF(seq);
    return result;
decline:
    Py_DECREF(seq);
    Py_RETURN_NONE;
}

static PyMethodDef speedups_methods[] = {
    {"plain_handshake", plain_handshake, METH_O,
     "plain_handshake(pairs) -> (key, head, protocol, extensions, origin) | None\n\nThe fast path of a "
     "WebSocket upgrade from raw header pairs (see handshake.py_plain_handshake, its twin)."},
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
    "C speedups for kitura.websocket (apply_mask, parse_message, text_frame, plain_handshake).",
    0,
    speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&speedups_module);
}
