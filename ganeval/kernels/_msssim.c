/* MS-SSIM of image pairs in float64 on a CPU core (ganeval/msssim.py holds the protocol and the torch kernel).
 *
 * The same arithmetic as the torch kernel, fused so that one image channel's working set stays in cache:
 * per level and channel, a horizontal 'valid' Gaussian pass over the four statistics a, b, a²+b², ab into
 * row buffers, then a vertical pass that forms cs (and, at the last level, the luminance term) per pixel and
 * sums them. 2×2 block averages (an odd last row/column dropped) make the next level. The caller gives the
 * window taps of every level, the level weights and c1, c2. The GIL is released: one thread per core takes
 * a share of the pairs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(_MSC_VER) && !defined(__clang__)
#define restrict __restrict /* MSVC's C mode spells C99's restrict this way */
#endif

#define LEVELS 5
#define MAX_TAPS 11

typedef struct {
    Py_ssize_t channels, height, width;
    int sizes[LEVELS];
    double taps[LEVELS][MAX_TAPS], weights[LEVELS], c1, c2;
} Protocol;

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
/* One build runs everywhere; on CPUs with AVX2 and FMA the loops run 4 doubles wide (chosen at load time). */
#define WIDE_WHERE_AVAILABLE __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define WIDE_WHERE_AVAILABLE
#endif

/* dst[x] = Σ_t taps[t]·src[x + t·stride] for x < count: a 'valid' filter along rows (stride 1) or columns. */
static inline void filter(const double *restrict src, Py_ssize_t stride, double *restrict dst, Py_ssize_t count,
                          const double *restrict taps, int size) {
    if (size == MAX_TAPS) { /* the common case: a constant trip count the compiler unrolls and vectorises */
        for (Py_ssize_t x = 0; x < count; x++) {
            double sum = taps[0] * src[x];
            for (int t = 1; t < MAX_TAPS; t++) sum += taps[t] * src[x + t * stride];
            dst[x] = sum;
        }
        return;
    }
    for (Py_ssize_t x = 0; x < count; x++) {
        double sum = taps[0] * src[x];
        for (int t = 1; t < size; t++) sum += taps[t] * src[x + t * stride];
        dst[x] = sum;
    }
}

/* Sum over one channel plane (height × width) of cs, or of luminance × cs when `last`. `rows` holds
 * 4·height·width doubles, `line` 4·width. */
WIDE_WHERE_AVAILABLE
static double plane_sum(const double *a, const double *b, Py_ssize_t height, Py_ssize_t width, int size,
                        const double *taps, double c1, double c2, int last, double *rows, double *line) {
    Py_ssize_t out_width = width - size + 1, out_height = height - size + 1, map = height * out_width;
    double *squares = line, *products = line + width;
    for (Py_ssize_t y = 0; y < height; y++) {
        const double *row_a = a + y * width, *row_b = b + y * width;
        for (Py_ssize_t x = 0; x < width; x++) {
            squares[x] = row_a[x] * row_a[x] + row_b[x] * row_b[x];
            products[x] = row_a[x] * row_b[x];
        }
        filter(row_a, 1, rows + y * out_width, out_width, taps, size);
        filter(row_b, 1, rows + map + y * out_width, out_width, taps, size);
        filter(squares, 1, rows + 2 * map + y * out_width, out_width, taps, size);
        filter(products, 1, rows + 3 * map + y * out_width, out_width, taps, size);
    }
    double total = 0.0;
    double *mu_a = line, *mu_b = line + out_width, *second_sq = line + 2 * out_width;
    double *second_ab = line + 3 * out_width;
    for (Py_ssize_t y = 0; y < out_height; y++) {
        filter(rows + y * out_width, out_width, mu_a, out_width, taps, size);
        filter(rows + map + y * out_width, out_width, mu_b, out_width, taps, size);
        filter(rows + 2 * map + y * out_width, out_width, second_sq, out_width, taps, size);
        filter(rows + 3 * map + y * out_width, out_width, second_ab, out_width, taps, size);
        for (Py_ssize_t x = 0; x < out_width; x++) { /* cs (× luminance) per pixel, into mu_a's slot */
            double mu_ab = mu_a[x] * mu_b[x], mu_sum = mu_a[x] * mu_a[x] + mu_b[x] * mu_b[x];
            double cs = (2.0 * (second_ab[x] - mu_ab) + c2) / (second_sq[x] - mu_sum + c2);
            mu_a[x] = last ? (2.0 * mu_ab + c1) / (mu_sum + c1) * cs : cs;
        }
        for (Py_ssize_t x = 0; x < out_width; x++) total += mu_a[x];
    }
    return total;
}

/* 2×2 block averages of a channels × height × width stack (odd last row/column dropped). */
static void downsample(const double *source, double *target, Py_ssize_t channels, Py_ssize_t height,
                       Py_ssize_t width) {
    Py_ssize_t half_height = height / 2, half_width = width / 2;
    for (Py_ssize_t c = 0; c < channels; c++) {
        const double *plane = source + c * height * width;
        double *out = target + c * half_height * half_width;
        for (Py_ssize_t y = 0; y < half_height; y++) {
            const double *top = plane + 2 * y * width, *bottom = top + width;
            for (Py_ssize_t x = 0; x < half_width; x++)
                out[y * half_width + x] = (top[2 * x] + bottom[2 * x] + top[2 * x + 1] + bottom[2 * x + 1]) * 0.25;
        }
    }
}

