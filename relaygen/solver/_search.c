/* The fast push search in C: relaygen.solver.search.fast's portfolio of weighted A* searches, the same
 * expansions in the same order (so the same plan and node count), with its deadlock tests
 * (frozen boxes, PI-corrals) and its bound (the cheapest assignment of boxes to goals). Cell sets as in
 * cells.h. Built by setup.py as an optional extension: without it, search.py's Python search runs. */
#include "cells.h"

#include <stdlib.h>
#include <time.h>

#define MAX_BOXES 64
#define SLICE 1024
#define WARMUP 3000
#define CHECK_EVERY 64
#define INF (1 << 20)
#define YIELDED 0
#define SOLVED 1
#define UNSOLVABLE 2
#define UNKNOWN 3
#define NO_MEMORY 4

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ----- cell sets of ``words`` words ----- */

static void set_shift(word *out, const word *in, Py_ssize_t words, Py_ssize_t s) {
    /* ``in`` shifted towards higher cells by ``s`` (lower for a negative ``s``); bits past either end are lost. */
    Py_ssize_t n = s < 0 ? -s : s, q = n >> 6, r = n & 63;
    for (Py_ssize_t i = 0; i < words; i++) {
        Py_ssize_t j = s >= 0 ? i - q : i + q;
        word lo = 0, hi = 0;
        if (s >= 0) {
            hi = (j >= 0 && j < words) ? in[j] << r : 0;
            lo = (r && j - 1 >= 0 && j - 1 < words) ? in[j - 1] >> (64 - r) : 0;
        } else {
            lo = (j >= 0 && j < words) ? in[j] >> r : 0;
            hi = (r && j + 1 >= 0 && j + 1 < words) ? in[j + 1] << (64 - r) : 0;
        }
        out[i] = lo | hi;
    }
}

static int set_empty(const word *set, Py_ssize_t words) {
    for (Py_ssize_t i = 0; i < words; i++)
        if (set[i])
            return 0;
    return 1;
}

static Py_ssize_t set_lowest(const word *set, Py_ssize_t words) {
    for (Py_ssize_t i = 0; i < words; i++)
        if (set[i])
            return 64 * i + __builtin_ctzll(set[i]);
    return -1;
}

static Py_ssize_t set_count(const word *set, Py_ssize_t words) {
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < words; i++)
        n += __builtin_popcountll(set[i]);
    return n;
}

/* ``out``: the four-neighbour closure of ``seed`` inside ``within`` (layer by layer, as board.py does). */
static void set_flood(word *out, const word *seed, const word *within, Py_ssize_t words, Py_ssize_t W) {
    word f[MAX_WORDS], a[MAX_WORDS], b[MAX_WORDS];
    memcpy(out, seed, (size_t)words * sizeof(word));
    memcpy(f, seed, (size_t)words * sizeof(word));
    while (!set_empty(f, words)) {
        word next[MAX_WORDS] = {0};
        Py_ssize_t steps[4] = {1, -1, W, -W};
        for (int k = 0; k < 4; k++) {
            set_shift(a, f, words, steps[k]);
            for (Py_ssize_t i = 0; i < words; i++)
                next[i] |= a[i];
        }
        for (Py_ssize_t i = 0; i < words; i++) {
            b[i] = next[i] & within[i] & ~out[i];
            out[i] |= b[i];
        }
        memcpy(f, b, (size_t)words * sizeof(word));
    }
}

/* ----- the board and what the searches share ----- */

typedef struct {
    Py_ssize_t W, cells, words, goals;
    word floor[MAX_WORDS], live[MAX_WORDS], dead[MAX_WORDS], goal[MAX_WORDS], h_block[MAX_WORDS],
        v_block[MAX_WORDS];
    const int32_t *to_goals; /* cells x goals: pushes taking a lone box from a cell to each goal */
    Py_ssize_t *stack;
    /* The budget, shared by the searches: expansions so far, the most allowed (-1: no limit), the deadline. */
    int64_t nodes, max_nodes, max_states, states;
    double deadline;
    /* Memos: bound per box set; PI-corral per (box set, lowest region cell): -1 none, else an index. */
    Table bounds, corrals;
    word *corral_sets; /* per corral: movable boxes, then area */
    Py_ssize_t corral_count, corral_room;
} Board;

static int spend(Board *b) {
    int64_t n = b->nodes;
    if (n == b->max_nodes || (b->deadline >= 0 && n % CHECK_EVERY == 0 && now() > b->deadline))
        return 0;
    b->nodes = n + 1;
    return 1;
}

/* The cheapest assignment of the boxes to distinct goals (INF or more if there is none), by the
 * Hungarian method: shortest augmenting paths with row and column potentials, one box at a time. */
