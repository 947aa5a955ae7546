/* The reverse search's layers in C: relaygen.solver.reverse's breadth-first search of pulls, the same
 * states in the same order, some nine times as fast (benchmarks/deepen_speed.py). Cell sets as in
 * cells.h. Built by setup.py as an optional extension: without it, reverse.py's Python search runs. */
#include "cells.h"

#include <stdlib.h>

/* Seen states: box set -> union of the player regions found beside it (an index into ``regions``). */
typedef struct {
    Table index;
    word *regions;
    Py_ssize_t count, room;
} Seen;

static void seen_free(Seen *s) {
    table_free(&s->index);
    free(s->regions);
}

/* The union of the regions seen beside ``boxes``, or NULL for a box set not seen yet. */
static word *seen_regions(const Seen *s, const word *boxes) {
    int64_t *at = table_get(&s->index, boxes);
    return at ? s->regions + *at * s->index.width : NULL;
}

/* A new box set's (empty) union of regions; NULL with no memory. */
static word *seen_add(Seen *s, const word *boxes) {
    Py_ssize_t words = s->index.width;
    if (s->count == s->room) {
        Py_ssize_t room = s->room ? 2 * s->room : 1024;
        word *grown = realloc(s->regions, (size_t)(room * words) * sizeof(word));
        if (!grown)
            return NULL;
        s->regions = grown;
        s->room = room;
    }
    if (!table_put(&s->index, boxes, s->count))
        return NULL;
    word *regions = s->regions + s->count++ * words;
    memset(regions, 0, (size_t)words * sizeof(word));
    return regions;
}

/* States, layer after layer: box set and player region of each. */
typedef struct {
    Py_ssize_t words, count, capacity;
    word *boxes, *regions;
} States;

static int states_add(States *st, const word *boxes, const word *region) {
    if (st->count == st->capacity) {
        Py_ssize_t capacity = st->capacity ? st->capacity * 2 : 1024;
        word *b = realloc(st->boxes, (size_t)(capacity * st->words) * sizeof(word));
        if (!b)
            return 0;
        st->boxes = b;
        word *r = realloc(st->regions, (size_t)(capacity * st->words) * sizeof(word));
        if (!r)
            return 0;
        st->regions = r;
        st->capacity = capacity;
    }
    memcpy(st->boxes + st->count * st->words, boxes, (size_t)st->words * sizeof(word));
    memcpy(st->regions + st->count * st->words, region, (size_t)st->words * sizeof(word));
    st->count++;
    return 1;
}

static PyObject *set_bytes(const word *set, Py_ssize_t words) {
    return PyBytes_FromStringAndSize((const char *)set, words * (Py_ssize_t)sizeof(word));
}

/* The next layer's states: for each state of the last layer in order, box by box from the lowest cell,
 * by step (+1, -1, +W, -W), each pull to a box set whose known regions do not hold the player's cell. */
static int next_layer(States *st, Seen *seen, Py_ssize_t first, Py_ssize_t last, const word *floor, Py_ssize_t W,
                      Py_ssize_t cells, Py_ssize_t *stack) {
    Py_ssize_t words = st->words, steps[4] = {1, -1, W, -W};
    word free[MAX_WORDS], moved[MAX_WORDS], reached[MAX_WORDS], boxes[MAX_WORDS], region[MAX_WORDS];
    for (Py_ssize_t s = first; s < last; s++) {
        memcpy(boxes, st->boxes + s * words, (size_t)words * sizeof(word));
        memcpy(region, st->regions + s * words, (size_t)words * sizeof(word));
        for (Py_ssize_t i = 0; i < words; i++)
            free[i] = floor[i] & ~boxes[i];
        for (Py_ssize_t box = 0; box < cells; box++) {
            if (!has(boxes, box))
                continue;
            for (int k = 0; k < 4; k++) {
                Py_ssize_t stand = box + steps[k], back = stand + steps[k];
                if (back < 0 || back >= cells || !has(region, stand) || !has(free, back))
                    continue;
                memcpy(moved, boxes, (size_t)words * sizeof(word));
                drop(moved, box);
                put(moved, stand);
                word *known = seen_regions(seen, moved);
                if (known && has(known, back))
                    continue;
                /* The player's region after the pull: the old one less ``stand`` grown from ``box``,
                 * unless the box on ``stand`` cuts it; then all that ``back`` reaches. */
                put(free, box);
                drop(free, stand);
                if (keeps_connected(free, W, stand)) {
                    memcpy(reached, region, (size_t)words * sizeof(word));
                    drop(reached, stand);
                    grow(free, W, box, reached, stack);
                } else {
                    memset(reached, 0, (size_t)words * sizeof(word));
                    grow(free, W, back, reached, stack);
                }
                put(free, stand);
                drop(free, box);
                if (!known && !(known = seen_add(seen, moved)))
                    return 0;
                for (Py_ssize_t i = 0; i < words; i++)
                    known[i] |= reached[i];
                if (!states_add(st, moved, reached))
                    return 0;
            }
        }
    }
    return 1;
}

