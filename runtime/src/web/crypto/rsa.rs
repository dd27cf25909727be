//! RSA: RSASSA-PKCS1-v1_5 and RSA-PSS signatures, RSA-OAEP encryption, and RSA keys in SPKI,
//! PKCS#8 and JWK form.
//!
//! Key material crosses to JavaScript as PKCS#1 DER (`RSAPublicKey` or `RSAPrivateKey`); every
//! import is parsed and validated into that canonical form. Public keys of up to
//! `MODULUS_BITS_MAX` are accepted (the `rsa` crate's own decoders stop at 4096). Private-key
//! operations use blinding. The `rsa` crate's decryption is not constant-time
//! (RUSTSEC-2023-0071, no fixed release): RSA-OAEP decryption of attacker-chosen ciphertexts
//! could leak the key through timing, as with any `rsa` 0.9 user.

use rand_core::OsRng;
use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Ctx, Object, Result, TypedArray};
use rsa::pkcs1::der::{Decode, Encode};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::spki::SubjectPublicKeyInfoRef;
use rsa::pkcs8::PrivateKeyInfo;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};

use super::bytes;
use super::digest::Hash;
use super::error::{self, check, Error};

/// The largest RSA modulus Kiln imports.
pub const MODULUS_BITS_MAX: usize = 16384;
/// The largest RSA modulus `generateKey` makes: generation time grows with the fourth power of
/// the size, and one call cannot be interrupted.
pub const GENERATE_MODULUS_BITS_MAX: usize = 4096;

pub fn register(ops: &Object<'_>) -> Result<()> {
    ops.set("op_crypto_rsa_generate", Func::from(op_crypto_rsa_generate))?;
    ops.set("op_crypto_rsa_import", Func::from(op_crypto_rsa_import))?;
    ops.set(
        "op_crypto_rsa_import_jwk",
        Func::from(op_crypto_rsa_import_jwk),
    )?;
    ops.set("op_crypto_rsa_info", Func::from(op_crypto_rsa_info))?;
    ops.set(
        "op_crypto_rsa_public_of",
        Func::from(op_crypto_rsa_public_of),
    )?;
    ops.set("op_crypto_rsa_export", Func::from(op_crypto_rsa_export))?;
    ops.set(
        "op_crypto_rsa_export_jwk",
        Func::from(op_crypto_rsa_export_jwk),
    )?;
    ops.set("op_crypto_rsa_sign", Func::from(op_crypto_rsa_sign))?;
    ops.set("op_crypto_rsa_verify", Func::from(op_crypto_rsa_verify))?;
    ops.set("op_crypto_rsa_oaep", Func::from(op_crypto_rsa_oaep))?;
    Ok(())
}

/// Runs `$body` with `$d` bound to the digest type of `$hash`.
macro_rules! with_hash {
    ($hash:expr, $d:ident => $body:expr) => {
        match $hash {
            Hash::Sha1 => {
                type $d = sha1::Sha1;
                $body
            }
            Hash::Sha256 => {
                type $d = sha2::Sha256;
                $body
            }
            Hash::Sha384 => {
                type $d = sha2::Sha384;
                $body
            }
            Hash::Sha512 => {
                type $d = sha2::Sha512;
                $body
            }
        }
    };
}

fn invalid(what: &str) -> Error {
    Error::data(format!("Invalid RSA {what} key data"))
}

fn public_from_pkcs1(der: &[u8]) -> error::Result<RsaPublicKey> {
    let key = rsa::pkcs1::RsaPublicKey::from_der(der).map_err(|_| invalid("public"))?;
    RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(key.modulus.as_bytes()),
        BigUint::from_bytes_be(key.public_exponent.as_bytes()),
        MODULUS_BITS_MAX,
    )
    .map_err(|_| invalid("public"))
}

