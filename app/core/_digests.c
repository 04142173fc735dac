/* 64-bit BLAKE2b digests of many values in one call (see app.core.hashing).
 *
 * hashlib gives the same digests one value at a time; on ingest's hot path each call cost
 * ~1 us of Python overhead (a hash object, its copy, update, digest, int conversion) for
 * every new template, IP address, range, user agent and request id. Written from the
 * algorithm's specification, RFC 7693: digest length 8, optional key (up to 64 bytes) and
 * personalisation (up to 16 bytes), everything else of the parameter block zero, exactly as
 * hashlib.blake2b(data, digest_size=8, key=key, person=person). tests/app/test_keys.py
 * compares the two on generated values and at block edges.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static const uint64_t IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

/* rounds 10 and 11 use the permutations of rounds 0 and 1 again (SIGMA[r % 10]) */
static const uint8_t SIGMA[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

static inline uint64_t rotr(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

#define G(a, b, c, d, x, y)        \
    do {                           \
        a = a + b + (x);           \
        d = rotr(d ^ a, 32);       \
        c = c + d;                 \
        b = rotr(b ^ c, 24);       \
        a = a + b + (y);           \
        d = rotr(d ^ a, 16);       \
        c = c + d;                 \
        b = rotr(b ^ c, 63);       \
    } while (0)

/* One compression of a 128-byte block; t is the byte count so far (values here are far
 * below 2**64 bytes, so the counter's high word stays zero). */
static void compress(uint64_t h[8], const uint8_t block[128], uint64_t t, int last) {
    uint64_t m[16], v[16];
    for (int i = 0; i < 16; i++) m[i] = load64(block + 8 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = IV[i];
    }
    v[12] ^= t;
    if (last) v[14] = ~v[14];
    for (int r = 0; r < 12; r++) {
        const uint8_t *s = SIGMA[r % 10];
        G(v[0], v[4], v[8], v[12], m[s[0]], m[s[1]]);
        G(v[1], v[5], v[9], v[13], m[s[2]], m[s[3]]);
        G(v[2], v[6], v[10], v[14], m[s[4]], m[s[5]]);
        G(v[3], v[7], v[11], v[15], m[s[6]], m[s[7]]);
        G(v[0], v[5], v[10], v[15], m[s[8]], m[s[9]]);
        G(v[1], v[6], v[11], v[12], m[s[10]], m[s[11]]);
        G(v[2], v[7], v[8], v[13], m[s[12]], m[s[13]]);
        G(v[3], v[4], v[9], v[14], m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

/* The first word of the digest of data (len bytes), from state h0 after `done` bytes (0, or
 * 128 after a key block that is not the last). */
static uint64_t finish(const uint64_t h0[8], uint64_t done, const uint8_t *data, size_t len) {
    uint64_t h[8];
    uint8_t block[128];
    memcpy(h, h0, sizeof h);
    uint64_t t = done;
    while (len > 128) {
        t += 128;
        compress(h, data, t, 0);
        data += 128;
        len -= 128;
    }
    memset(block, 0, sizeof block);
    if (len) memcpy(block, data, len);
    compress(h, block, t + len, 1);
    return h[0];
}

static PyObject *digests8(PyObject *self, PyObject *args) {
    PyObject *items;
    Py_buffer key, person;
    if (!PyArg_ParseTuple(args, "Oy*y*", &items, &key, &person)) return NULL;
    PyObject *result = NULL, *seq = NULL;
    if (key.len > 64 || person.len > 16) {
        PyErr_SetString(PyExc_ValueError, "key longer than 64 or person longer than 16 bytes");
        goto done;
    }
    seq = PySequence_Fast(items, "items must be a sequence");
    if (seq == NULL) goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **values = PySequence_Fast_ITEMS(seq);

    /* the parameter block: digest length, key length, fanout 1, depth 1, personalisation */
    uint64_t h0[8], keyed[8];
    uint8_t personal[16] = {0}, keyblock[128] = {0};
    memcpy(personal, person.buf, (size_t)person.len);
    memcpy(h0, IV, sizeof h0);
    h0[0] ^= 0x01010000ULL ^ ((uint64_t)key.len << 8) ^ 8ULL;
    h0[6] ^= load64(personal);
    h0[7] ^= load64(personal + 8);
    memcpy(keyed, h0, sizeof keyed);
    if (key.len) {
        memcpy(keyblock, key.buf, (size_t)key.len);
        compress(keyed, keyblock, 128, 0); /* the state after the key, when data follows */
    }

    result = PyBytes_FromStringAndSize(NULL, n * 8);
    if (result == NULL) goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(result);
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *data;
        Py_ssize_t len;
        PyObject *v = values[i];
        if (PyBytes_Check(v)) {
            data = PyBytes_AS_STRING(v);
            len = PyBytes_GET_SIZE(v);
        } else if (PyUnicode_Check(v)) {
            data = PyUnicode_AsUTF8AndSize(v, &len);
            if (data == NULL) {
                Py_CLEAR(result);
                goto done;
            }
        } else {
            PyErr_Format(PyExc_TypeError, "item %zd is neither bytes nor str", i);
            Py_CLEAR(result);
            goto done;
        }
        uint64_t word;
        if (key.len == 0)
            word = finish(h0, 0, (const uint8_t *)data, (size_t)len);
        else if (len == 0)
            word = finish(h0, 0, keyblock, 128); /* the key block is the last block */
        else
            word = finish(keyed, 128, (const uint8_t *)data, (size_t)len);
        for (int b = 0; b < 8; b++) out[8 * i + b] = (uint8_t)(word >> (8 * b));
    }
done:
    Py_XDECREF(seq);
    PyBuffer_Release(&key);
    PyBuffer_Release(&person);
    return result;
}

PyDoc_STRVAR(digests8_doc,
             "digests8(items, key, person, /)\n--\n\n"
             "The 8-byte BLAKE2b digest of each item (bytes, or str as UTF-8) with the given "
             "key and personalisation, joined.");

static PyMethodDef methods[] = {
    {"digests8", digests8, METH_VARARGS, digests8_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_digests", "64-bit BLAKE2b digests of many values (app.core.hashing).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__digests(void) { return PyModule_Create(&module); }
