// WebCrypto (crypto.subtle) tests, run inside a Kiln isolate by tests/crypto_subtle.rs: GET /<name>
// runs one test and answers "ok" or the failure. Known-answer vectors come from the RFCs and NIST
// publications named in each test; `V` holds keys, signatures and ciphertexts made by OpenSSL
// (Python `cryptography` 48, script in crypto_vectors.py), so Kiln is checked against another
// implementation rather than only against itself.
function assert(cond, message) { if (!cond) throw new Error("assertion failed: " + message); }
function eq(actual, expected, message = "") {
  if (actual !== expected) throw new Error(`${message} expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
// Awaits `promise` and checks it rejects with `name` (a DOMException name, or "TypeError").
async function rejects(promise, name, message) {
  try {
    await promise;
  } catch (err) {
    if (name === "TypeError") assert(err instanceof TypeError, `${message}: expected TypeError, got ${err}`);
    else assert(err instanceof DOMException && err.name === name, `${message}: expected ${name}, got ${err?.name}: ${err?.message ?? err}`);
    return err;
  }
  throw new Error(`${message}: did not reject`);
}
const subtle = crypto.subtle;
const enc = (s) => new TextEncoder().encode(s);
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (h) => new Uint8Array((h.replace(/\s+/g, "").match(/../g) ?? []).map((x) => parseInt(x, 16)));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const repeat = (byte, n) => new Uint8Array(n).fill(byte);

const V = {
  "rsaPkcs8": "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDKdtGn0Cnw4raDzXJXboSbOwyRNWZnk+hRrz/3Fo94hV6z23CcQ6/eQB83z6rchAqkmglzrnqvSfG5O6O/z1fAMp37kFGn+70VZ0CSsdWmRhR/oYzBWLIJvqtunpeSJ2NB5aWiMlwkO98Q7KIZ8zpMykW/g3moggJ9lNjW82f/B81qGpZTG1EtGyj2qLHA7bqbsFoPKgGguVQ7/QFt7q1xr9r6Uhlnas0aOxRRNw422143b5ycc5/Aaj4jqPNP9+4D3syXpK8yzHpLG8qA7+r617oEq9ICZg6BRcjbXVqNQg75D1dFHlbP6ghxV5eGqzzcUG4AOH/R4dwpo7rnHWuzAgMBAAECggEAVKoCOzAf0cUkeJJZjblAB5/WPgS8GXUu8bWcxIkxHr963jBV82qUqRZcV5zmQMeQoctuR2s/j3yW8hRAAg5FDjC8gr2Tf/ET3VbrmEx4YMsueD7ImvOpo8yRaLU2Ad6psZ1EOcLgaCCHQ88IbFybVRBCwXbL0YzoWLZ9RMnNg8XyoGcWeXF08NdBOUYsLQrwVq25LtcyFDZ7a8Uqq9r61K64q8VYNqixbE35O3lxObu2zxOmvV4nnTIlQJy7IwDF9KMW7myhz9vZ2LcmWAv1U6Z1dKQumos/0YWTOXTsL6o19rsupoMYjm9IT2/F7Yh/zxe5BYLkUJ6Zt7j0O1Uj0QKBgQD7ukCuOAaD0SH0c0NU0tgQ05QDNceI8a/DLMNHGRC8jvlRm41cTMhjq1vKNgCl0UN31GniXnTKuRpn40mEGoLRIKgBA96l9sE5llEyTLPBPoZAd/DO1WMu2RHo0YXtKmdIvovLEMnkvTBsmY+kR7FKp2OShBxwab3xfvXNQIh7cQKBgQDN5oS9UEGycJoFwEE477ffxJtv0UvbbimH6+MPkwf6sAqP3fekxl5QVVWZmHxQvknc/dRiZvBZSrhbIdT457YqT8p7xUk1IP65a/tEKggXfJEPLj9tGSANWgNgyHmj8UtxIE5H2AEABrkdth+8O508fK3ljDlWTAdd6R+oYhMfYwKBgHKamEn5DdZDh07wjw32NBJtESzo9h/90MRuA7XBzqHaAd5KkHAeMPlXkaGdNmxHuoy6sz4xPMDyxvfXPagcHcSyNmrH5Tzv+4aJTgw1aX0oRxzgvkycT9yLTSEPCwcvz/gJcEGSMiimjX5T51amoSvYy3dwGDaBnc1tvOCmabyxAoGBAILqnV/Z1cvleKlLcq0HDrzCv6o7Q6ZDxzhbLcZLUHl+0VhkY/9q+bDOcVz17aVROJnA8veWSCAeOFYJjuasPdFtZmuIJ2IWlp/DHsJaj0aPt5QVbdKqdQzIPPmevmkVFUjap6tallgz7iQMFuWSagl5pQAdRp+uO8jkX3Kq2UnNAoGBAIZNc8TH135hoMheREAOvQ70+k6eDE9y+rkdBO0ucIZ4J7LEqGR5IGkRUPaIzHN/niMOeR7mb2/xIHRq5+WaJJ3oqJcyB7ANtCYHEm7H59iXgKiK+O3+6KZUcWD0ZaFqwvEw1SwXgHc1lpcom8znKwJXuO2zwhW1vtgprp2smcGq",
  "rsaSpki": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAynbRp9Ap8OK2g81yV26EmzsMkTVmZ5PoUa8/9xaPeIVes9twnEOv3kAfN8+q3IQKpJoJc656r0nxuTujv89XwDKd+5BRp/u9FWdAkrHVpkYUf6GMwViyCb6rbp6XkidjQeWlojJcJDvfEOyiGfM6TMpFv4N5qIICfZTY1vNn/wfNahqWUxtRLRso9qixwO26m7BaDyoBoLlUO/0Bbe6tca/a+lIZZ2rNGjsUUTcONtteN2+cnHOfwGo+I6jzT/fuA97Ml6SvMsx6SxvKgO/q+te6BKvSAmYOgUXI211ajUIO+Q9XRR5Wz+oIcVeXhqs83FBuADh/0eHcKaO65x1rswIDAQAB",
  "rsaRs256": "EM9zFhmMiA4fbbBXC4KGx63xRKS8XIMI602vy8EZyNF/bSVaE26Ru79NIaRejxyrR1HTxRIVxqq8am5eOIeNOliEk+eaux6Hd5kJTaHLU6jjmLVVbBDcoXmbj2UzoDd13OIVi1RgHwn0p2AiW66bUkEwc5/eHB5KCctFse+of2PdPeR3NDcibZLwF5HWZ3SKgkBaZO/2FYxx5dgSDXOZVzweuJYjiOiKNhqtWvpwJTMvwa6zQvMZ/1nfn9eEunlMXh1eIUz+42ikRrZIoOgl5hSefwkv3LwX4c4GptpsaaalCNOyelYHOr/lbc4aQZ35JqwKBZn1cAFoR5ykCmWOsw==",
  "rsaPs256": "vA+DIshIkxRDSD/RV1RvWqfJ4VuOuRKsyDoC/RwlACysBZGcTrqia5ss4pyLpmPLy+xVpyqloBjE8JAyrS5pvJN7oz5EIIWHMXcbPv1w6awPknbavL0qGPeL3s7eMAKQ4LxiENNATNxlcAbC5oseF/EP0SY1UnN3/0O/5A0fGE4V1jbxGNC4yF602/qetKAMDWlsVyjOkIvO3hKii3/vrIFH4MAl9/ECwaqQwTLNquT/+72jT9/30kLYKEEuhBnQWEiDbwl/4w8f7VLrCYuYvUoLQNDE0xo7eCdD6bZJwNSOmgsoC/P7nJWSXPUS3WTalsnBoZSB0nYmOFImNQgjxA==",
  "rsaOaep256": "wutg+wF09gKO1GzAFqc2qo/0/d5R+tnO910a8iXxdkQkdbcC8ObMdUwPEBOwFwDiaL3acoyv1PgsvsbCWzZtgVXP9XHpsbVGwebcd9nnm8orW60AUvFF/dhbNET0vEuq4k5zUD3o/MMMCWamvDC4d+fIlqcyUFupqq9y4f/LI/Y/j3Rdt3HYq/ES0rARv+y55fvqtIfD/xEThOpRF7dzNg0dayVSdQNEev82c8O8eniJWp8v8QrTuxhKe2UmNvFQD0X/IoE/+8a0CADmGTZvvyJHQoLvxIAoj1gvDBtS2OcFJx8m4ReS69/E+C2+LxUiuwNSfCXJ4EWa+Hzmmff29A==",
  "rsaOaep1Label": "jSsGdcwNjBa+8AIu9/x3CuM4mIJb8Ekn62VoHN9zdSIMv+CLUnlUUzk5IejWdYUCzNSYp9u6WEvaWy6TtopbWvl/se23QOZncBtPZddBLflarlhSy2OSHNKriHaP5sTf9WypxDjRl8+efrpbcpfzKzF7Xn5oyhueWtsxpBO6q5LJbrJxfbldHm9RCGpAbLEGvpbr1JnginrkYXs9DLEoYxWov7oIiSTNdit1lckfE3r0SHhz76Zpi9Dv2SFVYbPwluSp2C9G2LE69fQrzP8Q/0hthlgsuczT53/CaBOsJPd42sq734p0pB+X5KmLoOY7FcTDDjHbK7RUKxB+NmBgZQ==",
  "ecP256Pkcs8": "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgY1KP+godOz2PFY0mCxu27XylazgNUS9TauDYgclKtqmhRANCAASYdI2qpppdkbx3qbW6yEtCulxvHdSNwK6XKOm28EFB9Zj2fLxZEWqVCwjZcgzg7gihQGmoj3NL4ttq7VQ9I35x",
  "ecP256Spki": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmHSNqqaaXZG8d6m1ushLQrpcbx3UjcCulyjptvBBQfWY9ny8WRFqlQsI2XIM4O4IoUBpqI9zS+Lbau1UPSN+cQ==",
  "ecP256Sig": "takOfrNzsM0DcLbWn+pmX/BeWmoGhgdo1BXcn3LHrGSMdWuBKFlbt1y/j+U8uuaMxQbOFKXjlApwPA49UyVYNg==",
  "ecP384Pkcs8": "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBkp0HV5f5PfqdqLS7uswaj/eN5PKb4Ny0Jwv3EHEe0BGkbvm0qEN+TRYaB109oIFihZANiAAR1/o4CHQcl+5omF8pw8jrqGV0FHzT/N7RKBrgSBrKGJI+JbB3F2L1Y7Wfm5YwpC5bf6ZWcgrlzT3eRCdKPasxMJ3fOWWAPuRRcTu4jIIUSHAF91BsQNTQK3Vv4u+Iueus=",
  "ecP384Spki": "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEdf6OAh0HJfuaJhfKcPI66hldBR80/ze0Sga4EgayhiSPiWwdxdi9WO1n5uWMKQuW3+mVnIK5c093kQnSj2rMTCd3zllgD7kUXE7uIyCFEhwBfdQbEDU0Ct1b+LviLnrr",
  "ecP384Sig": "4nDZgKNw4n8XOYxglKFOWwVdmljbTUUgvLBPmjVueJNeKIq0gmWygFZJ7/T1P9YM80LLVMkOn78uowVVNFJSQR8M3cRA1WJomAm+HJ+eN/WT/mp6sBwYnSUWN12+Nk14",
  "ecP521Pkcs8": "MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIB7aety9gBfkSxWdayeL740IORy+GzwiT5/Sp2KA1OUsVZNjluAu722pKVGG+RosRcplYjT9ySwzvLra+xEm5CvI+hgYkDgYYABABQ8wbcSlVwihDPbJmL6Ro7lsiiwsfPpEkqo6RpAdjHWNWl+Z71qj7s1MLe+cTWGCfoJKsI8W6mW6sreM22txWOaAAcFfSY9XW+KdtdoIrbN/2dANGDBOMcKv4mB0d7y+28wZcDiaqa6JV9wmpKYhDfsCajuh3o3geIUXNdvPnDwNlTCw==",
  "ecP521Spki": "MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQAUPMG3EpVcIoQz2yZi+kaO5bIosLHz6RJKqOkaQHYx1jVpfme9ao+7NTC3vnE1hgn6CSrCPFuplurK3jNtrcVjmgAHBX0mPV1vinbXaCK2zf9nQDRgwTjHCr+JgdHe8vtvMGXA4mqmuiVfcJqSmIQ37Amo7od6N4HiFFzXbz5w8DZUws=",
  "ecP521Sig": "AT7f/my9hh1CdfaYCPnqRtphAXGjXAWVpYcEpg9PxaYZxYeERsKqvZ6eNPDWShqSkIUz9AA5gv5HAauPBsUgTIh/ATW13UKVW+sFBM0aeY+Cb7Jhv+jD/wBKKlrEDPQR4bHoyvOEBiPCqxrtuJm9d562pushLI3c3OKphMdUEJhfVW9s",
  "ecP521Sha256Sig": "AbNxVKRGKWtdmtxMfnwy7Pct6kczd4RRI4xHlE2OKMmp8p8VWRPmqjBbjNRUYWPBjcQqj2PTnUhMqc7KHGHK6LlCAOeAqLk7aF7H/jhfX+nJOUKEeQiRCBrqoz9fepCIJUdauTWfbM95WCx2IMGCQvt35PwWiTrQ0B/dhs5eJDF76it5",
  "ecdhA": "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/D6kRIA44Qwq+SiAocasHtymaVsISG4Hsd2Y7ChH7M2hRANCAAQcNvWuqIHp3L+njFxk5P4Zc5rVkh91i879KGi9ZryxzV2HA8CZkiV9ZrUl3VMdW6hH9AaJqVtGkgqwwyawTHoq",
  "ecdhB": "BJpDiPhgjJlctC8U7Mph1ilGpfyLiXbeBIRjf/Mw8dkOahVRJ5hAebDiaKYDvxm/PuTZSZK7yFdar05Gp5e4fLY=",
  "ecdhShared": "dSm6xX6N2GhXKLxk4aCKG86dn9DWLL3eiSiFZwl2t8I=",
  "edPkcs8": "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g",
  "edSpki": "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
  "xPkcs8": "MC4CAQAwBQYDK2VuBCIEIHcHbQpzGKV9PBbBclGyZkXfTC+H68CZKrF3+6UduSwq"
};

export const tests = {
  // RFC 4231 (HMAC-SHA-2) test cases 1, 2 and 6, and RFC 2202 case 1 (HMAC-SHA-1).
  async hmac_rfc4231() {
    const cases = [
      ["SHA-256", repeat(0x0b, 20), enc("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
      ["SHA-384", repeat(0x0b, 20), enc("Hi There"), "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"],
      ["SHA-512", repeat(0x0b, 20), enc("Hi There"), "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"],
      ["SHA-256", enc("Jefe"), enc("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
      ["SHA-256", repeat(0xaa, 131), enc("Test Using Larger Than Block-Size Key - Hash Key First"), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
      ["SHA-1", repeat(0x0b, 20), enc("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"],
    ];
    for (const [hash, keyBytes, data, expected] of cases) {
      const key = await subtle.importKey("raw", keyBytes, { name: "HMAC", hash }, false, ["sign", "verify"]);
      eq(hex(await subtle.sign("HMAC", key, data)), expected, hash);
      eq(await subtle.verify("HMAC", key, unhex(expected), data), true, `${hash} verify`);
      const wrong = unhex(expected); wrong[0] ^= 1;
      eq(await subtle.verify("HMAC", key, wrong, data), false, `${hash} verify tampered`);
      eq(await subtle.verify("HMAC", key, unhex(expected).slice(1), data), false, `${hash} verify short`);
    }
  },
  // The jwt.io HS256 example token, signed and verified the way Hono's JWT helper does it.
  async hmac_jwt_hs256() {
    const token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    const [header, payload, signature] = token.split(".");
    const key = await subtle.importKey("raw", enc("your-256-bit-secret"), { name: "HMAC", hash: { name: "SHA-256" } }, false, ["sign", "verify"]);
    eq(b64url(await subtle.sign({ name: "HMAC" }, key, enc(`${header}.${payload}`))), signature);
    const sig = Uint8Array.from(atob(signature.replace(/-/g, "+").replace(/_/g, "/") + "="), (c) => c.charCodeAt(0));
    eq(await subtle.verify("hmac", key, sig, enc(`${header}.${payload}`)), true, "case-insensitive name");
  },
  // GitHub's documented webhook example, checked with Cloudflare's timingSafeEqual.
  async hmac_webhook() {
    const key = await subtle.importKey("raw", enc("It's a Secret to Everybody"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = await subtle.sign("HMAC", key, enc("Hello, World!"));
    const expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    eq(hex(mac), expected);
    eq(subtle.timingSafeEqual(mac, unhex(expected)), true);
    eq(subtle.timingSafeEqual(new Uint8Array(mac), unhex(expected.replace(/^75/, "76"))), false);
    let threw = false;
    try { subtle.timingSafeEqual(mac, new Uint8Array(31)); } catch (err) { threw = err instanceof TypeError; }
    assert(threw, "lengths differ: TypeError");
  },
  async hmac_generate_and_jwk() {
    const key = await subtle.generateKey({ name: "HMAC", hash: "SHA-384" }, true, ["verify", "sign", "sign"]);
    eq(key.type, "secret"); eq(key.extractable, true);
    eq(key.algorithm.name, "HMAC"); eq(key.algorithm.hash.name, "SHA-384"); eq(key.algorithm.length, 1024);
    eq(key.usages.join(), "sign,verify", "usages normalized");
    const jwk = await subtle.exportKey("jwk", key);
    eq(jwk.kty, "oct"); eq(jwk.alg, "HS384"); eq(jwk.ext, true); eq(jwk.key_ops.join(), "sign,verify");
    eq(unb64(jwk.k.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (jwk.k.length % 4)) % 4)).length, 128);
    const back = await subtle.importKey("jwk", jwk, { name: "HMAC", hash: "SHA-384" }, false, ["sign"]);
    eq(hex(await subtle.sign("HMAC", back, enc("x"))), hex(await subtle.sign("HMAC", key, enc("x"))), "jwk round trip");
    const raw = await subtle.exportKey("raw", key);
    eq(raw.byteLength, 128);
    await rejects(subtle.importKey("jwk", { ...jwk, alg: "HS256" }, { name: "HMAC", hash: "SHA-384" }, false, ["sign"]), "DataError", "alg mismatch");
    await rejects(subtle.importKey("jwk", { ...jwk, kty: "RSA" }, { name: "HMAC", hash: "SHA-384" }, false, ["sign"]), "DataError", "kty");
    await rejects(subtle.importKey("jwk", { ...jwk, k: "%%%" }, { name: "HMAC", hash: "SHA-384" }, false, ["sign"]), "DataError", "bad base64url");
    await rejects(subtle.importKey("jwk", { ...jwk, key_ops: ["verify"] }, { name: "HMAC", hash: "SHA-384" }, false, ["sign"]), "DataError", "key_ops");
    await rejects(subtle.importKey("jwk", { ...jwk, ext: false }, { name: "HMAC", hash: "SHA-384" }, true, ["sign"]), "DataError", "ext");
    await rejects(subtle.importKey("raw", new Uint8Array(0), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), "DataError", "empty key");
    await rejects(subtle.importKey("raw", new Uint8Array(4), { name: "HMAC", hash: "SHA-256", length: 16 }, false, ["sign"]), "DataError", "length");
    await rejects(subtle.generateKey({ name: "HMAC", hash: "SHA-256", length: 0 }, false, ["sign"]), "OperationError", "zero length");
    await rejects(subtle.generateKey({ name: "HMAC" }, false, ["sign"]), "TypeError", "missing hash");
    await rejects(subtle.generateKey({ name: "HMAC", hash: "SHA-3" }, false, ["sign"]), "NotSupportedError", "unknown hash");
  },
  // McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 2, 3 and 4.
  async aes_gcm_vectors() {
    const k2 = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt", "decrypt"]);
    eq(hex(await subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, k2, new Uint8Array(16))), "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf");
    const key = await subtle.importKey("raw", unhex("feffe9928665731c6d6a8f9467308308"), { name: "AES-GCM" }, true, ["encrypt", "decrypt"]);
    const iv = unhex("cafebabefacedbaddecaf888");
    const p = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255");
    const c3 = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985";
    eq(hex(await subtle.encrypt({ name: "AES-GCM", iv }, key, p)), c3 + "4d5c2af327cd64a62cf35abd2ba6fab4", "case 3");
    const aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const c4 = c3.slice(0, 120) + "5bc94fbc3221a5db94fae95ae7121a47";
    eq(hex(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, p.slice(0, 60))), c4, "case 4");
    eq(hex(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, unhex(c4))), hex(p.slice(0, 60)), "decrypt case 4");
    // A 96-bit tag is the first 12 bytes of the full tag.
    const short = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad, tagLength: 96 }, key, p.slice(0, 60));
    eq(hex(short), c4.slice(0, c4.length - 8), "truncated tag");
    eq(hex(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad, tagLength: 96 }, key, short)), hex(p.slice(0, 60)));
    const tampered = new Uint8Array(short); tampered[70] ^= 1;
    await rejects(subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad, tagLength: 96 }, key, tampered), "OperationError", "truncated tag tampered");
    const bad = unhex(c4); bad[0] ^= 1;
    await rejects(subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, bad), "OperationError", "tampered");
    await rejects(subtle.decrypt({ name: "AES-GCM", iv }, key, unhex(c4)), "OperationError", "wrong aad");
    await rejects(subtle.encrypt({ name: "AES-GCM", iv, tagLength: 100 }, key, p), "OperationError", "tag length");
    await rejects(subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(0) }, key, p), "OperationError", "empty iv");
    await rejects(subtle.decrypt({ name: "AES-GCM", iv }, key, new Uint8Array(8)), "OperationError", "shorter than tag");
    await rejects(subtle.encrypt({ name: "AES-GCM" }, key, p), "TypeError", "missing iv");
    const iv16 = crypto.getRandomValues(new Uint8Array(16));
    const sealed = await subtle.encrypt({ name: "AES-GCM", iv: iv16 }, key, enc("sixteen byte iv"));
    eq(new TextDecoder().decode(await subtle.decrypt({ name: "AES-GCM", iv: iv16 }, key, sealed)), "sixteen byte iv");
    const jwk = await subtle.exportKey("jwk", key);
    eq(jwk.alg, "A128GCM"); eq(jwk.k, "_v_pkoZlcxxtao-UZzCDCA");
  },
  // NIST SP 800-38A F.2.1 (CBC-AES128), with WebCrypto's PKCS#7 padding block appended.
  async aes_cbc_vectors() {
    const key = await subtle.importKey("raw", unhex("2b7e151628aed2a6abf7158809cf4f3c"), "AES-CBC", true, ["encrypt", "decrypt"]);
    const iv = unhex("000102030405060708090a0b0c0d0e0f");
    const p = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    const c = await subtle.encrypt({ name: "AES-CBC", iv }, key, p);
    eq(c.byteLength, 80);
    eq(hex(c).slice(0, 128), "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
    eq(hex(await subtle.decrypt({ name: "AES-CBC", iv }, key, c)), hex(p));
    const other = await subtle.importKey("raw", new Uint8Array(16), "AES-CBC", false, ["decrypt"]);
    await rejects(subtle.decrypt({ name: "AES-CBC", iv }, other, c), "OperationError", "bad padding");
    await rejects(subtle.decrypt({ name: "AES-CBC", iv }, key, new Uint8Array(c).slice(0, 79)), "OperationError", "not a block multiple");
    await rejects(subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(15) }, key, p), "OperationError", "iv length");
    eq((await subtle.exportKey("jwk", key)).alg, "A128CBC");
    const k256 = await subtle.generateKey({ name: "AES-CBC", length: 256 }, true, ["encrypt"]);
    eq(k256.algorithm.length, 256); eq((await subtle.exportKey("raw", k256)).byteLength, 32);
    eq((await subtle.exportKey("jwk", k256)).alg, "A256CBC");
  },
  // NIST SP 800-38A F.5.1 (CTR-AES128), and the counter's wrap within its `length` bits checked
  // against AES blocks computed with AES-CBC (whose first block with a zero IV is AES itself).
  async aes_ctr_vectors() {
    const keyBytes = unhex("2b7e151628aed2a6abf7158809cf4f3c");
    const key = await subtle.importKey("raw", keyBytes, "AES-CTR", false, ["encrypt", "decrypt"]);
    const counter = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    const p = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    const c = "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee";
    eq(hex(await subtle.encrypt({ name: "AES-CTR", counter, length: 64 }, key, p)), c);
    eq(hex(await subtle.decrypt({ name: "AES-CTR", counter, length: 128 }, key, unhex(c))), hex(p));
    const cbc = await subtle.importKey("raw", keyBytes, "AES-CBC", false, ["encrypt"]);
    const aesBlock = async (block) => hex((await subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(16) }, cbc, block)).slice(0, 16));
    const start = unhex("000102030405060708090a0b0c0d0eff");
    const wrapped = unhex("000102030405060708090a0b0c0d0e00");
    const carried = unhex("000102030405060708090a0b0c0d0f00");
    eq(hex(await subtle.encrypt({ name: "AES-CTR", counter: start, length: 8 }, key, new Uint8Array(32))), (await aesBlock(start)) + (await aesBlock(wrapped)), "wraps within 8 bits");
    eq(hex(await subtle.encrypt({ name: "AES-CTR", counter: start, length: 16 }, key, new Uint8Array(32))), (await aesBlock(start)) + (await aesBlock(carried)), "carries within 16 bits");
    await rejects(subtle.encrypt({ name: "AES-CTR", counter, length: 1 }, key, new Uint8Array(48)), "OperationError", "counter repeats");
    await rejects(subtle.encrypt({ name: "AES-CTR", counter, length: 0 }, key, p), "OperationError", "zero length");
    await rejects(subtle.encrypt({ name: "AES-CTR", counter: new Uint8Array(8), length: 64 }, key, p), "OperationError", "counter size");
  },
  // RFC 3394 section 4.1: wrap 128 bits of key data with a 128-bit KEK.
  async aes_kw_rfc3394() {
    const kek = await subtle.importKey("raw", unhex("000102030405060708090A0B0C0D0E0F"), "AES-KW", false, ["wrapKey", "unwrapKey"]);
    const inner = await subtle.importKey("raw", unhex("00112233445566778899AABBCCDDEEFF"), "AES-GCM", true, ["encrypt"]);
    const wrapped = await subtle.wrapKey("raw", inner, kek, "AES-KW");
    eq(hex(wrapped), "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
    const back = await subtle.unwrapKey("raw", wrapped, kek, "AES-KW", "AES-GCM", true, ["encrypt", "decrypt"]);
    eq(hex(await subtle.exportKey("raw", back)), "00112233445566778899aabbccddeeff");
    const tampered = new Uint8Array(wrapped); tampered[3] ^= 1;
    await rejects(subtle.unwrapKey("raw", tampered, kek, "AES-KW", "AES-GCM", true, ["encrypt"]), "OperationError", "integrity check");
    await rejects(subtle.encrypt("AES-KW", kek, new Uint8Array(16)), "NotSupportedError", "AES-KW cannot encrypt");
    await rejects(subtle.importKey("raw", new Uint8Array(16), "AES-KW", false, ["encrypt"]), "SyntaxError", "usage");
  },
  // RFC 6070 (PBKDF2-HMAC-SHA1) and RFC 7914 section 11 (PBKDF2-HMAC-SHA256).
  async pbkdf2_vectors() {
    const password = await subtle.importKey("raw", enc("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
    const run = (iterations, hash, length, salt = enc("salt"), key = password) => subtle.deriveBits({ name: "PBKDF2", salt, iterations, hash }, key, length);
    eq(hex(await run(1, "SHA-1", 160)), "0c60c80f961f0e71f3a9b524af6012062fe037a6");
    eq(hex(await run(2, "SHA-1", 160)), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    eq(hex(await run(4096, "SHA-1", 160)), "4b007901b765489abead49d926f721d065a429c1");
    const passwd = await subtle.importKey("raw", enc("passwd"), { name: "PBKDF2" }, false, ["deriveBits"]);
    eq(hex(await run(1, "SHA-256", 512, enc("salt"), passwd)), "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
    await rejects(run(100001, "SHA-256", 256), "NotSupportedError", "Cloudflare's iteration cap");
    eq((await run(100000, "SHA-256", 256)).byteLength, 32, "the cap itself is allowed");
    await rejects(run(0, "SHA-256", 256), "OperationError", "zero iterations");
    await rejects(run(1, "SHA-256", 257), "OperationError", "not whole bytes");
    await rejects(run(1, "SHA-256", null), "OperationError", "null length");
    await rejects(subtle.importKey("raw", enc("p"), "PBKDF2", true, ["deriveBits"]), "SyntaxError", "extractable");
    await rejects(subtle.importKey("jwk", { kty: "oct", k: "cA" }, "PBKDF2", false, ["deriveBits"]), "NotSupportedError", "jwk");
    await rejects(subtle.exportKey("raw", password), "InvalidAccessError", "export");
    // The usual "password to AES key" recipe.
    const aes = await subtle.deriveKey({ name: "PBKDF2", salt: enc("salt"), iterations: 1000, hash: "SHA-256" }, password, { name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    eq(aes.algorithm.name, "AES-GCM"); eq(aes.algorithm.length, 256);
    eq(hex(await subtle.exportKey("raw", aes)), hex(await run(1000, "SHA-256", 256)));
    await rejects(subtle.deriveKey({ name: "PBKDF2", salt: enc("s"), iterations: 1, hash: "SHA-256" }, password, { name: "AES-GCM", length: 100 }, true, ["encrypt"]), "OperationError", "AES key length");
    await rejects(subtle.deriveKey({ name: "PBKDF2", salt: enc("s"), iterations: 1, hash: "SHA-256" }, password, "ECDSA", true, ["sign"]), "NotSupportedError", "derived key type");
    await rejects(subtle.deriveBits({ name: "PBKDF2", salt: enc("s"), iterations: 1, hash: "SHA-256" }, passwd, 256).then(() => subtle.deriveKey({ name: "PBKDF2", salt: enc("s"), iterations: 1, hash: "SHA-256" }, passwd, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])), "InvalidAccessError", "no deriveKey usage");
  },
  // RFC 5869 test cases 1 and 3.
  async hkdf_rfc5869() {
    const ikm = await subtle.importKey("raw", repeat(0x0b, 22), "HKDF", false, ["deriveBits", "deriveKey"]);
    const okm1 = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: unhex("000102030405060708090a0b0c"), info: unhex("f0f1f2f3f4f5f6f7f8f9") }, ikm, 42 * 8);
    eq(hex(okm1), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    const okm3 = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new Uint8Array(0) }, ikm, 42 * 8);
    eq(hex(okm3), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
    await rejects(subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new Uint8Array(0) }, ikm, 255 * 256 + 8), "OperationError", "too long");
    await rejects(subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0) }, ikm, 256), "TypeError", "missing info");
    const hmacKey = await subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: unhex("000102030405060708090a0b0c"), info: unhex("f0f1f2f3f4f5f6f7f8f9") }, ikm, { name: "HMAC", hash: "SHA-256", length: 336 }, true, ["sign"]);
    eq(hex(await subtle.exportKey("raw", hmacKey)), hex(okm1));
  },
  // RFC 6979 A.2.5 and A.2.6: Kiln's ECDSA is deterministic, so signing reproduces the RFC.
  async ecdsa_rfc6979() {
    const cases = [
      ["P-256", "SHA-256", "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721", "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6", "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
        "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"],
      ["P-384", "SHA-384", "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5", "ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64def8f0ea9055866064a254515480bc13", "8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1288b231c3ae0d4fe7344fd2533264720",
        "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe4699ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8"],
    ];
    for (const [curve, hash, d, x, y, signature] of cases) {
      const jwk = { kty: "EC", crv: curve, x: b64url(unhex(x)), y: b64url(unhex(y)), d: b64url(unhex(d)) };
      const priv = await subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: curve }, true, ["sign"]);
      const pub = await subtle.importKey("jwk", { kty: "EC", crv: curve, x: jwk.x, y: jwk.y }, { name: "ECDSA", namedCurve: curve }, true, ["verify"]);
      eq(hex(await subtle.sign({ name: "ECDSA", hash }, priv, enc("sample"))), signature, `${curve} sign`);
      eq(await subtle.verify({ name: "ECDSA", hash }, pub, unhex(signature), enc("sample")), true, `${curve} verify`);
      eq(await subtle.verify({ name: "ECDSA", hash }, pub, unhex(signature), enc("samplf")), false, `${curve} other message`);
      eq(await subtle.verify({ name: "ECDSA", hash }, pub, unhex(signature).slice(1), enc("sample")), false, `${curve} short signature`);
      eq(hex(await subtle.exportKey("raw", pub)), "04" + x + y, `${curve} raw export`);
      const exported = await subtle.exportKey("jwk", priv);
      eq(exported.d, jwk.d); eq(exported.x, jwk.x); eq(exported.y, jwk.y); eq(exported.crv, curve); eq(exported.kty, "EC");
      await rejects(subtle.importKey("jwk", { ...jwk, d: b64url(unhex("01".padStart(d.length, "0"))) }, { name: "ECDSA", namedCurve: curve }, false, ["sign"]), "DataError", `${curve} d not matching x/y`);
    }
  },
  // Keys and signatures from OpenSSL: Kiln verifies OpenSSL's signatures and OpenSSL's key
  // encodings round-trip byte for byte.
  async ecdsa_openssl() {
    for (const [curve, hash, name] of [["P-256", "SHA-256", "P256"], ["P-384", "SHA-384", "P384"], ["P-521", "SHA-512", "P521"]]) {
      const alg = { name: "ECDSA", namedCurve: curve };
      const pub = await subtle.importKey("spki", unb64(V[`ec${name}Spki`]), alg, true, ["verify"]);
      const priv = await subtle.importKey("pkcs8", unb64(V[`ec${name}Pkcs8`]), alg, true, ["sign"]);
      eq(pub.type, "public"); eq(priv.type, "private"); eq(pub.algorithm.namedCurve, curve);
      eq(await subtle.verify({ name: "ECDSA", hash }, pub, unb64(V[`ec${name}Sig`]), enc("hello kiln")), true, `${curve} OpenSSL signature`);
      const mine = await subtle.sign({ name: "ECDSA", hash }, priv, enc("hello kiln"));
      eq(mine.byteLength, unb64(V[`ec${name}Sig`]).length, `${curve} P1363 length`);
      eq(await subtle.verify({ name: "ECDSA", hash }, pub, mine, enc("hello kiln")), true, `${curve} own signature`);
      eq(hex(await subtle.exportKey("spki", pub)), hex(unb64(V[`ec${name}Spki`])), `${curve} spki round trip`);
      const again = await subtle.importKey("pkcs8", await subtle.exportKey("pkcs8", priv), alg, false, ["sign"]);
      eq(await subtle.verify({ name: "ECDSA", hash }, pub, await subtle.sign({ name: "ECDSA", hash }, again, enc("x")), enc("x")), true, `${curve} pkcs8 round trip`);
      const jwk = await subtle.exportKey("jwk", priv);
      const fromJwk = await subtle.importKey("jwk", jwk, alg, false, ["sign"]);
      eq(await subtle.verify({ name: "ECDSA", hash }, pub, await subtle.sign({ name: "ECDSA", hash }, fromJwk, enc("y")), enc("y")), true, `${curve} jwk round trip`);
    }
    const p521 = await subtle.importKey("spki", unb64(V.ecP521Spki), { name: "ECDSA", namedCurve: "P-521" }, true, ["verify"]);
    eq(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, p521, unb64(V.ecP521Sha256Sig), enc("hello kiln")), true, "P-521 with SHA-256 (OpenSSL)");
    const p256 = { name: "ECDSA", namedCurve: "P-256" };
    await rejects(subtle.importKey("spki", unb64(V.ecP384Spki), p256, true, ["verify"]), "DataError", "curve mismatch");
    await rejects(subtle.importKey("spki", unb64(V.rsaSpki), p256, true, ["verify"]), "DataError", "RSA key as EC");
    await rejects(subtle.importKey("pkcs8", new Uint8Array([48, 3, 2, 1, 0]), p256, true, ["sign"]), "DataError", "garbage pkcs8");
    await rejects(subtle.importKey("spki", unb64(V.ecP256Spki), p256, true, ["sign"]), "SyntaxError", "private usage on public key");
    await rejects(subtle.importKey("spki", unb64(V.ecP256Spki), { name: "ECDSA", namedCurve: "P-999" }, true, ["verify"]), "NotSupportedError", "unknown curve");
    await rejects(subtle.importKey("spki", unb64(V.ecP256Spki), { name: "ECDSA" }, true, ["verify"]), "TypeError", "missing namedCurve");
    const priv = await subtle.importKey("pkcs8", unb64(V.ecP256Pkcs8), p256, false, ["sign"]);
    await rejects(subtle.sign("ECDSA", priv, enc("x")), "TypeError", "hash is required at call time");
    await rejects(subtle.exportKey("pkcs8", priv), "InvalidAccessError", "non-extractable");
    const pub = await subtle.importKey("spki", unb64(V.ecP256Spki), p256, true, ["verify"]);
    await rejects(subtle.exportKey("pkcs8", pub), "InvalidAccessError", "pkcs8 of a public key");
  },
  async ecdsa_generate() {
    for (const curve of ["P-256", "P-384", "P-521"]) {
      const { publicKey, privateKey } = await subtle.generateKey({ name: "ECDSA", namedCurve: curve }, false, ["sign", "verify"]);
      eq(publicKey.extractable, true, "public keys are always extractable"); eq(privateKey.extractable, false);
      eq(publicKey.usages.join(), "verify"); eq(privateKey.usages.join(), "sign");
      const sig = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, enc("m"));
      eq(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, sig, enc("m")), true, curve);
      const jwk = await subtle.exportKey("jwk", publicKey);
      eq(jwk.kty, "EC"); eq(jwk.crv, curve); eq(jwk.d, undefined);
    }
    await rejects(subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]), "SyntaxError", "no private usage");
    await rejects(subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["encrypt"]), "SyntaxError", "invalid usage");
  },
  // ECDH against a shared secret OpenSSL computed.
  async ecdh_openssl() {
    const alg = { name: "ECDH", namedCurve: "P-256" };
    const mine = await subtle.importKey("pkcs8", unb64(V.ecdhA), alg, false, ["deriveBits", "deriveKey"]);
    const theirs = await subtle.importKey("raw", unb64(V.ecdhB), alg, true, []);
    eq(hex(await subtle.deriveBits({ name: "ECDH", public: theirs }, mine, 256)), hex(unb64(V.ecdhShared)));
    eq(hex(await subtle.deriveBits({ name: "ECDH", public: theirs }, mine, null)), hex(unb64(V.ecdhShared)), "null length");
    eq(hex(await subtle.deriveBits({ name: "ECDH", public: theirs }, mine, 100)), hex(truncate(unb64(V.ecdhShared), 100)), "100 bits");
    await rejects(subtle.deriveBits({ name: "ECDH", public: theirs }, mine, 264), "OperationError", "too long");
    const a = await subtle.generateKey(alg, false, ["deriveBits"]);
    const b = await subtle.generateKey(alg, false, ["deriveBits"]);
    eq(hex(await subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, 256)), hex(await subtle.deriveBits({ name: "ECDH", public: a.publicKey }, b.privateKey, 256)), "agreement");
    const aes = await subtle.deriveKey({ name: "ECDH", public: theirs }, mine, { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
    eq(hex(await subtle.exportKey("raw", aes)), hex(unb64(V.ecdhShared).slice(0, 16)));
    const p384 = await subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, false, ["deriveBits"]);
    await rejects(subtle.deriveBits({ name: "ECDH", public: p384.publicKey }, mine, 256), "InvalidAccessError", "curve mismatch");
    const ecdsa = await subtle.importKey("raw", unb64(V.ecdhB), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    await rejects(subtle.deriveBits({ name: "ECDH", public: ecdsa }, mine, 256), "InvalidAccessError", "ECDSA public key");
    await rejects(subtle.deriveBits({ name: "ECDH", public: "nope" }, mine, 256), "TypeError", "not a key");
    await rejects(subtle.deriveBits({ name: "ECDH", public: theirs }, theirs, 256), "InvalidAccessError", "public base key");
    await rejects(subtle.importKey("raw", unb64(V.ecdhB), alg, true, ["deriveBits"]), "SyntaxError", "ECDH public keys have no usages");
    const bad = unb64(V.ecdhB); bad[40] ^= 1;
    await rejects(subtle.importKey("raw", bad, alg, true, []), "DataError", "point not on the curve");
  },
  // RFC 8032 section 7.1 tests 1 and 2; OpenSSL's encodings of test 1's key.
  async ed25519_rfc8032() {
    const sig1 = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
    const priv = await subtle.importKey("pkcs8", unb64(V.edPkcs8), "Ed25519", true, ["sign"]);
    eq(priv.algorithm.name, "Ed25519");
    eq(hex(await subtle.sign("Ed25519", priv, new Uint8Array(0))), sig1, "test 1");
    const pub = await subtle.importKey("spki", unb64(V.edSpki), { name: "Ed25519" }, true, ["verify"]);
    eq(hex(await subtle.exportKey("raw", pub)), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    eq(await subtle.verify("Ed25519", pub, unhex(sig1), new Uint8Array(0)), true);
    eq(await subtle.verify("Ed25519", pub, unhex(sig1), new Uint8Array(1)), false);
    eq(hex(await subtle.exportKey("spki", pub)), hex(unb64(V.edSpki)), "spki round trip");
    eq(hex(await subtle.exportKey("pkcs8", priv)), hex(unb64(V.edPkcs8)), "pkcs8 round trip");
    const jwk = await subtle.exportKey("jwk", priv);
    eq(jwk.kty, "OKP"); eq(jwk.crv, "Ed25519"); eq(jwk.alg, "EdDSA");
    eq(jwk.d, b64url(unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")));
    const pub2 = await subtle.importKey("raw", unhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"), "Ed25519", false, ["verify"]);
    const sig2 = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
    eq(await subtle.verify("Ed25519", pub2, unhex(sig2), unhex("72")), true, "test 2");
    const priv2 = await subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", d: b64url(unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")), x: b64url(unhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")) }, "Ed25519", false, ["sign"]);
    eq(hex(await subtle.sign("Ed25519", priv2, unhex("72"))), sig2, "test 2 sign from jwk");
    const node = await subtle.importKey("raw", unhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"), { name: "NODE-ED25519", namedCurve: "NODE-ED25519" }, false, ["verify"]);
    eq(node.algorithm.namedCurve, "NODE-ED25519");
    eq(await subtle.verify({ name: "NODE-ED25519" }, node, unhex(sig2), unhex("72")), true, "NODE-ED25519");
    const pair = await subtle.generateKey("Ed25519", true, ["sign", "verify"]);
    eq(await subtle.verify("Ed25519", pair.publicKey, await subtle.sign("Ed25519", pair.privateKey, enc("m")), enc("m")), true, "generated");
    await rejects(subtle.importKey("raw", new Uint8Array(31), "Ed25519", false, ["verify"]), "DataError", "short key");
    await rejects(subtle.importKey("jwk", { kty: "OKP", crv: "X25519", x: b64url(new Uint8Array(32)) }, "Ed25519", false, ["verify"]), "DataError", "crv");
  },
  // RFC 7748 section 6.1.
  async x25519_rfc7748() {
    const alice = await subtle.importKey("pkcs8", unb64(V.xPkcs8), "X25519", true, ["deriveBits"]);
    const bobPublic = await subtle.importKey("raw", unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"), "X25519", true, []);
    const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    eq(hex(await subtle.deriveBits({ name: "X25519", public: bobPublic }, alice, 256)), shared, "alice");
    eq((await subtle.exportKey("jwk", alice)).x, b64url(unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")), "alice's public key");
    const bob = await subtle.importKey("jwk", { kty: "OKP", crv: "X25519", d: b64url(unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")), x: b64url(unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")) }, "X25519", false, ["deriveBits"]);
    const alicePublic = await subtle.importKey("raw", unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"), "X25519", true, []);
    eq(hex(await subtle.deriveBits({ name: "X25519", public: alicePublic }, bob, null)), shared, "bob");
    const zero = await subtle.importKey("raw", new Uint8Array(32), "X25519", true, []);
    await rejects(subtle.deriveBits({ name: "X25519", public: zero }, bob, 256), "OperationError", "small-order point");
    const pair = await subtle.generateKey("X25519", false, ["deriveKey"]);
    const key = await subtle.deriveKey({ name: "X25519", public: alicePublic }, pair.privateKey, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]);
    eq(key.algorithm.name, "HMAC");
  },
  // An RSA key and signatures made by OpenSSL. PKCS#1 v1.5 is deterministic, so Kiln's RS256
  // signature must equal OpenSSL's byte for byte.
  async rsa_openssl() {
    const rs = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const priv = await subtle.importKey("pkcs8", unb64(V.rsaPkcs8), rs, true, ["sign"]);
    const pub = await subtle.importKey("spki", unb64(V.rsaSpki), rs, true, ["verify"]);
    eq(pub.algorithm.modulusLength, 2048); eq(hex(pub.algorithm.publicExponent), "010001"); eq(pub.algorithm.hash.name, "SHA-256");
    eq(await subtle.verify("RSASSA-PKCS1-v1_5", pub, unb64(V.rsaRs256), enc("hello kiln")), true, "OpenSSL RS256");
    eq(hex(await subtle.sign("RSASSA-PKCS1-v1_5", priv, enc("hello kiln"))), hex(unb64(V.rsaRs256)), "RS256 sign");
    eq(await subtle.verify("RSASSA-PKCS1-v1_5", pub, unb64(V.rsaRs256), enc("hello kilm")), false);
    eq(hex(await subtle.exportKey("spki", pub)), hex(unb64(V.rsaSpki)), "spki round trip");
    const jwk = await subtle.exportKey("jwk", priv);
    eq(jwk.kty, "RSA"); eq(jwk.alg, "RS256"); eq(jwk.e, "AQAB");
    for (const member of ["n", "d", "p", "q", "dp", "dq", "qi"]) assert(typeof jwk[member] === "string", member);
    const fromJwk = await subtle.importKey("jwk", jwk, rs, true, ["sign"]);
    eq(hex(await subtle.sign("RSASSA-PKCS1-v1_5", fromJwk, enc("hello kiln"))), hex(unb64(V.rsaRs256)), "jwk round trip");
    eq(hex(await subtle.exportKey("pkcs8", fromJwk)), hex(await subtle.exportKey("pkcs8", priv)), "pkcs8 round trip");
    const { d, p, q, dp, dq, qi, ...publicJwk } = jwk;
    const pubJwk = await subtle.importKey("jwk", { ...publicJwk, key_ops: ["verify"] }, rs, true, ["verify"]);
    eq(await subtle.verify("RSASSA-PKCS1-v1_5", pubJwk, unb64(V.rsaRs256), enc("hello kiln")), true, "public jwk");
    const dOnly = await subtle.importKey("jwk", { ...publicJwk, d }, rs, false, ["sign"]);
    eq(hex(await subtle.sign("RSASSA-PKCS1-v1_5", dOnly, enc("hello kiln"))), hex(unb64(V.rsaRs256)), "jwk without primes");
    await rejects(subtle.importKey("jwk", { ...jwk, dp: jwk.dq }, rs, true, ["sign"]), "DataError", "inconsistent dp");
    await rejects(subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" }, true, ["sign"]), "DataError", "alg mismatch");
    await rejects(subtle.importKey("spki", unb64(V.ecP256Spki), rs, true, ["verify"]), "DataError", "EC key as RSA");

    const ps = { name: "RSA-PSS", hash: "SHA-256" };
    const psPub = await subtle.importKey("spki", unb64(V.rsaSpki), ps, false, ["verify"]);
    const psPriv = await subtle.importKey("pkcs8", unb64(V.rsaPkcs8), ps, false, ["sign"]);
    eq(await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, psPub, unb64(V.rsaPs256), enc("hello kiln")), true, "OpenSSL PS256");
    eq(await subtle.verify({ name: "RSA-PSS", saltLength: 20 }, psPub, unb64(V.rsaPs256), enc("hello kiln")), false, "wrong salt length");
    const mine = await subtle.sign({ name: "RSA-PSS", saltLength: 32 }, psPriv, enc("m"));
    eq(await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, psPub, mine, enc("m")), true, "own PS256");
    await rejects(subtle.sign({ name: "RSA-PSS" }, psPriv, enc("m")), "TypeError", "missing saltLength");
    await rejects(subtle.sign({ name: "RSA-PSS", saltLength: 1000 }, psPriv, enc("m")), "OperationError", "salt too long");
    await rejects(subtle.verify("RSASSA-PKCS1-v1_5", psPub, mine, enc("m")), "InvalidAccessError", "algorithm mismatch");

    const oaep = { name: "RSA-OAEP", hash: "SHA-256" };
    const oPriv = await subtle.importKey("pkcs8", unb64(V.rsaPkcs8), oaep, false, ["decrypt", "unwrapKey"]);
    const oPub = await subtle.importKey("spki", unb64(V.rsaSpki), oaep, true, ["encrypt", "wrapKey"]);
    eq(new TextDecoder().decode(await subtle.decrypt("RSA-OAEP", oPriv, unb64(V.rsaOaep256))), "secret message", "OpenSSL OAEP");
    const sealed = await subtle.encrypt({ name: "RSA-OAEP", label: enc("l") }, oPub, enc("round trip"));
    eq(new TextDecoder().decode(await subtle.decrypt({ name: "RSA-OAEP", label: enc("l") }, oPriv, sealed)), "round trip");
    await rejects(subtle.decrypt({ name: "RSA-OAEP", label: enc("other") }, oPriv, sealed), "OperationError", "wrong label");
    const sha1 = await subtle.importKey("pkcs8", unb64(V.rsaPkcs8), { name: "RSA-OAEP", hash: "SHA-1" }, false, ["decrypt"]);
    eq(new TextDecoder().decode(await subtle.decrypt({ name: "RSA-OAEP", label: enc("kiln label") }, sha1, unb64(V.rsaOaep1Label))), "secret message", "OpenSSL OAEP SHA-1 with label");
    eq((await subtle.exportKey("jwk", oPub)).alg, "RSA-OAEP-256");
    await rejects(subtle.encrypt("RSA-OAEP", oPub, new Uint8Array(300)), "OperationError", "message too long");
  },
  async rsa_generate() {
    const pair = await subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"]);
    eq(pair.privateKey.algorithm.modulusLength, 1024); eq(hex(pair.publicKey.algorithm.publicExponent), "010001");
    const sig = await subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, enc("m"));
    eq(sig.byteLength, 128);
    eq(await subtle.verify("RSASSA-PKCS1-v1_5", pair.publicKey, sig, enc("m")), true);
    await rejects(subtle.generateKey({ name: "RSA-PSS", modulusLength: 1024, publicExponent: new Uint8Array([5]), hash: "SHA-256" }, true, ["sign"]), "OperationError", "exponent");
    await rejects(subtle.generateKey({ name: "RSA-PSS", modulusLength: 1001, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign"]), "OperationError", "modulus length");
    await rejects(subtle.generateKey({ name: "RSA-OAEP", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign"]), "SyntaxError", "usage");
  },
  // Key wrapping of every format through AES-GCM, AES-KW and RSA-OAEP.
  async wrap_unwrap() {
    const hmacKey = await subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    const gcm = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["wrapKey", "unwrapKey"]);
    const iv = new Uint8Array(12);
    const wrapped = await subtle.wrapKey("jwk", hmacKey, gcm, { name: "AES-GCM", iv });
    const unwrapped = await subtle.unwrapKey("jwk", wrapped, gcm, { name: "AES-GCM", iv }, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    eq(hex(await subtle.sign("HMAC", unwrapped, enc("m"))), hex(await subtle.sign("HMAC", hmacKey, enc("m"))), "jwk through AES-GCM");
    const ec = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const oaepPair = await subtle.generateKey({ name: "RSA-OAEP", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["wrapKey", "unwrapKey"]);
    const aes = await subtle.generateKey({ name: "AES-CBC", length: 128 }, true, ["encrypt"]);
    const wrappedAes = await subtle.wrapKey("raw", aes, oaepPair.publicKey, "RSA-OAEP");
    const aesBack = await subtle.unwrapKey("raw", wrappedAes, oaepPair.privateKey, "RSA-OAEP", "AES-CBC", true, ["encrypt"]);
    eq(hex(await subtle.exportKey("raw", aesBack)), hex(await subtle.exportKey("raw", aes)), "raw through RSA-OAEP");
    const kw = await subtle.generateKey({ name: "AES-KW", length: 128 }, false, ["wrapKey", "unwrapKey"]);
    const wrappedEc = await subtle.wrapKey("pkcs8", ec.privateKey, gcm, { name: "AES-GCM", iv });
    const ecBack = await subtle.unwrapKey("pkcs8", wrappedEc, gcm, { name: "AES-GCM", iv }, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    eq(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, ec.publicKey, await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ecBack, enc("m")), enc("m")), true, "pkcs8 through AES-GCM");
    await rejects(subtle.wrapKey("raw", kw, gcm, { name: "AES-GCM", iv }), "InvalidAccessError", "non-extractable key");
    await rejects(subtle.wrapKey("raw", aes, hmacKey, "HMAC"), "NotSupportedError", "HMAC cannot wrap");
    await rejects(subtle.unwrapKey("jwk", new Uint8Array(32), gcm, { name: "AES-GCM", iv }, "HMAC", false, ["sign"]), "OperationError", "bad ciphertext");
  },
  async crypto_key_objects() {
    const key = await subtle.importKey("raw", new Uint8Array(16), { name: "aes-gcm" }, false, ["decrypt", "encrypt", "decrypt"]);
    assert(key instanceof CryptoKey, "instanceof");
    eq(Object.prototype.toString.call(key), "[object CryptoKey]");
    eq(key.algorithm.name, "AES-GCM", "name normalized"); eq(key.algorithm.length, 128);
    eq(key.usages.join(), "encrypt,decrypt");
    assert(key.algorithm === key.algorithm, "algorithm is cached");
    key.algorithm.name = "HMAC";
    eq((await subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, new Uint8Array(0))).byteLength, 16, "mutating the view changes nothing");
    eq(JSON.stringify(key), "{}"); eq(Object.getOwnPropertyNames(key).length, 0, "no own properties");
    console.log("a key:", key, await subtle.generateKey("Ed25519", false, ["sign"]));
    let threw = false;
    try { new CryptoKey(); } catch (err) { threw = err instanceof TypeError; }
    assert(threw, "illegal constructor");
    const fake = Object.create(CryptoKey.prototype);
    await rejects(subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, fake, new Uint8Array(0)), "TypeError", "forged key");
    threw = false;
    try { fake.type; } catch (err) { threw = err instanceof TypeError; }
    assert(threw, "getters check the brand");
    assert(crypto.subtle instanceof SubtleCrypto, "SubtleCrypto");
  },
  // A worker that patches prototypes still cannot observe a key's bytes while Kiln uses it.
  async key_material_stays_private() {
    const seen = [];
    const saved = { slice: Uint8Array.prototype.slice, subarray: Uint8Array.prototype.subarray, iterator: Array.prototype[Symbol.iterator], typedIterator: Uint8Array.prototype[Symbol.iterator] };
    Uint8Array.prototype.slice = function (...args) { seen.push(this); return saved.slice.apply(this, args); };
    Uint8Array.prototype.subarray = function (...args) { seen.push(this); return saved.subarray.apply(this, args); };
    Uint8Array.prototype[Symbol.iterator] = function () { seen.push(this); return saved.typedIterator.call(this); };
    Array.prototype[Symbol.iterator] = function () { for (let i = 0; i < this.length; i++) seen.push(this[i]); return saved.iterator.call(this); };
    const secret = unhex("000102030405060708090a0b0c0d0e0f");
    let pair;
    try {
      const key = await subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      await subtle.sign("HMAC", key, enc("m"));
      pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
      await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, enc("m"));
      await subtle.exportKey("jwk", pair.publicKey);
      await subtle.exportKey("spki", pair.publicKey);
    } finally {
      Uint8Array.prototype.slice = saved.slice;
      Uint8Array.prototype.subarray = saved.subarray;
      Uint8Array.prototype[Symbol.iterator] = saved.typedIterator;
      Array.prototype[Symbol.iterator] = saved.iterator;
    }
    const d = (await subtle.exportKey("jwk", pair.privateKey)).d;
    for (const value of seen) {
      if (!(value instanceof Uint8Array)) continue;
      assert(hex(value) !== hex(secret), "the HMAC key reached patched code");
      assert(b64url(value) !== d, "the ECDSA private key reached patched code");
    }
  },
  async error_names() {
    const aes = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
    await rejects(subtle.encrypt({ name: "AES-XYZ", iv: new Uint8Array(12) }, aes, new Uint8Array(1)), "NotSupportedError", "unknown algorithm");
    await rejects(subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, new Uint8Array(16)), "InvalidAccessError", "usage missing");
    await rejects(subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(16) }, aes, new Uint8Array(1)), "InvalidAccessError", "algorithm mismatch");
    await rejects(subtle.exportKey("raw", aes), "InvalidAccessError", "non-extractable");
    await rejects(subtle.importKey("raw", new Uint8Array(15), "AES-GCM", false, ["encrypt"]), "DataError", "AES key length");
    await rejects(subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, []), "SyntaxError", "empty usages");
    await rejects(subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["sign"]), "SyntaxError", "invalid usage");
    await rejects(subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["bogus"]), "SyntaxError", "unknown usage");
    await rejects(subtle.importKey("spki", new Uint8Array(16), "AES-GCM", false, ["encrypt"]), "NotSupportedError", "format for AES");
    await rejects(subtle.importKey("pem", new Uint8Array(16), "AES-GCM", false, ["encrypt"]), "NotSupportedError", "unknown format");
    await rejects(subtle.importKey("raw", "not bytes", "AES-GCM", false, ["encrypt"]), "TypeError", "key data type");
    await rejects(subtle.importKey("jwk", new Uint8Array(16), "AES-GCM", false, ["encrypt"]), "TypeError", "jwk data type");
    await rejects(subtle.generateKey({ name: "AES-GCM", length: 64 }, false, ["encrypt"]), "OperationError", "AES length");
    await rejects(subtle.generateKey({ name: "AES-GCM" }, false, ["encrypt"]), "TypeError", "missing length");
    await rejects(subtle.sign("HMAC", {}, new Uint8Array(1)), "TypeError", "not a key");
    await rejects(subtle.sign("HMAC"), "TypeError", "missing arguments");
    await rejects(subtle.digest("SHA-3", new Uint8Array(1)), "NotSupportedError", "digest");
    await rejects(subtle.digest({}, new Uint8Array(1)), "TypeError", "algorithm without name");
    const err = await rejects(subtle.exportKey("raw", aes), "InvalidAccessError", "message");
    assert(err.message.includes("non-extractable"), err.message);
    eq(err.code, 15, "legacy code");
  },
  async digests() {
    eq(hex(await subtle.digest("sha-1", enc("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
    eq(hex(await subtle.digest({ name: "SHA-384" }, enc("abc"))), "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
    eq(hex(await subtle.digest("SHA-512", new Uint8Array(0))), "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
    eq(hex(await subtle.digest("MD5", enc("abc"))), "900150983cd24fb0d6963f7d28e17f72", "Cloudflare's MD5");
    const view = new Uint8Array([0, 97, 98, 99, 0]).subarray(1, 4);
    eq(hex(await subtle.digest("SHA-256", view)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "offset view");
  },
  async digest_stream() {
    const stream = new crypto.DigestStream("SHA-256");
    assert(stream instanceof WritableStream, "is a WritableStream");
    const writer = stream.getWriter();
    await writer.write(enc("a"));
    await writer.write("b");
    await writer.write(new Uint8Array([99]).buffer);
    await writer.close();
    eq(hex(await stream.digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const piped = new crypto.DigestStream({ name: "MD5" });
    await new Response("abc").body.pipeTo(piped);
    eq(hex(await piped.digest), "900150983cd24fb0d6963f7d28e17f72", "pipeTo");
    let threw = null;
    try { new crypto.DigestStream("SHA-3"); } catch (err) { threw = err; }
    eq(threw?.name, "NotSupportedError");
  },
};

function truncate(bytes, bits) {
  const out = bytes.slice(0, Math.ceil(bits / 8));
  if (bits % 8) out[out.length - 1] &= 0xff << (8 - (bits % 8));
  return out;
}

export default {
  async fetch(request) {
    const name = new URL(request.url).pathname.slice(1);
    if (name === "") return Response.json(Object.keys(tests));
    try {
      await tests[name]();
      return new Response("ok");
    } catch (err) {
      return new Response(`${err}\n${err?.stack ?? ""}`, { status: 500 });
    }
  },
};
