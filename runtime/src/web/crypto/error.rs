//! The failures of WebCrypto operations, named as the `DOMException`s the spec throws.
//!
//! The algorithm modules are plain Rust over bytes and return this `Error`; only the op wrappers
//! turn it into a JavaScript value. That value is a plain object `{ cryptoError, message }`,
//! which `05_crypto.js` rethrows as `new DOMException(message, cryptoError)`: Rust cannot
//! construct the prelude's `DOMException` class itself, and a global lookup could reach a class
//! the worker replaced.

use rquickjs::{Ctx, Object};

/// A failed WebCrypto operation. Messages follow workerd's where it has one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The key data or an input is malformed (`DataError`).
    #[error("{0}")]
    Data(String),
    /// The operation failed, e.g. authentication of a ciphertext (`OperationError`).
    #[error("{0}")]
    Operation(String),
    /// An algorithm, curve or parameter Kiln does not implement (`NotSupportedError`).
    #[error("{0}")]
    NotSupported(String),
}

impl Error {
    /// The `DOMException` name this error is thrown as.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Data(_) => "DataError",
            Error::Operation(_) => "OperationError",
            Error::NotSupported(_) => "NotSupportedError",
        }
    }

    pub fn data(message: impl Into<String>) -> Self {
        Error::Data(message.into())
    }

    pub fn operation(message: impl Into<String>) -> Self {
        Error::Operation(message.into())
    }

    pub fn not_supported(message: impl Into<String>) -> Self {
        Error::NotSupported(message.into())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Throws `err` into JavaScript for the prelude to turn into a `DOMException`.
pub fn throw(ctx: &Ctx<'_>, err: Error) -> rquickjs::Error {
    let thrown = Object::new(ctx.clone()).and_then(|object| {
        object.set("cryptoError", err.name())?;
        object.set("message", err.to_string())?;
        Ok(object)
    });
    match thrown {
        Ok(object) => ctx.throw(object.into_value()),
        Err(other) => other,
    }
}

/// Runs a byte-producing operation and converts its error for JavaScript.
pub fn check<T>(ctx: &Ctx<'_>, result: Result<T>) -> rquickjs::Result<T> {
    result.map_err(|err| throw(ctx, err))
}
