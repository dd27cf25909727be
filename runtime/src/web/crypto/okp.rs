//! Curve25519 keys (JWK key type "OKP"): Ed25519 signatures (RFC 8032) and X25519 key agreement
//! (RFC 7748), with their SPKI and PKCS#8 encodings (RFC 8410).
//!
//! Key material crosses to JavaScript as the 32-byte private key (Ed25519's seed, X25519's
//! scalar) and the 32-byte public key, which are exactly the JWK `d` and `x`. Ed25519
//! verification is strict (small-order keys and non-canonical encodings are rejected), as the
//! WebCrypto Secure Curves draft asks.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use pkcs8::der::asn1::{BitStringRef, OctetStringRef};
use pkcs8::der::{Decode, Encode};
use pkcs8::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use pkcs8::{ObjectIdentifier, PrivateKeyInfo};
use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Ctx, Object, Result, TypedArray};

use super::bytes;
use super::error::{self, check, Error};

pub fn register(ops: &Object<'_>) -> Result<()> {
    ops.set("op_crypto_okp_generate", Func::from(op_crypto_okp_generate))?;
    ops.set(
        "op_crypto_okp_import_public",
        Func::from(op_crypto_okp_import_public),
    )?;
    ops.set(
        "op_crypto_okp_import_private",
        Func::from(op_crypto_okp_import_private),
    )?;
    ops.set("op_crypto_okp_export", Func::from(op_crypto_okp_export))?;
    ops.set("op_crypto_ed25519_sign", Func::from(op_crypto_ed25519_sign))?;
    ops.set(
        "op_crypto_ed25519_verify",
        Func::from(op_crypto_ed25519_verify),
    )?;
    ops.set("op_crypto_x25519", Func::from(op_crypto_x25519))?;
    Ok(())
}

const KEY_BYTES: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Okp {
    Ed25519,
    X25519,
}

impl Okp {
    pub fn parse(name: &str) -> error::Result<Okp> {
        match name {
            "Ed25519" => Ok(Okp::Ed25519),
            "X25519" => Ok(Okp::X25519),
            _ => Err(Error::not_supported(format!(
                "Unrecognized or unimplemented curve \"{name}\" requested."
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Okp::Ed25519 => "Ed25519",
            Okp::X25519 => "X25519",
        }
    }

    /// The algorithm identifier of RFC 8410.
    fn oid(self) -> ObjectIdentifier {
        match self {
            Okp::Ed25519 => ObjectIdentifier::new_unwrap("1.3.101.112"),
            Okp::X25519 => ObjectIdentifier::new_unwrap("1.3.101.110"),
        }
    }

    /// The public key of `private`.
    fn public_of(self, private: &[u8; KEY_BYTES]) -> [u8; KEY_BYTES] {
        match self {
            Okp::Ed25519 => SigningKey::from_bytes(private).verifying_key().to_bytes(),
            Okp::X25519 => {
                let secret = x25519_dalek::StaticSecret::from(*private);
                x25519_dalek::PublicKey::from(&secret).to_bytes()
            }
        }
    }

    /// Checks a raw public key: an Ed25519 key must decode to a curve point; any 32 bytes are an
    /// X25519 public key.
    fn check_public(self, public: &[u8]) -> error::Result<[u8; KEY_BYTES]> {
        let key: [u8; KEY_BYTES] = public.try_into().map_err(|_| {
            Error::data(format!(
                "{} raw keys must be exactly 32-bytes (provided {}).",
                self.name(),
                public.len()
            ))
        })?;
        if self == Okp::Ed25519 && VerifyingKey::from_bytes(&key).is_err() {
            return Err(Error::data("Invalid Ed25519 public key"));
        }
        Ok(key)
    }
}

fn invalid(okp: Okp, format: &str) -> Error {
    Error::data(format!("Invalid {} {format} key data", okp.name()))
}

/// A fresh key pair: `(private, public)`.
pub fn generate(okp: Okp) -> error::Result<(Vec<u8>, Vec<u8>)> {
    let mut private = [0u8; KEY_BYTES];
    getrandom::fill(&mut private)
        .map_err(|err| Error::operation(format!("random source failed: {err}")))?;
    let public = okp.public_of(&private);
    Ok((private.to_vec(), public.to_vec()))
}

/// A public key from `raw` bytes or `spki` DER.
pub fn import_public(okp: Okp, format: &str, data: &[u8]) -> error::Result<Vec<u8>> {
    let raw = match format {
        "raw" => data,
        "spki" => {
            let info = SubjectPublicKeyInfoRef::from_der(data).map_err(|_| invalid(okp, "spki"))?;
            if info.algorithm.oid != okp.oid() || info.algorithm.parameters.is_some() {
                return Err(Error::data(format!(
                    "spki key data is not an {} key",
                    okp.name()
                )));
            }
            info.subject_public_key
                .as_bytes()
                .ok_or_else(|| invalid(okp, "spki"))?
        }
        other => {
            return Err(Error::not_supported(format!(
                "unknown public key format {other}"
            )))
        }
    };
    Ok(okp.check_public(raw)?.to_vec())
}

/// A private key from `pkcs8` DER or its bare 32 bytes (`raw`, as JWK's `d`):
/// `(private, public)`.
pub fn import_private(okp: Okp, format: &str, data: &[u8]) -> error::Result<(Vec<u8>, Vec<u8>)> {
    let private: [u8; KEY_BYTES] = match format {
        "raw" => data.try_into().map_err(|_| {
            Error::data(format!(
                "Invalid length {} for {} private key",
                data.len(),
                okp.name()
            ))
        })?,
        "pkcs8" => {
            let info = PrivateKeyInfo::from_der(data).map_err(|_| invalid(okp, "pkcs8"))?;
            if info.algorithm.oid != okp.oid() || info.algorithm.parameters.is_some() {
                return Err(Error::data(format!(
                    "pkcs8 key data is not an {} key",
                    okp.name()
                )));
            }
            // RFC 8410: the private key is itself an OCTET STRING inside the OCTET STRING.
            let inner =
                OctetStringRef::from_der(info.private_key).map_err(|_| invalid(okp, "pkcs8"))?;
            inner
                .as_bytes()
                .try_into()
                .map_err(|_| invalid(okp, "pkcs8"))?
        }
        other => {
            return Err(Error::not_supported(format!(
                "unknown private key format {other}"
            )))
        }
    };
    let public = okp.public_of(&private);
    Ok((private.to_vec(), public.to_vec()))
}

/// `spki` DER of a public key or `pkcs8` DER of a private key.
pub fn export(okp: Okp, format: &str, material: &[u8]) -> error::Result<Vec<u8>> {
    let failed = |_| Error::operation(format!("{} key export to {format} failed", okp.name()));
    let algorithm = AlgorithmIdentifierRef {
        oid: okp.oid(),
        parameters: None,
    };
    match format {
        "spki" => SubjectPublicKeyInfoRef {
            algorithm,
            subject_public_key: BitStringRef::from_bytes(material).map_err(failed)?,
        }
        .to_der()
        .map_err(failed),
        "pkcs8" => {
            let inner = OctetStringRef::new(material)
                .map_err(failed)?
                .to_der()
                .map_err(failed)?;
            PrivateKeyInfo::new(algorithm, &inner)
                .to_der()
                .map_err(failed)
        }
        other => Err(Error::not_supported(format!(
            "unknown export format {other}"
        ))),
    }
}

fn private_key(private: &[u8]) -> error::Result<[u8; KEY_BYTES]> {
    private
        .try_into()
        .map_err(|_| Error::data("invalid private key"))
}

pub fn ed25519_sign(private: &[u8], data: &[u8]) -> error::Result<Vec<u8>> {
    let key = SigningKey::from_bytes(&private_key(private)?);
    Ok(key.sign(data).to_bytes().to_vec())
}

pub fn ed25519_verify(public: &[u8], signature: &[u8], data: &[u8]) -> error::Result<bool> {
    let key = VerifyingKey::from_bytes(&Okp::Ed25519.check_public(public)?)
        .map_err(|_| Error::data("Invalid Ed25519 public key"))?;
    let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
        return Ok(false);
    };
    Ok(key.verify_strict(data, &signature).is_ok())
}

/// The X25519 shared secret; an all-zero result (a small-order peer key) is an error, as the
/// spec requires.
pub fn x25519(private: &[u8], public: &[u8]) -> error::Result<Vec<u8>> {
    let secret = x25519_dalek::StaticSecret::from(private_key(private)?);
    let public = x25519_dalek::PublicKey::from(Okp::X25519.check_public(public)?);
    let shared = secret.diffie_hellman(&public);
    if !shared.was_contributory() {
        return Err(Error::operation(
            "X25519 key agreement produced an all-zero secret (small-order public key)",
        ));
    }
    Ok(shared.as_bytes().to_vec())
}

fn pair<'js>(ctx: &Ctx<'js>, (a, b): (Vec<u8>, Vec<u8>)) -> Result<Vec<TypedArray<'js, u8>>> {
    Ok(vec![
        TypedArray::new(ctx.clone(), a)?,
        TypedArray::new(ctx.clone(), b)?,
    ])
}

