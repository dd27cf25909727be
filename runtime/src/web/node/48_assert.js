// node:assert (and its strict flavour): ok, equal, strictEqual, deepEqual, deepStrictEqual,
// their negations, throws, rejects, doesNotThrow, match, fail; failures are AssertionErrors.
class AssertionError extends Error {
  constructor(options = {}) {
    super(options.message ?? `${JSON.stringify(options.actual)} ${options.operator ?? "=="} ${JSON.stringify(options.expected)}`);
    this.name = "AssertionError";
    this.code = "ERR_ASSERTION";
    this.actual = options.actual;
    this.expected = options.expected;
    this.operator = options.operator;
    this.generatedMessage = options.message === undefined;
  }
}

function deepEqualValues(a, b, strict, seen = new Map()) {
  if (strict ? Object.is(a, b) : a == b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof RegExp && b instanceof RegExp) return String(a) === String(b);
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    if (a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.every((v, i) => v === y[i]);
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqualValues(v, b.get(k), strict, seen)) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqualValues(a[k], b[k], strict, seen));
}

function failWith(message, fields) {
  if (message instanceof Error) throw message;
  throw new AssertionError({ ...fields, message });
}

function matchesExpected(err, expected) {
  if (expected === undefined) return true;
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && err instanceof expected) return true;
    if (Error.isPrototypeOf?.(expected) || expected === Error) return false;
    return expected(err) === true;
  }
  if (expected instanceof RegExp) return expected.test(String(err?.message ?? err));
  if (typeof expected === "object") return Object.keys(expected).every((k) => expected[k] instanceof RegExp ? expected[k].test(err?.[k]) : deepEqualValues(err?.[k], expected[k], true));
  return false;
}

function makeAssert(strict) {
  const assert = (value, message) => assert.ok(value, message);
  Object.assign(assert, {
    AssertionError,
    ok(value, message) { if (!value) failWith(message ?? "The expression evaluated to a falsy value", { actual: value, expected: true, operator: "==" }); },
    equal(actual, expected, message) { if (strict ? !Object.is(actual, expected) : actual != expected) failWith(message, { actual, expected, operator: strict ? "strictEqual" : "==" }); },
    notEqual(actual, expected, message) { if (strict ? Object.is(actual, expected) : actual == expected) failWith(message, { actual, expected, operator: "!=" }); },
    strictEqual(actual, expected, message) { if (!Object.is(actual, expected)) failWith(message, { actual, expected, operator: "strictEqual" }); },
    notStrictEqual(actual, expected, message) { if (Object.is(actual, expected)) failWith(message, { actual, expected, operator: "notStrictEqual" }); },
    deepEqual(actual, expected, message) { if (!deepEqualValues(actual, expected, strict)) failWith(message, { actual, expected, operator: "deepEqual" }); },
    notDeepEqual(actual, expected, message) { if (deepEqualValues(actual, expected, strict)) failWith(message, { actual, expected, operator: "notDeepEqual" }); },
    deepStrictEqual(actual, expected, message) { if (!deepEqualValues(actual, expected, true)) failWith(message, { actual, expected, operator: "deepStrictEqual" }); },
    notDeepStrictEqual(actual, expected, message) { if (deepEqualValues(actual, expected, true)) failWith(message, { actual, expected, operator: "notDeepStrictEqual" }); },
    fail(message = "Failed") { failWith(message, { operator: "fail" }); },
    match(string, regexp, message) { if (!regexp.test(string)) failWith(message, { actual: string, expected: regexp, operator: "match" }); },
    doesNotMatch(string, regexp, message) { if (regexp.test(string)) failWith(message, { actual: string, expected: regexp, operator: "doesNotMatch" }); },
    throws(fn, expected, message) {
      try { fn(); } catch (err) {
        if (!matchesExpected(err, expected)) throw err;
        return;
      }
      failWith(typeof expected === "string" ? expected : message ?? "Missing expected exception.", { operator: "throws" });
    },
    doesNotThrow(fn, message) { try { fn(); } catch (err) { failWith(message ?? `Got unwanted exception: ${err?.message}`, { actual: err, operator: "doesNotThrow" }); } },
    async rejects(promiseOrFn, expected, message) {
      try { await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn); } catch (err) {
        if (!matchesExpected(err, expected)) throw err;
        return;
      }
      failWith(typeof expected === "string" ? expected : message ?? "Missing expected rejection.", { operator: "rejects" });
    },
    async doesNotReject(promiseOrFn, message) { try { await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn); } catch (err) { failWith(message ?? `Got unwanted rejection: ${err?.message}`, { actual: err, operator: "doesNotReject" }); } },
    ifError(value) { if (value !== null && value !== undefined) throw value; },
  });
  return assert;
}

const nodeAssert = makeAssert(false);
nodeAssert.strict = makeAssert(true);
nodeAssert.strict.strict = nodeAssert.strict;