static int64_t assignment(const Board *b, const word *boxes) {
    Py_ssize_t cells[MAX_BOXES + 1], n = 0, goals = b->goals;
    for (Py_ssize_t i = 0; i < b->words; i++)
        for (word w = boxes[i]; w; w &= w - 1)
            cells[++n] = 64 * i + __builtin_ctzll(w);
    /* Rows 1..n are boxes, columns 1..n goals; column 0 and owner[0] hold the box being placed. */
    const int64_t huge = INT64_MAX / 4;
    int64_t row_potential[MAX_BOXES + 1] = {0}, column_potential[MAX_BOXES + 1] = {0}, least[MAX_BOXES + 1];
    Py_ssize_t owner[MAX_BOXES + 1] = {0}, via[MAX_BOXES + 1];
    char used[MAX_BOXES + 1];
    for (Py_ssize_t box = 1; box <= n; box++) {
        Py_ssize_t column = 0;
        owner[0] = box;
        for (Py_ssize_t j = 0; j <= n; j++) {
            least[j] = huge;
            used[j] = 0;
        }
        do {
            used[column] = 1;
            Py_ssize_t row = owner[column], next = 0;
            int64_t delta = huge;
            for (Py_ssize_t j = 1; j <= n; j++) {
                if (used[j])
                    continue;
                int64_t reduced = b->to_goals[cells[row] * goals + j - 1] - row_potential[row] - column_potential[j];
                if (reduced < least[j]) {
                    least[j] = reduced;
                    via[j] = column;
                }
                if (least[j] < delta) {
                    delta = least[j];
                    next = j;
                }
            }
            for (Py_ssize_t j = 0; j <= n; j++) {
                if (used[j]) {
                    row_potential[owner[j]] += delta;
                    column_potential[j] -= delta;
                } else {
                    least[j] -= delta;
                }
            }
            column = next;
        } while (owner[column] != 0);
        do {
            Py_ssize_t previous = via[column];
            owner[column] = owner[previous];
            column = previous;
        } while (column);
    }
    int64_t cost = 0;
    for (Py_ssize_t j = 1; j <= n; j++)
        cost += b->to_goals[cells[owner[j]] * goals + j - 1];
    return cost;
}

static int bound(Board *b, const word *boxes, int64_t *out) {
    int64_t *known = table_get(&b->bounds, boxes);
    if (known) {
        *out = *known;
        return 1;
    }
    *out = assignment(b, boxes);
    return table_put(&b->bounds, boxes, *out);
}

/* ----- frozen boxes ----- */

static int frozen(const Board *b, const word *boxes, Py_ssize_t c, word *seen, Py_ssize_t *group, int *grouped);

/* Whether the box on ``c`` can never be pushed along the axis of step ``s``; boxes in ``seen`` count as walls. */
static int blocked(const Board *b, const word *boxes, Py_ssize_t c, Py_ssize_t s, word *seen, Py_ssize_t *found,
                   int *count) {
    Py_ssize_t a = c - s, z = c + s;
    if (!has(b->floor, a) || !has(b->floor, z) || has(seen, a) || has(seen, z))
        return 1;
    if (has(b->dead, a) && has(b->dead, z))
        return 1;
    return (has(boxes, a) && frozen(b, boxes, a, seen, found, count)) ||
           (has(boxes, z) && frozen(b, boxes, z, seen, found, count));
}

/* Whether the box on ``c`` can never move; on success it and the boxes frozen with it join ``group``. */
static int frozen(const Board *b, const word *boxes, Py_ssize_t c, word *seen, Py_ssize_t *group, int *grouped) {
    Py_ssize_t found[MAX_BOXES + 1], steps[2] = {1, b->W};
    int count = 0;
    put(seen, c);
    for (int k = 0; k < 2; k++) {
        if (!blocked(b, boxes, c, steps[k], seen, found, &count)) {
            for (int i = 0; i < count; i++)
                drop(seen, found[i]);
            drop(seen, c);
            return 0;
        }
    }
    group[(*grouped)++] = c;
    for (int i = 0; i < count; i++)
        group[(*grouped)++] = found[i];
    return 1;
}

/* Whether the box on ``cell`` is frozen together with a box that is off its goal. */
static int frozen_deadlock(const Board *b, const word *boxes, Py_ssize_t cell) {
    word seen[MAX_WORDS] = {0};
    Py_ssize_t group[MAX_BOXES + 1];
    int grouped = 0;
    if (!frozen(b, boxes, cell, seen, group, &grouped))
        return 0;
    for (int i = 0; i < grouped; i++)
        if (!has(b->goal, group[i]))
            return 1;
    return 0;
}

/* ----- PI-corrals ----- */

/* The pushes of ``area``'s corral if it is an unfinished PI-corral (its boxes in ``cboxes``), else -1. */
static Py_ssize_t corral_pushes(const Board *b, const word *boxes, const word *region, const word *area,
                                word *cboxes) {
    Py_ssize_t words = b->words, W = b->W, steps[4] = {1, -1, W, -W};
    word beside[4][MAX_WORDS], origin[MAX_WORDS], dest[MAX_WORDS], a[MAX_WORDS], z[MAX_WORDS], r[MAX_WORDS];
    for (int k = 0; k < 4; k++)
        set_shift(beside[k], area, words, steps[k]); /* area << 1, area >> 1, area << W, area >> W */
    int open = 0;
    for (Py_ssize_t i = 0; i < words; i++) {
        cboxes[i] = boxes[i] & (beside[0][i] | beside[1][i] | beside[2][i] | beside[3][i]);
        if ((area[i] & b->goal[i]) || (cboxes[i] & ~b->goal[i]))
            open = 1;
    }
    if (!open)
        return -1;
    for (Py_ssize_t i = 0; i < words; i++) {
        origin[i] = b->floor[i] & ~area[i] & ~cboxes[i];
        dest[i] = b->live[i] & ~cboxes[i];
    }
    /* Per direction of push (+1, -1, +W, -W): corral boxes with an origin behind and a destination ahead;
     * each such push must go into the area from a cell the player reaches now. The box moving by +s
     * lands in ``area`` shifted by -s. */
    Py_ssize_t pushes = 0;
    for (int k = 0; k < 4; k++) {
        Py_ssize_t s = steps[k];
        set_shift(a, origin, words, s);
        set_shift(z, dest, words, -s);
        set_shift(r, region, words, s);
        const word *into = beside[k ^ 1];
        for (Py_ssize_t i = 0; i < words; i++) {
            word push = cboxes[i] & a[i] & z[i];
            if (push & ~(into[i] & r[i]))
                return -1;
            pushes += __builtin_popcountll(push);
        }
    }
    return pushes;
}

