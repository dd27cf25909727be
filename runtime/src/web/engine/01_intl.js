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

// ICU's long ("generic metazone") names in English, by the zone's abbreviation in the tz
// database; a zone the table lacks is named by its offset ("GMT+08:00").
const ZONE_LONG_NAMES = {
  EST: "Eastern Standard Time", EDT: "Eastern Daylight Time", CST: "Central Standard Time",
  CDT: "Central Daylight Time", MST: "Mountain Standard Time", MDT: "Mountain Daylight Time",
  PST: "Pacific Standard Time", PDT: "Pacific Daylight Time", AKST: "Alaska Standard Time",
  AKDT: "Alaska Daylight Time", HST: "Hawaii-Aleutian Standard Time", HDT: "Hawaii-Aleutian Daylight Time",
  AST: "Atlantic Standard Time", ADT: "Atlantic Daylight Time", NST: "Newfoundland Standard Time",
  NDT: "Newfoundland Daylight Time", GMT: "Greenwich Mean Time", BST: "British Summer Time",
  WET: "Western European Standard Time", WEST: "Western European Summer Time",
  CET: "Central European Standard Time", CEST: "Central European Summer Time",
  EET: "Eastern European Standard Time", EEST: "Eastern European Summer Time", MSK: "Moscow Standard Time",
  JST: "Japan Standard Time", KST: "Korean Standard Time", HKT: "Hong Kong Standard Time",
  PHT: "Philippine Standard Time", WIB: "Western Indonesia Time", SAST: "South Africa Standard Time",
  AEST: "Australian Eastern Standard Time", AEDT: "Australian Eastern Daylight Time",
  ACST: "Australian Central Standard Time", ACDT: "Australian Central Daylight Time",
  AWST: "Australian Western Standard Time", NZST: "New Zealand Standard Time", NZDT: "New Zealand Daylight Time",
  PKT: "Pakistan Standard Time", CAT: "Central Africa Time", EAT: "East Africa Time", WAT: "West Africa Standard Time",
};
// Zones whose tz abbreviation is ambiguous or only an offset ("+08"), by name.
const ZONE_LONG_NAMES_BY_ZONE = {
  "Asia/Kolkata": "India Standard Time", "Asia/Calcutta": "India Standard Time", "Asia/Shanghai": "China Standard Time",
  "Asia/Singapore": "Singapore Standard Time", "Asia/Dubai": "Gulf Standard Time", "Asia/Taipei": "Taipei Standard Time",
  "Asia/Bangkok": "Indochina Time", "Asia/Ho_Chi_Minh": "Indochina Time", "Asia/Kuala_Lumpur": "Malaysia Time",
  "America/Sao_Paulo": "Brasilia Standard Time", "America/Argentina/Buenos_Aires": "Argentina Standard Time",
  "America/Bogota": "Colombia Standard Time", "America/Lima": "Peru Standard Time",
};

function intlZoneLongName(zone, abbreviation, offset) {
  if (zone === "Europe/Dublin" && abbreviation === "IST") return "Irish Standard Time";
  if (zone === "Asia/Jerusalem" || zone === "Asia/Tel_Aviv") return abbreviation === "IDT" ? "Israel Daylight Time" : "Israel Standard Time";
  return ZONE_LONG_NAMES_BY_ZONE[zone] ?? ZONE_LONG_NAMES[abbreviation] ?? intlOffsetName(offset, true);
}

// The Unicode extension keywords of a locale tag ("en-u-hc-h23-ca-iso8601"): {hc: "h23", ...}.
function localeExtensions(locales) {
  const tag = Array.isArray(locales) ? locales[0] : locales;
  const out = {};
  if (typeof tag !== "string") return out;
  const subtags = tag.toLowerCase().split(/[-_]/);
  const start = subtags.indexOf("u");
  if (start < 0) return out;
  let key = null;
  for (const subtag of subtags.slice(start + 1)) {
    if (subtag.length === 1) break; // another extension
    if (subtag.length === 2) { key = subtag; out[key] = ""; } else if (key !== null) out[key] = out[key] ? `${out[key]}-${subtag}` : subtag;
  }
  return out;
}

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

