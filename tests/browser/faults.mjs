// The browser package's column of the fault matrix (tests/faults/README.md): the built package
// in node, its real fetch against the shared scripted fault server on loopback. Writes
// $TW_FAULT_MATRIX_DIR (default .tw-state/fault-matrix)/wasm.tsv and fails on any failed row.
// Usage: node faults.mjs [PKG_DIR]
//
// The Client speaks to Keycloak-shaped URLs; its `fetch` option sends each token request to the
// fault server's route instead (the request itself is real: node's fetch, real sockets).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, renameSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { test, ok, eq, done } from './harness.mjs';

const root = new URL('../../', import.meta.url).pathname;
const pkg = process.argv[2] ?? join(root, 'wasm/pkg');
const glue = await import(pathToFileURL(join(pkg, 'tokenward_wasm.js')));
glue.initSync({ module: readFileSync(join(pkg, 'tokenward_wasm_bg.wasm')) });
const { Client } = await import(pathToFileURL(join(pkg, 'index.js')));

const TIMEOUT_MS = 1000;
const GRACE_MS = 1000;
const REDIRECT = 'http://127.0.0.1:8765/callback';
const outDir = process.env.TW_FAULT_MATRIX_DIR ?? join(root, '.tw-state/fault-matrix');
const outFile = join(outDir, 'wasm.tsv');
rmSync(outFile, { force: true });

const faults = readFileSync(join(root, 'tests/faults/faults.tsv'), 'utf8').split('\n')
  .filter((l) => l && !l.startsWith('#') && !l.startsWith('fault\t'))
  .map((l) => { const [id, expect] = l.split('\t'); return { id, expect }; });

// ---- the shared fault server, stopped by its PID ----
const state = mkdtempSync(join(tmpdir(), 'tw-faults-wasm-'));
const server = spawn('python3', [join(root, 'tests/faults/server.py'), '--state', state], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  createInterface({ input: server.stdout }).once('line', resolve);
  server.once('exit', (c) => reject(new Error(`fault server exited (${c})`)));
});
const stopServer = () => { try { process.kill(server.pid, 'SIGTERM'); } catch { /* gone */ } };
process.on('exit', () => { stopServer(); rmSync(state, { recursive: true, force: true }); });

class MemoryStorage {
  m = new Map();
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
}

const client = (route, extra = {}) => new Client({
  url: 'http://127.0.0.1:9', realm: 'faults', clientId: 'spa', redirectUri: REDIRECT,
  storage: new MemoryStorage(), timeoutMs: TIMEOUT_MS,
  fetch: (url, init) => fetch(`${base}${route}`, init),
  ...extra,
});

// Logs in: starts a login, then hands the client its callback (the code exchange is the token
// request). Returns the pending login's secrets, for the leak check.
async function login(c) {
  const url = new URL(c.authorizationUrl());
  const state = url.searchParams.get('state');
  await c.handleCallback(`${REDIRECT}?state=${state}&code=c0de`);
}

const rows = new Map(faults.map((f) => [f.id, { ...f, reported: '', code: 'none', elapsed: 0, kept: 'no', note: '', message: '' }]));

// Step 2: a typed error within the timeout, from a code exchange that meets the fault.
async function direct(row) {
  const c = client(`/fault/${row.id}/token`);
  const url = new URL(c.authorizationUrl());
  const st = url.searchParams.get('state');
  const t0 = performance.now();
  try {
    await c.handleCallback(`${REDIRECT}?state=${st}&code=c0de`);
    row.reported = 'no error';
  } catch (e) {
    row.reported = e?.code ?? `untyped ${e?.name}`;
    row.code = e?.code ?? 'untyped';
    row.message = `${e?.message}`;
    if (row.message.includes(st) || row.message.includes('c0de')) row.note = 'a secret in the message';
  }
  row.elapsed = Math.round(performance.now() - t0);
}

const stats = (session) => {
  const f = join(state, `${session}.stats`);
  if (!existsSync(f)) return { requests: 0, done: 0 };
  const m = /requests=(\d+) done=(\d+)/.exec(readFileSync(f, 'utf8'));
  return m ? { requests: +m[1], done: +m[2] } : { requests: 0, done: 0 };
};

// Step 3: the cache keeps handing out the first token through a failed renewal.
async function kept(row) {
  const session = `wasm-${process.pid}-${row.id}`;
  const c = client(`/renew-rt/${row.id}/${session}/token`, { refreshPolicy: { fraction: 0.5, maxMarginSeconds: 4 } });
  const t0 = Date.now();
  await login(c);
  const first = await c.accessToken();
  let calls = 0;
  let doneAt = 0;
  while (Date.now() - t0 < 7500) {
    let got;
    try {
      got = await c.accessToken();
    } catch (e) {
      row.note = `call ${calls} failed: ${e.code}`;
      return;
    }
    calls++;
    if (got !== first) {
      row.note = `call ${calls} returned another token`;
      return;
    }
    if (!doneAt && stats(session).done >= 1) doneAt = Date.now();
    if (doneAt && Date.now() - doneAt >= 300) {
      row.kept = 'yes';
      row.note = `${calls} calls, ${stats(session).requests - 1} renewal(s) failed`;
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  row.note = `no renewal met the fault within 7.5 s (${calls} calls)`;
}

test('every fault: a typed error within the timeout, no secret in the message', async () => {
  for (const row of rows.values()) await direct(row);
  for (const row of rows.values()) {
    console.log(`  ${row.id}: ${row.reported} in ${row.elapsed} ms${row.note ? ` (${row.note})` : ''}`);
    eq(row.code, row.expect, `${row.id}: ${row.message}`);
    ok(row.elapsed <= TIMEOUT_MS + GRACE_MS, `${row.id}: ${row.elapsed} ms`);
    ok(!row.note, `${row.id}: ${row.note}`);
  }
});

test('every fault: the still-valid token is kept through the failed renewal', async () => {
  await Promise.all([...rows.values()].map(kept));
  for (const row of rows.values()) {
    console.log(`  ${row.id}: kept ${row.kept} (${row.note})`);
    eq(row.kept, 'yes', `${row.id}: ${row.note}`);
  }
});

const failed = await done('faults: ');
const lines = [
  '# tokenward fault matrix v1: wasm (tests/browser/faults.mjs, Client.accessToken in node)',
  'fault\treported\tcode\telapsed_ms\ttimeout_ms\tin_time\tkept\tresult\tnote',
];
for (const r of rows.values()) {
  const inTime = r.elapsed <= TIMEOUT_MS + GRACE_MS;
  const pass = r.code === r.expect && inTime && r.kept === 'yes' && !r.note.startsWith('a secret');
  lines.push([r.id, r.reported, r.code, r.elapsed, TIMEOUT_MS, inTime ? 'yes' : 'no', r.kept, pass ? 'pass' : 'fail',
    r.note.replace(/\t/g, ' ')].join('\t'));
}
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outFile}.tmp`, `${lines.join('\n')}\n`);
renameSync(`${outFile}.tmp`, outFile);
stopServer();
process.exitCode = failed ? 1 : 0;