static PyObject *deepest(PyObject *self, PyObject *args) {
    (void)self;
    Py_ssize_t W, cells, words, max_states, max_layers, count;
    PyObject *floor_bytes, *solved_bytes, *first_regions;
    if (!PyArg_ParseTuple(args, "nnnSSO!nnn", &W, &cells, &words, &floor_bytes, &solved_bytes, &PyList_Type,
                          &first_regions, &max_states, &max_layers, &count))
        return NULL;
    if (words < 1 || words > MAX_WORDS || cells > words * 64 || W < 1) {
        PyErr_SetString(PyExc_ValueError, "the board does not fit the native reverse search");
        return NULL;
    }
    word floor[MAX_WORDS], solved[MAX_WORDS], region[MAX_WORDS];
    if (!read_set(floor_bytes, words, floor) || !read_set(solved_bytes, words, solved))
        return NULL;
    States st = {words, 0, 0, NULL, NULL};
    Seen seen;
    memset(&seen, 0, sizeof seen);
    Py_ssize_t *stack = malloc((size_t)cells * sizeof(Py_ssize_t));
    Py_ssize_t *layer_starts = malloc(sizeof(Py_ssize_t) * 2), layers = 0, layer_room = 2;
    PyObject *result = NULL;
    word *known = NULL;
    if (!stack || !layer_starts || !table_init(&seen.index, words, 1024) || !(known = seen_add(&seen, solved))) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(first_regions); i++) {
        if (!read_set(PyList_GET_ITEM(first_regions, i), words, region))
            goto done;
        for (Py_ssize_t w = 0; w < words; w++)
            known[w] |= region[w];
        if (!states_add(&st, solved, region)) {
            PyErr_NoMemory();
            goto done;
        }
    }
    layer_starts[0] = 0;
    layer_starts[1] = st.count;
    layers = 1;
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    while (st.count < max_states && (max_layers < 0 || layers <= max_layers)) {
        Py_ssize_t before = st.count;
        if (!next_layer(&st, &seen, layer_starts[layers - 1], before, floor, W, cells, stack)) {
            ok = 0;
            break;
        }
        if (st.count == before)
            break;
        if (layers + 1 == layer_room) {
            Py_ssize_t *grown = realloc(layer_starts, sizeof(Py_ssize_t) * (size_t)(layer_room * 2));
            if (!grown) {
                ok = 0;
                break;
            }
            layer_starts = grown;
            layer_room *= 2;
        }
        layers++;
        layer_starts[layers] = st.count;
    }
    Py_END_ALLOW_THREADS
    if (!ok) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyList_New(0);
    for (Py_ssize_t depth = layers - 1; result && depth > 0 && PyList_GET_SIZE(result) < count; depth--) {
        for (Py_ssize_t s = layer_starts[depth]; s < layer_starts[depth + 1] && PyList_GET_SIZE(result) < count; s++) {
            PyObject *item = Py_BuildValue("(nNN)", depth, set_bytes(st.boxes + s * words, words),
                                           set_bytes(st.regions + s * words, words));
            if (!item || PyList_Append(result, item) < 0) {
                Py_XDECREF(item);
                Py_CLEAR(result);
                break;
            }
            Py_DECREF(item);
        }
    }
done:
    free(stack);
    free(layer_starts);
    free(st.boxes);
    free(st.regions);
    seen_free(&seen);
    return result;
}

static PyMethodDef methods[] = {
    {"deepest", deepest, METH_VARARGS,
     "deepest(W, cells, words, floor, solved, first_regions, max_states, max_layers, count) -> "
     "[(depth, boxes, region)]: the deepest states of the reverse search, deepest layer first."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, .m_name = "_reverse", .m_size = -1, .m_methods = methods};

PyMODINIT_FUNC PyInit__reverse(void) {
    init_ring_connected();
    return PyModule_Create(&module);
}