/* The PI-corral of a state: 0 when there is none, 1 with its boxes and area in ``movable`` and
 * ``area`` (both empty: a deadlock). Each connected area is tried, then, if none qualifies, all of them
 * together; the corral with fewest pushes wins. */
static int pi_corral(const Board *b, const word *boxes, const word *region, word *movable, word *area) {
    Py_ssize_t words = b->words, best_count = (Py_ssize_t)1 << 30, areas = 0;
    word rest[MAX_WORDS], all[MAX_WORDS], seed[MAX_WORDS], part[MAX_WORDS], cboxes[MAX_WORDS];
    int found = 0;
    for (Py_ssize_t i = 0; i < words; i++)
        rest[i] = all[i] = b->floor[i] & ~boxes[i] & ~region[i];
    while (!set_empty(rest, words)) {
        memset(seed, 0, (size_t)words * sizeof(word));
        put(seed, set_lowest(rest, words));
        set_flood(part, seed, rest, words, b->W);
        for (Py_ssize_t i = 0; i < words; i++)
            rest[i] ^= part[i];
        areas++;
        Py_ssize_t pushes = corral_pushes(b, boxes, region, part, cboxes);
        if (pushes >= 0 && pushes < best_count) {
            if (pushes == 0) {
                memset(movable, 0, (size_t)words * sizeof(word));
                memset(area, 0, (size_t)words * sizeof(word));
                return 1;
            }
            memcpy(movable, cboxes, (size_t)words * sizeof(word));
            memcpy(area, part, (size_t)words * sizeof(word));
            best_count = pushes;
            found = 1;
        }
    }
    if (!found && areas > 1) {
        Py_ssize_t pushes = corral_pushes(b, boxes, region, all, cboxes);
        if (pushes >= 0) {
            memcpy(movable, cboxes, (size_t)words * sizeof(word));
            memcpy(area, all, (size_t)words * sizeof(word));
            if (pushes == 0) {
                memset(movable, 0, (size_t)words * sizeof(word));
                memset(area, 0, (size_t)words * sizeof(word));
            }
            found = 1;
        }
    }
    return found;
}

/* The memoised PI-corral of a state (key: box set, then lowest region cell); -1 on no memory. */
static int corral_of(Board *b, const word *key, const word *boxes, const word *region, word *movable, word *area) {
    Py_ssize_t words = b->words;
    int64_t *known = table_get(&b->corrals, key);
    if (known) {
        if (*known < 0)
            return 0;
        memcpy(movable, b->corral_sets + 2 * words * *known, (size_t)words * sizeof(word));
        memcpy(area, b->corral_sets + 2 * words * *known + words, (size_t)words * sizeof(word));
        return 1;
    }
    int found = pi_corral(b, boxes, region, movable, area);
    int64_t index = -1;
    if (found) {
        if (b->corral_count == b->corral_room) {
            Py_ssize_t room = b->corral_room ? 2 * b->corral_room : 256;
            word *grown = realloc(b->corral_sets, (size_t)(2 * words * room) * sizeof(word));
            if (!grown)
                return -1;
            b->corral_sets = grown;
            b->corral_room = room;
        }
        index = b->corral_count++;
        memcpy(b->corral_sets + 2 * words * index, movable, (size_t)words * sizeof(word));
        memcpy(b->corral_sets + 2 * words * index + words, area, (size_t)words * sizeof(word));
    }
    return table_put(&b->corrals, key, index) ? found : -1;
}

/* ----- the player's region ----- */

/* The player's region after the box on ``from`` went to ``to`` (``boxes``: the new box set); the old one
 * is reused when the box did not cut it. */
static void after_push(const Board *b, const word *region, Py_ssize_t from, Py_ssize_t to, const word *boxes,
                       word *out) {
    Py_ssize_t words = b->words;
    word free[MAX_WORDS];
    for (Py_ssize_t i = 0; i < words; i++)
        free[i] = b->floor[i] & ~boxes[i];
    memcpy(out, region, (size_t)words * sizeof(word));
    if (has(region, to)) {
        if (!keeps_connected(free, b->W, to)) {
            memset(out, 0, (size_t)words * sizeof(word));
            grow(free, b->W, from, out, b->stack);
            return;
        }
        drop(out, to);
    }
    grow(free, b->W, from, out, b->stack);
}

/* ----- one weighted A* search ----- */

typedef struct {
    int64_t priority, tie;
    int32_t not_last, state;
} Entry;

static int entry_before(const Entry *x, const Entry *y) {
    if (x->priority != y->priority)
        return x->priority < y->priority;
    if (x->not_last != y->not_last)
        return x->not_last < y->not_last;
    return x->tie < y->tie;
}

typedef struct {
    int64_t weight, slices_left; /* slices_left: -1 for no limit */
    /* States: box set, player region, pushes, last box, parent, push (box cell, step). */
    Py_ssize_t count, room;
    word *boxes, *regions;
    int32_t *pushes, *last, *parent, *box, *step;
    Table links; /* (box set, lowest region cell) -> state */
    Entry *heap;
    Py_ssize_t heap_size, heap_room;
    int64_t tie, nodes;
    int started, pending;
    int32_t current, solved_from, solved_box, solved_step;
} Search;

