// The test files run side by side, each a run() of its own, and their events make one report. Node's spec reporter
// pairs each test's end with the newest start it has seen, and asserts that they are the same test; a start from
// another file arriving between a test's start and its end (a child's output comes in pieces, so they do interleave)
// fails that assertion inside the reporter's transform. The test runner swallows the exception, the reporter is left
// mid-write, and the report stops there for good: a CI run once ended with the last files never reported and exit 0,
// once without its summary. So each run's tests reach the report whole: a test's start, its subtests and its end are
// held and written together, and another file's events can only come between two whole tests; and should the
// reporter throw all the same, it says so in a line and goes on (`sturdySpec`).
import { spec } from 'node:test/reporters';

/**
 * The events of one run, regrouped for `write`: outside a test they pass through; from a test's start to its end
 * (subtests included) they are held and written at once. `flush()` writes what is held when the run ends without
 * closing a test (a file that was stopped).
 */
export function wholeTests(write) {
  let open = 0;
  const held = [];
  const take = (event) => {
    if (event.type === 'test:start') open++;
    if (open === 0) return write(event);
    held.push(event);
    if ((event.type === 'test:pass' || event.type === 'test:fail') && --open === 0) flush();
  };
  const flush = () => {
    open = 0;
    for (const e of held.splice(0)) write(e);
  };
  return Object.assign(take, { flush });
}

/**
 * Node's spec reporter, made unable to stall: should it throw on an event all the same (the case above, or another
 * yet unseen), the event is reported as a plain line saying so and the report goes on — the runner's exit code comes
 * from the events themselves, not from the reporter, so nothing is hidden by it.
 */
export function sturdySpec() {
  // `spec` is a factory in Node 20 (it returns its own class's instance), so the instance is wrapped, not subclassed.
  const reporter = new spec();
  const transform = reporter._transform;
  reporter._transform = function (event, encoding, callback) {
    let answered = false;
    try {
      transform.call(this, event, encoding, (...args) => {
        answered = true;
        callback(...args);
      });
    } catch (err) {
      if (answered) throw err;
      const what = event.type === 'test:fail' ? 'failed' : event.type === 'test:pass' ? 'passed' : event.type;
      callback(null, `${event.data?.name ?? ''} ${what} (${event.data?.file ?? 'no file'}; the spec reporter could not place it: ${err.message})\n`);
    }
  };
  return reporter;
}
