/* Exact sorting of float32 rows for the sliced Wasserstein distance (ganeval/swd.py).
 *
 * An LSD radix sort of the floats' bit patterns, made order-preserving: flipping every bit of a negative
 * float and the sign bit of a non-negative one turns float order into unsigned-integer order (-0.0 sorts
 * just before +0.0, as both compare equal). Four passes of 8 bits, a pass skipped when every key shares
 * its digit. The sorted values are exactly np.sort's. The GIL is released while sorting, so one thread per
 * core sorts one row each.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define DIGIT_BITS 8
#define BUCKETS (1u << DIGIT_BITS)
#define PASSES (32 / DIGIT_BITS)

static inline uint32_t to_key(uint32_t bits) { return bits ^ ((uint32_t)((int32_t)bits >> 31) | 0x80000000u); }

static inline uint32_t from_key(uint32_t key) { return key ^ (((key >> 31) - 1u) | 0x80000000u); }

static void radix_sort_float32(uint32_t *values, uint32_t *scratch, Py_ssize_t count) {
    Py_ssize_t histogram[PASSES][BUCKETS];
    memset(histogram, 0, sizeof histogram);
    for (Py_ssize_t i = 0; i < count; i++) {
        uint32_t key = to_key(values[i]);
        values[i] = key;
        for (int pass = 0; pass < PASSES; pass++) histogram[pass][(key >> (pass * DIGIT_BITS)) & (BUCKETS - 1)]++;
    }
    uint32_t *source = values, *target = scratch;
    for (int pass = 0; pass < PASSES && count > 1; pass++) {
        int shift = pass * DIGIT_BITS;
        Py_ssize_t *offsets = histogram[pass];
        if (offsets[(source[0] >> shift) & (BUCKETS - 1)] == count) continue; /* one digit for all: no-op */
        Py_ssize_t total = 0;
        for (unsigned bucket = 0; bucket < BUCKETS; bucket++) {
            Py_ssize_t size = offsets[bucket];
            offsets[bucket] = total;
            total += size;
        }
        for (Py_ssize_t i = 0; i < count; i++) {
            uint32_t key = source[i];
            target[offsets[(key >> shift) & (BUCKETS - 1)]++] = key;
        }
        uint32_t *swap = source;
        source = target;
        target = swap;
    }
    for (Py_ssize_t i = 0; i < count; i++) values[i] = from_key(source[i]);
}

static PyObject *sort_float32(PyObject *module, PyObject *args) {
    Py_buffer values, scratch;
    (void)module;
    if (!PyArg_ParseTuple(args, "w*w*:sort_float32", &values, &scratch)) return NULL;
    if (values.itemsize != 4 || scratch.itemsize != 4 || values.len % 4 || scratch.len < values.len) {
        PyBuffer_Release(&values);
        PyBuffer_Release(&scratch);
        PyErr_SetString(PyExc_ValueError, "sort_float32 needs contiguous float32 buffers, scratch at least as long");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    radix_sort_float32((uint32_t *)values.buf, (uint32_t *)scratch.buf, values.len / 4);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&values);
    PyBuffer_Release(&scratch);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"sort_float32", sort_float32, METH_VARARGS,
     "sort_float32(values, scratch): sort a contiguous float32 buffer in place (radix sort; scratch as long)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "ganeval._radix", "Radix sort of float32 rows, GIL released.", -1, methods, NULL, NULL,
    NULL, NULL,
};

PyMODINIT_FUNC PyInit__radix(void) { return PyModule_Create(&module_definition); }
