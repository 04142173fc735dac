/*
 * Compiled kernels for the per-prompt steps of ingest: the template skeleton, the MinHash
 * band keys and the distillation signature's phrase guard (see graph/signals/prompts.py,
 * which holds the reference Python for each and uses these only when this module was built).
 *
 * Every function here returns exactly what its Python reference returns (tests compare the
 * two on generated and realistic text): a skeleton is computed here only for text whose
 * first PROMPT_CHARS characters are ASCII (whatever follows them) (the regexes' classes are then plain byte
 * classes) and handed to the Python reference otherwise; words are hashed as pandas'
 * hash_array hashes a string (SipHash-2-4 of its UTF-8 with pandas' fixed key, then a
 * 64-bit mix), so stored band keys do not depend on which path computed them.
 *
 * Nothing here keeps state between calls besides scratch buffers local to a call.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- byte classes */

enum {
    C_SPACE = 1,  /* str.split() and the regex \s, restricted to ASCII */
    C_WORD = 2,   /* the regex \w restricted to ASCII: [0-9A-Za-z_] */
    C_DIGIT = 4,  /* [0-9] */
    C_HEX = 8,    /* [0-9a-f] (the skeleton is lower case) */
    C_LOCAL = 16, /* an email's local part: [\w.+-] */
    C_DOMAIN = 32, /* an email's first domain label: [\w-] */
    C_DOMAIN_REST = 64, /* the rest of an email's domain: [\w.-] */
};

static unsigned char CLS[256];

static void init_classes(void)
{
    for (int c = 0; c < 256; c++) {
        unsigned char k = 0;
        if ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20))
            k |= C_SPACE;
        int word = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   c == '_';
        if (word)
            k |= C_WORD | C_LOCAL | C_DOMAIN | C_DOMAIN_REST;
        if (c >= '0' && c <= '9')
            k |= C_DIGIT | C_HEX;
        if (c >= 'a' && c <= 'f')
            k |= C_HEX;
        if (c == '.' || c == '+' || c == '-')
            k |= C_LOCAL;
        if (c == '-')
            k |= C_DOMAIN | C_DOMAIN_REST;
        if (c == '.')
            k |= C_DOMAIN_REST;
        CLS[c] = k;
    }
}

#define IS(c, k) (CLS[(unsigned char)(c)] & (k))

/* ---------------------------------------------------------------- growable buffers */

