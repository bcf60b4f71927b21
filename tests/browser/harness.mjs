// A minimal sequential test harness: `test(name, fn)` then `await done()`, which prints
// `RESULT <passed> <failed>` for tests/browser/run to add up.
const tests = [];
export const test = (name, fn) => tests.push([name, fn]);

export class AssertionError extends Error {}
export function ok(cond, msg) {
  if (!cond) throw new AssertionError(msg ?? 'assertion failed');
}
export function eq(a, b, msg) {
  if (a !== b) throw new AssertionError(`${msg ?? 'not equal'}: ${JSON.stringify(a)} !== ${JSON.stringify(b)}`);
}
/** Runs fn (sync or async), expects a TokenwardError with this code; returns it. */
export async function rejects(fn, code, msg) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  ok(err, `${msg ?? 'expected an error'} (${code}), got none`);
  eq(err.code, code, `${msg ?? 'error code'} [message: ${err.message}]`);
  ok(err instanceof Error, 'is an Error');
  return err;
}

export async function done(prefix = '') {
  let passed = 0;
  let failed = 0;
  for (const [name, fn] of tests) {
    const t0 = performance.now();
    try {
      await fn();
      passed++;
      console.log(`ok   ${prefix}${name} (${Math.round(performance.now() - t0)} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${prefix}${name}: ${e?.stack ?? e}`);
    }
  }
  console.log(`RESULT ${passed} ${failed}`);
  return failed;
}
