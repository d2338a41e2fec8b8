// How the event mesh's ops answers read (GET /api/ops/outbox, /api/ops/dlq), on /chaos and under the outbox article.

/** One service's outbox: "payments outbox: 2 unsent events (oldest 1.5 s)", or why it did not report. */
export const outboxLine = (o) =>
  o.error
    ? `${o.service} outbox: not reporting (${o.error})`
    : `${o.service} outbox: ${o.pending} unsent event${o.pending === 1 ? '' : 's'}${o.oldestAgeSeconds !== null ? ` (oldest ${o.oldestAgeSeconds} s)` : ''}`;

/** A DLQ's depth: its message count, or "missing" when the queue was not found. */
export const dlqDepth = (q) => (q.depth === null ? 'missing' : `${q.depth} message${q.depth === 1 ? '' : 's'}`);