fn private_from_pkcs1(der: &[u8]) -> error::Result<RsaPrivateKey> {
    let key = rsa::pkcs1::RsaPrivateKey::from_der(der).map_err(|_| invalid("private"))?;
    if key.version() != rsa::pkcs1::Version::TwoPrime {
        return Err(Error::not_supported(
            "Multi-prime private keys not supported.",
        ));
    }
    let int = |value: rsa::pkcs1::UintRef<'_>| BigUint::from_bytes_be(value.as_bytes());
    RsaPrivateKey::from_components(
        int(key.modulus),
        int(key.public_exponent),
        int(key.private_exponent),
        vec![int(key.prime1), int(key.prime2)],
    )
    .map_err(|_| invalid("private"))
}

fn public_der(key: &RsaPublicKey) -> error::Result<Vec<u8>> {
    key.to_pkcs1_der()
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|_| Error::operation("RSA public key encoding failed"))
}

fn private_der(key: &RsaPrivateKey) -> error::Result<Vec<u8>> {
    key.to_pkcs1_der()
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|_| Error::operation("RSA private key encoding failed"))
}

/// A fresh key pair as PKCS#1 DER: `(private, public)`.
pub fn generate(modulus_bits: u32, exponent: &[u8]) -> error::Result<(Vec<u8>, Vec<u8>)> {
    let bits = modulus_bits as usize;
    if !bits.is_multiple_of(8) || !(256..=MODULUS_BITS_MAX).contains(&bits) {
        return Err(Error::operation(format!(
            "The modulus length must be a multiple of 8 and between 256 and 16k, but \
             {modulus_bits} was requested."
        )));
    }
    let exponent = BigUint::from_bytes_be(exponent);
    if exponent != BigUint::from(3u32) && exponent != BigUint::from(65537u32) {
        return Err(Error::operation(format!(
            "The \"publicExponent\" must be either 3 or 65537, but got {exponent}."
        )));
    }
    if bits > GENERATE_MODULUS_BITS_MAX {
        return Err(Error::not_supported(format!(
            "Kiln generates RSA keys of up to {GENERATE_MODULUS_BITS_MAX} bits (requested \
             {modulus_bits})."
        )));
    }
    let key = RsaPrivateKey::new_with_exp(&mut OsRng, bits, &exponent)
        .map_err(|err| Error::operation(format!("RSA key generation failed: {err}")))?;
    Ok((private_der(&key)?, public_der(&key.to_public_key())?))
}

/// Imports `spki` (a public key) or `pkcs8` (a private key) DER as PKCS#1 DER.
pub fn import(format: &str, data: &[u8]) -> error::Result<Vec<u8>> {
    let algorithm_ok = |algorithm: &rsa::pkcs8::spki::AlgorithmIdentifierRef<'_>| {
        algorithm.oid == rsa::pkcs1::ALGORITHM_OID
    };
    match format {
        "spki" => {
            let info = SubjectPublicKeyInfoRef::from_der(data).map_err(|_| invalid("spki"))?;
            if !algorithm_ok(&info.algorithm) {
                return Err(Error::data("spki key data is not an RSA key"));
            }
            let der = info
                .subject_public_key
                .as_bytes()
                .ok_or_else(|| invalid("spki"))?;
            public_der(&public_from_pkcs1(der)?)
        }
        "pkcs8" => {
            let info = PrivateKeyInfo::from_der(data).map_err(|_| invalid("pkcs8"))?;
            if !algorithm_ok(&info.algorithm) {
                return Err(Error::data("pkcs8 key data is not an RSA key"));
            }
            private_der(&private_from_pkcs1(info.private_key)?)
        }
        other => Err(Error::not_supported(format!(
            "unknown RSA key format {other}"
        ))),
    }
}

/// The JWK members of an RSA key, in order: `n e d p q dp dq qi` (big-endian bytes).
pub const JWK_MEMBERS: [&str; 8] = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];