static int heap_push(Search *s, Entry e) {
    if (s->heap_size == s->heap_room) {
        Py_ssize_t room = s->heap_room ? 2 * s->heap_room : 1024;
        Entry *grown = realloc(s->heap, (size_t)room * sizeof(Entry));
        if (!grown)
            return 0;
        s->heap = grown;
        s->heap_room = room;
    }
    Py_ssize_t i = s->heap_size++;
    while (i > 0) {
        Py_ssize_t up = (i - 1) / 2;
        if (!entry_before(&e, &s->heap[up]))
            break;
        s->heap[i] = s->heap[up];
        i = up;
    }
    s->heap[i] = e;
    return 1;
}

static Entry heap_pop(Search *s) {
    Entry top = s->heap[0], e = s->heap[--s->heap_size];
    Py_ssize_t i = 0, n = s->heap_size;
    for (;;) {
        Py_ssize_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && entry_before(&s->heap[child + 1], &s->heap[child]))
            child++;
        if (!entry_before(&s->heap[child], &e))
            break;
        s->heap[i] = s->heap[child];
        i = child;
    }
    if (n)
        s->heap[i] = e;
    return top;
}

/* A new state; its index, or -1 with no memory (or past the board's state limit). */
static Py_ssize_t add_state(Board *b, Search *s, const word *boxes, const word *region, int32_t pushes, int32_t last,
                            int32_t parent, int32_t box, int32_t step) {
    Py_ssize_t words = b->words;
    if (b->states >= b->max_states)
        return -1;
    if (s->count == s->room) {
        Py_ssize_t room = s->room ? 2 * s->room : 1024;
        word *nb = realloc(s->boxes, (size_t)(room * words) * sizeof(word));
        if (nb)
            s->boxes = nb;
        word *nr = realloc(s->regions, (size_t)(room * words) * sizeof(word));
        if (nr)
            s->regions = nr;
        int32_t **columns[5] = {&s->pushes, &s->last, &s->parent, &s->box, &s->step};
        int ok = nb && nr;
        for (int k = 0; k < 5 && ok; k++) {
            int32_t *grown = realloc(*columns[k], (size_t)room * sizeof(int32_t));
            if (grown)
                *columns[k] = grown;
            ok = grown != NULL;
        }
        if (!ok)
            return -1;
        s->room = room;
    }
    Py_ssize_t i = s->count++;
    b->states++;
    memcpy(s->boxes + i * words, boxes, (size_t)words * sizeof(word));
    memcpy(s->regions + i * words, region, (size_t)words * sizeof(word));
    s->pushes[i] = pushes;
    s->last[i] = last;
    s->parent[i] = parent;
    s->box[i] = box;
    s->step[i] = step;
    return i;
}

static void search_free(Search *s) {
    free(s->boxes);
    free(s->regions);
    free(s->pushes);
    free(s->last);
    free(s->parent);
    free(s->box);
    free(s->step);
    free(s->heap);
    if (s->started)
        table_free(&s->links);
}

static void state_key(const Board *b, const word *boxes, const word *region, word *key) {
    memcpy(key, boxes, (size_t)b->words * sizeof(word));
    key[b->words] = (word)set_lowest(region, b->words);
}

/* The start state on the heap. */
static int start(Board *b, Search *s, const word *boxes, Py_ssize_t player) {
    word region[MAX_WORDS] = {0}, free[MAX_WORDS], key[MAX_WORDS + 1];
    for (Py_ssize_t i = 0; i < b->words; i++)
        free[i] = b->floor[i] & ~boxes[i];
    grow(free, b->W, player, region, b->stack);
    s->started = 1;
    if (!table_init(&s->links, b->words + 1, 1024))
        return 0;
    Py_ssize_t root = add_state(b, s, boxes, region, 0, -1, -1, -1, 0);
    state_key(b, boxes, region, key);
    if (root < 0 || !table_put(&s->links, key, root))
        return 0;
    Entry e = {.priority = 0, .not_last = 0, .tie = 0, .state = (int32_t)root};
    return heap_push(s, e);
}

/* Expand the state ``cur``: SOLVED (with the last push kept in ``s``), YIELDED (go on), or NO_MEMORY. */
static int expand(Board *b, Search *s, int32_t cur) {
    Py_ssize_t words = b->words, W = b->W, steps[4] = {1, -1, W, -W};
    word boxes[MAX_WORDS], region[MAX_WORDS], movable[MAX_WORDS], target[MAX_WORDS], area[MAX_WORDS];
    word key[MAX_WORDS + 1], child[MAX_WORDS], reg[MAX_WORDS], behind[MAX_WORDS], ahead[MAX_WORDS];
    memcpy(boxes, s->boxes + cur * words, (size_t)words * sizeof(word));
    memcpy(region, s->regions + cur * words, (size_t)words * sizeof(word));
    int32_t g = s->pushes[cur] + 1, last = s->last[cur];
    memcpy(movable, boxes, (size_t)words * sizeof(word));
    for (Py_ssize_t i = 0; i < words; i++)
        target[i] = b->live[i] & ~boxes[i];
    state_key(b, boxes, region, key);
    int corral = corral_of(b, key, boxes, region, movable, area);
    if (corral < 0)
        return NO_MEMORY;
    if (corral)
        for (Py_ssize_t i = 0; i < words; i++)
            target[i] &= area[i];
    for (int k = 0; k < 4; k++) {
        Py_ssize_t s_ = steps[k];
        /* Boxes with the player's region behind them and a free live cell ahead. */
        set_shift(behind, region, words, s_);
        set_shift(ahead, target, words, -s_);
        word pushable[MAX_WORDS];
        for (Py_ssize_t i = 0; i < words; i++)
            pushable[i] = movable[i] & behind[i] & ahead[i];
        for (Py_ssize_t wi = 0; wi < words; wi++) {
            for (word w = pushable[wi]; w; w &= w - 1) {
                Py_ssize_t from = 64 * wi + __builtin_ctzll(w), to = from + s_;
                memcpy(child, boxes, (size_t)words * sizeof(word));
                drop(child, from);
                put(child, to);
                if (set_equal(child, b->goal, words)) {
                    s->solved_from = cur;
                    s->solved_box = (int32_t)from;
                    s->solved_step = (int32_t)s_;
                    return SOLVED;
                }
                int h_stuck = has(b->h_block, to) || has(child, to - 1) || has(child, to + 1);
                int v_stuck = has(b->v_block, to) || has(child, to - W) || has(child, to + W);
                if (h_stuck && v_stuck && frozen_deadlock(b, child, to))
                    continue;
                after_push(b, region, from, to, child, reg);
                state_key(b, child, reg, key);
                if (table_get(&s->links, key))
                    continue;
                Py_ssize_t made = add_state(b, s, child, reg, g, (int32_t)to, cur, (int32_t)from, (int32_t)s_);
                if (made < 0 || !table_put(&s->links, key, made))
                    return NO_MEMORY;
                int64_t h;
                if (!bound(b, child, &h))
                    return NO_MEMORY;
                if (h < INF) {
                    Entry e = {.priority = g + s->weight * h, .not_last = from != last, .tie = --s->tie, .state = (int32_t)made};
                    if (!heap_push(s, e))
                        return NO_MEMORY;
                }
            }
        }
    }
    return YIELDED;
}

