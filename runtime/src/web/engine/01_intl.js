// Intl for QuickJS-ng, which has none: Collator, NumberFormat, DateTimeFormat, PluralRules,
// RelativeTimeFormat, ListFormat and Segmenter, with the locale methods of String, Number and
// Date built on them. Every locale formats as en-US (resolvedOptions() says so); time zones are
// IANA's (the tz database Rust carries) or fixed offsets, with UTC the default. Collation
// approximates ICU's root order: letters by base letter, then accents, then lower case first;
// punctuation before digits before letters; `numeric` compares digit runs by value.
function makeIntl() {
const IntlLocale = "en-US";

function intlLocale(locales) {
  if (locales !== undefined && typeof locales !== "string" && !Array.isArray(locales)) {
    throw new TypeError("Incorrect locale information provided");
  }
  return IntlLocale;
}

// A time zone's canonical name: an IANA zone (Rust's tz database), or a fixed offset such as
// "+05:30". Workers run in UTC, the default.
function intlTimeZone(zone) {
  if (zone === undefined) return "UTC";
  const name = String(zone);
  if (/^(utc|gmt|etc\/utc|etc\/gmt|z|zulu|universal|etc\/universal)$/i.test(name)) return "UTC";
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(name);
  if (fixed) return `${fixed[1]}${fixed[2]}:${fixed[3]}`;
  const canonical = ops.op_intl_time_zone(name);
  if (canonical === undefined || canonical === null) throw new RangeError(`Invalid time zone specified: ${name}`);
  return canonical;
}

// [offset from UTC in minutes, abbreviation] of `zone` at `time` (ms since the epoch).
function intlZoneOffset(zone, time) {
  if (zone === "UTC") return [0, "UTC"];
  const fixed = /^([+-])(\d{2}):(\d{2})$/.exec(zone);
  if (fixed) return [(fixed[1] === "-" ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3])), zone];
  const found = ops.op_intl_time_zone_offset(zone, time);
  return found ? [Number(found[0]), found[1]] : [0, "UTC"];
}

// The zone abbreviations en-US shows (ICU's short metazone names for "en"); elsewhere it shows
// the offset ("GMT+2" for Paris in summer, not "CEST").
const EN_US_ZONE_ABBREVIATIONS = new Set(["EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT", "AKST", "AKDT", "HST", "HDT", "AST", "ADT", "GMT", "UTC"]);