/// Imports JWK members (`JWK_MEMBERS` order; only `n` and `e` for a public key) as PKCS#1 DER.
pub fn import_jwk(members: &[Option<&[u8]>]) -> error::Result<Vec<u8>> {
    let int = |index: usize| -> error::Result<Option<BigUint>> {
        Ok(members
            .get(index)
            .copied()
            .flatten()
            .map(BigUint::from_bytes_be))
    };
    let required = |index: usize| -> error::Result<BigUint> {
        int(index)?.ok_or_else(|| {
            Error::data(format!(
                "Invalid RSA key in JSON Web Key; missing or invalid \"{}\".",
                JWK_MEMBERS[index]
            ))
        })
    };
    let n = required(0)?;
    let e = required(1)?;
    let Some(d) = int(2)? else {
        let key = RsaPublicKey::new_with_max_size(n, e, MODULUS_BITS_MAX)
            .map_err(|_| invalid("JWK public"))?;
        return public_der(&key);
    };
    let primes = match (int(3)?, int(4)?) {
        (Some(p), Some(q)) => vec![p, q],
        (None, None) => Vec::new(),
        _ => return Err(invalid("JWK private")),
    };
    let key =
        RsaPrivateKey::from_components(n, e, d, primes).map_err(|_| invalid("JWK private"))?;
    // The CRT members are redundant; if present they must agree with the key.
    let (p, q) = (&key.primes()[0], &key.primes()[1]);
    let expected = [
        key.d() % (p - 1u8),
        key.d() % (q - 1u8),
        key.crt_coefficient().unwrap_or_default(),
    ];
    for (index, value) in (5..8).zip(expected) {
        if let Some(given) = int(index)? {
            if given != value {
                return Err(Error::data(format!(
                    "Invalid RSA key in JSON Web Key; \"{}\" does not match the key.",
                    JWK_MEMBERS[index]
                )));
            }
        }
    }
    private_der(&key)
}

/// `(modulus bits, public exponent bytes)` of a PKCS#1 key.
pub fn info(der: &[u8], private: bool) -> error::Result<(u32, Vec<u8>)> {
    let (n, e) = if private {
        let key = private_from_pkcs1(der)?;
        (key.n().bits(), key.e().to_bytes_be())
    } else {
        let key = public_from_pkcs1(der)?;
        (key.n().bits(), key.e().to_bytes_be())
    };
    Ok((n as u32, e))
}

/// `spki` DER of a public key or `pkcs8` DER of a private key, from PKCS#1 DER.
pub fn export(format: &str, der: &[u8]) -> error::Result<Vec<u8>> {
    let failed = |_| Error::operation(format!("RSA key export to {format} failed"));
    match format {
        "spki" => SubjectPublicKeyInfoRef {
            algorithm: rsa::pkcs1::ALGORITHM_ID,
            subject_public_key: rsa::pkcs8::der::asn1::BitStringRef::from_bytes(der)
                .map_err(failed)?,
        }
        .to_der()
        .map_err(failed),
        "pkcs8" => PrivateKeyInfo::new(rsa::pkcs1::ALGORITHM_ID, der)
            .to_der()
            .map_err(failed),
        other => Err(Error::not_supported(format!(
            "unknown RSA export format {other}"
        ))),
    }
}

/// The JWK members of a PKCS#1 key (`JWK_MEMBERS` order; two for a public key).
pub fn export_jwk(der: &[u8], private: bool) -> error::Result<Vec<Vec<u8>>> {
    if !private {
        let key = public_from_pkcs1(der)?;
        return Ok(vec![key.n().to_bytes_be(), key.e().to_bytes_be()]);
    }
    let key = private_from_pkcs1(der)?;
    let (p, q) = (&key.primes()[0], &key.primes()[1]);
    let qi = key
        .crt_coefficient()
        .ok_or_else(|| Error::operation("RSA key has no CRT coefficient"))?;
    Ok(vec![
        key.n().to_bytes_be(),
        key.e().to_bytes_be(),
        key.d().to_bytes_be(),
        p.to_bytes_be(),
        q.to_bytes_be(),
        (key.d() % (p - 1u8)).to_bytes_be(),
        (key.d() % (q - 1u8)).to_bytes_be(),
        qi.to_bytes_be(),
    ])
}

