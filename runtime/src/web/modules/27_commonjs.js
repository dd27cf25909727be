// CommonJS: `module.exports`, `require()` of the worker's CommonJS, JSON, text and data modules
// (and of Node's built-ins under nodejs_compat), each evaluated once and cached. An ES module
// that imports a CommonJS one gets `module.exports` as its default export.
const commonJsCache = new Map(); // module name -> module
// Node's built-in module `spec` (with or without `node:`) for a worker whose flags allow it:
// Node's `module.exports` of it (see `nodeBuiltinValues`), or undefined. `checked` is false for
// an import, which the module resolver has allowed already.
function nodeBuiltin(spec, checked = true) {
  const name = spec.startsWith("node:") ? spec.slice(5) : spec;
  const allowed = compatFlags.has("nodejs_compat") || compatFlags.has("nodejs_compat_v2") || (name === "async_hooks" && compatFlags.has("nodejs_als"));
  if (checked && !allowed) return undefined;
  const values = nodeModules().nodeBuiltinValues;
  return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined;
}

function requireFrom(base) {
  const require = (spec) => {
    spec = String(spec);
    const builtin = nodeBuiltin(spec);
    if (builtin !== undefined) return builtin;
    let found;
    try {
      found = ops.op_cjs_resolve(base, spec);
    } catch (err) {
      const missing = new Error(err.message);
      missing.code = "MODULE_NOT_FOUND";
      throw missing;
    }
    return loadCommonJs(found[0], found[1]);
  };
  require.resolve = (spec) => ops.op_cjs_resolve(base, String(spec))[0];
  require.cache = Object.create(null);
  return require;
}

function loadCommonJs(name, kind) {
  const cached = commonJsCache.get(name);
  if (cached !== undefined) return cached.exports;
  switch (kind) {
    case "json": return JSON.parse(ops.op_module_text(name));
    case "text": return ops.op_module_text(name);
    case "data": return ops.op_module_bytes(name);
    case "cjs": break;
    default: {
      const err = new Error(`require() of ES Module ${name} is not supported; import it instead.`);
      err.code = "ERR_REQUIRE_ESM";
      throw err;
    }
  }
  const module = { exports: {}, id: name, filename: name, loaded: false, children: [], paths: [] };
  commonJsCache.set(name, module);
  const body = ops.op_cjs_compile(name);
  const slash = name.lastIndexOf("/");
  try {
    body.call(module.exports, module.exports, requireFrom(name), module, `/${name}`, slash < 0 ? "/" : `/${name.slice(0, slash)}`);
  } catch (err) {
    commonJsCache.delete(name);
    throw err;
  }
  module.loaded = true;
  return module.exports;
}

// What `import x from "./a.cjs"` gets.
function commonJsExports(name) {
  return loadCommonJs(name, "cjs");
}

export { commonJsExports };
