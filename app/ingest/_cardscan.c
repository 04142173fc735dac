/*
 * The byte scan that finds where a payment card number may be written in a block of NDJSON
 * lines (see app/ingest/cards.py, blob_pan_runs, whose Python form is the reference and the
 * fallback). One pass over the block instead of four (three translates and a replace): the
 * scan runs over every byte ingest reads.
 *
 * A byte "marks" a run when it is a digit or one of " -./_," or belongs to a JSON \t, \n or \r
 * escape (two bytes that stand for whitespace). The runs worth a closer look are the maximal
 * marked runs that hold at least 13 digits (a card number's fewest) and hold 13 in a row or
 * are at least 16 bytes long. The scan jumps from digit to digit and widens each to its run.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static unsigned char MARK[256], DIGIT[256], ESCAPED[256];

static void init_tables(void)
{
    const char *run = "0123456789 -./_,";
    for (const char *c = run; *c; c++)
        MARK[(unsigned char)*c] = 1;
    for (int c = '0'; c <= '9'; c++)
        DIGIT[c] = 1;
    ESCAPED['t'] = ESCAPED['n'] = ESCAPED['r'] = 1;
}

PyDoc_STRVAR(pan_runs_doc,
             "pan_runs(blob, min_digits, min_length) -> list of (start, stop)\n\n"
             "The maximal runs of marked bytes that hold min_digits digits, and hold them in\n"
             "a row or are min_length bytes or longer, in order.");

static PyObject *pan_runs(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer view;
    Py_ssize_t min_digits, min_length;
    if (!PyArg_ParseTuple(args, "y*nn:pan_runs", &view, &min_digits, &min_length))
        return NULL;
    const unsigned char *b = view.buf;
    Py_ssize_t n = view.len, i = 0, done = 0; /* the runs before `done` are reported */
    PyObject *out = PyList_New(0);
    if (out == NULL)
        goto fail;
    while (i < n) {
        /* a run worth a look holds a digit: skip to the next one (most of a block), then
         * widen to the run around it */
        while (i < n && !DIGIT[b[i]])
            i++;
        if (i >= n)
            break;
        Py_ssize_t start = i;
        while (start > done) {
            unsigned char c = b[start - 1];
            if (MARK[c] == 1)
                start--;
            else if (ESCAPED[c] && start - 2 >= done && b[start - 2] == '\\')
                start -= 2;
            else
                break;
        }
        Py_ssize_t digits = 0, longest = 0, total = 0;
        while (i < n) {
            unsigned char c = b[i];
            if (MARK[c] == 1) {
                digits = DIGIT[c] ? digits + 1 : 0;
                total += DIGIT[c];
                if (digits > longest)
                    longest = digits;
                i++;
            }
            else if (c == '\\' && i + 1 < n && ESCAPED[b[i + 1]]) {
                digits = 0;
                i += 2;
            }
            else {
                break;
            }
        }
        done = i;
        if (total >= min_digits && (longest >= min_digits || i - start >= min_length)) {
            PyObject *pair = Py_BuildValue("(nn)", start, i);
            if (pair == NULL || PyList_Append(out, pair) < 0) {
                Py_XDECREF(pair);
                goto fail;
            }
            Py_DECREF(pair);
        }
    }
    PyBuffer_Release(&view);
    return out;
fail:
    Py_XDECREF(out);
    PyBuffer_Release(&view);
    return NULL;
}

static PyMethodDef methods[] = {
    {"pan_runs", pan_runs, METH_VARARGS, pan_runs_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cardscan",
    "The card-number byte scan of ingest (see app.ingest.cards).", -1, methods, NULL, NULL, NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__cardscan(void)
{
    init_tables();
    return PyModule_Create(&module);
}