/// A signature scheme and its parameter.
#[derive(Clone, Copy, Debug)]
pub enum Scheme {
    Pkcs1v15,
    Pss { salt_bytes: usize },
}

pub fn sign(scheme: Scheme, hash: Hash, der: &[u8], data: &[u8]) -> error::Result<Vec<u8>> {
    let key = private_from_pkcs1(der)?;
    if let Scheme::Pss { salt_bytes } = scheme {
        if salt_bytes.saturating_add(hash.output_bytes() + 2) > key.size() {
            return Err(Error::operation(
                "key too small for signing with given digest and salt length",
            ));
        }
    }
    let hashed = hash.digest(data);
    let signed = with_hash!(hash, D => match scheme {
        Scheme::Pkcs1v15 => key.sign_with_rng(&mut OsRng, Pkcs1v15Sign::new::<D>(), &hashed),
        Scheme::Pss { salt_bytes } => key.sign_with_rng(
            &mut OsRng,
            Pss::new_blinded_with_salt::<D>(salt_bytes),
            &hashed,
        ),
    });
    signed.map_err(|_| {
        Error::operation("RSA signing failed: the key is too small for this digest and salt length")
    })
}

pub fn verify(
    scheme: Scheme,
    hash: Hash,
    der: &[u8],
    signature: &[u8],
    data: &[u8],
) -> error::Result<bool> {
    let key = public_from_pkcs1(der)?;
    if let Scheme::Pss { salt_bytes } = scheme {
        if salt_bytes.saturating_add(hash.output_bytes() + 2) > key.size() {
            return Ok(false);
        }
    }
    let hashed = hash.digest(data);
    let verified = with_hash!(hash, D => match scheme {
        Scheme::Pkcs1v15 => key.verify(Pkcs1v15Sign::new::<D>(), &hashed, signature),
        Scheme::Pss { salt_bytes } => key.verify(Pss::new_with_salt::<D>(salt_bytes), &hashed, signature),
    });
    Ok(verified.is_ok())
}

fn oaep(hash: Hash, label: &[u8]) -> error::Result<Oaep> {
    if label.is_empty() {
        return Ok(with_hash!(hash, D => Oaep::new::<D>()));
    }
    // The `rsa` crate takes labels as strings.
    let label = String::from_utf8(label.to_vec()).map_err(|_| {
        Error::not_supported("RSA-OAEP labels that are not UTF-8 are not supported by Kiln")
    })?;
    Ok(with_hash!(hash, D => Oaep::new_with_label::<D, _>(label)))
}

/// RSA-OAEP: encrypts with a public key, or decrypts with a private key.
pub fn oaep_crypt(
    encrypt: bool,
    hash: Hash,
    label: &[u8],
    der: &[u8],
    data: &[u8],
) -> error::Result<Vec<u8>> {
    let padding = oaep(hash, label)?;
    if encrypt {
        let key = public_from_pkcs1(der)?;
        key.encrypt(&mut OsRng, padding, data)
            .map_err(|_| Error::operation("RSA-OAEP failed encrypt: the message is too long"))
    } else {
        let key = private_from_pkcs1(der)?;
        key.decrypt_blinded(&mut OsRng, padding, data)
            .map_err(|_| Error::operation("RSA-OAEP failed decrypt"))
    }
}

fn op_crypto_rsa_generate<'js>(
    ctx: Ctx<'js>,
    modulus_bits: u32,
    exponent: TypedArray<'js, u8>,
) -> Result<Vec<TypedArray<'js, u8>>> {
    let (private, public) = check(&ctx, generate(modulus_bits, bytes(&exponent)))?;
    Ok(vec![
        TypedArray::new(ctx.clone(), private)?,
        TypedArray::new(ctx, public)?,
    ])
}

fn op_crypto_rsa_import<'js>(
    ctx: Ctx<'js>,
    format: String,
    data: TypedArray<'js, u8>,
) -> Result<TypedArray<'js, u8>> {
    let der = check(&ctx, import(&format, bytes(&data)))?;
    TypedArray::new(ctx, der)
}