// "GMT-4", "GMT+5:30" (short) or "GMT-04:00" (long), as V8 names an offset.
function intlOffsetName(minutes, long) {
  if (minutes === 0) return "GMT";
  const sign = minutes < 0 ? "-" : "+";
  const h = Math.floor(Math.abs(minutes) / 60), m = Math.abs(minutes) % 60;
  if (long) return `GMT${sign}${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
  return m === 0 ? `GMT${sign}${h}` : `GMT${sign}${h}:${String(m).padStart(2, "0")}`;
}

// ---- Collation ----
const COMBINING_MARKS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g;
const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;
const SPACE = /\s/u;

function charClass(c) {
  if (SPACE.test(c)) return 0;
  if (LETTER.test(c)) return 3;
  if (DIGIT.test(c)) return 2;
  return 1;
}

function compareBase(a, b, numeric) {
  const x = Array.from(a), y = Array.from(b);
  let i = 0, j = 0;
  while (i < x.length && j < y.length) {
    if (numeric && DIGIT.test(x[i]) && DIGIT.test(y[j])) {
      let m = i, n = j;
      while (m < x.length && DIGIT.test(x[m])) m++;
      while (n < y.length && DIGIT.test(y[n])) n++;
      const p = x.slice(i, m).join("").replace(/^0+(?=\d)/, ""), q = y.slice(j, n).join("").replace(/^0+(?=\d)/, "");
      if (p.length !== q.length) return p.length < q.length ? -1 : 1;
      if (p !== q) return p < q ? -1 : 1;
      i = m; j = n;
      continue;
    }
    if (x[i] !== y[j]) {
      const cx = charClass(x[i]), cy = charClass(y[j]);
      if (cx !== cy) return cx < cy ? -1 : 1;
      return x[i].codePointAt(0) < y[j].codePointAt(0) ? -1 : 1;
    }
    i++; j++;
  }
  if (i < x.length) return 1;
  if (j < y.length) return -1;
  return 0;
}

function collate(a, b, options) {
  a = String(a); b = String(b);
  if (a === b) return 0;
  const da = a.normalize("NFD"), db = b.normalize("NFD");
  const ba = da.replace(COMBINING_MARKS, "").toLowerCase(), bb = db.replace(COMBINING_MARKS, "").toLowerCase();
  const primary = compareBase(ba, bb, options.numeric);
  if (primary !== 0 || options.sensitivity === "base") return primary;
  if (options.sensitivity !== "case") {
    const la = da.toLowerCase(), lb = db.toLowerCase();
    if (la !== lb) return la < lb ? -1 : 1;
    if (options.sensitivity === "accent") return 0;
  }
  const ca = Array.from(da), cb = Array.from(db);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    if (ca[i] !== cb[i]) {
      const lowerFirst = options.caseFirst !== "upper";
      const aLower = ca[i] === ca[i].toLowerCase();
      return aLower === lowerFirst ? -1 : 1;
    }
  }
  return ca.length === cb.length ? 0 : ca.length < cb.length ? -1 : 1;
}

class Collator {
  #options;
  constructor(locales = undefined, options = {}) {
    intlLocale(locales);
    options = options ?? {};
    const usage = options.usage ?? "sort";
    this.#options = {
      locale: IntlLocale, usage, sensitivity: options.sensitivity ?? "variant",
      ignorePunctuation: Boolean(options.ignorePunctuation), collation: "default",
      numeric: Boolean(options.numeric), caseFirst: options.caseFirst ?? "false",
    };
    const compare = (a, b) => collate(a, b, this.#options);
    Object.defineProperty(this, "compare", { get: () => compare });
  }
  resolvedOptions() { return { ...this.#options }; }
  static supportedLocalesOf() { return [IntlLocale]; }
}

// ---- Numbers ----
const CURRENCY_SYMBOLS = { USD: "$", EUR: "€", GBP: "£", JPY: "¥", INR: "₹", CNY: "CN¥", CAD: "CA$", AUD: "A$", KRW: "₩", BRL: "R$", MXN: "MX$", CHF: "CHF", HKD: "HK$", NZD: "NZ$", ILS: "₪", VND: "₫", TWD: "NT$", PHP: "₱" };
const ZERO_DECIMAL_CURRENCIES = new Set(["JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"]);

function groupDigits(integer, useGrouping) {
  if (!useGrouping || integer.length <= 3) return integer;
  let out = "";
  for (let i = 0; i < integer.length; i++) {
    if (i > 0 && (integer.length - i) % 3 === 0) out += ",";
    out += integer[i];
  }
  return out;
}

function roundToFraction(value, maxFraction) {
  // Half away from zero, as ICU rounds, on the decimal string rather than the binary value.
  const text = Math.abs(value).toFixed(Math.min(100, maxFraction + 3));
  const [int, frac = ""] = text.split(".");
  const kept = frac.slice(0, maxFraction);
  const next = frac.charCodeAt(maxFraction) - 48;
  let digits = (int + kept).split("").map(Number);
  if (next >= 5) {
    let k = digits.length - 1;
    while (k >= 0) {
      if (digits[k] === 9) { digits[k] = 0; k--; } else { digits[k]++; break; }
    }
    if (k < 0) digits.unshift(1);
  }
  const all = digits.join("");
  const intLen = all.length - kept.length;
  return [all.slice(0, intLen) || "0", all.slice(intLen)];
}

class NumberFormat {
  #o;
  constructor(locales = undefined, options = {}) {
    intlLocale(locales);
    options = options ?? {};
    const style = options.style ?? "decimal";
    if (!["decimal", "percent", "currency", "unit"].includes(style)) throw new RangeError(`Value ${style} out of range for Intl.NumberFormat options property style`);
    const currency = options.currency === undefined ? undefined : String(options.currency).toUpperCase();
    if (style === "currency" && currency === undefined) throw new TypeError("Currency code is required with currency style.");
    const currencyDigits = currency !== undefined && ZERO_DECIMAL_CURRENCIES.has(currency) ? 0 : 2;
    const minDefault = style === "currency" ? currencyDigits : 0;
    const maxDefault = style === "currency" ? currencyDigits : style === "percent" ? 0 : 3;
    let min = options.minimumFractionDigits ?? minDefault;
    let max = options.maximumFractionDigits ?? Math.max(min, maxDefault);
    if (options.maximumFractionDigits !== undefined && options.minimumFractionDigits === undefined) min = Math.min(min, max);
    if (min > max) throw new RangeError("maximumFractionDigits value is out of range.");
    this.#o = {
      locale: IntlLocale, numberingSystem: "latn", style, currency,
      currencyDisplay: options.currencyDisplay ?? "symbol", unit: options.unit, unitDisplay: options.unitDisplay ?? "short",
      minimumIntegerDigits: options.minimumIntegerDigits ?? 1, minimumFractionDigits: min, maximumFractionDigits: max,
      maximumSignificantDigits: options.maximumSignificantDigits, useGrouping: options.useGrouping ?? "auto",
      notation: options.notation ?? "standard", compactDisplay: options.compactDisplay ?? "short",
      signDisplay: options.signDisplay ?? "auto",
    };
    const format = (value) => this.formatToParts(value).map((p) => p.value).join("");
    Object.defineProperty(this, "format", { get: () => format });
  }

  formatToParts(value) {
    const o = this.#o;
    let n = typeof value === "bigint" ? Number(value) : Number(value);
    const parts = [];
    const negative = n < 0 || Object.is(n, -0);
    if (o.style === "percent") n *= 100;
    let suffix = "";
    if (o.notation === "compact" && Number.isFinite(n)) {
      const abs = Math.abs(n);
      const units = o.compactDisplay === "long" ? [[1e12, " trillion"], [1e9, " billion"], [1e6, " million"], [1e3, " thousand"]] : [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
      for (const [size, label] of units) {
        if (abs >= size) { n = n / size; suffix = label; break; }
      }
    }
    const zero = n === 0;
    const sign = o.signDisplay;
    if (negative && (sign === "auto" || sign === "always" || (!zero && (sign === "exceptZero" || sign === "negative")))) {
      parts.push({ type: "minusSign", value: "-" });
    } else if (!negative && (sign === "always" || (sign === "exceptZero" && !zero))) {
      parts.push({ type: "plusSign", value: "+" });
    }
    if (o.style === "currency") {
      const symbol = o.currencyDisplay === "code" ? `${o.currency}\u00a0` : o.currencyDisplay === "name" ? "" : (CURRENCY_SYMBOLS[o.currency] ?? `${o.currency}\u00a0`);
      if (symbol) parts.push({ type: "currency", value: symbol });
    }
    if (Number.isNaN(n)) parts.push({ type: "nan", value: "NaN" });
    else if (!Number.isFinite(n)) parts.push({ type: "infinity", value: "∞" });
    else {
      let integer, fraction;
      if (o.maximumSignificantDigits !== undefined) {
        const text = Number(Math.abs(n).toPrecision(o.maximumSignificantDigits)).toString();
        [integer, fraction = ""] = text.includes("e") ? [Math.abs(n).toFixed(0), ""] : text.split(".");
      } else {
        const noCompactDigits = suffix !== "" && o.maximumFractionDigits === 3 && o.minimumFractionDigits === 0;
        const max = noCompactDigits ? (Math.abs(n) < 100 ? 1 : 0) : o.maximumFractionDigits;
        [integer, fraction] = roundToFraction(n, max);
        while (fraction.length > o.minimumFractionDigits && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
      }
      integer = integer.padStart(o.minimumIntegerDigits, "0");
      const grouped = groupDigits(integer, o.useGrouping !== false && !(o.useGrouping === "min2" && integer.length < 5));
      grouped.split(",").forEach((group, i) => {
        if (i > 0) parts.push({ type: "group", value: "," });
        parts.push({ type: "integer", value: group });
      });
      if (fraction.length > 0) {
        parts.push({ type: "decimal", value: "." });
        parts.push({ type: "fraction", value: fraction });
      }
    }
    if (suffix) parts.push({ type: "compact", value: suffix });
    if (o.style === "percent") parts.push({ type: "percentSign", value: "%" });
    if (o.style === "currency" && o.currencyDisplay === "name") parts.push({ type: "literal", value: " " }, { type: "currency", value: o.currency });
    if (o.style === "unit" && o.unit) parts.push({ type: "literal", value: " " }, { type: "unit", value: o.unit });
    return parts;
  }

  resolvedOptions() {
    const out = {};
    for (const [key, value] of Object.entries(this.#o)) if (value !== undefined) out[key] = value;
    return out;
  }
  static supportedLocalesOf() { return [IntlLocale]; }
}

// ---- Dates ----
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const DATE_STYLES = {
  full: { weekday: "long", year: "numeric", month: "long", day: "numeric" },
  long: { year: "numeric", month: "long", day: "numeric" },
  medium: { year: "numeric", month: "short", day: "numeric" },
  short: { year: "2-digit", month: "numeric", day: "numeric" },
};
const TIME_STYLES = {
  full: { hour: "numeric", minute: "2-digit", second: "2-digit", timeZoneName: "long" },
  long: { hour: "numeric", minute: "2-digit", second: "2-digit", timeZoneName: "short" },
  medium: { hour: "numeric", minute: "2-digit", second: "2-digit" },
  short: { hour: "numeric", minute: "2-digit" },
};
const DATE_FIELDS = ["weekday", "era", "year", "month", "day", "hour", "minute", "second", "fractionalSecondDigits", "timeZoneName", "dayPeriod"];

class DateTimeFormat {
  #o;
  constructor(locales = undefined, options = {}, defaults = "date") {
    intlLocale(locales);
    options = options ?? {};
    const timeZone = intlTimeZone(options.timeZone);
    let fields = {};
    if (options.dateStyle !== undefined || options.timeStyle !== undefined) {
      if (options.dateStyle !== undefined) Object.assign(fields, DATE_STYLES[options.dateStyle] ?? (() => { throw new RangeError(`Value ${options.dateStyle} out of range for Intl.DateTimeFormat options property dateStyle`); })());
      if (options.timeStyle !== undefined) Object.assign(fields, TIME_STYLES[options.timeStyle] ?? (() => { throw new RangeError(`Value ${options.timeStyle} out of range for Intl.DateTimeFormat options property timeStyle`); })());
    } else {
      for (const key of DATE_FIELDS) if (options[key] !== undefined) fields[key] = options[key];
      const hasDate = ["weekday", "year", "month", "day"].some((k) => fields[k] !== undefined);
      const hasTime = ["hour", "minute", "second", "fractionalSecondDigits"].some((k) => fields[k] !== undefined);
      if (!hasDate && !hasTime) {
        if (defaults === "date" || defaults === "all") Object.assign(fields, { year: "numeric", month: "numeric", day: "numeric" });
        if (defaults === "time" || defaults === "all") Object.assign(fields, { hour: "numeric", minute: "2-digit", second: "2-digit" });
      }
    }
    if (fields.minute !== undefined && fields.hour !== undefined) fields.minute = "2-digit";
    if (fields.second !== undefined && fields.minute !== undefined) fields.second = "2-digit";
    const hour12 = options.hour12 ?? (options.hourCycle ? options.hourCycle === "h12" || options.hourCycle === "h11" : true);
    this.#o = { locale: IntlLocale, calendar: "gregory", numberingSystem: "latn", timeZone, hour12, fields, dateStyle: options.dateStyle, timeStyle: options.timeStyle };
    const format = (date) => this.formatToParts(date).map((p) => p.value).join("");
    Object.defineProperty(this, "format", { get: () => format });
  }

  formatToParts(date = undefined) {
    const time = date === undefined ? Date.now() : date instanceof Date ? date.getTime() : Number(date);
    if (!Number.isFinite(time)) throw new RangeError("Invalid time value");
    // The zone's wall-clock time, read with the UTC getters below.
    const [offset, abbreviation] = intlZoneOffset(this.#o.timeZone, time);
    const d = new Date(time + offset * 60000);
    const f = this.#o.fields;
    const parts = [];
    const lit = (value) => parts.push({ type: "literal", value });
    const num = (value, style) => (style === "2-digit" ? String(value % 100).padStart(2, "0") : String(value));
    const year = d.getUTCFullYear(), month = d.getUTCMonth(), day = d.getUTCDate();
    const textMonth = f.month === "long" || f.month === "short" || f.month === "narrow";
    const monthText = f.month === "long" ? MONTHS[month] : f.month === "short" ? MONTHS[month].slice(0, 3) : f.month === "narrow" ? MONTHS[month][0] : num(month + 1, f.month);
    if (f.weekday !== undefined) {
      const name = WEEKDAYS[d.getUTCDay()];
      parts.push({ type: "weekday", value: f.weekday === "long" ? name : f.weekday === "short" ? name.slice(0, 3) : name[0] });
      if (f.year !== undefined || f.month !== undefined || f.day !== undefined) lit(", ");
    }
    if (textMonth) {
      if (f.month !== undefined) parts.push({ type: "month", value: monthText });
      if (f.day !== undefined) { lit(" "); parts.push({ type: "day", value: num(day, f.day) }); }
      if (f.year !== undefined) { lit(f.day !== undefined ? ", " : " "); parts.push({ type: "year", value: num(year, f.year) }); }
    } else {
      const pieces = [];
      if (f.month !== undefined) pieces.push({ type: "month", value: monthText });
      if (f.day !== undefined) pieces.push({ type: "day", value: num(day, f.day) });
      if (f.year !== undefined) pieces.push({ type: "year", value: num(year, f.year) });
      pieces.forEach((piece, i) => { if (i > 0) lit("/"); parts.push(piece); });
    }
    const hasTime = f.hour !== undefined || f.minute !== undefined || f.second !== undefined;
    if (hasTime) {
      if (parts.length > 0) lit(", ");
      const hours = d.getUTCHours();
      const timePieces = [];
      if (f.hour !== undefined) {
        const h = this.#o.hour12 ? (hours % 12 === 0 ? 12 : hours % 12) : hours;
        timePieces.push({ type: "hour", value: f.hour === "2-digit" || !this.#o.hour12 ? String(h).padStart(2, "0") : String(h) });
      }
      if (f.minute !== undefined) timePieces.push({ type: "minute", value: String(d.getUTCMinutes()).padStart(f.hour !== undefined || f.minute === "2-digit" ? 2 : 1, "0") });
      if (f.second !== undefined) timePieces.push({ type: "second", value: String(d.getUTCSeconds()).padStart(f.minute !== undefined || f.second === "2-digit" ? 2 : 1, "0") });
      timePieces.forEach((piece, i) => { if (i > 0) lit(":"); parts.push(piece); });
      if (f.fractionalSecondDigits) {
        lit(".");
        parts.push({ type: "fractionalSecond", value: String(d.getUTCMilliseconds()).padStart(3, "0").slice(0, f.fractionalSecondDigits) });
      }
      if (f.hour !== undefined && this.#o.hour12) { lit(" "); parts.push({ type: "dayPeriod", value: hours < 12 ? "AM" : "PM" }); }
    }
    if (f.timeZoneName !== undefined) {
      lit(" ");
      let value;
      if (this.#o.timeZone === "UTC") {
        value = f.timeZoneName === "long" ? "Coordinated Universal Time" : f.timeZoneName === "short" ? "UTC" : intlOffsetName(0, false);
      } else if (f.timeZoneName === "short" && EN_US_ZONE_ABBREVIATIONS.has(abbreviation)) {
        value = abbreviation;
      } else {
        value = intlOffsetName(offset, f.timeZoneName === "longOffset" || f.timeZoneName === "long");
      }
      parts.push({ type: "timeZoneName", value });
    }
    return parts;
  }

  formatRange(start, end) { return `${this.format(start)} – ${this.format(end)}`; }

  resolvedOptions() {
    const o = this.#o;
    const out = { locale: o.locale, calendar: o.calendar, numberingSystem: o.numberingSystem, timeZone: o.timeZone };
    if (o.fields.hour !== undefined) { out.hourCycle = o.hour12 ? "h12" : "h23"; out.hour12 = o.hour12; }
    if (o.dateStyle !== undefined) out.dateStyle = o.dateStyle;
    if (o.timeStyle !== undefined) out.timeStyle = o.timeStyle;
    if (o.dateStyle === undefined && o.timeStyle === undefined) Object.assign(out, o.fields);
    return out;
  }
  static supportedLocalesOf() { return [IntlLocale]; }
}

// ---- Words ----
class PluralRules {
  #type;
  constructor(locales = undefined, options = {}) {
    intlLocale(locales);
    this.#type = options?.type ?? "cardinal";
  }
  select(n) {
    n = Number(n);
    if (this.#type === "ordinal") {
      const ten = n % 10, hundred = n % 100;
      if (ten === 1 && hundred !== 11) return "one";
      if (ten === 2 && hundred !== 12) return "two";
      if (ten === 3 && hundred !== 13) return "few";
      return "other";
    }
    return n === 1 ? "one" : "other";
  }
  resolvedOptions() {
    return { locale: IntlLocale, type: this.#type, pluralCategories: this.#type === "ordinal" ? ["few", "one", "two", "other"] : ["one", "other"] };
  }
  static supportedLocalesOf() { return [IntlLocale]; }
}

const RELATIVE_AUTO = {
  day: ["yesterday", "today", "tomorrow"], year: ["last year", "this year", "next year"],
  month: ["last month", "this month", "next month"], week: ["last week", "this week", "next week"],
  quarter: ["last quarter", "this quarter", "next quarter"], hour: [null, "this hour", null],
  minute: [null, "this minute", null], second: [null, "now", null],
};

class RelativeTimeFormat {
  #numeric;
  constructor(locales = undefined, options = {}) {
    intlLocale(locales);
    this.#numeric = options?.numeric ?? "always";
  }
  format(value, unit) {
    value = Number(value);
    let u = String(unit).replace(/s$/, "");
    if (!RELATIVE_AUTO[u]) throw new RangeError(`Invalid unit argument for format() '${unit}'`);
    if (this.#numeric === "auto" && [-1, 0, 1].includes(value)) {
      const word = RELATIVE_AUTO[u][value + 1];
      if (word) return word;
    }
    const abs = Math.abs(value);
    const label = `${new NumberFormat().format(abs)} ${u}${abs === 1 ? "" : "s"}`;
    return value < 0 || Object.is(value, -0) ? `${label} ago` : `in ${label}`;
  }
  resolvedOptions() { return { locale: IntlLocale, style: "long", numeric: this.#numeric, numberingSystem: "latn" }; }
  static supportedLocalesOf() { return [IntlLocale]; }
}

class ListFormat {
  #word;
  constructor(locales = undefined, options = {}) {
    intlLocale(locales);
    const type = options?.type ?? "conjunction";
    this.#word = type === "disjunction" ? "or" : type === "unit" ? "" : "and";
  }
  format(list) {
    const items = Array.from(list, String);
    if (items.length <= 1) return items.join("");
    if (this.#word === "") return items.join(", ");
    if (items.length === 2) return `${items[0]} ${this.#word} ${items[1]}`;
    return `${items.slice(0, -1).join(", ")}, ${this.#word} ${items[items.length - 1]}`;
  }
  static supportedLocalesOf() { return [IntlLocale]; }
}

