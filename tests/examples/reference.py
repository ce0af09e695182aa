#!/usr/bin/env python3
"""Independent references for the examples' outputs (plain Python, no Atoll code).

  reference.py pick GRAPH                 -> the vertex with the most out-edges (smallest id on ties)
  reference.py ppr GRAPH SOURCE RESULT    -> checks personalised PageRank (damping 0.85)
  reference.py bfs GRAPH SOURCE RESULT    -> checks breadth-first levels ("inf": unreached)
Exits 1 naming the first mismatch.
"""
import collections
import sys


def read_edges(path):
    edges = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#%":
                continue
            parts = line.split()
            edges.append((int(parts[0]), int(parts[1])))
    return edges


def read_result(path):
    out = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            gid, value = line.rstrip("\n").split("\t")
            out[int(gid)] = value
    return out


def ppr(edges, source, damping=0.85):
    vertices = {v for e in edges for v in e}
    out_degree = collections.Counter(u for u, _ in edges)
    rank = {v: 0.0 for v in vertices}
    for _ in range(10000):
        new = {v: 0.0 for v in vertices}
        new[source] += 1 - damping
        for u, v in edges:
            new[v] += damping * rank[u] / out_degree[u]
        change = max(abs(new[v] - rank[v]) for v in vertices)
        rank = new
        if change < 1e-16:
            break
    return rank


def bfs(edges, source):
    adjacent = collections.defaultdict(list)
    for u, v in edges:
        adjacent[u].append(v)
    level = {v: None for e in edges for v in e}
    level[source] = 0
    frontier = [source]
    while frontier:
        nxt = []
        for u in frontier:
            for v in adjacent[u]:
                if level[v] is None:
                    level[v] = level[u] + 1
                    nxt.append(v)
        frontier = nxt
    return level


def fail(message):
    print("reference.py: " + message, file=sys.stderr)
    sys.exit(1)


def main():
    mode, graph = sys.argv[1], sys.argv[2]
    edges = read_edges(graph)
    if mode == "pick":
        degree = collections.Counter(u for u, _ in edges)
        print(min(degree, key=lambda v: (-degree[v], v)))
        return
    source, result_path = int(sys.argv[3]), sys.argv[4]
    got = read_result(result_path)
    want = ppr(edges, source) if mode == "ppr" else bfs(edges, source)
    if set(got) != set(want):
        fail(f"{result_path}: vertex sets differ ({len(got)} vertices, expected {len(want)})")
    for v in sorted(want):
        if mode == "ppr":
            if abs(float(got[v]) - want[v]) > 1e-9 + 1e-7 * want[v]:
                fail(f"{result_path}: vertex {v}: {got[v]}, expected {want[v]!r}")
        else:
            expected = "inf" if want[v] is None else str(want[v])
            if got[v] != expected:
                fail(f"{result_path}: vertex {v}: {got[v]}, expected {expected}")
    print(f"reference.py: {result_path}: {len(want)} vertices match ({mode})")


if __name__ == "__main__":
    main()
