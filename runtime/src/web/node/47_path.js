// node:path, POSIX flavour (Workers have no other): join, resolve, normalize, relative,
// dirname, basename, extname, parse, format, isAbsolute; `posix` is the same object, `win32`
// is not provided.
function normalizeSegments(parts, absolute) {
  const out = [];
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
    } else {
      out.push(part);
    }
  }
  return out;
}

function checkPath(path) {
  if (typeof path !== "string") throw new TypeError(`The "path" argument must be of type string. Received ${path === null ? "null" : typeof path}`);
  return path;
}

const nodePath = {
  sep: "/",
  delimiter: ":",
  normalize(path) {
    checkPath(path);
    if (path === "") return ".";
    const absolute = path.startsWith("/");
    const trailing = path.endsWith("/");
    let out = normalizeSegments(path.split("/"), absolute).join("/");
    if (out === "" && !absolute) out = ".";
    if (out !== "" && trailing) out += "/";
    return absolute ? `/${out}` : out;
  },
  join(...parts) {
    parts.forEach(checkPath);
    const joined = parts.filter((p) => p !== "").join("/");
    return joined === "" ? "." : nodePath.normalize(joined);
  },
  resolve(...parts) {
    let resolved = "";
    for (let i = parts.length - 1; i >= 0 && !resolved.startsWith("/"); i--) {
      const part = checkPath(parts[i]);
      if (part !== "") resolved = resolved === "" ? part : `${part}/${resolved}`;
    }
    if (!resolved.startsWith("/")) resolved = `/${resolved}`;
    const out = `/${normalizeSegments(resolved.split("/"), true).join("/")}`;
    return out;
  },
  isAbsolute(path) { return checkPath(path).startsWith("/"); },
  relative(from, to) {
    const a = nodePath.resolve(from).split("/").filter(Boolean);
    const b = nodePath.resolve(to).split("/").filter(Boolean);
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return [...a.slice(i).map(() => ".."), ...b.slice(i)].join("/");
  },
  dirname(path) {
    checkPath(path);
    if (path === "") return ".";
    const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
    const at = trimmed.lastIndexOf("/");
    if (at < 0) return ".";
    if (at === 0) return "/";
    return trimmed.slice(0, at);
  },
  basename(path, ext = undefined) {
    checkPath(path);
    const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
    let base = trimmed.slice(trimmed.lastIndexOf("/") + 1);
    if (ext !== undefined && base.endsWith(ext) && base !== ext) base = base.slice(0, -ext.length);
    return base;
  },
  extname(path) {
    const base = nodePath.basename(path);
    const at = base.lastIndexOf(".");
    return at <= 0 ? "" : base.slice(at);
  },
  parse(path) {
    checkPath(path);
    const root = path.startsWith("/") ? "/" : "";
    const base = nodePath.basename(path);
    const ext = nodePath.extname(path);
    let dir = nodePath.dirname(path);
    if (dir === "." && !path.includes("/")) dir = "";
    return { root, dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
  },
  format(parts) {
    const dir = parts.dir ?? parts.root ?? "";
    const base = parts.base ?? `${parts.name ?? ""}${parts.ext ?? ""}`;
    if (dir === "") return base;
    return dir === parts.root ? `${dir}${base}` : `${dir}/${base}`;
  },
  toNamespacedPath(path) { return path; },
};
nodePath.posix = nodePath;
