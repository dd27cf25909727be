// Node.js's modules for `nodejs_compat` workers (40 to 44 above, the body of
// makeNodeModules), made the first time a worker needs them: most never do, and making them in
// every isolate took about 100 KiB of each one's heap.
let nodeModulesMade = null;
function nodeModules() {
  if (nodeModulesMade === null) nodeModulesMade = makeNodeModules();
  return nodeModulesMade;
}

// `Buffer` and `process` as globals (nodejs_compat_v2; installCompat calls this).
function installNodeGlobals() {
  nodeModules().installNodeGlobals();
}

// process.env from the worker's text bindings (nodejs_compat_populate_process_env).
function populateProcessEnv(env) {
  nodeModules().populateProcessEnv(env);
}

export { nodeModules, nodeBuiltin, populateProcessEnv };
