//! NIST elliptic curves (P-256, P-384, P-521) for ECDSA and ECDH.
//!
//! Key material crosses to JavaScript in two fixed shapes: a private key is its scalar `d`
//! (big-endian, the curve's field size) and a public key is its uncompressed SEC1 point
//! (`04 || x || y`), so JWK members are plain slices of them. Imports of every format end in
//! those shapes after the curve library has checked the point is on the curve and the scalar is
//! in range. ECDSA signatures are IEEE P1363 (`r || s`), as WebCrypto specifies; signing is
//! deterministic (RFC 6979).

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rand_core::OsRng;
use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Ctx, Object, Result, TypedArray};

use super::bytes;
use super::digest::Hash;
use super::error::{self, check, Error};

pub fn register(ops: &Object<'_>) -> Result<()> {
    ops.set("op_crypto_ec_generate", Func::from(op_crypto_ec_generate))?;
    ops.set(
        "op_crypto_ec_import_public",
        Func::from(op_crypto_ec_import_public),
    )?;
    ops.set(
        "op_crypto_ec_import_private",
        Func::from(op_crypto_ec_import_private),
    )?;
    ops.set("op_crypto_ec_export", Func::from(op_crypto_ec_export))?;
    ops.set("op_crypto_ecdsa_sign", Func::from(op_crypto_ecdsa_sign))?;
    ops.set("op_crypto_ecdsa_verify", Func::from(op_crypto_ecdsa_verify))?;
    ops.set("op_crypto_ecdh", Func::from(op_crypto_ecdh))?;
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    pub fn parse(name: &str) -> error::Result<Curve> {
        match name {
            "P-256" => Ok(Curve::P256),
            "P-384" => Ok(Curve::P384),
            "P-521" => Ok(Curve::P521),
            _ => Err(Error::not_supported(format!(
                "Unrecognized or unimplemented EC curve \"{name}\" requested."
            ))),
        }
    }
}

/// Runs `$body` with `$c` naming the crate of `$curve` (`p256`, `p384` or `p521`).
macro_rules! with_curve {
    ($curve:expr, $c:ident => $body:expr) => {
        match $curve {
            Curve::P256 => {
                use ::p256 as $c;
                $body
            }
            Curve::P384 => {
                use ::p384 as $c;
                $body
            }
            Curve::P521 => {
                use ::p521 as $c;
                $body
            }
        }
    };
}

fn invalid_key(what: &str) -> Error {
    Error::data(format!("Invalid {what} elliptic curve key data"))
}

/// A fresh key pair: `(d, point)`.
pub fn generate(curve: Curve) -> (Vec<u8>, Vec<u8>) {
    with_curve!(curve, c => {
        let secret = c::SecretKey::random(&mut OsRng);
        let point = secret.public_key().to_encoded_point(false).as_bytes().to_vec();
        (secret.to_bytes().to_vec(), point)
    })
}

/// A public key from `raw` (a SEC1 point, compressed or not) or `spki` DER, as an uncompressed
/// point.
pub fn import_public(curve: Curve, format: &str, data: &[u8]) -> error::Result<Vec<u8>> {
    with_curve!(curve, c => {
        let key = match format {
            "raw" => c::PublicKey::from_sec1_bytes(data).map_err(|_| invalid_key("raw"))?,
            "spki" => c::PublicKey::from_public_key_der(data).map_err(|_| invalid_key("spki"))?,
            other => return Err(Error::not_supported(format!("unknown EC public key format {other}"))),
        };
        Ok(key.to_encoded_point(false).as_bytes().to_vec())
    })
}

/// A private key from `pkcs8` DER or its bare `scalar` (exactly the field size, as JWK's `d`):
/// `(d, point)`.
pub fn import_private(
    curve: Curve,
    format: &str,
    data: &[u8],
) -> error::Result<(Vec<u8>, Vec<u8>)> {
    with_curve!(curve, c => {
        let secret = match format {
            "pkcs8" => c::SecretKey::from_pkcs8_der(data).map_err(|_| invalid_key("pkcs8"))?,
            "scalar" => {
                if data.len() != c::FieldBytes::default().len() {
                    return Err(invalid_key("JWK \"d\" of the wrong length in"));
                }
                c::SecretKey::from_slice(data).map_err(|_| invalid_key("JWK"))?
            }
            other => return Err(Error::not_supported(format!("unknown EC private key format {other}"))),
        };
        let point = secret.public_key().to_encoded_point(false).as_bytes().to_vec();
        Ok((secret.to_bytes().to_vec(), point))
    })
}

/// `spki` DER of a public point or `pkcs8` DER of a private scalar.
pub fn export(curve: Curve, format: &str, material: &[u8]) -> error::Result<Vec<u8>> {
    let failed = || Error::operation(format!("EC key export to {format} failed"));
    with_curve!(curve, c => match format {
        "spki" => {
            let key = c::PublicKey::from_sec1_bytes(material).map_err(|_| failed())?;
            Ok(key.to_public_key_der().map_err(|_| failed())?.as_bytes().to_vec())
        }
        "pkcs8" => {
            let key = c::SecretKey::from_slice(material).map_err(|_| failed())?;
            Ok(key.to_pkcs8_der().map_err(|_| failed())?.as_bytes().to_vec())
        }
        other => Err(Error::not_supported(format!("unknown EC export format {other}"))),
    })
}

