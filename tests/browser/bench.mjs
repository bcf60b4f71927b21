// PKCE pair (verifier + S256 challenge) per call: tokenward's wasm against oauth4webapi's
// WebCrypto, in headless Chromium and in node. Prints make bench table rows.
import { createServer } from 'node:http';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, extname, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';

const tools = process.env.TW_BROWSER_TOOLS;
const pkg = process.env.TW_WASM_PKG;
const o4w = join(tools, 'node_modules', 'oauth4webapi', 'build');
const ROUNDS = 7;
const N = 2000;

// The benchmark itself, run in both places: median over rounds of (round time / N).
async function bench(tw, oauth, rounds, n) {
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const ours = [];
  const theirs = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    for (let i = 0; i < n; i++) tw.pkcePair();
    ours.push(((performance.now() - t) * 1000) / n);
    t = performance.now();
    for (let i = 0; i < n; i++) await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier());
    theirs.push(((performance.now() - t) * 1000) / n);
  }
  return { ours: median(ours), theirs: median(theirs) };
}

const fmt = (us) => `${us.toFixed(1)} µs`;
const row = (where, r) => console.log(`| browser: PKCE pair, ${where} (per call) | ${fmt(r.ours)} | oauth4webapi (WebCrypto) | ${fmt(r.theirs)} |`);

// ---- Chromium ----
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const file = (dir, rel) => {
    rel = normalize(rel);
    if (rel.startsWith('..')) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(rel)] ?? 'application/octet-stream' });
    res.end(readFileSync(join(dir, rel)));
  };
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end('<!doctype html><title>bench</title>');
  }
  if (url.pathname.startsWith('/tw/')) return file(pkg, url.pathname.slice(4));
  if (url.pathname.startsWith('/o4w/')) return file(o4w, url.pathname.slice(5));
  res.writeHead(404).end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;
const { chromium } = createRequire(join(tools, 'x.js'))('playwright-core');
const profile = mkdtempSync(join(tmpdir(), 'tw-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${origin}/`);
  const r = await page.evaluate(async ([src, rounds, n]) => {
    const tw = await import('/tw/index.js');
    const oauth = await import('/o4w/index.js');
    return new Function('tw', 'oauth', 'rounds', 'n', `return (${src})(tw, oauth, rounds, n)`)(tw, oauth, rounds, n);
  }, [bench.toString(), ROUNDS, N]);
  row('Chromium', r);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  server.close();
}

// ---- node ----
const glue = await import(pathToFileURL(join(pkg, 'tokenward_wasm.js')));
glue.initSync({ module: readFileSync(join(pkg, 'tokenward_wasm_bg.wasm')) });
const tw = await import(pathToFileURL(join(pkg, 'index.js')));
const oauth = await import(pathToFileURL(join(o4w, 'index.js')));
row(`node ${process.versions.node.split('.')[0]}`, await bench(tw, oauth, ROUNDS, N));
