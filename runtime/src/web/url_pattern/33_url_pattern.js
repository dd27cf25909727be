// URLPattern (runtime/src/web/url_pattern): Rust parses patterns and canonicalizes inputs;
// each component's regular expression runs here, on JavaScript's RegExp.
const URL_PATTERN_COMPONENTS = ["protocol", "username", "password", "hostname", "port", "pathname", "search", "hash"];

function urlPatternInput(input, what) {
  if (typeof input === "string") return input;
  if (input === null || typeof input !== "object") throw new TypeError(`${what}: the input must be a string or a URLPatternInit.`);
  const init = {};
  for (const key of [...URL_PATTERN_COMPONENTS, "baseURL"]) {
    if (input[key] !== undefined) init[key] = String(input[key]);
  }
  return init;
}

class URLPattern {
  #components;
  #regexps;
  #hasRegExpGroups;

  constructor(input = {}, baseURL = undefined, options = undefined) {
    if (baseURL !== null && typeof baseURL === "object" && options === undefined) {
      options = baseURL;
      baseURL = undefined;
    }
    const ignoreCase = Boolean(options?.ignoreCase);
    const json = JSON.stringify(urlPatternInput(input, "Failed to construct 'URLPattern'"));
    const parsed = JSON.parse(ops.op_urlpattern_parse(json, baseURL === undefined ? null : String(baseURL), ignoreCase));
    this.#components = {};
    this.#regexps = {};
    for (const name of URL_PATTERN_COMPONENTS) {
      const component = parsed[name];
      this.#components[name] = component;
      try {
        this.#regexps[name] = new RegExp(component.regexpString, ignoreCase ? "ui" : "u");
      } catch (err) {
        throw new TypeError(`Failed to construct 'URLPattern': invalid ${name} pattern (${err.message})`);
      }
    }
    this.#hasRegExpGroups = parsed.hasRegexpGroups;
  }

  get protocol() { return this.#components.protocol.patternString; }
  get username() { return this.#components.username.patternString; }
  get password() { return this.#components.password.patternString; }
  get hostname() { return this.#components.hostname.patternString; }
  get port() { return this.#components.port.patternString; }
  get pathname() { return this.#components.pathname.patternString; }
  get search() { return this.#components.search.patternString; }
  get hash() { return this.#components.hash.patternString; }
  get hasRegExpGroups() { return this.#hasRegExpGroups; }

  test(input = {}, baseURL = undefined) {
    return this.#match(input, baseURL, false) !== null;
  }

  exec(input = {}, baseURL = undefined) {
    return this.#match(input, baseURL, true);
  }

  #match(input, baseURL, withGroups) {
    const json = JSON.stringify(urlPatternInput(input, "Failed to execute 'exec' on 'URLPattern'"));
    const processed = ops.op_urlpattern_match_input(json, baseURL === undefined ? null : String(baseURL));
    if (processed === null || processed === undefined) return null;
    const [values, inputs] = JSON.parse(processed);
    const result = { inputs: inputs[1] === null ? [inputs[0]] : inputs };
    for (const name of URL_PATTERN_COMPONENTS) {
      const found = this.#regexps[name].exec(values[name]);
      if (found === null) return null;
      if (!withGroups) continue;
      const groups = {};
      this.#components[name].groupNameList.forEach((group, i) => { groups[group] = found[i + 1]; });
      result[name] = { input: values[name], groups };
    }
    return result;
  }
}

Object.defineProperty(globalThis, "URLPattern", { value: URLPattern, writable: true, configurable: true, enumerable: false });
