import fs from 'node:fs';
import path from 'node:path';

/**
 * The saga graph's layout (web/js/saga-layout.js, a browser ES module without DOM) on the real
 * ASL: every state placed, every Next / Choice / Default / Catch drawn, nothing overlapping.
 */
type Point = [number, number];
interface Node {
  id: string;
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  layer: number;
  main: boolean;
}
interface Edge {
  from: string;
  to: string;
  kind: string;
  points: Point[];
}
interface Layout {
  nodes: Node[];
  edges: Edge[];
  width: number;
  height: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { layoutSaga, sagaEdges, START } = require('../../web/js/saga-layout.js') as {
  layoutSaga: (asl: unknown) => Layout;
  sagaEdges: (asl: unknown) => Array<{ from: string; to: string; kind: string }>;
  START: string;
};

interface State {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: Array<{ Next: string }>;
  Catch?: Array<{ Next: string }>;
}
const asl = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../stepfunctions/checkout-saga.asl.json'), 'utf8')) as {
  StartAt: string;
  States: Record<string, State>;
};
const layout = layoutSaga(asl);
const byId = new Map(layout.nodes.map((n) => [n.id, n]));

/** Every transition written in the ASL, as "from -> to (kind)". */
function transitions(): string[] {
  const out = [`${START} -> ${asl.StartAt} (next)`];
  for (const [name, s] of Object.entries(asl.States)) {
    if (s.Next) out.push(`${name} -> ${s.Next} (next)`);
    for (const c of s.Choices ?? []) out.push(`${name} -> ${c.Next} (choice)`);
    if (s.Default) out.push(`${name} -> ${s.Default} (default)`);
    for (const c of s.Catch ?? []) out.push(`${name} -> ${c.Next} (catch)`);
  }
  return [...new Set(out)].sort();
}

const inside = (n: Node, [x, y]: Point) => x > n.x + 0.5 && x < n.x + n.width - 0.5 && y > n.y + 0.5 && y < n.y + n.height - 0.5;

it('places every state once, inside the drawing', () => {
  expect(layout.nodes.map((n) => n.id).sort()).toEqual([START, ...Object.keys(asl.States)].sort());
  for (const n of layout.nodes) {
    expect(n.x).toBeGreaterThanOrEqual(0);
    expect(n.y).toBeGreaterThanOrEqual(0);
    expect(n.x + n.width).toBeLessThanOrEqual(layout.width);
    expect(n.y + n.height).toBeLessThanOrEqual(layout.height);
  }
});

it('draws every Next, Choice rule, Default and Catch as an edge from its state to its target', () => {
  expect(layout.edges.map((e) => `${e.from} -> ${e.to} (${e.kind})`).sort()).toEqual(transitions());
  expect(sagaEdges(asl)).toHaveLength(transitions().length);
  for (const e of layout.edges) {
    const [first, last] = [e.points[0], e.points[e.points.length - 1]];
    const s = byId.get(e.from)!;
    const t = byId.get(e.to)!;
    // Leaves its state's bottom edge and arrives on its target's top edge.
    expect(first[1]).toBeCloseTo(s.y + s.height);
    expect(first[0]).toBeGreaterThanOrEqual(s.x);
    expect(first[0]).toBeLessThanOrEqual(s.x + s.width);
    expect(last[1]).toBeCloseTo(t.y);
    expect(last[0]).toBeGreaterThanOrEqual(t.x);
    expect(last[0]).toBeLessThanOrEqual(t.x + t.width);
    // Only vertical and horizontal segments.
    for (let i = 1; i < e.points.length; i++) {
      const [a, b] = [e.points[i - 1], e.points[i]];
      expect(a[0] === b[0] || a[1] === b[1]).toBe(true);
    }
  }
});

it('is top-down like the console: the happy path in one column, in order, the compensations beside it', () => {
  const happy = [
    'ReserveStock',
    'StockReserved?',
    'CreatePaymentSession',
    'SessionCreated?',
    'WaitForPayment',
    'PaymentAuthorized?',
    'CapturePayment',
    'Captured?',
    'CompleteOrder',
    'Completed',
  ];
  const centres = happy.map((id) => byId.get(id)!.x + byId.get(id)!.width / 2);
  expect(new Set(centres).size).toBe(1);
  for (let i = 1; i < happy.length; i++) expect(byId.get(happy[i])!.y).toBeGreaterThan(byId.get(happy[i - 1])!.y);
  for (const id of ['RefundPayment', 'CancelPaymentSession', 'ReleaseStock', 'MarkOrderFailed', 'ParkOrder']) {
    expect(byId.get(id)!.main).toBe(false);
    expect(byId.get(id)!.x).toBeGreaterThan(centres[0]);
  }
  // Every forward edge goes down.
  for (const e of layout.edges) expect(byId.get(e.to)!.layer).toBeGreaterThan(byId.get(e.from)!.layer);
});

it('no two states overlap, and no edge runs through a state', () => {
  const nodes = layout.nodes;
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const [a, b] = [nodes[i], nodes[j]];
      const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      expect([a.id, b.id, apart]).toEqual([a.id, b.id, true]);
    }
  }
  for (const e of layout.edges) {
    for (let i = 1; i < e.points.length; i++) {
      const [a, b] = [e.points[i - 1], e.points[i]];
      // Sample the segment every 2 px: no sample may be inside a state.
      const steps = Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / 2);
      for (let k = 0; k <= steps; k++) {
        const p: Point = [a[0] + ((b[0] - a[0]) * k) / steps, a[1] + ((b[1] - a[1]) * k) / steps];
        const hit = nodes.find((n) => inside(n, p));
        expect([`${e.from} -> ${e.to}`, hit?.id]).toEqual([`${e.from} -> ${e.to}`, undefined]);
      }
    }
  }
});

it('no two edges share a horizontal or vertical stretch unless they share an end state', () => {
  const segs = layout.edges.flatMap((e) => e.points.slice(1).map((b, i) => ({ e, a: e.points[i], b })));
  for (let i = 0; i < segs.length; i++) {
    for (let j = i + 1; j < segs.length; j++) {
      const [s, t] = [segs[i], segs[j]];
      if (s.e === t.e || s.e.from === t.e.from || s.e.to === t.e.to) continue;
      const horizontal = (x: typeof s) => x.a[1] === x.b[1];
      if (horizontal(s) !== horizontal(t)) continue;
      const axis = horizontal(s) ? 1 : 0;
      if (Math.abs(s.a[axis] - t.a[axis]) > 0.5) continue;
      const o = 1 - axis;
      const overlap = Math.min(Math.max(s.a[o], s.b[o]), Math.max(t.a[o], t.b[o])) - Math.max(Math.min(s.a[o], s.b[o]), Math.min(t.a[o], t.b[o]));
      expect([`${s.e.from}->${s.e.to} / ${t.e.from}->${t.e.to}`, overlap > 1]).toEqual([`${s.e.from}->${s.e.to} / ${t.e.from}->${t.e.to}`, false]);
    }
  }
});

it('lays out a machine with a loop (a back edge) without losing it', () => {
  const loop = {
    StartAt: 'A',
    States: {
      A: { Type: 'Task', Next: 'B' },
      B: { Type: 'Choice', Choices: [{ Variable: '$.again', BooleanEquals: true, Next: 'A' }], Default: 'C' },
      C: { Type: 'Succeed' },
    },
  };
  const l = layoutSaga(loop);
  expect(l.nodes).toHaveLength(4);
  expect(l.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual(['A->B', 'B->A', 'B->C', 'Start->A']);
});