/* Run ``s`` until it has made SLICE more expansions (YIELDED) or it ends. */
static int run_slice(Board *b, Search *s) {
    for (;;) {
        if (!s->pending) {
            if (!s->heap_size)
                return UNSOLVABLE;
            s->current = heap_pop(s).state;
            if (!spend(b))
                return UNKNOWN;
            s->nodes++;
            if (s->nodes % SLICE == 0) {
                s->pending = 1;
                return YIELDED;
            }
        }
        s->pending = 0;
        int outcome = expand(b, s, s->current);
        if (outcome != YIELDED)
            return outcome;
    }
}

static PyObject *plan_of(const Search *s) {
    Py_ssize_t length = 1;
    for (int32_t i = s->solved_from; s->parent[i] >= 0; i = s->parent[i])
        length++;
    PyObject *plan = PyList_New(length);
    if (!plan)
        return NULL;
    PyList_SET_ITEM(plan, length - 1, Py_BuildValue("(ii)", s->solved_box, s->solved_step));
    Py_ssize_t at = length - 2;
    for (int32_t i = s->solved_from; s->parent[i] >= 0; i = s->parent[i])
        PyList_SET_ITEM(plan, at--, Py_BuildValue("(ii)", s->box[i], s->step[i]));
    for (Py_ssize_t k = 0; k < length; k++)
        if (!PyList_GET_ITEM(plan, k)) {
            Py_DECREF(plan);
            return NULL;
        }
    return plan;
}

static PyObject *fast(PyObject *self, PyObject *args) {
    (void)self;
    Board b;
    memset(&b, 0, sizeof b);
    PyObject *floor_bytes, *live_bytes, *goal_bytes, *h_bytes, *v_bytes, *boxes_bytes;
    Py_buffer table;
    Py_ssize_t player;
    long long max_nodes, max_states;
    double seconds;
    if (!PyArg_ParseTuple(args, "nnnSSSSSSny*LdL", &b.W, &b.cells, &b.words, &floor_bytes, &live_bytes, &goal_bytes,
                          &h_bytes, &v_bytes, &boxes_bytes, &player, &table, &max_nodes, &seconds, &max_states))
        return NULL;
    PyObject *result = NULL;
    word boxes[MAX_WORDS];
    Search searches[3];
    memset(searches, 0, sizeof searches);
    int tables = 0;
    if (b.words < 1 || b.words > MAX_WORDS || b.cells > 64 * b.words || b.W < 1 ||
        !read_set(floor_bytes, b.words, b.floor) || !read_set(live_bytes, b.words, b.live) ||
        !read_set(goal_bytes, b.words, b.goal) || !read_set(h_bytes, b.words, b.h_block) ||
        !read_set(v_bytes, b.words, b.v_block) || !read_set(boxes_bytes, b.words, boxes)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "the board does not fit the native search");
        goto done;
    }
    b.goals = set_count(b.goal, b.words);
    if (b.goals > MAX_BOXES || set_count(boxes, b.words) != b.goals ||
        table.len != (Py_ssize_t)sizeof(int32_t) * b.cells * b.goals) {
        PyErr_SetString(PyExc_ValueError, "the boxes, goals or push distances do not fit the native search");
        goto done;
    }
    for (Py_ssize_t i = 0; i < b.words; i++)
        b.dead[i] = b.floor[i] & ~b.live[i];
    b.to_goals = table.buf;
    b.max_nodes = max_nodes;
    b.max_states = max_states;
    b.deadline = seconds < 0 ? -1.0 : now() + seconds;
    b.stack = malloc((size_t)b.cells * sizeof(Py_ssize_t));
    tables = b.stack && table_init(&b.bounds, b.words, 1024) && table_init(&b.corrals, b.words + 1, 1024);
    if (!tables) {
        PyErr_NoMemory();
        goto done;
    }
    if (set_equal(boxes, b.goal, b.words)) {
        result = Py_BuildValue("(sNL)", "solved", PyList_New(0), (long long)0);
        goto done;
    }
    /* The portfolio: (weight, slices or -1 for no limit); the first runs alone for WARMUP expansions. */
    static const int64_t portfolio[3][2] = {{5, -1}, {30, -1}, {1, 20}};
    int order[3] = {0, 1, 2}, turns = 1, k = 0, outcome = YIELDED, winner = 0, others_waiting = 1;
    for (int i = 0; i < 3; i++) {
        searches[i].weight = portfolio[i][0];
        searches[i].slices_left = portfolio[i][1];
    }
    Py_BEGIN_ALLOW_THREADS
    for (;;) {
        Search *s = &searches[order[k]];
        if (!s->started && !start(&b, s, boxes, player)) {
            outcome = NO_MEMORY;
            break;
        }
        outcome = run_slice(&b, s);
        if (outcome != YIELDED) {
            winner = order[k];
            break;
        }
        if (s->slices_left >= 0 && --s->slices_left == 0) {
            for (int i = k; i + 1 < turns; i++)
                order[i] = order[i + 1];
            turns--;
            k--;
        }
        if (turns == 1 && others_waiting && b.nodes >= WARMUP) {
            turns = 3;
            others_waiting = 0;
        }
        k = (k + 1) % turns;
    }
    Py_END_ALLOW_THREADS
    if (outcome == NO_MEMORY) {
        result = Py_BuildValue("(sOL)", "unknown", Py_None, (long long)b.nodes);
    } else if (outcome == SOLVED) {
        PyObject *plan = plan_of(&searches[winner]);
        if (plan)
            result = Py_BuildValue("(sNL)", "solved", plan, (long long)b.nodes);
    } else {
        result = Py_BuildValue("(sOL)", outcome == UNSOLVABLE ? "unsolvable" : "unknown", Py_None, (long long)b.nodes);
    }