fn op_crypto_rsa_import_jwk<'js>(
    ctx: Ctx<'js>,
    members: Vec<Option<TypedArray<'js, u8>>>,
) -> Result<TypedArray<'js, u8>> {
    let members: Vec<Option<&[u8]>> = members.iter().map(|m| m.as_ref().map(bytes)).collect();
    let der = check(&ctx, import_jwk(&members))?;
    TypedArray::new(ctx, der)
}

/// `[modulusLength, publicExponent]` of a key.
/// The PKCS#1 public key of a PKCS#1 private key (node:crypto's `createPublicKey(private)`).
fn op_crypto_rsa_public_of<'js>(
    ctx: Ctx<'js>,
    der: TypedArray<'js, u8>,
) -> Result<TypedArray<'js, u8>> {
    let public = private_from_pkcs1(bytes(&der)).and_then(|key| public_der(&key.to_public_key()));
    TypedArray::new(ctx.clone(), check(&ctx, public)?)
}

fn op_crypto_rsa_info<'js>(
    ctx: Ctx<'js>,
    der: TypedArray<'js, u8>,
    private: bool,
) -> Result<rquickjs::Array<'js>> {
    let (bits, exponent) = check(&ctx, info(bytes(&der), private))?;
    let out = rquickjs::Array::new(ctx.clone())?;
    out.set(0, bits)?;
    out.set(1, TypedArray::new(ctx, exponent)?)?;
    Ok(out)
}

fn op_crypto_rsa_export<'js>(
    ctx: Ctx<'js>,
    format: String,
    der: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let out = check(&ctx, export(&format, bytes(&der)))?;
    ArrayBuffer::new_copy(ctx, out)
}

fn op_crypto_rsa_export_jwk<'js>(
    ctx: Ctx<'js>,
    der: TypedArray<'js, u8>,
    private: bool,
) -> Result<Vec<TypedArray<'js, u8>>> {
    let members = check(&ctx, export_jwk(bytes(&der), private))?;
    members
        .into_iter()
        .map(|member| TypedArray::new(ctx.clone(), member))
        .collect()
}

fn scheme(name: &str, salt_bytes: u32) -> error::Result<Scheme> {
    match name {
        "RSASSA-PKCS1-v1_5" => Ok(Scheme::Pkcs1v15),
        "RSA-PSS" => Ok(Scheme::Pss {
            salt_bytes: salt_bytes as usize,
        }),
        other => Err(Error::not_supported(format!(
            "unknown RSA signature scheme {other}"
        ))),
    }
}

fn op_crypto_rsa_sign<'js>(
    ctx: Ctx<'js>,
    scheme_name: String,
    hash: String,
    salt_bytes: u32,
    der: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = scheme(&scheme_name, salt_bytes).and_then(|scheme| {
        let hash = Hash::parse(&hash)?;
        sign(scheme, hash, bytes(&der), bytes(&data))
    });
    let signature = check(&ctx, result)?;
    ArrayBuffer::new_copy(ctx, signature)
}

fn op_crypto_rsa_verify<'js>(
    ctx: Ctx<'js>,
    scheme_name: String,
    hash: String,
    salt_bytes: u32,
    der: TypedArray<'js, u8>,
    signature: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<bool> {
    let result = scheme(&scheme_name, salt_bytes).and_then(|scheme| {
        let hash = Hash::parse(&hash)?;
        verify(scheme, hash, bytes(&der), bytes(&signature), bytes(&data))
    });
    check(&ctx, result)
}

fn op_crypto_rsa_oaep<'js>(
    ctx: Ctx<'js>,
    encrypt: bool,
    hash: String,
    label: TypedArray<'js, u8>,
    der: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = Hash::parse(&hash)
        .and_then(|hash| oaep_crypt(encrypt, hash, bytes(&label), bytes(&der), bytes(&data)));
    let out = check(&ctx, result)?;
    ArrayBuffer::new_copy(ctx, out)
}
