// Lays out a Step Functions state machine (ASL) as the console's graph view does: top-down, one
// row (layer) per step, the happy path as a column on the left, the states reached only through a
// Catch or a Choice's Default (the compensations) in a column to its right. Pure: no DOM, so a
// unit test can check it on the real ASL (test/unit/saga-layout.test.ts); saga-graph.js draws it.
//
// Edges never pass through a state: an edge to the next row turns in the gap between the rows; a
// longer one runs down its own vertical lane beside the columns (between the happy path and the
// compensations, or right of the compensations) and enters its target from above.

export const SIZES = {
  Task: { width: 190, height: 38 },
  Choice: { width: 170, height: 34 },
  Pass: { width: 170, height: 34 },
  Wait: { width: 170, height: 34 },
  Parallel: { width: 190, height: 38 },
  Map: { width: 190, height: 38 },
  Succeed: { width: 130, height: 30 },
  Fail: { width: 130, height: 30 },
  Start: { width: 80, height: 26 },
};
const COLUMN = 210; // a column's width (the widest state plus a margin)
const ROW = 88; // distance between two rows' centres
const LANE = 16; // distance between two vertical lanes
const MARGIN = 16;
export const START = 'Start';

/**
 * Every transition of the machine: `next` (Next), `choice` (a Choices rule), `default` (a
 * Choice's Default), `catch` (a Catch). The start arrow comes from the pseudo-state `Start`.
 */
