// The built-in `cloudflare:email` module: `EmailMessage`, the message a `send_email` binding
// sends (Kiln's binding checks and logs it: web/bindings/36_simple_bindings.js).
export class EmailMessage {
  constructor(from, to, raw) {
    if (arguments.length < 3) throw new TypeError("EmailMessage: from, to and raw are required");
    this.from = String(from);
    this.to = String(to);
    this.raw = raw;
  }
}

export default { EmailMessage };