typedef struct {
    char *p;
    Py_ssize_t n, cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t cap)
{
    if (cap <= b->cap)
        return 0;
    char *p = PyMem_Realloc(b->p, (size_t)cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static inline void put(Buf *b, const char *s, Py_ssize_t k)
{
    memcpy(b->p + b->n, s, (size_t)k);
    b->n += k;
}

/* Each stage reads `in` (n bytes) and writes `out`, reserved for the worst growth first:
 * a mask is at most three times what it replaces ("<n>" for "1", "<q>" for a lone quote;
 * "<email>" replaces at least "a@b.c", "<url>" at least "www.x"). */
#define GROWTH 3

/* https?://\S+|www\.\S+  ->  <url> */
static void mask_urls(const char *in, Py_ssize_t n, Buf *out)
{
    Py_ssize_t i = 0, last = 0;
    out->n = 0;
    while (i < n) {
        Py_ssize_t m = 0;
        if (in[i] == 'h') {
            if (n - i >= 7 && memcmp(in + i, "http://", 7) == 0)
                m = 7;
            else if (n - i >= 8 && memcmp(in + i, "https://", 8) == 0)
                m = 8;
        }
        else if (in[i] == 'w' && n - i >= 4 && memcmp(in + i, "www.", 4) == 0) {
            m = 4;
        }
        if (m && i + m < n && !IS(in[i + m], C_SPACE)) {
            Py_ssize_t j = i + m;
            while (j < n && !IS(in[j], C_SPACE))
                j++;
            put(out, in + last, i - last);
            put(out, "<url>", 5);
            i = last = j;
            continue;
        }
        i++;
    }
    put(out, in + last, n - last);
}

/* Whether `in` holds `word` (k bytes), found by its first byte with memchr: mask_urls
 * changes nothing in a text without "http" or "www." (most prompts), and its byte-by-byte
 * scan was ~15% of a skeleton's time on the realistic benchmark file. */
static int holds(const char *in, Py_ssize_t n, const char *word, size_t k)
{
    const char *end = in + n;
    for (const char *p = in; (p = memchr(p, word[0], (size_t)(end - p))) != NULL; p++)
        if ((size_t)(end - p) >= k && memcmp(p, word, k) == 0)
            return 1;
    return 0;
}

/* [\w.+-]+@[\w-]+\.[\w.-]+  ->  <email>
 * A match is fixed by its '@' (no class holds one): its local part is the run of local
 * characters just before it (back to the previous match's end), its domain the longest
 * [\w-] run, a dot and the longest [\w.-] run after it. Trying the '@'s in order finds the
 * regex's leftmost matches. */
static void mask_emails(const char *in, Py_ssize_t n, Buf *out)
{
    Py_ssize_t pos = 0, scan = 0;
    out->n = 0;
    while (scan < n) {
        const char *hit = memchr(in + scan, '@', (size_t)(n - scan));
        if (hit == NULL)
            break;
        Py_ssize_t at = hit - in, start = at, d, e;
        while (start > pos && IS(in[start - 1], C_LOCAL))
            start--;
        int ok = start < at;
        if (ok) {
            d = at + 1;
            while (d < n && IS(in[d], C_DOMAIN))
                d++;
            ok = d > at + 1 && d < n && in[d] == '.';
        }
        if (ok) {
            e = d + 1;
            while (e < n && IS(in[e], C_DOMAIN_REST))
                e++;
            ok = e > d + 1;
        }
        if (ok) {
            put(out, in + pos, start - pos);
            put(out, "<email>", 7);
            pos = scan = e;
        }
        else {
            scan = at + 1;
        }
    }
    put(out, in + pos, n - pos);
}

/* "[^"]*("|$) | `[^`]*(`|$) | '(?<!\w')[^']*('|$)  ->  <q>
 * (the curly-quote branch needs non-ASCII text, which never reaches this code) */
static void mask_quotes(const char *in, Py_ssize_t n, Buf *out)
{
    Py_ssize_t i = 0, last = 0;
    out->n = 0;
    while (i < n) {
        char c = in[i];
        if (c == '"' || c == '`' || (c == '\'' && !(i > 0 && IS(in[i - 1], C_WORD)))) {
            const char *close = memchr(in + i + 1, c, (size_t)(n - i - 1));
            Py_ssize_t end = close ? (close - in) + 1 : n;
            put(out, in + last, i - last);
            put(out, "<q>", 3);
            i = last = end;
            continue;
        }
        i++;
    }
    put(out, in + last, n - last);
}

/* \b(?:[0-9a-f]{8,}+\b|(?=\w*?\d)\w++)  ->  <n>
 * Matches start only at a word's first character and take the whole word: a word holding
 * a digit, or a word of eight or more hex letters. */
static void mask_numbers(const char *in, Py_ssize_t n, Buf *out)
{
    Py_ssize_t i = 0, last = 0;
    out->n = 0;
    while (i < n) {
        if (!IS(in[i], C_WORD)) {
            i++;
            continue;
        }
        Py_ssize_t j = i;
        int digit = 0, hex = 1;
        while (j < n && IS(in[j], C_WORD)) {
            digit |= IS(in[j], C_DIGIT) != 0;
            hex &= IS(in[j], C_HEX) != 0;
            j++;
        }
        if (digit || (hex && j - i >= 8)) {
            put(out, in + last, i - last);
            put(out, "<n>", 3);
            last = j;
        }
        i = j;
    }
    put(out, in + last, n - last);
}

/* " ".join(in.split())[:limit] */
static void fold_spaces(const char *in, Py_ssize_t n, Py_ssize_t limit, Buf *out)
{
    Py_ssize_t i = 0;
    out->n = 0;
    while (i < n && out->n < limit) {
        while (i < n && IS(in[i], C_SPACE))
            i++;
        if (i >= n)
            break;
        Py_ssize_t j = i;
        while (j < n && !IS(in[j], C_SPACE))
            j++;
        if (out->n > 0)
            out->p[out->n++] = ' ';
        put(out, in + i, j - i);
        i = j;
    }
    if (out->n > limit)
        out->n = limit;
}

/* The stages of graph.signals.prompts.skeleton in its order over the ASCII text `s` (n
 * bytes), each from one buffer into the other. Returns the buffer holding the result, or NULL
 * on error. */
static Buf *skeleton_stages(const char *s, Py_ssize_t n, Py_ssize_t limit, Buf *a, Buf *b)
{
    Buf *src = a, *dst = b, *t;
    if (buf_reserve(src, n + 16) < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = s[i];
        src->p[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    src->n = n;
#define STAGE(call)                                                                             \
    do {                                                                                       \
        if (buf_reserve(dst, GROWTH * src->n + 16) < 0)                                        \
            return NULL;                                                                       \
        call;                                                                                  \
        t = src;                                                                               \
        src = dst;                                                                             \
        dst = t;                                                                               \
    } while (0)
    if (holds(src->p, src->n, "http", 4) || holds(src->p, src->n, "www.", 4))
        STAGE(mask_urls(src->p, src->n, dst));
    if (memchr(src->p, '@', (size_t)src->n))
        STAGE(mask_emails(src->p, src->n, dst));
    STAGE(mask_quotes(src->p, src->n, dst));
    STAGE(mask_numbers(src->p, src->n, dst));
    STAGE(fold_spaces(src->p, src->n, limit, dst));
#undef STAGE
    return src;
}

/* The skeleton of an ASCII prefix `s` (n bytes); NULL on error.
 *
 * A skeleton holds `limit` characters, and most prompts are longer than it takes to fill
 * them: the stages first run over the text up to the first whitespace at or after
 * FIRST_TRY(limit) characters, and over the whole prefix only when that did not fill the
 * skeleton. Cut at whitespace, the shorter text's skeleton is the start of the whole one's:
 * no URL, email, number or word runs across whitespace, so each stage matches the same
 * before the cut and nothing that starts before it ends after it; a quote (which can hold
 * whitespace) still open at the cut is masked to the cut in the shorter text and to its
 * closing quote in the whole one, the same "<q>" at the same place, with nothing after it in
 * the one and the rest of the text in the other. Skeletons of 200,000 prompts of the
 * realistic benchmark file (421 characters at the median), runs in turns: 0.43-0.57 s
 * reading every prompt whole, 0.32-0.39 s so and with mask_urls run only where it can
 * match. */
#define FIRST_TRY(limit) ((limit) + (limit) / 4)
static Buf *skeleton_ascii(const char *s, Py_ssize_t n, Py_ssize_t limit, Buf *a, Buf *b)
{
    Py_ssize_t cut = limit < n ? FIRST_TRY(limit) : n; /* (no overflow: limit < n) */
    while (cut < n && !IS(s[cut], C_SPACE))
        cut++;
    if (cut < n) {
        Buf *out = skeleton_stages(s, cut, limit, a, b);
        if (out == NULL || out->n >= limit)
            return out;
    }
    return skeleton_stages(s, n, limit, a, b);
}

/* The first `limit` characters of a str as ASCII bytes, or NULL when one is not ASCII. A
 * string of wider characters whose prefix is ASCII (a curly quote or an emoji further on) is
 * narrowed into `scratch`. */
static const char *ascii_prefix(PyObject *text, Py_ssize_t limit, Py_ssize_t *n, Buf *scratch)
{
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    *n = len < limit ? len : limit;
    if (PyUnicode_IS_ASCII(text))
        return (const char *)PyUnicode_1BYTE_DATA(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = data;
        for (Py_ssize_t i = 0; i < *n; i++)
            if (d[i] >= 0x80)
                return NULL;
        return (const char *)d;
    }
    for (Py_ssize_t i = 0; i < *n; i++)
        if (PyUnicode_READ(kind, data, i) >= 0x80)
            return NULL;
    if (buf_reserve(scratch, *n + 1) < 0)
        return NULL; /* the caller then takes the Python path, which raises MemoryError too */
    for (Py_ssize_t i = 0; i < *n; i++)
        scratch->p[i] = (char)PyUnicode_READ(kind, data, i);
    return scratch->p;
}

PyDoc_STRVAR(skeletons_doc,
             "skeletons(prompts, fallback, prompt_chars, skeleton_chars) -> list\n\n"
             "The skeleton of each prompt (None for None or an empty prompt); prompts whose\n"
             "first prompt_chars characters are not all ASCII go to fallback(prompt).");

static PyObject *skeletons(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *prompts, *fallback;
    Py_ssize_t prompt_chars, skeleton_chars;
    if (!PyArg_ParseTuple(args, "OOnn:skeletons", &prompts, &fallback, &prompt_chars,
                          &skeleton_chars))
        return NULL;
    if (prompt_chars < 0 || skeleton_chars < 0) {
        PyErr_SetString(PyExc_ValueError, "prompt_chars and skeleton_chars must be >= 0");
        return NULL;
    }
    /* a tuple of our own: the fallback is Python and could change a list passed in */
    PyObject *seq = PySequence_Tuple(prompts);
    if (seq == NULL)
        return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(seq);
    PyObject *result = PyList_New(count);
    Buf a = {0}, b = {0}, wide = {0};
    if (result == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *p = PyTuple_GET_ITEM(seq, i), *skel;
        if (p == Py_None || (PyUnicode_Check(p) && PyUnicode_GET_LENGTH(p) == 0)) {
            skel = Py_NewRef(Py_None);
        }
        else if (!PyUnicode_Check(p)) {
            PyErr_Format(PyExc_TypeError, "prompt %zd is %.80s, not str", i, Py_TYPE(p)->tp_name);
            goto fail;
        }
        else {
            Py_ssize_t n;
            const char *s = ascii_prefix(p, prompt_chars, &n, &wide);
            if (s == NULL) {
                PyErr_Clear(); /* an allocation that failed: the Python path says so again */
                skel = PyObject_CallOneArg(fallback, p);
            }
            else {
                Buf *out = skeleton_ascii(s, n, skeleton_chars, &a, &b);
                if (out == NULL)
                    goto fail;
                skel = PyUnicode_DecodeASCII(out->p, out->n, NULL);
            }
            if (skel == NULL)
                goto fail;
        }
        PyList_SET_ITEM(result, i, skel);
    }
    PyMem_Free(a.p);
    PyMem_Free(b.p);
    PyMem_Free(wide.p);
    Py_DECREF(seq);
    return result;
fail:
    PyMem_Free(a.p);
    PyMem_Free(b.p);
    PyMem_Free(wide.p);
    Py_XDECREF(result);
    Py_DECREF(seq);
    return NULL;
}

/* ---------------------------------------------------------------- word hashes */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                \
    do {                                                                                       \
        v0 += v1;                                                                              \
        v1 = ROTL(v1, 13);                                                                     \
        v1 ^= v0;                                                                              \
        v0 = ROTL(v0, 32);                                                                     \
        v2 += v3;                                                                              \
        v3 = ROTL(v3, 16);                                                                     \
        v3 ^= v2;                                                                              \
        v0 += v3;                                                                              \
        v3 = ROTL(v3, 21);                                                                     \
        v3 ^= v0;                                                                              \
        v2 += v1;                                                                              \
        v1 = ROTL(v1, 17);                                                                     \
        v1 ^= v2;                                                                              \
        v2 = ROTL(v2, 32);                                                                     \
    } while (0)

static inline uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) |
           ((uint64_t)p[3] << 24) | ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) |
           ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
}

/* pandas' hash of one string: SipHash-2-4 with its key "0123456789123456" (k0, k1) over
 * the UTF-8 bytes, then the splitmix64 finaliser pandas applies to every hash. */
static uint64_t word_hash(const unsigned char *in, size_t len, uint64_t k0, uint64_t k1)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = ((uint64_t)len) << 56;
    const unsigned char *end = in + len - (len % 8);
    for (; in != end; in += 8) {
        uint64_t m = load_le64(in);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    switch (len & 7) {
    case 7: b |= ((uint64_t)in[6]) << 48; /* fall through */
    case 6: b |= ((uint64_t)in[5]) << 40; /* fall through */
    case 5: b |= ((uint64_t)in[4]) << 32; /* fall through */
    case 4: b |= ((uint64_t)in[3]) << 24; /* fall through */
    case 3: b |= ((uint64_t)in[2]) << 16; /* fall through */
    case 2: b |= ((uint64_t)in[1]) << 8;  /* fall through */
    case 1: b |= ((uint64_t)in[0]); break;
    case 0: break;
    }
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    uint64_t x = v0 ^ v1 ^ v2 ^ v3;
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

typedef struct {
    uint64_t *v;
    Py_ssize_t n, cap;
} U64s;

static int u64_push(U64s *a, uint64_t x)
{
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? 2 * a->cap : 256;
        uint64_t *v = PyMem_Realloc(a->v, (size_t)cap * sizeof(uint64_t));
        if (v == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

/* The hashes of text.split()'s words, in order, into `out` (emptied first). */
static int split_hash(PyObject *text, uint64_t k0, uint64_t k1, U64s *out)
{
    out->n = 0;
    if (PyUnicode_IS_ASCII(text)) {
        const unsigned char *s = PyUnicode_1BYTE_DATA(text);
        Py_ssize_t n = PyUnicode_GET_LENGTH(text), i = 0;
        while (i < n) {
            while (i < n && IS(s[i], C_SPACE))
                i++;
            if (i >= n)
                break;
            Py_ssize_t j = i;
            while (j < n && !IS(s[j], C_SPACE))
                j++;
            if (u64_push(out, word_hash(s + i, (size_t)(j - i), k0, k1)) < 0)
                return -1;
            i = j;
        }
        return 0;
    }
    PyObject *words = PyUnicode_Split(text, NULL, -1);
    if (words == NULL)
        return -1;
    for (Py_ssize_t w = 0; w < PyList_GET_SIZE(words); w++) {
        Py_ssize_t len;
        const char *u = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(words, w), &len);
        if (u == NULL || u64_push(out, word_hash((const unsigned char *)u, (size_t)len, k0, k1)) < 0) {
            Py_DECREF(words);
            return -1;
        }
    }
    Py_DECREF(words);
    return 0;
}

/* ---------------------------------------------------------------- MinHash band keys */

#define MULT 0x9E3779B97F4A7C15ULL
#define MAX_PERM 256

/* The minimum of a[p] * h + b[p] (wrapping) over the shingle hashes, kept to bits 32..39
 * (the low 8 bits of the 32-bit MinHash value: b-bit MinHash), into vals[0..num_perm).
 *
 * The loop over permutations is what ingest spends most of a template's band keys on. With
 * GCC 12 or later on x86-64 glibc systems the fixed 64-permutation loop (NUM_PERM) is also
 * built for AVX-512 and AVX2, and the best one the CPU has is picked at load time
 * (target_clones, an ifunc): AVX-512 multiplies 64-bit lanes, 4.2 -> 2.2 us for a
 * realistic template's band keys. Integer arithmetic only, so every build gives the same
 * values (tests compare them with the NumPy reference and with keys stored by earlier
 * versions). */
/* GCC 12 is the first to take the x86-64 level names; the extension is optional, so an
 * older compiler must build the plain loop rather than fail (and leave Python's path). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && defined(__x86_64__) &&        \
    defined(__GLIBC__)
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

#define FIXED_PERM 64

/* One body for both loops (a macro, not an always-inline function: a CFLAGS -march that the
 * clones do not include would make GCC refuse to inline it into them, a build error). */
#define MINHASH_LOOP(num_perm)                                                                  \
    do {                                                                                       \
        uint64_t mins[MAX_PERM];                                                               \
        for (int p = 0; p < (num_perm); p++)                                                   \
            mins[p] = UINT64_MAX;                                                              \
        for (Py_ssize_t s = 0; s < count; s++) {                                               \
            uint64_t x = h[s];                                                                 \
            for (int p = 0; p < (num_perm); p++) {                                             \
                uint64_t v = a[p] * x + b[p];                                                  \
                mins[p] = v < mins[p] ? v : mins[p];                                           \
            }                                                                                  \
        }                                                                                      \
        for (int p = 0; p < (num_perm); p++)                                                   \
            vals[p] = (unsigned char)(mins[p] >> 32);                                          \
    } while (0)

/* the loop with its bound known to the compiler (unrolled, vectorised per target) */
VECTOR_CLONES
static void minhash_fixed(const uint64_t *h, Py_ssize_t count, const uint64_t *a,
                          const uint64_t *b, unsigned char *vals)
{
    MINHASH_LOOP(FIXED_PERM);
}

static void minhash(const uint64_t *h, Py_ssize_t count, const uint64_t *a, const uint64_t *b,
                    int num_perm, unsigned char *vals)
{
    if (num_perm == FIXED_PERM)
        minhash_fixed(h, count, a, b, vals);
    else
        MINHASH_LOOP(num_perm);
}

static int is_dropped(uint64_t h, const uint64_t *drop, Py_ssize_t ndrop)
{
    Py_ssize_t lo = 0, hi = ndrop;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (drop[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ndrop && drop[lo] == h;
}

static int get_buffer(PyObject *o, Py_buffer *view, int writable, Py_ssize_t itemsize,
                      const char *name)
{
    if (PyObject_GetBuffer(o, view, (writable ? PyBUF_WRITABLE : 0) | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->len % itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes is not a whole number of %zd-byte items",
                     name, view->len, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(band_keys_doc,
             "band_keys(texts, key, drop, a1, b1, a2, b2, shingle_words, word_mask, bands, words)\n\n"
             "Fill bands (uint32, len(texts) x 2 * num_perm / 4) with each text's packed 8-bit\n"
             "MinHash values under two views: shingle_words-word shingles of all words (with\n"
             "a1, b1) and single words not in drop (sorted uint64 word hashes; a2, b2), and\n"
             "words (int32) with its word count. key is pandas' 16-byte hash key.");

static PyObject *band_keys(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *texts, *o_drop, *o_a1, *o_b1, *o_a2, *o_b2, *o_bands, *o_words;
    const char *key;
    Py_ssize_t key_len;
    int k;
    unsigned long long word_mask;
    if (!PyArg_ParseTuple(args, "Oy#OOOOOiKOO:band_keys", &texts, &key, &key_len, &o_drop, &o_a1,
                          &o_b1, &o_a2, &o_b2, &k, &word_mask, &o_bands, &o_words))
        return NULL;
    if (key_len != 16) {
        PyErr_SetString(PyExc_ValueError, "key must be 16 bytes");
        return NULL;
    }
    if (k < 1) {
        PyErr_SetString(PyExc_ValueError, "shingle_words must be at least 1");
        return NULL;
    }
    uint64_t k0 = load_le64((const unsigned char *)key), k1 = load_le64((const unsigned char *)key + 8);
    PyObject *seq = PySequence_Fast(texts, "texts must be a sequence");
    if (seq == NULL)
        return NULL;
    Py_buffer v[7];
    PyObject *objs[7] = {o_drop, o_a1, o_b1, o_a2, o_b2, o_bands, o_words};
    const char *names[7] = {"drop", "a1", "b1", "a2", "b2", "bands", "words"};
    Py_ssize_t sizes[7] = {8, 8, 8, 8, 8, 4, 4};
    int got = 0;
    PyObject *result = NULL;
    U64s words = {0}, shingles = {0};
    for (; got < 7; got++)
        if (get_buffer(objs[got], &v[got], got >= 5, sizes[got], names[got]) < 0)
            goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq), num_perm = v[1].len / 8;
    if (num_perm < 4 || num_perm > MAX_PERM || num_perm % 4 || v[2].len != v[1].len ||
        v[3].len != v[1].len || v[4].len != v[1].len) {
        PyErr_SetString(PyExc_ValueError, "a1, b1, a2, b2 must hold the same 4..256 (a multiple of 4) values");
        goto done;
    }
    Py_ssize_t width = 2 * num_perm / 4;
    if (v[5].len != n * width * 4 || v[6].len != n * 4) {
        PyErr_SetString(PyExc_ValueError, "bands or words does not fit the texts");
        goto done;
    }
    const uint64_t *drop = v[0].buf, *a1 = v[1].buf, *b1 = v[2].buf, *a2 = v[3].buf,
                   *b2 = v[4].buf;
    Py_ssize_t ndrop = v[0].len / 8;
    uint32_t *bands = v[5].buf;
    int32_t *counts = v[6].buf;
    unsigned char vals[2 * MAX_PERM];
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(t)) {
            PyErr_Format(PyExc_TypeError, "text %zd is %.80s, not str", i, Py_TYPE(t)->tp_name);
            goto done;
        }
        if (split_hash(t, k0, k1, &words) < 0)
            goto done;
        Py_ssize_t w = words.n;
        counts[i] = (int32_t)w;
        /* view 1: k-word shingles of every word (a text of fewer words is one shingle of
         * them all, padded with zeros; no words: one shingle hashing to 0) */
        shingles.n = 0;
        if (w < k) {
            uint64_t h = 0;
            for (int j = 0; j < k; j++)
                h = h * MULT + (j < w ? (words.v[j] & word_mask) + 1 : 0);
            if (u64_push(&shingles, h) < 0)
                goto done;
        }
        else {
            for (Py_ssize_t s = 0; s + k <= w; s++) {
                uint64_t h = 0;
                for (int j = 0; j < k; j++)
                    h = h * MULT + (words.v[s + j] & word_mask) + 1;
                if (u64_push(&shingles, h) < 0)
                    goto done;
            }
        }
        minhash(shingles.v, shingles.n, a1, b1, (int)num_perm, vals);
        /* view 2: single words not dropped */
        shingles.n = 0;
        for (Py_ssize_t j = 0; j < w; j++)
            if (!is_dropped(words.v[j], drop, ndrop) &&
                u64_push(&shingles, (words.v[j] & word_mask) + 1) < 0)
                goto done;
        if (shingles.n == 0 && u64_push(&shingles, 0) < 0)
            goto done;
        minhash(shingles.v, shingles.n, a2, b2, (int)num_perm, vals + num_perm);
        uint32_t *row = bands + i * width;
        for (Py_ssize_t q = 0; q < width; q++)
            row[q] = (uint32_t)vals[4 * q] | ((uint32_t)vals[4 * q + 1] << 8) |
                     ((uint32_t)vals[4 * q + 2] << 16) | ((uint32_t)vals[4 * q + 3] << 24);
    }
    result = Py_NewRef(Py_None);
done:
    for (int j = 0; j < got; j++)
        PyBuffer_Release(&v[j]);
    PyMem_Free(words.v);
    PyMem_Free(shingles.v);
    Py_DECREF(seq);
    return result;
}

/* ---------------------------------------------------------------- phrase guard */

#define MAX_PHRASES 64

PyDoc_STRVAR(phrase_hits_doc,
             "phrase_hits(texts, phrases) -> list of int\n\n"
             "The indexes, in order, of the texts that hold one of phrases (at most 64 ASCII\n"
             "strings) as a substring.");

static PyObject *phrase_hits(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *texts, *phrases;
    if (!PyArg_ParseTuple(args, "OO:phrase_hits", &texts, &phrases))
        return NULL;
    PyObject *pseq = PySequence_Fast(phrases, "phrases must be a sequence");
    if (pseq == NULL)
        return NULL;
    PyObject *seq = NULL, *out = NULL;
    uint64_t *pairs = NULL; /* phrases (of 2+ characters) by their first two bytes */
    uint64_t singles[256] = {0};
    const char *text_of[MAX_PHRASES];
    Py_ssize_t len_of[MAX_PHRASES];
    Py_ssize_t np = PySequence_Fast_GET_SIZE(pseq);
    if (np > MAX_PHRASES) {
        PyErr_SetString(PyExc_ValueError, "at most 64 phrases");
        goto done;
    }
    pairs = PyMem_Calloc(65536, sizeof(uint64_t));
    if (pairs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t j = 0; j < np; j++) {
        PyObject *ph = PySequence_Fast_GET_ITEM(pseq, j);
        if (!PyUnicode_Check(ph) || !PyUnicode_IS_ASCII(ph) || PyUnicode_GET_LENGTH(ph) == 0) {
            PyErr_Format(PyExc_ValueError, "phrase %zd is not a non-empty ASCII str", j);
            goto done;
        }
        text_of[j] = (const char *)PyUnicode_1BYTE_DATA(ph);
        len_of[j] = PyUnicode_GET_LENGTH(ph);
        const unsigned char *u = (const unsigned char *)text_of[j];
        if (len_of[j] == 1)
            singles[u[0]] |= 1ULL << j;
        else
            pairs[(u[0] << 8) | u[1]] |= 1ULL << j;
    }
    seq = PySequence_Fast(texts, "texts must be a sequence");
    if (seq == NULL)
        goto done;
    out = PyList_New(0);
    if (out == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *t = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(t)) {
            PyErr_Format(PyExc_TypeError, "text %zd is %.80s, not str", i, Py_TYPE(t)->tp_name);
            goto fail;
        }
        int hit = 0;
        if (PyUnicode_KIND(t) == PyUnicode_1BYTE_KIND) {
            /* ASCII phrases match Latin-1 code units exactly where they match characters */
            const unsigned char *s = PyUnicode_1BYTE_DATA(t);
            Py_ssize_t n = PyUnicode_GET_LENGTH(t);
            for (Py_ssize_t k = 0; k < n && !hit; k++) {
                uint64_t m = singles[s[k]];
                if (k + 1 < n)
                    m |= pairs[(s[k] << 8) | s[k + 1]];
                while (m && !hit) {
                    int j = __builtin_ctzll(m);
                    m &= m - 1;
                    hit = len_of[j] <= n - k && memcmp(s + k, text_of[j], (size_t)len_of[j]) == 0;
                }
            }
        }
        else {
            for (Py_ssize_t j = 0; j < np && !hit; j++) {
                int c = PyUnicode_Contains(t, PySequence_Fast_GET_ITEM(pseq, j));
                if (c < 0)
                    goto fail;
                hit = c;
            }
        }
        if (hit) {
            PyObject *index = PyLong_FromSsize_t(i);
            if (index == NULL || PyList_Append(out, index) < 0) {
                Py_XDECREF(index);
                goto fail;
            }
            Py_DECREF(index);
        }
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    PyMem_Free(pairs);
    Py_XDECREF(seq);
    Py_DECREF(pseq);
    return out;
}

/* ---------------------------------------------------------------- module */

static PyMethodDef methods[] = {
    {"skeletons", skeletons, METH_VARARGS, skeletons_doc},
    {"band_keys", band_keys, METH_VARARGS, band_keys_doc},
    {"phrase_hits", phrase_hits, METH_VARARGS, phrase_hits_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels",
    "Compiled skeleton, MinHash band keys and phrase guard (see graph.signals.prompts).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__kernels(void)
{
    init_classes();
    return PyModule_Create(&module);
}