/// The digest ECDSA signs. A digest shorter than half the field (SHA-1 or SHA-256 with P-521),
/// which the `ecdsa` crate refuses, is zero-extended on the left to the field size: ECDSA uses a
/// digest shorter than the group order as the integer it is, so this changes nothing but the
/// crate's length check.
fn prehash(hash: Hash, data: &[u8], field_bytes: usize) -> Vec<u8> {
    let digest = hash.digest(data);
    if digest.len() >= field_bytes / 2 {
        return digest;
    }
    let mut padded = vec![0u8; field_bytes - digest.len()];
    padded.extend_from_slice(&digest);
    padded
}

/// An ECDSA signature over the `hash` of `data`, as `r || s`.
pub fn sign(curve: Curve, hash: Hash, d: &[u8], data: &[u8]) -> error::Result<Vec<u8>> {
    let failed = |_| Error::operation("ECDSA signing failed");
    with_curve!(curve, c => {
        let prehash = prehash(hash, data, c::FieldBytes::default().len());
        let key = c::ecdsa::SigningKey::from_slice(d).map_err(failed)?;
        let signature: c::ecdsa::Signature = key.sign_prehash(&prehash).map_err(failed)?;
        Ok(signature.to_bytes().to_vec())
    })
}

/// Whether `signature` (`r || s`) is a valid ECDSA signature of the `hash` of `data`. A
/// signature of the wrong length or out of range is simply invalid.
pub fn verify(
    curve: Curve,
    hash: Hash,
    point: &[u8],
    signature: &[u8],
    data: &[u8],
) -> error::Result<bool> {
    with_curve!(curve, c => {
        let prehash = prehash(hash, data, c::FieldBytes::default().len());
        let key = c::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| invalid_key("public"))?;
        let Ok(signature) = c::ecdsa::Signature::from_slice(signature) else {
            return Ok(false);
        };
        Ok(key.verify_prehash(&prehash, &signature).is_ok())
    })
}

/// The ECDH shared secret (the x coordinate of `d · point`).
pub fn derive(curve: Curve, d: &[u8], point: &[u8]) -> error::Result<Vec<u8>> {
    with_curve!(curve, c => {
        let secret = c::SecretKey::from_slice(d).map_err(|_| invalid_key("private"))?;
        let public = c::PublicKey::from_sec1_bytes(point).map_err(|_| invalid_key("public"))?;
        let shared = c::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
        Ok(shared.raw_secret_bytes().to_vec())
    })
}

fn pair<'js>(ctx: &Ctx<'js>, (a, b): (Vec<u8>, Vec<u8>)) -> Result<Vec<TypedArray<'js, u8>>> {
    Ok(vec![
        TypedArray::new(ctx.clone(), a)?,
        TypedArray::new(ctx.clone(), b)?,
    ])
}

fn op_crypto_ec_generate<'js>(ctx: Ctx<'js>, curve: String) -> Result<Vec<TypedArray<'js, u8>>> {
    let curve = check(&ctx, Curve::parse(&curve))?;
    pair(&ctx, generate(curve))
}

fn op_crypto_ec_import_public<'js>(
    ctx: Ctx<'js>,
    curve: String,
    format: String,
    data: TypedArray<'js, u8>,
) -> Result<TypedArray<'js, u8>> {
    let result = Curve::parse(&curve).and_then(|curve| import_public(curve, &format, bytes(&data)));
    let point = check(&ctx, result)?;
    TypedArray::new(ctx, point)
}

fn op_crypto_ec_import_private<'js>(
    ctx: Ctx<'js>,
    curve: String,
    format: String,
    data: TypedArray<'js, u8>,
) -> Result<Vec<TypedArray<'js, u8>>> {
    let result =
        Curve::parse(&curve).and_then(|curve| import_private(curve, &format, bytes(&data)));
    let keys = check(&ctx, result)?;
    pair(&ctx, keys)
}

fn op_crypto_ec_export<'js>(
    ctx: Ctx<'js>,
    curve: String,
    format: String,
    material: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = Curve::parse(&curve).and_then(|curve| export(curve, &format, bytes(&material)));
    let der = check(&ctx, result)?;
    ArrayBuffer::new_copy(ctx, der)
}

fn op_crypto_ecdsa_sign<'js>(
    ctx: Ctx<'js>,
    curve: String,
    hash: String,
    d: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = Curve::parse(&curve).and_then(|curve| {
        let hash = Hash::parse(&hash)?;
        sign(curve, hash, bytes(&d), bytes(&data))
    });
    let signature = check(&ctx, result)?;
    ArrayBuffer::new_copy(ctx, signature)
}

fn op_crypto_ecdsa_verify<'js>(
    ctx: Ctx<'js>,
    curve: String,
    hash: String,
    point: TypedArray<'js, u8>,
    signature: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<bool> {
    let result = Curve::parse(&curve).and_then(|curve| {
        let hash = Hash::parse(&hash)?;
        verify(curve, hash, bytes(&point), bytes(&signature), bytes(&data))
    });
    check(&ctx, result)
}

fn op_crypto_ecdh<'js>(
    ctx: Ctx<'js>,
    curve: String,
    d: TypedArray<'js, u8>,
    point: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = Curve::parse(&curve).and_then(|curve| derive(curve, bytes(&d), bytes(&point)));
    let secret = check(&ctx, result)?;
    ArrayBuffer::new_copy(ctx, secret)
}