done:
    PyBuffer_Release(&table);
    for (int i = 0; i < 3; i++)
        search_free(&searches[i]);
    free(b.stack);
    free(b.corral_sets);
    if (tables) {
        table_free(&b.bounds);
        table_free(&b.corrals);
    }
    return result;
}

/* ----- a plan's letters ----- */

/* The LURD letters of a plan of pushes (sokoban.py's _push_letters): before each push, the player's
 * shortest walk to the cell behind the box, breadth first; walking back from that cell through the
 * layers, the first step in the order +1, -1, +W, -W that leads into the layer before. */
static PyObject *push_letters(PyObject *self, PyObject *args) {
    (void)self;
    Py_ssize_t W, cells, words, player;
    PyObject *floor_bytes, *boxes_bytes, *plan;
    if (!PyArg_ParseTuple(args, "nnnSSnO!", &W, &cells, &words, &floor_bytes, &boxes_bytes, &player, &PyList_Type,
                          &plan))
        return NULL;
    word floor[MAX_WORDS], boxes[MAX_WORDS];
    if (words < 1 || words > MAX_WORDS || cells > 64 * words || !read_set(floor_bytes, words, floor) ||
        !read_set(boxes_bytes, words, boxes)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "the board does not fit the native letters");
        return NULL;
    }
    Py_ssize_t pushes = PyList_GET_SIZE(plan), length = 0, room = 64;
    char *out = malloc((size_t)room);
    word *layers = malloc((size_t)(cells * words) * sizeof(word));
    PyObject *result = NULL;
    static const char lower[4] = {'r', 'l', 'd', 'u'}, upper[4] = {'R', 'L', 'D', 'U'};
    Py_ssize_t steps[4] = {1, -1, W, -W};
    if (!out || !layers) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < pushes; k++) {
        Py_ssize_t box, step;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(plan, k), "nn", &box, &step))
            goto done;
        int direction = step == 1 ? 0 : step == -1 ? 1 : step == W ? 2 : step == -W ? 3 : -1;
        Py_ssize_t behind = box - step;
        if (direction < 0 || behind < 0 || behind >= cells || box + step < 0 || box + step >= cells) {
            PyErr_SetString(PyExc_ValueError, "a push outside the board");
            goto done;
        }
        word free[MAX_WORDS], seen[MAX_WORDS] = {0}, *f = layers, shifted[MAX_WORDS];
        for (Py_ssize_t i = 0; i < words; i++)
            free[i] = floor[i] & ~boxes[i];
        memset(f, 0, (size_t)words * sizeof(word));
        put(f, player);
        put(seen, player);
        Py_ssize_t count = 0;
        while (!has(seen, behind)) {
            word *next = layers + (count + 1) * words;
            memset(next, 0, (size_t)words * sizeof(word));
            for (int d = 0; d < 4; d++) {
                set_shift(shifted, layers + count * words, words, steps[d]);
                for (Py_ssize_t i = 0; i < words; i++)
                    next[i] |= shifted[i];
            }
            for (Py_ssize_t i = 0; i < words; i++) {
                next[i] &= free[i] & ~seen[i];
                seen[i] |= next[i];
            }
            count++;
            if (set_empty(next, words) || count + 1 >= cells) {
                PyErr_SetString(PyExc_RuntimeError, "internal error: push position unreachable");
                goto done;
            }
        }
        if (length + count + 1 > room) {
            while (length + count + 1 > room)
                room *= 2;
            char *grown = realloc(out, (size_t)room);
            if (!grown) {
                PyErr_NoMemory();
                goto done;
            }
            out = grown;
        }
        Py_ssize_t c = behind;
        for (Py_ssize_t layer = count - 1; layer >= 0; layer--) {
            int d = 0;
            while (!has(layers + layer * words, c - steps[d]))
                d++;
            out[length + layer] = lower[d];
            c -= steps[d];
        }
        length += count;
        out[length++] = upper[direction];
        drop(boxes, box);
        put(boxes, box + step);
        player = box;
    }
    result = PyUnicode_FromStringAndSize(out, length);
