// The compatibility changes in effect for this isolate's worker (runtime/src/compat.rs decides
// from its compatibility date and flags; install_worker hands them over once).
const compatFlags = new Set();
function installCompat(enabled) {
  for (const name of enabled) compatFlags.add(String(name));
  if (compatFlags.has("nodejs_compat_v2")) installNodeGlobals();
}
export { installCompat };
