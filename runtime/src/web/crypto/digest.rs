//! Hash functions: `crypto.subtle.digest`, the incremental state behind `crypto.DigestStream`,
//! and the `Hash` names every keyed algorithm (HMAC, ECDSA, RSA, PBKDF2, HKDF) is parameterized
//! by. The prelude normalizes names ("sha-256" → "SHA-256") before they reach Rust.

use md5::Md5;
use rquickjs::class::Trace;
use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Class, Ctx, JsLifetime, Object, Result, TypedArray};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::bytes;
use super::error::{self, Error};

pub fn register(ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    let _ = ctx;
    Class::<DigestState>::define(&ops.clone())?;
    ops.set("op_crypto_digest", Func::from(op_crypto_digest))?;
    ops.set("op_crypto_digest_new", Func::from(op_crypto_digest_new))?;
    Ok(())
}

/// The SHA family WebCrypto keys are bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// Parses a normalized WebCrypto hash name.
    pub fn parse(name: &str) -> error::Result<Hash> {
        match name {
            "SHA-1" => Ok(Hash::Sha1),
            "SHA-256" => Ok(Hash::Sha256),
            "SHA-384" => Ok(Hash::Sha384),
            "SHA-512" => Ok(Hash::Sha512),
            _ => Err(Error::not_supported(format!(
                "Unrecognized or unimplemented digest algorithm \"{name}\" requested."
            ))),
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::digest(data).to_vec(),
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    pub fn output_bytes(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

/// An in-progress hash of any algorithm `digest` accepts (the SHA family and MD5).
#[derive(Clone)]
enum Hasher {
    Sha1(Sha1),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
    Md5(Md5),
}

impl Hasher {
    fn new(algorithm: &str) -> Option<Hasher> {
        Some(match algorithm {
            "SHA-1" => Hasher::Sha1(Sha1::new()),
            "SHA-256" => Hasher::Sha256(Sha256::new()),
            "SHA-384" => Hasher::Sha384(Sha384::new()),
            "SHA-512" => Hasher::Sha512(Sha512::new()),
            "MD5" => Hasher::Md5(Md5::new()),
            _ => return None,
        })
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
            Hasher::Md5(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
            Hasher::Md5(h) => h.finalize().to_vec(),
        }
    }
}

/// The hash state of one `crypto.DigestStream`; `finish` may be called once.
#[derive(Trace, JsLifetime)]
#[rquickjs::class(rename = "KilnDigest")]
pub struct DigestState {
    #[qjs(skip_trace)]
    hasher: Option<Hasher>,
}

#[rquickjs::methods]
impl DigestState {
    pub fn update(&mut self, data: TypedArray<'_, u8>) {
        if let Some(hasher) = &mut self.hasher {
            hasher.update(bytes(&data));
        }
    }

    /// A second state that goes on from this one (node:crypto's `hash.copy()`).
    pub fn copy(&self) -> DigestState {
        DigestState {
            hasher: self.hasher.clone(),
        }
    }

    /// The digest, or `null` if it was already taken.
    pub fn finish<'js>(&mut self, ctx: Ctx<'js>) -> Result<Option<ArrayBuffer<'js>>> {
        match self.hasher.take() {
            Some(hasher) => ArrayBuffer::new_copy(ctx, hasher.finish()).map(Some),
            None => Ok(None),
        }
    }
}

/// The digest of `data` with a normalized algorithm name, or `None` if the name is unknown.
fn op_crypto_digest<'js>(
    ctx: Ctx<'js>,
    algorithm: String,
    data: TypedArray<'js, u8>,
) -> Result<Option<ArrayBuffer<'js>>> {
    let Some(mut hasher) = Hasher::new(&algorithm) else {
        return Ok(None);
    };
    hasher.update(bytes(&data));
    ArrayBuffer::new_copy(ctx, hasher.finish()).map(Some)
}

/// A fresh incremental hash, or `None` if the name is unknown.
fn op_crypto_digest_new<'js>(
    ctx: Ctx<'js>,
    algorithm: String,
) -> Result<Option<Class<'js, DigestState>>> {
    match Hasher::new(&algorithm) {
        Some(hasher) => Class::instance(
            ctx,
            DigestState {
                hasher: Some(hasher),
            },
        )
        .map(Some),
        None => Ok(None),
    }
}