done:
    free(out);
    free(layers);
    return result;
}

/* ----- the playtest without a search ----- */

#define SOLID 1
#define PUSHABLE 2
#define GOAL 4
#define PLAYER 8
/* What the playtest without a search finds (the codes of search.unsearched). */
#define START_WRONG_COUNTS 0
#define START_NEEDS_SEARCH 1
#define START_ASK_PYTHON 2
#define START_NOTHING_TO_SOLVE 3
#define START_UNSOLVABLE 4

/* The 4-connected regions of the cells of an h x w grid that ``open`` marks. */
static Py_ssize_t count_regions(const char *open, Py_ssize_t h, Py_ssize_t w, char *seen, Py_ssize_t *stack) {
    Py_ssize_t regions = 0;
    memset(seen, 0, (size_t)(h * w));
    for (Py_ssize_t start = 0; start < h * w; start++) {
        if (!open[start] || seen[start])
            continue;
        regions++;
        Py_ssize_t top = 0;
        seen[start] = 1;
        stack[top++] = start;
        while (top) {
            Py_ssize_t c = stack[--top], r = c / w, col = c % w;
            Py_ssize_t next[4] = {col + 1 < w ? c + 1 : -1, col > 0 ? c - 1 : -1, r + 1 < h ? c + w : -1, r > 0 ? c - w : -1};
            for (int k = 0; k < 4; k++) {
                if (next[k] >= 0 && open[next[k]] && !seen[next[k]]) {
                    seen[next[k]] = 1;
                    stack[top++] = next[k];
                }
            }
        }
    }
    return regions;
}

/* The cells from which a lone box can be pushed to ``goal`` (reverse pulls over the floor, as
 * board.py's push distances). */
static void pullable_to(const Board *b, Py_ssize_t goal, word *reached) {
    Py_ssize_t words = b->words, W = b->W, steps[4] = {1, -1, W, -W};
    word beyond[4][MAX_WORDS], f[MAX_WORDS] = {0}, moved[MAX_WORDS], next[MAX_WORDS];
    /* A box reaches cell c from c + s when c + s and c + 2s are floor: beyond[k] holds those c + s. */
    for (int k = 0; k < 4; k++) {
        set_shift(moved, b->floor, words, -steps[k]);
        for (Py_ssize_t i = 0; i < words; i++)
            beyond[k][i] = b->floor[i] & moved[i];
    }
    memset(reached, 0, (size_t)words * sizeof(word));
    put(reached, goal);
    put(f, goal);
    while (!set_empty(f, words)) {
        memset(next, 0, (size_t)words * sizeof(word));
        for (int k = 0; k < 4; k++) {
            set_shift(moved, f, words, steps[k]);
            for (Py_ssize_t i = 0; i < words; i++)
                next[i] |= moved[i] & beyond[k][i];
        }
        for (Py_ssize_t i = 0; i < words; i++) {
            f[i] = next[i] & ~reached[i];
            reached[i] |= f[i];
        }
    }
}

/* One grid's playtest without a search (mechanics/push.py's analyse up to its search): what it finds,
 * and in ``out`` its regions, boxes, wall share, isolated walls and stuck boxes. START_ASK_PYTHON for a grid
 * whose tiles overlap in ways a puzzle refuses (a solid goal, a player on a box) or with more than
 * MAX_BOXES boxes. */
