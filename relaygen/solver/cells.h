/* Cell sets of a padded board for the C searches (_reverse.c, _search.c): bitsets of up to MAX_WORDS
 * 64-bit words, the padded board's cells in the order of relaygen.solver.board (cell c is bit c % 64 of
 * word c / 64), passed from Python as little-endian bytes of ``words * 8``; a hash table keyed by them;
 * the player's region helpers both searches use. */
#ifndef RELAYGEN_CELLS_H
#define RELAYGEN_CELLS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 16

typedef uint64_t word;

static inline int has(const word *set, Py_ssize_t c) { return (int)((set[c >> 6] >> (c & 63)) & 1); }
static inline void put(word *set, Py_ssize_t c) { set[c >> 6] |= (word)1 << (c & 63); }
static inline void drop(word *set, Py_ssize_t c) { set[c >> 6] &= ~((word)1 << (c & 63)); }

/* A hash of a cell set (for open addressing). */
static inline uint64_t hash_set(const word *set, Py_ssize_t words) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (Py_ssize_t i = 0; i < words; i++) {
        h ^= set[i];
        h *= 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    return h;
}

static inline int set_equal(const word *a, const word *b, Py_ssize_t words) {
    return memcmp(a, b, (size_t)words * sizeof(word)) == 0;
}

/* ----- hash tables: keys of ``width`` words -> 64-bit values ----- */

typedef struct {
    Py_ssize_t width, capacity, used;
    word *keys;
    int64_t *values;
    char *full;
} Table;

static inline int table_init(Table *t, Py_ssize_t width, Py_ssize_t capacity) {
    t->width = width;
    t->capacity = capacity;
    t->used = 0;
    t->keys = malloc((size_t)(capacity * width) * sizeof(word));
    t->values = malloc((size_t)capacity * sizeof(int64_t));
    t->full = calloc((size_t)capacity, 1);
    return t->keys && t->values && t->full;
}

static inline void table_free(Table *t) {
    free(t->keys);
    free(t->values);
    free(t->full);
}

/* The slot of ``key``: its own, or the empty one where it would go. */
static inline Py_ssize_t table_slot(const Table *t, const word *key) {
    Py_ssize_t mask = t->capacity - 1, i = (Py_ssize_t)(hash_set(key, t->width) & (uint64_t)mask);
    while (t->full[i] && !set_equal(t->keys + i * t->width, key, t->width))
        i = (i + 1) & mask;
    return i;
}

static inline int64_t *table_get(const Table *t, const word *key) {
    Py_ssize_t i = table_slot(t, key);
    return t->full[i] ? &t->values[i] : NULL;
}

static inline int table_put(Table *t, const word *key, int64_t value) {
    if (2 * (t->used + 1) > t->capacity) {
        Table bigger;
        if (!table_init(&bigger, t->width, t->capacity * 2))
            return 0;
        for (Py_ssize_t i = 0; i < t->capacity; i++)
            if (t->full[i])
                table_put(&bigger, t->keys + i * t->width, t->values[i]);
        table_free(t);
        *t = bigger;
    }
    Py_ssize_t i = table_slot(t, key);
    if (!t->full[i]) {
        t->full[i] = 1;
        t->used++;
        memcpy(t->keys + i * t->width, key, (size_t)t->width * sizeof(word));
    }
    t->values[i] = value;
    return 1;
}

/* Whether the free edge-neighbours of the centre of a 3x3 block (bit i: row i / 3, column i % 3; the
 * centre, bit 4, ignored) are connected to each other through free cells of the block's ring. */
static char ring_connected[512];

static void init_ring_connected(void) {
    static const int sides[4] = {1, 3, 5, 7};
    for (int pattern = 0; pattern < 512; pattern++) {
        int seen = 0, stack[9], top = 0, first = -1;
        for (int k = 0; k < 4 && first < 0; k++)
            if ((pattern >> sides[k]) & 1)
                first = sides[k];
        if (first >= 0) {
            seen = 1 << first;
            stack[top++] = first;
        }
        while (top) {
            int c = stack[--top], r = c / 3, col = c % 3;
            int next[4][2] = {{r - 1, col}, {r + 1, col}, {r, col - 1}, {r, col + 1}};
            for (int k = 0; k < 4; k++) {
                int nr = next[k][0], nc = next[k][1], n = 3 * nr + nc;
                if (nr < 0 || nr > 2 || nc < 0 || nc > 2 || n == 4 || !((pattern >> n) & 1) || ((seen >> n) & 1))
                    continue;
                seen |= 1 << n;
                stack[top++] = n;
            }
        }
        int connected = 1;
        for (int k = 0; k < 4; k++)
            if (((pattern >> sides[k]) & 1) && !((seen >> sides[k]) & 1))
                connected = 0;
        ring_connected[pattern] = (char)connected;
    }
}

/* Whether the free cells around ``t`` stay connected to each other (a local test). */
static inline int keeps_connected(const word *free, Py_ssize_t W, Py_ssize_t t) {
    int pattern = 0;
    for (int i = 0; i < 9; i++)
        pattern |= has(free, t + (i / 3 - 1) * W + i % 3 - 1) << i;
    return ring_connected[pattern];
}

/* ``out`` (holding ``start``) joined with the cells the player reaches from ``start`` over ``free``
 * without passing through a cell ``out`` already holds (a depth-first fill). */
static void grow(const word *free, Py_ssize_t W, Py_ssize_t start, word *out, Py_ssize_t *stack) {
    Py_ssize_t top = 0;
    put(out, start);
    stack[top++] = start;
    while (top) {
        Py_ssize_t c = stack[--top], next[4] = {c + 1, c - 1, c + W, c - W};
        for (int k = 0; k < 4; k++) {
            if (has(free, next[k]) && !has(out, next[k])) {
                put(out, next[k]);
                stack[top++] = next[k];
            }
        }
    }
}

static int read_set(PyObject *bytes, Py_ssize_t words, word *out) {
    if (!PyBytes_Check(bytes) || PyBytes_GET_SIZE(bytes) != words * (Py_ssize_t)sizeof(word)) {
        PyErr_SetString(PyExc_ValueError, "a cell set must be bytes of words * 8");
        return 0;
    }
    memcpy(out, PyBytes_AS_STRING(bytes), (size_t)words * sizeof(word));
    return 1;
}

#endif