// The shortest decimal digits of a finite `x` >= 0 (as String() gives them, and as ICU rounds
// from), written out without an exponent: 1e21 is "1000000000000000000000", 1.2e-7 is
// "0.00000012".
function plainDecimal(x) {
  const text = String(x);
  const e = text.indexOf("e");
  if (e < 0) return text;
  const [int, frac = ""] = text.slice(0, e).split(".");
  const digits = int + frac;
  const point = int.length + Number(text.slice(e + 1));
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

function roundToFraction(value, maxFraction) {
  // Half away from zero, as ICU rounds, on the shortest decimal digits rather than the binary
  // value.
  const text = plainDecimal(Math.abs(value));
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

// Units of style "unit" (CLDR's en): [long singular, long plural, short, narrow]; a short or
// narrow form starting with "\u0000" is written without a space ("50%", "3m").
const UNITS = {
  percent: ["percent", "percent", "\u0000%", "\u0000%"],
  millisecond: ["millisecond", "milliseconds", "ms", "\u0000ms"], second: ["second", "seconds", "sec", "\u0000s"],
  minute: ["minute", "minutes", "min", "\u0000m"], hour: ["hour", "hours", "hr", "\u0000h"],
  day: ["day", "days", "day", "\u0000d"], week: ["week", "weeks", "wk", "\u0000w"],
  month: ["month", "months", "mth", "\u0000m"], year: ["year", "years", "yr", "\u0000y"],
  microsecond: ["microsecond", "microseconds", "μs", "\u0000μs"], nanosecond: ["nanosecond", "nanoseconds", "ns", "\u0000ns"],
  bit: ["bit", "bits", "bit", "\u0000bit"], byte: ["byte", "bytes", "byte", "\u0000B"],
  kilobit: ["kilobit", "kilobits", "kb", "\u0000kb"], kilobyte: ["kilobyte", "kilobytes", "kB", "\u0000kB"],
  megabit: ["megabit", "megabits", "Mb", "\u0000Mb"], megabyte: ["megabyte", "megabytes", "MB", "\u0000MB"],
  gigabit: ["gigabit", "gigabits", "Gb", "\u0000Gb"], gigabyte: ["gigabyte", "gigabytes", "GB", "\u0000GB"],
  terabit: ["terabit", "terabits", "Tb", "\u0000Tb"], terabyte: ["terabyte", "terabytes", "TB", "\u0000TB"],
  petabyte: ["petabyte", "petabytes", "PB", "\u0000PB"],
  millimeter: ["millimeter", "millimeters", "mm", "\u0000mm"], centimeter: ["centimeter", "centimeters", "cm", "\u0000cm"],
  meter: ["meter", "meters", "m", "\u0000m"], kilometer: ["kilometer", "kilometers", "km", "\u0000km"],
  inch: ["inch", "inches", "in", "\u0000″"], foot: ["foot", "feet", "ft", "\u0000′"], yard: ["yard", "yards", "yd", "\u0000yd"],
  mile: ["mile", "miles", "mi", "\u0000mi"], gram: ["gram", "grams", "g", "\u0000g"], kilogram: ["kilogram", "kilograms", "kg", "\u0000kg"],
  ounce: ["ounce", "ounces", "oz", "\u0000oz"], pound: ["pound", "pounds", "lb", "\u0000#"], stone: ["stone", "stones", "st", "\u0000st"],
  liter: ["liter", "liters", "L", "\u0000L"], milliliter: ["milliliter", "milliliters", "mL", "\u0000mL"],
  gallon: ["gallon", "gallons", "gal", "\u0000gal"], "fluid-ounce": ["fluid ounce", "fluid ounces", "fl oz", "\u0000fl oz"],
  celsius: ["degree Celsius", "degrees Celsius", "\u0000°C", "\u0000°C"], fahrenheit: ["degree Fahrenheit", "degrees Fahrenheit", "\u0000°F", "\u0000°"],
  degree: ["degree", "degrees", "deg", "\u0000°"], acre: ["acre", "acres", "ac", "\u0000ac"], hectare: ["hectare", "hectares", "ha", "\u0000ha"],
  "kilometer-per-hour": ["kilometer per hour", "kilometers per hour", "km/h", "\u0000km/h"],
  "mile-per-hour": ["mile per hour", "miles per hour", "mph", "\u0000mph"],
  "meter-per-second": ["meter per second", "meters per second", "m/s", "\u0000m/s"],
};
const CURRENCY_NAMES = {
  USD: ["US dollar", "US dollars"], EUR: ["euro", "euros"], GBP: ["British pound", "British pounds"],
  JPY: ["Japanese yen", "Japanese yen"], CNY: ["Chinese yuan", "Chinese yuan"], INR: ["Indian rupee", "Indian rupees"],
  CAD: ["Canadian dollar", "Canadian dollars"], AUD: ["Australian dollar", "Australian dollars"],
  CHF: ["Swiss franc", "Swiss francs"], KRW: ["South Korean won", "South Korean won"], BRL: ["Brazilian real", "Brazilian reals"],
  MXN: ["Mexican peso", "Mexican pesos"], SEK: ["Swedish krona", "Swedish kronor"], NZD: ["New Zealand dollar", "New Zealand dollars"],
  SGD: ["Singapore dollar", "Singapore dollars"], HKD: ["Hong Kong dollar", "Hong Kong dollars"], NOK: ["Norwegian krone", "Norwegian kroner"],
  DKK: ["Danish krone", "Danish kroner"], PLN: ["Polish zloty", "Polish zlotys"], RUB: ["Russian ruble", "Russian rubles"],
  ZAR: ["South African rand", "South African rand"], TRY: ["Turkish lira", "Turkish Lira"], ILS: ["Israeli new shekel", "Israeli new shekels"],
};

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
      signDisplay: options.signDisplay ?? "auto", currencySign: options.currencySign ?? "standard",
    };
    if (style === "unit") {
      if (options.unit === undefined) throw new TypeError("Unit is required with unit style.");
      if (UNITS[options.unit] === undefined) throw new RangeError(`Invalid unit argument for Intl.NumberFormat() '${options.unit}'`);
    }
    const format = (value) => this.formatToParts(value).map((p) => p.value).join("");
    Object.defineProperty(this, "format", { get: () => format });
  }

  formatToParts(value) {
    const o = this.#o;
    let n = typeof value === "bigint" ? Number(value) : Number(value);
    // A BigInt keeps every digit where it is written out in full.
    const big = typeof value === "bigint" && o.notation === "standard" && o.style !== "percent" && o.maximumSignificantDigits === undefined ? (value < 0n ? -value : value) : null;
    const parts = [];
    const negative = n < 0 || Object.is(n, -0);
    const original = Math.abs(n);
    if (o.style === "percent") n *= 100;
    let suffix = "";
    let exponent = null;
    if ((o.notation === "scientific" || o.notation === "engineering") && Number.isFinite(n) && n !== 0) {
      exponent = Math.floor(Math.log10(Math.abs(n)));
      if (o.notation === "engineering") exponent -= ((exponent % 3) + 3) % 3;
      n /= 10 ** exponent;
      if (Math.abs(Number(Math.abs(n).toFixed(o.maximumFractionDigits))) >= (o.notation === "engineering" ? 1000 : 10)) {
        exponent += o.notation === "engineering" ? 3 : 1;
        n /= o.notation === "engineering" ? 1000 : 10;
      }
    }
    if (o.notation === "compact" && Number.isFinite(n)) {
      const abs = Math.abs(n);
      const units = o.compactDisplay === "long" ? [[1e12, " trillion"], [1e9, " billion"], [1e6, " million"], [1e3, " thousand"]] : [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
      for (const [size, label] of units) {
        if (abs >= size) { n = n / size; suffix = label; break; }
      }
    }
    const zero = n === 0;
    const sign = o.signDisplay;
    const accounting = o.style === "currency" && o.currencySign === "accounting";
    const showMinus = negative && (sign === "auto" || sign === "always" || (!zero && (sign === "exceptZero" || sign === "negative")));
    if (showMinus && accounting) {
      parts.push({ type: "literal", value: "(" });
    } else if (showMinus) {
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
      if (big !== null) {
        [integer, fraction] = [big.toString(), "0".repeat(o.minimumFractionDigits)];
      } else if (o.maximumSignificantDigits !== undefined) {
        [integer, fraction = ""] = plainDecimal(Number(Math.abs(n).toPrecision(o.maximumSignificantDigits))).split(".");
      } else {
        const noCompactDigits = suffix !== "" && o.maximumFractionDigits === 3 && o.minimumFractionDigits === 0;
        const max = noCompactDigits ? (Math.abs(n) < 100 ? 1 : 0) : o.maximumFractionDigits;
        [integer, fraction] = roundToFraction(n, max);
        while (fraction.length > o.minimumFractionDigits && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
        fraction = fraction.padEnd(o.minimumFractionDigits, "0");
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
    if (exponent !== null) parts.push({ type: "exponentSeparator", value: "E" }, { type: "exponentInteger", value: String(exponent) });
    if (suffix) parts.push({ type: "compact", value: suffix });
    if (o.style === "percent") parts.push({ type: "percentSign", value: "%" });
    if (o.style === "currency" && o.currencyDisplay === "name") {
      const names = CURRENCY_NAMES[o.currency];
      const one = original === 1 && o.minimumFractionDigits === 0;
      parts.push({ type: "literal", value: " " }, { type: "currency", value: names ? names[one ? 0 : 1] : o.currency });
    }
    if (o.style === "unit" && o.unit) {
      const forms = UNITS[o.unit];
      const label = o.unitDisplay === "long" ? forms[Math.abs(n) === 1 && !suffix ? 0 : 1] : forms[o.unitDisplay === "narrow" ? 3 : 2];
      if (label.startsWith("\u0000")) parts.push({ type: "unit", value: label.slice(1) });
      else parts.push({ type: "literal", value: " " }, { type: "unit", value: label });
    }
    if (showMinus && accounting) parts.push({ type: "literal", value: ")" });
    return parts;
  }

  formatRange(start, end) {
    if (start === undefined || end === undefined) throw new TypeError("start and end are required.");
    const a = this.format(start), b = this.format(end);
    return a === b ? `~${a}` : `${a} – ${b}`;
  }

  formatRangeToParts(start, end) {
    return [{ type: "literal", value: this.formatRange(start, end), source: "shared" }];
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
    // The locale's extensions ("-u-hc-h23", "-u-ca-iso8601") count where options say nothing.
    const extensions = localeExtensions(locales);
    const localeCycle = ["h11", "h12", "h23", "h24"].includes(extensions.hc) ? extensions.hc : undefined;
    const cycleOption = options.hourCycle ?? localeCycle;
    const hour12 = options.hour12 ?? (cycleOption ? cycleOption === "h12" || cycleOption === "h11" : true);
    const hourCycle = options.hour12 !== undefined ? (options.hour12 ? "h12" : "h23") : cycleOption ?? (hour12 ? "h12" : "h23");
    const requested = String(options.calendar ?? extensions.ca ?? "gregory").toLowerCase();
    const calendar = requested === "iso8601" ? "iso8601" : "gregory";
    this.#o = { locale: IntlLocale, calendar, numberingSystem: "latn", timeZone, hour12, hourCycle, fields, dateStyle: options.dateStyle, timeStyle: options.timeStyle };
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
    const iso = this.#o.calendar === "iso8601" && !textMonth;
    if (iso) {
      // ICU's ISO 8601 calendar in English: "AD 2024-03-10", two-digit month and day.
      if (f.era !== undefined) {
        parts.push({ type: "era", value: year > 0 ? (f.era === "long" ? "Anno Domini" : f.era === "narrow" ? "A" : "AD") : (f.era === "long" ? "Before Christ" : f.era === "narrow" ? "B" : "BC") });
        if (f.year !== undefined || f.month !== undefined || f.day !== undefined) lit(" ");
      }
      const pieces = [];
      if (f.year !== undefined) pieces.push({ type: "year", value: num(year, f.year) });
      if (f.month !== undefined) pieces.push({ type: "month", value: String(month + 1).padStart(2, "0") });
      if (f.day !== undefined) pieces.push({ type: "day", value: String(day).padStart(2, "0") });
      pieces.forEach((piece, i) => { if (i > 0) lit("-"); parts.push(piece); });
    } else if (textMonth && this.#o.calendar === "iso8601") {
      // "2024 March 10"
      const pieces = [];
      if (f.year !== undefined) pieces.push({ type: "year", value: num(year, f.year) });
      if (f.month !== undefined) pieces.push({ type: "month", value: monthText });
      if (f.day !== undefined) pieces.push({ type: "day", value: num(day, f.day) });
      pieces.forEach((piece, i) => { if (i > 0) lit(" "); parts.push(piece); });
    } else if (textMonth) {
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
    if (f.era !== undefined && !iso) {
      const era = year > 0 ? (f.era === "long" ? "Anno Domini" : f.era === "narrow" ? "A" : "AD") : (f.era === "long" ? "Before Christ" : f.era === "narrow" ? "B" : "BC");
      lit(" ");
      parts.push({ type: "era", value: era });
    }
    const hasTime = f.hour !== undefined || f.minute !== undefined || f.second !== undefined;
    if (hasTime) {
      // ICU joins a full or long date and a time with " at ".
      const longDate = this.#o.dateStyle === "full" || this.#o.dateStyle === "long" || (this.#o.dateStyle === undefined && textMonth && f.month === "long");
      if (parts.length > 0) lit(longDate ? " at " : ", ");
      const hours = d.getUTCHours();
      const timePieces = [];
      const cycle = this.#o.hourCycle;
      if (f.hour !== undefined) {
        const h = cycle === "h12" ? (hours % 12 === 0 ? 12 : hours % 12) : cycle === "h11" ? hours % 12 : cycle === "h24" ? (hours === 0 ? 24 : hours) : hours;
        timePieces.push({ type: "hour", value: f.hour === "2-digit" || !this.#o.hour12 ? String(h).padStart(2, "0") : String(h) });
      }
      if (f.minute !== undefined) timePieces.push({ type: "minute", value: String(d.getUTCMinutes()).padStart(f.hour !== undefined || f.minute === "2-digit" ? 2 : 1, "0") });
      if (f.second !== undefined) timePieces.push({ type: "second", value: String(d.getUTCSeconds()).padStart(f.minute !== undefined || f.second === "2-digit" ? 2 : 1, "0") });
      timePieces.forEach((piece, i) => { if (i > 0) lit(":"); parts.push(piece); });
      if (f.fractionalSecondDigits) {
        lit(".");
        parts.push({ type: "fractionalSecond", value: String(d.getUTCMilliseconds()).padStart(3, "0").slice(0, f.fractionalSecondDigits) });
      }
      if (f.hour !== undefined && this.#o.hour12 && f.dayPeriod === undefined) { lit(" "); parts.push({ type: "dayPeriod", value: hours < 12 ? "AM" : "PM" }); }
      if (f.dayPeriod !== undefined) { lit(" "); parts.push({ type: "dayPeriod", value: flexibleDayPeriod(hours, d.getUTCMinutes(), f.dayPeriod) }); }
    } else if (f.dayPeriod !== undefined) {
      if (parts.length > 0) lit(" ");
      parts.push({ type: "dayPeriod", value: flexibleDayPeriod(d.getUTCHours(), d.getUTCMinutes(), f.dayPeriod) });
    }
    if (f.timeZoneName !== undefined) {
      // After a date alone ICU puts a comma: "3/10/2024, EST"; after a time, a space.
      if (parts.length > 0) lit(hasTime || f.dayPeriod !== undefined ? " " : ", ");
      let value;
      if (this.#o.timeZone === "UTC") {
        value = f.timeZoneName === "long" ? "Coordinated Universal Time" : f.timeZoneName === "short" ? "UTC" : intlOffsetName(0, false);
      } else if (f.timeZoneName === "short" && EN_US_ZONE_ABBREVIATIONS.has(abbreviation)) {
        value = abbreviation;
      } else if (f.timeZoneName === "long") {
        value = intlZoneLongName(this.#o.timeZone, abbreviation, offset);
      } else {
        value = intlOffsetName(offset, f.timeZoneName === "longOffset" || f.timeZoneName === "long");
      }
      parts.push({ type: "timeZoneName", value });
    }
    return parts;
  }

  // ICU collapses what the two dates share: "Mar 10 – 15, 2024", "Mar 10 – Apr 2, 2024".
  formatRange(start, end) {
    const a = this.formatToParts(start), b = this.formatToParts(end);
    const text = (parts) => parts.map((p) => p.value).join("");
    if (text(a) === text(b)) return text(a);
    const f = this.#o.fields;
    const hasTime = f.hour !== undefined || f.minute !== undefined || f.second !== undefined;
    const value = (parts, type) => parts.find((p) => p.type === type)?.value;
    const textMonth = f.month === "long" || f.month === "short" || f.month === "narrow";
    if (!hasTime && textMonth && f.day !== undefined && f.year !== undefined && f.weekday === undefined && f.era === undefined) {
      const [ma, da, ya] = [value(a, "month"), value(a, "day"), value(a, "year")];
      const [mb, db, yb] = [value(b, "month"), value(b, "day"), value(b, "year")];
      if (ya === yb && ma === mb) return `${ma} ${da} – ${db}, ${ya}`;
      if (ya === yb) return `${ma} ${da} – ${mb} ${db}, ${ya}`;
    }
    return `${text(a)} – ${text(b)}`;
  }

  resolvedOptions() {
    const o = this.#o;
    const out = { locale: o.locale, calendar: o.calendar, numberingSystem: o.numberingSystem, timeZone: o.timeZone };
    if (o.fields.hour !== undefined) { out.hourCycle = o.hourCycle; out.hour12 = o.hour12; }
    if (o.dateStyle !== undefined) out.dateStyle = o.dateStyle;
    if (o.timeStyle !== undefined) out.timeStyle = o.timeStyle;
    if (o.dateStyle === undefined && o.timeStyle === undefined) Object.assign(out, o.fields);
    return out;
  }
  static supportedLocalesOf() { return [IntlLocale]; }
}

// CLDR's en flexible day periods ("in the morning", "at night", "noon").
function flexibleDayPeriod(hours, minutes, width) {
  if (hours === 12 && minutes === 0) return "noon";
  const period = hours >= 6 && hours < 12 ? "morning" : hours >= 12 && hours < 18 ? "afternoon" : hours >= 18 && hours < 21 ? "evening" : "night";
  if (width === "narrow" || width === "short") return period === "night" ? "at night" : `in the ${period}`;
  return period === "night" ? "at night" : `in the ${period}`;
}


// ---- Names ----
// CLDR's English names of regions (ISO 3166), common languages and scripts, for DisplayNames.
const REGION_NAMES_TEXT = "001:world|150:Europe|419:Latin America|AD:Andorra|AE:United Arab Emirates|AF:Afghanistan|AG:Antigua & Barbuda|AI:Anguilla|AL:Albania|AM:Armenia|AO:Angola|AQ:Antarctica|AR:Argentina|AS:American Samoa|AT:Austria|AU:Australia|AW:Aruba|AX:Åland Islands|AZ:Azerbaijan|BA:Bosnia & Herzegovina|BB:Barbados|BD:Bangladesh|BE:Belgium|BF:Burkina Faso|BG:Bulgaria|BH:Bahrain|BI:Burundi|BJ:Benin|BL:St. Barthélemy|BM:Bermuda|BN:Brunei|BO:Bolivia|BQ:Caribbean Netherlands|BR:Brazil|BS:Bahamas|BT:Bhutan|BV:Bouvet Island|BW:Botswana|BY:Belarus|BZ:Belize|CA:Canada|CC:Cocos (Keeling) Islands|CD:Congo - Kinshasa|CF:Central African Republic|CG:Congo - Brazzaville|CH:Switzerland|CI:Côte d’Ivoire|CK:Cook Islands|CL:Chile|CM:Cameroon|CN:China|CO:Colombia|CR:Costa Rica|CU:Cuba|CV:Cape Verde|CW:Curaçao|CX:Christmas Island|CY:Cyprus|CZ:Czechia|DE:Germany|DJ:Djibouti|DK:Denmark|DM:Dominica|DO:Dominican Republic|DZ:Algeria|EC:Ecuador|EE:Estonia|EG:Egypt|EH:Western Sahara|ER:Eritrea|ES:Spain|ET:Ethiopia|EU:European Union|FI:Finland|FJ:Fiji|FK:Falkland Islands|FM:Micronesia|FO:Faroe Islands|FR:France|GA:Gabon|GB:United Kingdom|GD:Grenada|GE:Georgia|GF:French Guiana|GG:Guernsey|GH:Ghana|GI:Gibraltar|GL:Greenland|GM:Gambia|GN:Guinea|GP:Guadeloupe|GQ:Equatorial Guinea|GR:Greece|GS:South Georgia & South Sandwich Islands|GT:Guatemala|GU:Guam|GW:Guinea-Bissau|GY:Guyana|HK:Hong Kong SAR China|HM:Heard & McDonald Islands|HN:Honduras|HR:Croatia|HT:Haiti|HU:Hungary|ID:Indonesia|IE:Ireland|IL:Israel|IM:Isle of Man|IN:India|IO:British Indian Ocean Territory|IQ:Iraq|IR:Iran|IS:Iceland|IT:Italy|JE:Jersey|JM:Jamaica|JO:Jordan|JP:Japan|KE:Kenya|KG:Kyrgyzstan|KH:Cambodia|KI:Kiribati|KM:Comoros|KN:St. Kitts & Nevis|KP:North Korea|KR:South Korea|KW:Kuwait|KY:Cayman Islands|KZ:Kazakhstan|LA:Laos|LB:Lebanon|LC:St. Lucia|LI:Liechtenstein|LK:Sri Lanka|LR:Liberia|LS:Lesotho|LT:Lithuania|LU:Luxembourg|LV:Latvia|LY:Libya|MA:Morocco|MC:Monaco|MD:Moldova|ME:Montenegro|MF:St. Martin|MG:Madagascar|MH:Marshall Islands|MK:North Macedonia|ML:Mali|MM:Myanmar (Burma)|MN:Mongolia|MO:Macao SAR China|MP:Northern Mariana Islands|MQ:Martinique|MR:Mauritania|MS:Montserrat|MT:Malta|MU:Mauritius|MV:Maldives|MW:Malawi|MX:Mexico|MY:Malaysia|MZ:Mozambique|NA:Namibia|NC:New Caledonia|NE:Niger|NF:Norfolk Island|NG:Nigeria|NI:Nicaragua|NL:Netherlands|NO:Norway|NP:Nepal|NR:Nauru|NU:Niue|NZ:New Zealand|OM:Oman|PA:Panama|PE:Peru|PF:French Polynesia|PG:Papua New Guinea|PH:Philippines|PK:Pakistan|PL:Poland|PM:St. Pierre & Miquelon|PN:Pitcairn Islands|PR:Puerto Rico|PS:Palestinian Territories|PT:Portugal|PW:Palau|PY:Paraguay|QA:Qatar|RE:Réunion|RO:Romania|RS:Serbia|RU:Russia|RW:Rwanda|SA:Saudi Arabia|SB:Solomon Islands|SC:Seychelles|SD:Sudan|SE:Sweden|SG:Singapore|SH:St. Helena|SI:Slovenia|SJ:Svalbard & Jan Mayen|SK:Slovakia|SL:Sierra Leone|SM:San Marino|SN:Senegal|SO:Somalia|SR:Suriname|SS:South Sudan|ST:São Tomé & Príncipe|SV:El Salvador|SX:Sint Maarten|SY:Syria|SZ:Eswatini|TC:Turks & Caicos Islands|TD:Chad|TF:French Southern Territories|TG:Togo|TH:Thailand|TJ:Tajikistan|TK:Tokelau|TL:Timor-Leste|TM:Turkmenistan|TN:Tunisia|TO:Tonga|TR:Türkiye|TT:Trinidad & Tobago|TV:Tuvalu|TW:Taiwan|TZ:Tanzania|UA:Ukraine|UG:Uganda|UM:U.S. Outlying Islands|UN:United Nations|US:United States|UY:Uruguay|UZ:Uzbekistan|VA:Vatican City|VC:St. Vincent & Grenadines|VE:Venezuela|VG:British Virgin Islands|VI:U.S. Virgin Islands|VN:Vietnam|VU:Vanuatu|WF:Wallis & Futuna|WS:Samoa|XK:Kosovo|YE:Yemen|YT:Mayotte|ZA:South Africa|ZM:Zambia|ZW:Zimbabwe";
const LANGUAGE_NAMES = {
  af: "Afrikaans", am: "Amharic", ar: "Arabic", az: "Azerbaijani", be: "Belarusian", bg: "Bulgarian", bn: "Bangla",
  bs: "Bosnian", ca: "Catalan", cs: "Czech", cy: "Welsh", da: "Danish", de: "German", el: "Greek", en: "English",
  eo: "Esperanto", es: "Spanish", et: "Estonian", eu: "Basque", fa: "Persian", fi: "Finnish", fil: "Filipino",
  fr: "French", fy: "Western Frisian", ga: "Irish", gd: "Scottish Gaelic", gl: "Galician", gu: "Gujarati", ha: "Hausa",
  haw: "Hawaiian", he: "Hebrew", hi: "Hindi", hr: "Croatian", hu: "Hungarian", hy: "Armenian", id: "Indonesian",
  ig: "Igbo", is: "Icelandic", it: "Italian", ja: "Japanese", jv: "Javanese", ka: "Georgian", kk: "Kazakh", km: "Khmer",
  kn: "Kannada", ko: "Korean", ku: "Kurdish", ky: "Kyrgyz", la: "Latin", lb: "Luxembourgish", lo: "Lao", lt: "Lithuanian",
  lv: "Latvian", mi: "Māori", mk: "Macedonian", ml: "Malayalam", mn: "Mongolian", mr: "Marathi", ms: "Malay", mt: "Maltese",
  my: "Burmese", nb: "Norwegian Bokmål", ne: "Nepali", nl: "Dutch", nn: "Norwegian Nynorsk", no: "Norwegian", pa: "Punjabi",
  pl: "Polish", ps: "Pashto", pt: "Portuguese", ro: "Romanian", ru: "Russian", si: "Sinhala", sk: "Slovak", sl: "Slovenian",
  so: "Somali", sq: "Albanian", sr: "Serbian", sv: "Swedish", sw: "Swahili", ta: "Tamil", te: "Telugu", th: "Thai",
  tl: "Tagalog", tr: "Turkish", uk: "Ukrainian", ur: "Urdu", uz: "Uzbek", vi: "Vietnamese", xh: "Xhosa", yo: "Yoruba",
  yue: "Cantonese", zh: "Chinese", zu: "Zulu",
};
const DIALECT_NAMES = {
  "en-US": "American English", "en-GB": "British English", "en-AU": "Australian English", "en-CA": "Canadian English",
  "es-MX": "Mexican Spanish", "es-ES": "European Spanish", "es-419": "Latin American Spanish", "fr-CA": "Canadian French",
  "fr-CH": "Swiss French", "pt-BR": "Brazilian Portuguese", "pt-PT": "European Portuguese", "de-AT": "Austrian German",
  "de-CH": "Swiss High German", "nl-BE": "Flemish", "zh-Hans": "Simplified Chinese", "zh-Hant": "Traditional Chinese",
};
const SCRIPT_NAMES = {
  Arab: "Arabic", Cyrl: "Cyrillic", Deva: "Devanagari", Grek: "Greek", Hans: "Simplified Han", Hant: "Traditional Han",
  Hebr: "Hebrew", Jpan: "Japanese", Kore: "Korean", Latn: "Latin", Thai: "Thai", Beng: "Bangla", Ethi: "Ethiopic",
  Geor: "Georgian", Armn: "Armenian", Hang: "Hangul", Hira: "Hiragana", Kana: "Katakana", Taml: "Tamil",
};
// Likely subtags (CLDR) for Locale.maximize(), for common languages.
const LIKELY_SUBTAGS = {
  en: ["Latn", "US"], fr: ["Latn", "FR"], de: ["Latn", "DE"], es: ["Latn", "ES"], it: ["Latn", "IT"], pt: ["Latn", "BR"],
  nl: ["Latn", "NL"], sv: ["Latn", "SE"], da: ["Latn", "DK"], nb: ["Latn", "NO"], no: ["Latn", "NO"], fi: ["Latn", "FI"],
  pl: ["Latn", "PL"], cs: ["Latn", "CZ"], tr: ["Latn", "TR"], ro: ["Latn", "RO"], hu: ["Latn", "HU"], vi: ["Latn", "VN"],
  id: ["Latn", "ID"], ms: ["Latn", "MY"], ru: ["Cyrl", "RU"], uk: ["Cyrl", "UA"], bg: ["Cyrl", "BG"], sr: ["Cyrl", "RS"],
  el: ["Grek", "GR"], he: ["Hebr", "IL"], ar: ["Arab", "EG"], fa: ["Arab", "IR"], ur: ["Arab", "PK"], hi: ["Deva", "IN"],
  bn: ["Beng", "BD"], th: ["Thai", "TH"], ja: ["Jpan", "JP"], ko: ["Kore", "KR"], zh: ["Hans", "CN"], yue: ["Hant", "HK"],
};
let regionNames = null;
function regionName(code) {
  if (regionNames === null) {
    regionNames = new Map();
    for (const entry of REGION_NAMES_TEXT.split("|")) {
      const colon = entry.indexOf(":");
      regionNames.set(entry.slice(0, colon), entry.slice(colon + 1));
    }
  }
  return regionNames.get(code);
}

// A BCP 47 tag's parts: language, script, region, variants and the -u- keywords.
function parseLanguageTag(tag) {
  const m = /^([a-z]{2,3}|[a-z]{5,8})(?:-([a-z]{4}))?(?:-([a-z]{2}|[0-9]{3}))?((?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)((?:-[a-wyz0-9](?:-[a-z0-9]{2,8})+)*)(?:-x(?:-[a-z0-9]{1,8})+)?$/i.exec(String(tag));
  if (!m) throw new RangeError(`Incorrect locale information provided`);
  const keywords = {};
  const unicode = /-u((?:-[a-z0-9]{2,8})+)/i.exec(m[5] ?? "");
  if (unicode) {
    let key = null;
    for (const part of unicode[1].slice(1).split("-")) {
      if (part.length === 2) { key = part.toLowerCase(); keywords[key] = "true"; }
      else if (key) keywords[key] = keywords[key] === "true" ? part.toLowerCase() : `${keywords[key]}-${part.toLowerCase()}`;
    }
  }
  return {
    language: m[1].toLowerCase(),
    script: m[2] ? m[2][0].toUpperCase() + m[2].slice(1).toLowerCase() : undefined,
    region: m[3] ? m[3].toUpperCase() : undefined,
    variants: m[4] ? m[4].slice(1).toLowerCase().split("-") : [],
    keywords,
  };
}

class Locale {
  #p;
  constructor(tag, options = {}) {
    if (tag instanceof Locale) tag = tag.toString();
    if (typeof tag !== "string") throw new TypeError("First argument to Intl.Locale constructor can't be empty or missing");
    const p = parseLanguageTag(tag);
    if (options?.language !== undefined) p.language = String(options.language).toLowerCase();
    if (options?.script !== undefined) p.script = String(options.script);
    if (options?.region !== undefined) p.region = String(options.region).toUpperCase();
    for (const [option, key] of [["calendar", "ca"], ["collation", "co"], ["hourCycle", "hc"], ["caseFirst", "kf"], ["numberingSystem", "nu"]]) {
      if (options?.[option] !== undefined) p.keywords[key] = String(options[option]);
    }
    if (options?.numeric !== undefined) p.keywords.kn = options.numeric ? "true" : "false";
    this.#p = p;
  }
  get language() { return this.#p.language; }
  get script() { return this.#p.script; }
  get region() { return this.#p.region; }
  get baseName() { return [this.#p.language, this.#p.script, this.#p.region, ...this.#p.variants].filter(Boolean).join("-"); }
  get calendar() { return this.#p.keywords.ca; }
  get collation() { return this.#p.keywords.co; }
  get hourCycle() { return this.#p.keywords.hc; }
  get caseFirst() { return this.#p.keywords.kf; }
  get numberingSystem() { return this.#p.keywords.nu; }
  get numeric() { return this.#p.keywords.kn === "true"; }
  toString() {
    const keys = Object.keys(this.#p.keywords).sort();
    const extension = keys.length === 0 ? "" : `-u-${keys.map((k) => (this.#p.keywords[k] === "true" ? k : `${k}-${this.#p.keywords[k]}`)).join("-")}`;
    return this.baseName + extension;
  }
  toJSON() { return this.toString(); }
  maximize() {
    const likely = LIKELY_SUBTAGS[this.#p.language];
    if (!likely) return new Locale(this.toString());
    return new Locale(this.toString(), { script: this.#p.script ?? likely[0], region: this.#p.region ?? likely[1] });
  }
  minimize() {
    const likely = LIKELY_SUBTAGS[this.#p.language];
    const keep = (part, likelyPart) => (likely && part === likelyPart ? undefined : part);
    const base = [this.#p.language, keep(this.#p.script, likely?.[0]), keep(this.#p.region, likely?.[1]), ...this.#p.variants].filter(Boolean).join("-");
    const tag = this.toString().slice(this.baseName.length);
    return new Locale(base + tag);
  }
  getWeekInfo() { return { firstDay: 7, weekend: [6, 7], minimalDays: 1 }; }
  get weekInfo() { return this.getWeekInfo(); }
  get [Symbol.toStringTag]() { return "Intl.Locale"; }
}

class DisplayNames {
  #type;
  #fallback;
  #style;
  constructor(locales = undefined, options = undefined) {
    intlLocale(locales);
    if (options === undefined || options.type === undefined) throw new TypeError("Required option 'type' is missing");
    const type = String(options.type);
    if (!["language", "region", "script", "currency", "calendar", "dateTimeField"].includes(type)) throw new RangeError(`Value ${type} out of range for Intl.DisplayNames options property type`);
    this.#type = type;
    this.#fallback = options.fallback ?? "code";
    this.#style = options.style ?? "long";
  }
  of(code) {
    code = String(code);
    let name;
    if (this.#type === "region") {
      if (!/^([a-z]{2}|[0-9]{3})$/i.test(code)) throw new RangeError("invalid_argument");
      code = code.toUpperCase();
      name = regionName(code);
    } else if (this.#type === "language") {
      const p = parseLanguageTag(code);
      code = [p.language, p.script, p.region, ...p.variants].filter(Boolean).join("-");
      name = DIALECT_NAMES[code];
      if (name === undefined && LANGUAGE_NAMES[p.language] !== undefined) {
        const qualifiers = [p.script && SCRIPT_NAMES[p.script], p.region && regionName(p.region)].filter(Boolean);
        name = qualifiers.length ? `${LANGUAGE_NAMES[p.language]} (${qualifiers.join(", ")})` : LANGUAGE_NAMES[p.language];
      }
    } else if (this.#type === "script") {
      if (!/^[a-z]{4}$/i.test(code)) throw new RangeError("invalid_argument");
      code = code[0].toUpperCase() + code.slice(1).toLowerCase();
      name = SCRIPT_NAMES[code];
    } else if (this.#type === "currency") {
      if (!/^[a-z]{3}$/i.test(code)) throw new RangeError("invalid_argument");
      code = code.toUpperCase();
      const names = CURRENCY_NAMES[code];
      name = names && names[0].replace(/(^|\s)(\p{Ll})/gu, (m, space, letter) => space + letter.toUpperCase());
    } else if (this.#type === "calendar") {
      name = { gregory: "Gregorian Calendar", iso8601: "ISO-8601 Calendar" }[code];
    } else {
      name = { era: "era", year: "year", quarter: "quarter", month: "month", weekOfYear: "week", weekday: "day of the week", day: "day", dayPeriod: "AM/PM", hour: "hour", minute: "minute", second: "second", timeZoneName: "time zone" }[code];
    }
    return name ?? (this.#fallback === "none" ? undefined : code);
  }
  resolvedOptions() { return { locale: IntlLocale, style: this.#style, type: this.#type, fallback: this.#fallback }; }
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

const RELATIVE_SHORT = { year: "yr.", quarter: "qtr.", month: "mo.", week: "wk.", day: "day", hour: "hr.", minute: "min.", second: "sec." };
const RELATIVE_SHORT_PLURAL = { quarter: "qtrs.", day: "days" };

class RelativeTimeFormat {
  #numeric;
  #style;
  constructor(locales = undefined, options = {}) {
    intlLocale(locales);
    this.#numeric = options?.numeric ?? "always";
    this.#style = options?.style ?? "long";
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
    const word = this.#style === "long" ? `${u}${abs === 1 ? "" : "s"}` : (abs === 1 ? RELATIVE_SHORT[u] : RELATIVE_SHORT_PLURAL[u] ?? RELATIVE_SHORT[u]);
    const label = `${new NumberFormat().format(abs)} ${word}`;
    return value < 0 || Object.is(value, -0) ? `${label} ago` : `in ${label}`;
  }
  resolvedOptions() { return { locale: IntlLocale, style: this.#style, numeric: this.#numeric, numberingSystem: "latn" }; }
  static supportedLocalesOf() { return [IntlLocale]; }
}

class ListFormat {
  #type;
  #style;
  constructor(locales = undefined, options = {}) {
    intlLocale(locales);
    this.#type = options?.type ?? "conjunction";
    this.#style = options?.style ?? "long";
  }
  format(list) {
    const items = Array.from(list, String);
    if (items.length <= 1) return items.join("");
    const type = this.#type, style = this.#style;
    if (type === "unit") return items.join(style === "narrow" ? " " : ", ");
    // CLDR's en: "a, b, and c" (long), "a, b, & c" (short), "a, b, c" (narrow conjunction).
    const word = type === "disjunction" ? "or" : style === "short" ? "&" : style === "narrow" ? "" : "and";
    if (word === "") return items.join(", ");
    if (items.length === 2) return `${items[0]} ${word} ${items[1]}`;
    return `${items.slice(0, -1).join(", ")}, ${word} ${items[items.length - 1]}`;
  }
  formatToParts(list) { return [{ type: "literal", value: this.format(list) }]; }
  resolvedOptions() { return { locale: IntlLocale, type: this.#type, style: this.#style }; }
  static supportedLocalesOf() { return [IntlLocale]; }
}

// Extended grapheme clusters, for what text holds in practice: a base with its combining marks,
// variation selectors and emoji modifiers, emoji joined by ZWJ, flag pairs, tag sequences,
// CR LF and Hangul syllable blocks.
function graphemes(text) {
  const out = [];
  let current = "", previous = 0, regional = 0;
  const extends_ = (c) => /\p{M}/u.test(String.fromCodePoint(c)) || (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0x1f3fb && c <= 0x1f3ff) || (c >= 0xe0020 && c <= 0xe007f) || c === 0x200d || (c >= 0xe0100 && c <= 0xe01ef);
  const hangulJoins = (a, b) => {
    const L = (c) => c >= 0x1100 && c <= 0x115f, V = (c) => c >= 0x1160 && c <= 0x11a7, T = (c) => c >= 0x11a8 && c <= 0x11ff;
    const LV = (c) => c >= 0xac00 && c <= 0xd7a3 && (c - 0xac00) % 28 === 0, LVT = (c) => c >= 0xac00 && c <= 0xd7a3 && (c - 0xac00) % 28 !== 0;
    return (L(a) && (L(b) || V(b) || LV(b) || LVT(b))) || ((LV(a) || V(a)) && (V(b) || T(b))) || ((LVT(a) || T(a)) && T(b));
  };
  for (const char of text) {
    const c = char.codePointAt(0);
    const isRegional = c >= 0x1f1e6 && c <= 0x1f1ff;
    const join = current !== "" && (
      extends_(c) || previous === 0x200d || (previous === 0x0d && c === 0x0a) ||
      (isRegional && regional % 2 === 1) || hangulJoins(previous, c)
    );
    if (!join && current !== "") {
      out.push(current);
      current = "";
      regional = 0;
    }
    current += char;
    if (isRegional) regional++;
    previous = c;
  }
  if (current !== "") out.push(current);
  return out;
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
      ? input.match(/\p{N}+(?:[.,]\p{N}+)*|[\p{L}\p{N}_]+(?:['’.][\p{L}\p{N}_]+)*|\s+|[^\s]/gu) ?? []
      : granularity === "sentence"
        ? input.match(/[^.!?]+[.!?]*\s*/g) ?? []
        : graphemes(input);
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
    PluralRules, RelativeTimeFormat, ListFormat, Segmenter, Locale, DisplayNames,
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