static int unsearched_one(const uint8_t *codes, const uint8_t *flags, Py_ssize_t h, Py_ssize_t w, char *open,
                          char *seen, Py_ssize_t *stack, double *out) {
    Py_ssize_t cells = h * w, walls = 0, isolated = 0, boxes = 0, goals = 0, players = 0, player = -1, off_goal = 0;
    int overlap = 0;
    for (Py_ssize_t c = 0; c < cells; c++) {
        uint8_t f = flags[codes[c]];
        open[c] = !(f & SOLID);
        boxes += (f & PUSHABLE) != 0;
        goals += (f & GOAL) != 0;
        off_goal += (f & PUSHABLE) && !(f & GOAL);
        if (f & PLAYER) {
            players++;
            player = c;
        }
        overlap |= ((f & SOLID) && (f & (GOAL | PUSHABLE | PLAYER))) || ((f & PLAYER) && (f & PUSHABLE));
    }
    for (Py_ssize_t r = 1; r + 1 < h; r++) {
        for (Py_ssize_t col = 1; col + 1 < w; col++) {
            Py_ssize_t c = r * w + col;
            if (open[c])
                continue;
            walls++;
            isolated += open[c - 1] && open[c + 1] && open[c - w] && open[c + w];
        }
    }
    Py_ssize_t inner = (h - 2) * (w - 2);
    out[0] = (double)count_regions(open, h, w, seen, stack);
    out[1] = (double)boxes;
    out[2] = (double)walls / (double)(inner > 1 ? inner : 1);
    out[3] = (double)isolated;
    out[4] = 0.0;
    if (players != 1 || !boxes || boxes != goals)
        return START_WRONG_COUNTS;
    if (!off_goal)
        return START_NOTHING_TO_SOLVE;
    if (overlap || boxes > MAX_BOXES)
        return START_ASK_PYTHON;
    /* The board (board.py): padded by a ring of walls; the floor is what the player reaches. */
    Board b;
    memset(&b, 0, sizeof b);
    b.W = w + 2;
    b.cells = b.W * (h + 2);
    b.words = (b.cells + 63) / 64;
    word inside[MAX_WORDS] = {0}, seed[MAX_WORDS] = {0}, start[MAX_WORDS] = {0};
    for (Py_ssize_t c = 0; c < cells; c++)
        if (open[c])
            put(inside, (c / w + 1) * b.W + c % w + 1);
    put(seed, (player / w + 1) * b.W + player % w + 1);
    set_flood(b.floor, seed, inside, b.words, b.W);
    /* Boxes the player never touches must sit on goals and count as walls; the other goals must be floor. */
    int feasible = 1;
    Py_ssize_t unreached = 0;
    for (Py_ssize_t c = 0; c < cells; c++) {
        uint8_t f = flags[codes[c]];
        Py_ssize_t padded = (c / w + 1) * b.W + c % w + 1;
        int reached = has(b.floor, padded);
        if ((f & PUSHABLE) && !reached) {
            feasible &= (f & GOAL) != 0;
            unreached += !(f & GOAL);
            continue;
        }
        if (f & PUSHABLE)
            put(start, padded);
        if (f & GOAL) {
            feasible &= reached;
            put(b.goal, padded);
        }
    }
    word live[MAX_WORDS] = {0}, reached[MAX_WORDS];
    for (Py_ssize_t i = 0; i < b.words; i++)
        for (word g = b.goal[i]; g; g &= g - 1) {
            pullable_to(&b, 64 * i + __builtin_ctzll(g), reached);
            for (Py_ssize_t j = 0; j < b.words; j++)
                live[j] |= reached[j];
        }
    for (Py_ssize_t i = 0; i < b.words; i++) {
        b.dead[i] = b.floor[i] & ~live[i];
        if (start[i] & ~live[i])
            feasible = 0;
    }
    Py_ssize_t stuck = 0;
    int deadlocked = 0;
    for (Py_ssize_t i = 0; i < b.words; i++)
        for (word box = start[i]; box; box &= box - 1) {
            Py_ssize_t c = 64 * i + __builtin_ctzll(box);
            int frozen_off_goal = frozen_deadlock(&b, start, c);
            deadlocked |= frozen_off_goal;
            stuck += has(b.dead, c) || frozen_off_goal;
        }
    out[4] = (double)(unreached + stuck);
    return feasible && !deadlocked ? START_NEEDS_SEARCH : START_UNSOLVABLE;
}

static PyObject *unsearched(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer grids, flags, verdicts, values;
    Py_ssize_t m, h, w;
    if (!PyArg_ParseTuple(args, "y*nnny*w*w*", &grids, &m, &h, &w, &flags, &verdicts, &values))
        return NULL;
    PyObject *result = NULL;
    char *open = NULL, *seen = NULL;
    Py_ssize_t *stack = NULL;
    if (h < 1 || w < 1 || (w + 2) * (h + 2) > 64 * MAX_WORDS || grids.len != m * h * w || flags.len < 1 ||
        verdicts.len != m || values.len != (Py_ssize_t)sizeof(double) * 5 * m) {
        PyErr_SetString(PyExc_ValueError, "the grids do not fit the native playtest");
        goto done;
    }
    const uint8_t *codes = grids.buf, *table = flags.buf;
    for (Py_ssize_t i = 0; i < m * h * w; i++)
        if (codes[i] >= flags.len) {
            PyErr_SetString(PyExc_ValueError, "a grid holds a tile code outside the tile table");
            goto done;
        }
    open = malloc((size_t)(h * w));
    seen = malloc((size_t)(h * w));
    stack = malloc((size_t)((w + 2) * (h + 2)) * sizeof(Py_ssize_t));
    if (!open || !seen || !stack) {
        PyErr_NoMemory();
        goto done;
    }
    int8_t *verdict = verdicts.buf;
    double *value = values.buf;
    for (Py_ssize_t g = 0; g < m; g++)
        verdict[g] = (int8_t)unsearched_one(codes + g * h * w, table, h, w, open, seen, stack, value + 5 * g);
    result = Py_None;
    Py_INCREF(result);
done:
    free(open);
    free(seen);
    free(stack);
    PyBuffer_Release(&grids);
    PyBuffer_Release(&flags);
    PyBuffer_Release(&verdicts);
    PyBuffer_Release(&values);
    return result;
}

static PyMethodDef methods[] = {
    {"fast", fast, METH_VARARGS,
     "fast(W, cells, words, floor, live, goals, h_block, v_block, boxes, player, to_goals, max_nodes, seconds, "
     "max_states) -> (status, plan, nodes): search.fast's portfolio in C (max_nodes -1 and seconds < 0: no limit)."},
    {"push_letters", push_letters, METH_VARARGS,
     "push_letters(W, cells, words, floor, boxes, player, plan) -> the LURD letters of a plan of (box, step) pushes."},
    {"unsearched", unsearched, METH_VARARGS,
     "unsearched(grids, m, h, w, flags, codes, values): the push playtest of m grids up to the search, into "
     "codes (int8 m: 0 wrong counts, 1 needs a search, 2 ask Python, 3 nothing to solve, 4 unsolvable) and "
     "values (float64 m x 5: regions, boxes, wall share, isolated walls, stuck boxes); flags: per tile code, "
     "1 solid, 2 pushable, 4 goal, 8 player."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, .m_name = "_search", .m_size = -1, .m_methods = methods};

PyMODINIT_FUNC PyInit__search(void) {
    init_ring_connected();
    return PyModule_Create(&module);
}