export function sagaEdges(asl) {
  const edges = [{ from: START, to: asl.StartAt, kind: 'next' }];
  for (const [name, s] of Object.entries(asl.States)) {
    if (s.Next) edges.push({ from: name, to: s.Next, kind: 'next' });
    for (const c of s.Choices || []) edges.push({ from: name, to: c.Next, kind: 'choice', label: choiceLabel(c) });
    if (s.Default) edges.push({ from: name, to: s.Default, kind: 'default', label: 'Default' });
    for (const c of s.Catch || []) edges.push({ from: name, to: c.Next, kind: 'catch', label: `Catch ${(c.ErrorEquals || []).join(', ')}` });
  }
  // One edge per (from, to, kind): two rules to one state are one line.
  const seen = new Set();
  return edges.filter((e) => {
    const key = `${e.from}\u0000${e.to}\u0000${e.kind}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function choiceLabel(rule) {
  const value = ['StringEquals', 'NumericEquals', 'BooleanEquals'].map((k) => rule[k]).find((v) => v !== undefined);
  return rule.Variable && value !== undefined ? `${rule.Variable.replace(/^\$\./, '')} = ${value}` : 'rule';
}

/**
 * Answers { nodes: [{id, type, x, y, width, height, layer, main}], edges: [{from, to, kind, label,
 * points: [[x, y], ...], back}], width, height }. x, y are a state's top-left corner.
 */
export function layoutSaga(asl) {
  const names = [START, ...Object.keys(asl.States)];
  const type = (n) => (n === START ? 'Start' : asl.States[n].Type);
  const edges = sagaEdges(asl).filter((e) => e.to in asl.States);
  const out = new Map(names.map((n) => [n, []]));
  for (const e of edges) out.get(e.from).push(e);

  // The happy path: what the start reaches through Next and Choice rules, not Default or Catch.
  const main = new Set([START]);
  const walk = [START];
  while (walk.length) {
    for (const e of out.get(walk.pop())) {
      if ((e.kind === 'next' || e.kind === 'choice') && !main.has(e.to)) main.add(e.to), walk.push(e.to);
    }
  }

  // Back edges (loops) found by a depth-first walk are left out of the layering.
  const state = new Map();
  const back = new Set();
  const dfs = (n) => {
    state.set(n, 'open');
    for (const e of out.get(n)) {
      if (state.get(e.to) === 'open') back.add(e);
      else if (!state.has(e.to)) dfs(e.to);
    }
    state.set(n, 'done');
  };
  for (const n of names) if (!state.has(n)) dfs(n);

  // Layer = longest path from the start over the forward edges (a topological order first).
  const forward = edges.filter((e) => !back.has(e));
  const indeg = new Map(names.map((n) => [n, 0]));
  for (const e of forward) indeg.set(e.to, indeg.get(e.to) + 1);
  const order = [];
  const queue = names.filter((n) => indeg.get(n) === 0);
  while (queue.length) {
    const n = queue.shift();
    order.push(n);
    for (const e of forward.filter((f) => f.from === n)) {
      indeg.set(e.to, indeg.get(e.to) - 1);
      if (indeg.get(e.to) === 0) queue.push(e.to);
    }
  }
  const layer = new Map(names.map((n) => [n, 0]));
  for (const n of order) for (const e of forward.filter((f) => f.from === n)) layer.set(e.to, Math.max(layer.get(e.to), layer.get(n) + 1));

  // Columns: per layer, the happy-path states first, then the others; each group ordered by the
  // mean column of its predecessors (fewer crossings), ties by their order in the ASL.
  const column = new Map();
  const layers = Math.max(...layer.values()) + 1;
  const preds = (n) => forward.filter((e) => e.to === n).map((e) => e.from);
  const rank = (n) => {
    const cols = preds(n)
      .filter((p) => column.has(p))
      .map((p) => column.get(p) + (main.has(p) ? 0 : 100));
    return cols.length ? cols.reduce((a, b) => a + b, 0) / cols.length : 0;
  };
  let mainColumns = 1;
  let sideColumns = 0;
  for (let l = 0; l < layers; l++) {
    const here = names.filter((n) => layer.get(n) === l);
    const place = (group) => group.sort((a, b) => rank(a) - rank(b) || names.indexOf(a) - names.indexOf(b)).forEach((n, i) => column.set(n, i));
    const m = here.filter((n) => main.has(n));
    const s = here.filter((n) => !main.has(n));
    place(m);
    place(s);
    mainColumns = Math.max(mainColumns, m.length);
    sideColumns = Math.max(sideColumns, s.length);
  }

  // Long edges (more than one row, or upwards) get a vertical lane. Where it runs: left of the
  // happy path (happy path to happy path), between the two columns (into the compensations), or
  // right of the compensations (compensation to compensation). Lanes whose rows overlap differ.
  const long = edges.filter((e) => back.has(e) || layer.get(e.to) - layer.get(e.from) !== 1);
  const region = (e) => (main.has(e.from) && main.has(e.to) ? 'left' : main.has(e.from) ? 'middle' : 'right');
  const lanes = { left: [], middle: [], right: [] };
  const laneOf = new Map();
  // Edges into one state share a lane (they merge where they meet anyway): one group per
  // region and target, spanning all its edges' rows.
  const groups = new Map();
  for (const e of long) {
    const key = `${region(e)}\u0000${e.to}`;
    const [lo, hi] = span(e);
    const g = groups.get(key) || { region: region(e), lo, hi, edges: [] };
    g.lo = Math.min(g.lo, lo);
    g.hi = Math.max(g.hi, hi);
    g.edges.push(e);
    groups.set(key, g);
  }
  for (const g of [...groups.values()].sort((a, b) => a.lo - b.lo || a.hi - b.hi)) {
    const list = lanes[g.region];
    let i = list.findIndex((end) => end < g.lo);
    if (i < 0) i = list.push(g.hi) - 1;
    else list[i] = g.hi;
    for (const e of g.edges) laneOf.set(e, i);
  }
  function span(e) {
    const a = layer.get(e.from);
    const b = layer.get(e.to);
    return [Math.min(a, b), Math.max(a, b)];
  }

  // x of each region, left to right: left lanes, happy-path columns, middle lanes, side columns, right lanes.
  const leftLanes = lanes.left.length * LANE;
  const mainX = MARGIN + leftLanes + (leftLanes ? LANE : 0);
  const middleX = mainX + mainColumns * COLUMN;
  const sideX = middleX + (lanes.middle.length + 1) * LANE;
  const rightX = sideX + sideColumns * COLUMN;
  const width = rightX + lanes.right.length * LANE + MARGIN;
  const laneX = (e) => {
    const i = laneOf.get(e);
    const r = region(e);
    return r === 'left' ? mainX - LANE * (i + 1) : r === 'middle' ? middleX + LANE * (i + 1) : rightX + LANE * (i + 1);
  };

  const nodes = names.map((n) => {
    const size = SIZES[type(n)] || SIZES.Task;
    const cx = (main.has(n) ? mainX : sideX) + column.get(n) * COLUMN + COLUMN / 2;
    const cy = MARGIN + layer.get(n) * ROW + SIZES.Task.height / 2;
    return { id: n, type: type(n), layer: layer.get(n), main: main.has(n), x: cx - size.width / 2, y: cy - size.height / 2, width: size.width, height: size.height };
  });
  const at = new Map(nodes.map((n) => [n.id, n]));
  const height = MARGIN * 2 + (layers - 1) * ROW + SIZES.Task.height;

  // Horizontal runs happen in the gap below a row; each gets a track (its y) in that gap. Runs
  // that overlap sideways get different tracks, and a run whose line comes down at x lies above
  // any run whose line goes on down at that same x, so two edges never share a stretch.
  const gapTop = (l) => MARGIN + l * ROW + SIZES.Task.height; // the gap below row l
  const gapHeight = ROW - SIZES.Task.height;
  const runs = new Map(); // gap -> [{x1, x2, topX, bottomX, edge, y}]
  const paths = edges.map((e) => {
    const s = at.get(e.from);
    const t = at.get(e.to);
    const sx = s.x + s.width / 2;
    const tx = t.x + t.width / 2;
    const p = { from: e.from, to: e.to, kind: e.kind, label: e.label, back: back.has(e), points: [] };
    const run = (gap, topX, bottomX) => {
      const r = { x1: Math.min(topX, bottomX), x2: Math.max(topX, bottomX), topX, bottomX, edge: e, y: 0 };
      if (!runs.has(gap)) runs.set(gap, []);
      runs.get(gap).push(r);
      return r;
    };
    if (!long.includes(e)) {
      const r = run(layer.get(e.from), sx, tx);
      p.build = () => [
        [sx, s.y + s.height],
        [sx, r.y],
        [tx, r.y],
        [tx, t.y],
      ];
    } else {
      const lx = laneX(e);
      const below = run(layer.get(e.from), sx, lx);
      const above = run(layer.get(e.to) - 1, lx, tx);
      p.build = () => [
        [sx, s.y + s.height],
        [sx, below.y],
        [lx, below.y],
        [lx, above.y],
        [tx, above.y],
        [tx, t.y],
      ];
    }
    return p;
  });
  const near = (a, b) => Math.abs(a - b) < 0.5;
  const shareEnd = (a, b) => a.edge === b.edge || a.edge.from === b.edge.from || a.edge.to === b.edge.to;
  for (const [gap, list] of runs) {
    // a must lie above b when a's line comes down where b's line goes on down.
    const above = (a, b) => !shareEnd(a, b) && near(a.topX, b.bottomX);
    const pending = [...list].sort((a, b) => a.x1 - b.x1);
    const placed = [];
    while (pending.length) {
      const i = Math.max(
        0,
        pending.findIndex((r) => !pending.some((o) => o !== r && above(o, r))),
      );
      const r = pending.splice(i, 1)[0];
      let track = Math.max(-1, ...placed.filter((o) => above(o, r)).map((o) => o.track)) + 1;
      const flat = r.x2 - r.x1 < 0.5;
      while (!flat && placed.some((o) => o.track === track && o.x2 - o.x1 >= 0.5 && !shareEnd(o, r) && o.x1 < r.x2 + 4 && r.x1 < o.x2 + 4)) track++;
      r.track = track;
      placed.push(r);
    }
    const n = Math.max(...placed.map((r) => r.track)) + 1;
    for (const r of placed) r.y = gapTop(gap) + (gapHeight * (r.track + 1)) / (n + 1);
  }
  const drawn = paths.map(({ build, ...p }) => ({ ...p, points: simplify(build()) }));
  return { nodes, edges: drawn, width, height };
}

/** Drops repeated and collinear points. */
function simplify(points) {
  const out = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last && Math.abs(last[0] - p[0]) < 0.01 && Math.abs(last[1] - p[1]) < 0.01) continue;
    const prev = out[out.length - 2];
    if (prev && last && ((prev[0] === last[0] && last[0] === p[0]) || (prev[1] === last[1] && last[1] === p[1]))) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}