static double msssim_pair(const double *image_a, const double *image_b, const Protocol *protocol, double *levels,
                          double *rows, double *line) {
    Py_ssize_t channels = protocol->channels, height = protocol->height, width = protocol->width;
    Py_ssize_t plane = channels * height * width;
    const double *a = image_a, *b = image_b;
    double *next_a = levels, *next_b = levels + plane / 4 + 1;
    double result = 1.0;
    for (int level = 0; level < LEVELS; level++) {
        int size = protocol->sizes[level], last = level == LEVELS - 1;
        double total = 0.0;
        for (Py_ssize_t c = 0; c < channels; c++)
            total += plane_sum(a + c * height * width, b + c * height * width, height, width, size,
                               protocol->taps[level], protocol->c1, protocol->c2, last, rows, line);
        double value = total / (double)(channels * (height - size + 1) * (width - size + 1));
        result *= pow(value > 0.0 ? value : 0.0, protocol->weights[level]);
        if (!last) {
            downsample(a, next_a, channels, height, width);
            downsample(b, next_b, channels, height, width);
            height /= 2;
            width /= 2;
            a = next_a;
            b = next_b;
            /* Alternate between two halves of the scratch so a level never overwrites its own source. */
            next_a = (double *)a == levels ? levels + 2 * (plane / 4 + 1) : levels;
            next_b = next_a + plane / 4 + 1;
        }
    }
    return result;
}

static PyObject *msssim(PyObject *module, PyObject *args) {
    Py_buffer images_a, images_b, out, taps;
    Protocol protocol;
    Py_ssize_t count;
    int from_uint8;
    (void)module;
    if (!PyArg_ParseTuple(args, "y*y*pw*(nnnn)y*(iiiii)(ddddd)dd:msssim", &images_a, &images_b, &from_uint8, &out,
                          &count, &protocol.channels, &protocol.height, &protocol.width, &taps, &protocol.sizes[0],
                          &protocol.sizes[1], &protocol.sizes[2], &protocol.sizes[3], &protocol.sizes[4],
                          &protocol.weights[0], &protocol.weights[1], &protocol.weights[2], &protocol.weights[3],
                          &protocol.weights[4], &protocol.c1, &protocol.c2))
        return NULL;
    Py_ssize_t pair_size = protocol.channels * protocol.height * protocol.width;
    int valid = count >= 0 && pair_size > 0 && images_a.len == count * pair_size * (from_uint8 ? 1 : 8) &&
                images_b.len == images_a.len && out.len == count * 8 && taps.len == LEVELS * MAX_TAPS * 8;
    for (int level = 0; level < LEVELS && valid; level++) {
        Py_ssize_t side = (protocol.height < protocol.width ? protocol.height : protocol.width) >> level;
        valid = protocol.sizes[level] >= 1 && protocol.sizes[level] <= MAX_TAPS && protocol.sizes[level] <= side;
    }
    PyObject *result = NULL;
    double *scratch = NULL;
    if (!valid) {
        PyErr_SetString(PyExc_ValueError, "msssim: buffer sizes do not match the shape, or a window is "
                                          "larger than its level");
        goto release;
    }
    /* levels 1-4 of a and b (two alternating slots each), the pair as floats, filtered rows, one line of each */
    Py_ssize_t level_slots = 4 * (pair_size / 4 + 1), row_size = 4 * protocol.height * protocol.width;
    scratch = malloc(sizeof(double) * (level_slots + 2 * pair_size + row_size + 4 * protocol.width));
    if (!scratch) {
        PyErr_NoMemory();
        goto release;
    }
    memcpy(protocol.taps, taps.buf, sizeof protocol.taps);
    double *levels = scratch, *pair_a = scratch + level_slots, *pair_b = pair_a + pair_size;
    double *rows = pair_b + pair_size, *line = rows + row_size, *values = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        if (from_uint8) {
            const unsigned char *bytes_a = (const unsigned char *)images_a.buf + i * pair_size;
            const unsigned char *bytes_b = (const unsigned char *)images_b.buf + i * pair_size;
            for (Py_ssize_t j = 0; j < pair_size; j++) {
                pair_a[j] = bytes_a[j];
                pair_b[j] = bytes_b[j];
            }
            values[i] = msssim_pair(pair_a, pair_b, &protocol, levels, rows, line);
        } else {
            values[i] = msssim_pair((const double *)images_a.buf + i * pair_size,
                                    (const double *)images_b.buf + i * pair_size, &protocol, levels, rows, line);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
release:
    free(scratch);
    PyBuffer_Release(&images_a);
    PyBuffer_Release(&images_b);
    PyBuffer_Release(&out);
    PyBuffer_Release(&taps);
    return result;
}

static PyMethodDef methods[] = {
    {"msssim", msssim, METH_VARARGS,
     "msssim(a, b, a_and_b_are_uint8, out, (n, c, h, w), taps, sizes, weights, c1, c2): per-pair MS-SSIM of\n"
     "contiguous uint8 or float64 N×C×H×W stacks into the float64 buffer out."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "ganeval._msssim", "MS-SSIM of image pairs in float64, GIL released.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__msssim(void) { return PyModule_Create(&module_definition); }