class Segmenter {
  #granularity;
  constructor(locales = undefined, options = {}) {
    intlLocale(locales);
    this.#granularity = options?.granularity ?? "grapheme";
  }
  segment(input) {
    input = String(input);
    const granularity = this.#granularity;
    const pieces = granularity === "word"
      ? input.match(/[\p{L}\p{N}_'’]+|\s+|[^\p{L}\p{N}_'’\s]/gu) ?? []
      : granularity === "sentence"
        ? input.match(/[^.!?]+[.!?]*\s*/g) ?? []
        : input.match(/\P{M}\p{M}*|\p{M}+/gu) ?? [];
    const segments = [];
    let index = 0;
    for (const segment of pieces) {
      const entry = { segment, index, input };
      if (granularity === "word") entry.isWordLike = /[\p{L}\p{N}]/u.test(segment);
      segments.push(entry);
      index += segment.length;
    }
    return {
      [Symbol.iterator]() { return segments[Symbol.iterator](); },
      containing(at = 0) { return segments.find((s) => at >= s.index && at < s.index + s.segment.length); },
    };
  }
  resolvedOptions() { return { locale: IntlLocale, granularity: this.#granularity }; }
  static supportedLocalesOf() { return [IntlLocale]; }
}


  // V8's Intl constructors also work without `new` (the legacy call form many libraries use).
  const callable = (Class) => new Proxy(Class, { apply: (target, _, args) => new target(...args) });
  const Intl = {
    Collator: callable(Collator), NumberFormat: callable(NumberFormat), DateTimeFormat: callable(DateTimeFormat),
    PluralRules, RelativeTimeFormat, ListFormat, Segmenter,
    getCanonicalLocales(locales) { return locales === undefined ? [] : [IntlLocale]; },
    supportedValuesOf(key) { return key === "timeZone" ? ops.op_intl_time_zones() : key === "currency" ? Object.keys(CURRENCY_SYMBOLS) : []; },
  };
  Object.defineProperty(Intl, Symbol.toStringTag, { value: "Intl" });
  return { Intl, Collator, NumberFormat, DateTimeFormat };
}

// Built on first use (most workers never touch Intl): the classes above live in makeIntl().
let intlMade = null;
function intl() {
  if (intlMade === null) intlMade = makeIntl();
  return intlMade;
}

if (typeof globalThis.Intl === "undefined") {
  Object.defineProperty(globalThis, "Intl", {
    get() {
      const value = intl().Intl;
      Object.defineProperty(globalThis, "Intl", { value, writable: true, configurable: true, enumerable: false });
      return value;
    },
    set(value) {
      Object.defineProperty(globalThis, "Intl", { value, writable: true, configurable: true, enumerable: false });
    },
    configurable: true,
    enumerable: false,
  });
  const define = (target, name, fn) => Object.defineProperty(target, name, { value: fn, writable: true, configurable: true, enumerable: false });
  define(String.prototype, "localeCompare", function localeCompare(that, locales = undefined, options = undefined) {
    return new (intl().Collator)(locales, options).compare(String(this), String(that));
  });
  define(Number.prototype, "toLocaleString", function toLocaleString(locales = undefined, options = undefined) {
    return new (intl().NumberFormat)(locales, options).format(Number(this));
  });
  define(BigInt.prototype, "toLocaleString", function toLocaleString(locales = undefined, options = undefined) {
    return new (intl().NumberFormat)(locales, options).format(this.valueOf());
  });
  const dateLocale = (kind) => function (locales = undefined, options = undefined) {
    if (Number.isNaN(this.getTime())) return "Invalid Date";
    return new (intl().DateTimeFormat)(locales, options, kind).format(this);
  };
  define(Date.prototype, "toLocaleString", dateLocale("all"));
  define(Date.prototype, "toLocaleDateString", dateLocale("date"));
  define(Date.prototype, "toLocaleTimeString", dateLocale("time"));
  define(Array.prototype, "toLocaleString", function toLocaleString(locales = undefined, options = undefined) {
    return Array.from(this, (item) => (item === null || item === undefined ? "" : item.toLocaleString(locales, options))).join(",");
  });
}