fn op_crypto_okp_generate<'js>(ctx: Ctx<'js>, okp: String) -> Result<Vec<TypedArray<'js, u8>>> {
    let keys = check(&ctx, Okp::parse(&okp).and_then(generate))?;
    pair(&ctx, keys)
}

fn op_crypto_okp_import_public<'js>(
    ctx: Ctx<'js>,
    okp: String,
    format: String,
    data: TypedArray<'js, u8>,
) -> Result<TypedArray<'js, u8>> {
    let result = Okp::parse(&okp).and_then(|okp| import_public(okp, &format, bytes(&data)));
    let public = check(&ctx, result)?;
    TypedArray::new(ctx, public)
}

fn op_crypto_okp_import_private<'js>(
    ctx: Ctx<'js>,
    okp: String,
    format: String,
    data: TypedArray<'js, u8>,
) -> Result<Vec<TypedArray<'js, u8>>> {
    let result = Okp::parse(&okp).and_then(|okp| import_private(okp, &format, bytes(&data)));
    let keys = check(&ctx, result)?;
    pair(&ctx, keys)
}

fn op_crypto_okp_export<'js>(
    ctx: Ctx<'js>,
    okp: String,
    format: String,
    material: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = Okp::parse(&okp).and_then(|okp| export(okp, &format, bytes(&material)));
    let der = check(&ctx, result)?;
    ArrayBuffer::new_copy(ctx, der)
}

fn op_crypto_ed25519_sign<'js>(
    ctx: Ctx<'js>,
    private: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let signature = check(&ctx, ed25519_sign(bytes(&private), bytes(&data)))?;
    ArrayBuffer::new_copy(ctx, signature)
}

fn op_crypto_ed25519_verify<'js>(
    ctx: Ctx<'js>,
    public: TypedArray<'js, u8>,
    signature: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<bool> {
    check(
        &ctx,
        ed25519_verify(bytes(&public), bytes(&signature), bytes(&data)),
    )
}

fn op_crypto_x25519<'js>(
    ctx: Ctx<'js>,
    private: TypedArray<'js, u8>,
    public: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let secret = check(&ctx, x25519(bytes(&private), bytes(&public)))?;
    ArrayBuffer::new_copy(ctx, secret)
}
