import fs from 'node:fs';
import path from 'node:path';
import { OUT_DIR, renderAll } from './lib/articles';

/**
 * `npm run build:web`: renders docs/articles/*.md into web/articles/*.html (committed, so the BFF
 * bundle needs no build step). `--check` only reports stale files and exits 1 (what the unit test
 * asserts too).
 */
const check = process.argv.includes('--check');
const pages = renderAll();
const wanted = new Set(pages.map(([file]) => path.basename(file)));
const stale: string[] = [];
fs.mkdirSync(OUT_DIR, { recursive: true });
for (const [file, html] of pages) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (current === html) continue;
  stale.push(path.relative(process.cwd(), file));
  if (!check) fs.writeFileSync(file, html);
}
// An article removed from docs/ must not live on as a page.
for (const f of fs.readdirSync(OUT_DIR)) {
  if (f.endsWith('.html') && !wanted.has(f)) {
    stale.push(path.relative(process.cwd(), path.join(OUT_DIR, f)));
    if (!check) fs.rmSync(path.join(OUT_DIR, f));
  }
}
if (check && stale.length) {
  console.error(`stale: ${stale.join(', ')} (run npm run build:web)`);
  process.exit(1);
}
console.log(check ? 'web/articles is up to date' : stale.length ? `wrote ${stale.join(', ')}` : 'nothing to do');
