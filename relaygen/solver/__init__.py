"""The Sokoban solver, the playtester of push games: :mod:`.sokoban` (puzzles, :func:`~.sokoban.solve`,
the solution checker), :mod:`.board` (the static analysis), :mod:`.search` (the two searches),
:mod:`.deadlock` (deadlock detection and PI-corral pruning), and :mod:`.reverse` (the layouts of a room
farthest from solved, which generation's deepening uses).

**Board.** Cells are re-indexed on the grid padded with one ring of walls (``W = width + 2``), so the
neighbours of a cell ``c`` are ``c ± 1`` and ``c ± W`` with no bounds checks, and a set of cells is a
Python int used as a bitset: a whole flood fill is a few shifts and masks per layer. The floor is what
the player reaches from the start with the boxes ignored; every other cell is wall. A box the player
can never touch must already stand on a goal, and then counts as wall.

**Dead squares.** Pulling a box backwards from each goal gives, for every cell, the least number of
pushes that take a lone box from it to that goal. A floor cell from which no goal can be reached is
dead (corners, most wall edges); no push ever puts a box on one (the Sokoban wiki's simple deadlocks).

**States.** The fast search's edges are pushes and walks are free: a state is the box bitset plus the
lowest cell of the player's reachable region, so positions that differ only by a walk are one state.
The optimal search's edges are single player steps: a state is (player cell, box bitset).

**Heuristics.** The fast search ranks by pushes so far + ``w`` times a lower bound on the pushes left:
the cheapest assignment of the boxes to distinct goals under the lone-box push distances (minimum
matching, as in Junghanns & Schaeffer 2001; exhaustive for up to three boxes, else the Hungarian
method). The bound is admissible, but with ``w`` = 5 and 30 the search is greedy, and the portfolio
answers with whichever search (weights 5, 30 and, for a limited time, 1) finishes first: its solutions
are not optimal. The optimal search is A* on the cost ``moves · 2³² + pushes`` with the bound "each box's
push distance to its nearest goal, summed", counted in moves. It is admissible and consistent (one
step lowers it by at most one move), so the first goal popped has the fewest moves, then the fewest
pushes.

**Freeze deadlocks.** After each push the pushed box is checked: a box is frozen when, on both axes,
it has a wall on one side, dead squares on both sides, or a box beside it that is itself frozen (boxes
already under test count as walls). A frozen group with a box off its goal can never be solved. The
start position gets the same test for every box.

**PI-corrals** (fast search only). A corral is an area the player cannot reach; its boxes are those next
to it. It is a PI-corral when every push of those boxes that could happen before one of them moves goes
into the area, and the player can make each of those pushes now. While such a corral is unfinished (a
goal inside, or one of its boxes off a goal), some solution starts with one of those pushes, so only
they are generated; a PI-corral with none is a deadlock. Each connected area is tried, then all of
them together; the one with the fewest pushes is used.

Both searches are complete: "unsolvable" means every state, less the provable deadlocks, was searched.

**Rooms.** What depends only on the floor and the goals (the push distances and the fast search's
memos: the bound of each box set, the PI-corral of each state) belongs to the board's room, which the
boards of the last few rooms share (a room whose memos pass 200,000 entries forgets them). Deepening
solves up to 64 starts of one room, whose searches meet the same box sets again and again.

**Reverse search.** Pulls from the solved position, breadth first over the same states (box bitset,
player region), reach exactly the layouts the player can solve, each in the layer of its least number
of pushes: the idea of generating Sokoban puzzles as the layouts farthest from solved (Taylor and
Parberry 2011). A pull's new region is the old one updated around the two changed cells unless the box
cut it (the same local test as after a push), and it is worked out only for a state not seen before:
one kept per box set, the union of its player regions (which are disjoint), tells whether the player's
cell after a pull lies in a region already found. The pulls of a state come from four bit masks, one
per direction: the boxes with the player's region on one side and a free cell beyond it. The same
search runs in C (``_reverse.c``, an optional extension, for rooms of up to 1,024 padded cells) where it
was built: the same layouts in the same order, some nine times as fast.

**In C.** The fast search runs in C too (``_search.c``, for boards of up to 1,024 padded cells and 64
boxes) where it was built: the same portfolio, turns, heap order, deadlock tests and bound, so the same
expansions in the same order, the same plan and the same node count as the Python search, 16 to 18
times as fast (``benchmarks/solver_speed.py``). It keeps its memos for one call only, and answers
"unknown" past 4 million states (some 300 MB) as if out of time. Beside it in C: a plan's letters (the
walks between the pushes) and the push playtest up to its search for a stack of tile grids (counts,
regions, walls, stuck boxes, an unsolvable start), what the environment scores a blind episode's steps
by. The cell-set helpers both C files share are in ``cells.h``.

References: A. Junghanns and J. Schaeffer, "Sokoban: Enhancing general single-agent search methods
using domain knowledge", Artificial Intelligence 129 (2001) 219-251; J. Taylor and I. Parberry,
"Procedural generation of Sokoban levels", GAMEON-NA 2011; the Sokoban wiki's pages on
deadlocks (simple, freeze and corral deadlocks, http://sokobano.de/wiki/index.php?title=Deadlocks) and
solvers (PI-corral pruning, http://sokobano.de/wiki/index.php?title=Solver).
"""
