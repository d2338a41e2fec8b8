import fs from 'node:fs';
import path from 'node:path';
import { Marked, Renderer, type Tokens } from 'marked';
import { ROOT } from './paths';

/**
 * docs/articles/*.md and docs/*.md → web/articles/*.html, the pages the BFF serves at /docs/<name>.
 * Rendered at build time (`npm run build:web`) so the browser runs no Markdown code and the CSP
 * stays script-src 'self'. The output is sanitised by construction: raw HTML in the Markdown is
 * escaped, links keep only safe targets, images become their alt text. Links into the repo have
 * no page on the site, so they are shown as the repo path; links between pages stay links.
 */
export const ARTICLES_DIR = path.join(ROOT, 'docs', 'articles');
/** The design documents (docs/*.md: architecture, each service's contract, ...) are pages too. */
const DOCS_DIR = path.join(ROOT, 'docs');
export const OUT_DIR = path.join(ROOT, 'web', 'articles');

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** GitHub's heading anchors, so #fragments written for the repo work on the site too. */
export const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

const plain = (html: string) =>
  html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/** The page of a repo path: docs/articles/<name>.md and docs/<name>.md are served at /docs/<name>. */
const pageOf = (repoPath: string, pages: Set<string>): string | undefined => {
  const m = /^docs\/(?:articles\/)?([a-z0-9-]+)\.md$/.exec(repoPath);
  return m && pages.has(m[1]) ? m[1] : undefined;
};

class SiteRenderer extends Renderer {
  constructor(
    private readonly pages: Set<string>,
    /** The Markdown file's folder in the repo: relative links resolve against it. */
    private readonly dir: string,
  ) {
    super();
  }

  override html({ text }: Tokens.HTML | Tokens.Tag): string {
    return escapeHtml(text);
  }

  override heading({ tokens, depth }: Tokens.Heading): string {
    const inner = this.parser.parseInline(tokens);
    return `<h${depth} id="${escapeHtml(slug(plain(inner)))}">${inner}</h${depth}>\n`;
  }

  override code({ text, lang }: Tokens.Code): string {
    const cls = lang && /^[a-z0-9-]+$/i.test(lang) ? ` class="language-${lang}"` : '';
    // Focusable: a wide block scrolls sideways, and keyboard users must be able to scroll it.
    return `<pre tabindex="0"><code${cls}>${escapeHtml(text.replace(/\n$/, ''))}</code></pre>\n`;
  }

  override table(token: Tokens.Table): string {
    const label = plain(this.parser.parseInline(token.header[0]?.tokens ?? []));
    return `<div class="table-wrap" tabindex="0" role="region" aria-label="Table: ${escapeHtml(label)}">\n${super.table(token)}</div>\n`;
  }

  override image({ text }: Tokens.Image): string {
    return escapeHtml(text);
  }

  override link({ href, tokens }: Tokens.Link): string {
    const inner = this.parser.parseInline(tokens);
    const [target, hash = ''] = href.split('#');
    if (/^https:\/\//i.test(href)) return `<a href="${escapeHtml(href)}" rel="noopener noreferrer">${inner}</a>`;
    if (!target && hash) return `<a href="#${escapeHtml(hash)}">${inner}</a>`;
    if (/^[\w./-]+$/.test(target) && !/^[a-z]+:/i.test(target)) {
      const repoPath = path.posix.normalize(path.posix.join(this.dir, target));
      const page = pageOf(repoPath, this.pages);
      if (page) return `<a href="./${page}${hash ? `#${escapeHtml(hash)}` : ''}">${inner}</a>`;
      const text = plain(inner);
      return text.replace(/\/$/, '') === repoPath.replace(/\/$/, '')
        ? `<code class="repo-path">${escapeHtml(repoPath)}</code>`
        : `${inner} (<code class="repo-path">${escapeHtml(repoPath)}</code>)`;
    }
    return inner;
  }
}

const markdownNames = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => /^[a-z0-9-]+\.md$/.test(f))
    .map((f) => f.replace(/\.md$/, ''))
    .sort();

export const articleNames = (): string[] => markdownNames(ARTICLES_DIR);
export const designDocNames = (): string[] => markdownNames(DOCS_DIR);
const allPages = () => new Set([...articleNames(), ...designDocNames()]);

interface PageSource {
  /** The Markdown file's folder, relative to the repo root. */
  dir: string;
  /** The breadcrumb after "How it works". */
  crumb: string;
  /** Whether the page shows the live system under the text (web/js/article-live.js). */
  live: boolean;
}
const ARTICLE: PageSource = { dir: 'docs/articles', crumb: 'Articles', live: true };
const DESIGN_DOC: PageSource = { dir: 'docs', crumb: 'Design documents', live: false };

/** The whole page for one article: the site's header, the article, a way back to /reference. */
export function renderArticle(name: string, markdown: string, pages = allPages(), source: PageSource = ARTICLE): string {
  // setOptions, not the constructor: `use()` would treat the renderer's own fields as renderer methods.
  const marked = new Marked().setOptions({ gfm: true, renderer: new SiteRenderer(pages, source.dir) });
  const body = marked.parse(markdown, { async: false });
  const h1 = /<h1[^>]*>([\s\S]*?)<\/h1>/.exec(body);
  const title = h1 ? plain(h1[1]) : name;
  return `<!doctype html>
<!-- Generated from ${source.dir}/${name}.md by \`npm run build:web\` (scripts/build-web.ts). Do not edit: edit the Markdown. -->
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} · Checkout Mesh</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="../web/style.css">
</head>
<body>
  <a class="skip" href="#main">Skip to content</a>
  <header class="site">
    <a class="brand" href="../">Checkout Mesh</a>
    <nav aria-label="Main">
      <a href="../#/">Products</a>
      <a href="../chaos">Chaos</a>
      <a href="../reference">How it works</a>
    </nav>
  </header>
  <main id="main" tabindex="-1" class="article">
    <nav aria-label="Breadcrumb" class="crumbs"><a href="../reference">How it works</a> › ${source.crumb}</nav>
    <article>
${body.trim()}
    </article>
${source.live ? `    <section id="live" class="live" aria-live="polite" data-article="${escapeHtml(name)}"></section>\n` : ''}    <p class="back"><a href="../reference">Back to How it works</a></p>
  </main>
  <footer class="site muted">Rendered from <code>${source.dir}/${name}.md</code> in the repository.</footer>
${source.live ? '  <script type="module" src="../web/js/article-live.js"></script>\n' : ''}</body>
</html>
`;
}

/** Every article and design document as [output file, html]. */
export function renderAll(): Array<[string, string]> {
  const pages = allPages();
  const render = (n: string, dir: string, source: PageSource): [string, string] => [
    path.join(OUT_DIR, `${n}.html`),
    renderArticle(n, fs.readFileSync(path.join(dir, `${n}.md`), 'utf8'), pages, source),
  ];
  return [...articleNames().map((n) => render(n, ARTICLES_DIR, ARTICLE)), ...designDocNames().map((n) => render(n, DOCS_DIR, DESIGN_DOC))];
}
