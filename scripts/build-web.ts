import fs from 'node:fs';
import path from 'node:path';
import { OUT_DIR, renderAll } from './lib/articles';
import { buildOpenApiFile } from './lib/openapi-build';
import { vendorStale, vendorWrite } from './lib/vendor';

/**
 * `npm run build:web`: renders docs/articles/*.md into web/articles/*.html, copies the vendored
 * browser code (Swagger UI for /reference/api) from node_modules into web/vendor/, and builds the
 * public API's OpenAPI description into web/openapi.json from the BFF's routes and zod schemas
 * (all committed, so the BFF bundle needs no build step and no OpenAPI generator). `--check` only
 * reports stale files and exits 1 (what the unit tests assert too).
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
// The vendored renderer: a copy of the pinned npm package's files.
stale.push(...(check ? vendorStale() : vendorWrite()));

async function main() {
  // The OpenAPI description of the BFF's route table.
  stale.push(...(await buildOpenApiFile(check)));
  if (check && stale.length) {
    console.error(`stale: ${stale.join(', ')} (run npm run build:web)`);
    process.exit(1);
  }
  console.log(check ? 'web/articles, web/vendor and web/openapi.json are up to date' : stale.length ? `wrote ${stale.join(', ')}` : 'nothing to do');
}

main().catch((err: Error) => {
  console.error(`✗ ${err.message}`);
  process.exit(1);
});
