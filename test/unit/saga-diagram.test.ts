import fs from 'node:fs';
import { ASL_FILE, README, readmeBlock, readmeWithDiagram, sagaMermaid } from '../../scripts/saga-diagram';

/** The README's saga diagram is generated from the deployed ASL and must not drift from it. */
const asl = JSON.parse(fs.readFileSync(ASL_FILE, 'utf8')) as {
  StartAt: string;
  States: Record<string, { Type: string; Next?: string; Catch?: Array<{ Next: string }> }>;
};

it('README.md carries the diagram generated from the current ASL (run `npm run docs:saga`)', () => {
  const readme = fs.readFileSync(README, 'utf8');
  expect(readme).toContain(readmeBlock(asl));
  expect(readmeWithDiagram(readme)).toBe(readme);
});

it('the diagram has every state, every Next and every Catch edge of the ASL', () => {
  const mermaid = sagaMermaid(asl as never);
  const id = (n: string) => n.replace(/[^A-Za-z0-9]/g, '_');
  for (const [name, s] of Object.entries(asl.States)) {
    if (s.Next) expect(mermaid).toContain(`${id(name)} --> ${id(s.Next)}`);
    for (const c of s.Catch ?? []) expect(mermaid).toMatch(new RegExp(`${id(name)} --> ${id(c.Next)}: catch`));
  }
  expect(mermaid).toContain(`[*] --> ${asl.StartAt}`);
  expect(mermaid).toMatch(/class RefundPayment compensation/);
});
