//! Robustness of the algorithm modules: whatever bytes reach an op (the prelude checks types,
//! not contents), each function returns a `Result` and never panics.

use super::digest::Hash;
use super::ec::Curve;
use super::okp::Okp;
use super::{aes, ec, kdf, okp, rsa};

/// Inputs of awkward lengths and contents.
fn garbage() -> Vec<Vec<u8>> {
    let mut inputs = vec![
        Vec::new(),
        vec![0],
        vec![0xff; 7],
        vec![0; 16],
        vec![0xff; 16],
    ];
    for length in [12, 24, 31, 32, 33, 48, 64, 65, 66, 97, 133, 300] {
        inputs.push((0..length).map(|i| (i * 37 + 11) as u8).collect());
        inputs.push(vec![0xff; length]);
    }
    // DER-looking prefixes: a SEQUENCE claiming more bytes than there are.
    inputs.push(vec![0x30, 0x82, 0xff, 0xff, 0x02, 0x01, 0x00]);
    inputs.push(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
    inputs
}

#[test]
fn aes_rejects_garbage_without_panicking() {
    for key in garbage() {
        for other in garbage() {
            let _ = aes::gcm_encrypt(&key, &other, &[], 128, &other);
            for tag_bits in [0, 32, 96, 128, 129] {
                let _ = aes::gcm_decrypt(&key, &other, &other, tag_bits, &other);
            }
            let _ = aes::cbc_encrypt(&key, &other, &other);
            let _ = aes::cbc_decrypt(&key, &other, &other);
            for length in [0, 1, 8, 64, 127, 128, 129, u32::MAX] {
                let _ = aes::ctr(&key, &other, length, &other);
            }
            let _ = aes::kw_wrap(&key, &other);
            let _ = aes::kw_unwrap(&key, &other);
        }
    }
}

#[test]
fn asymmetric_keys_reject_garbage_without_panicking() {
    for data in garbage() {
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            for format in ["raw", "spki", "pkcs8", "scalar", "bogus"] {
                let _ = ec::import_public(curve, format, &data);
                let _ = ec::import_private(curve, format, &data);
                let _ = ec::export(curve, format, &data);
            }
            for hash in [Hash::Sha1, Hash::Sha256, Hash::Sha512] {
                let _ = ec::sign(curve, hash, &data, b"m");
                let _ = ec::verify(curve, hash, &data, &data, b"m");
            }
            let _ = ec::derive(curve, &data, &data);
        }
        for kind in [Okp::Ed25519, Okp::X25519] {
            for format in ["raw", "spki", "pkcs8", "bogus"] {
                let _ = okp::import_public(kind, format, &data);
                let _ = okp::import_private(kind, format, &data);
                let _ = okp::export(kind, format, &data);
            }
        }
        let _ = okp::ed25519_sign(&data, b"m");
        let _ = okp::ed25519_verify(&data, &data, b"m");
        let _ = okp::x25519(&data, &data);
        for format in ["spki", "pkcs8", "bogus"] {
            let _ = rsa::import(format, &data);
            let _ = rsa::export(format, &data);
        }
        let _ = rsa::info(&data, true);
        let _ = rsa::info(&data, false);
        let _ = rsa::export_jwk(&data, true);
        let _ = rsa::import_jwk(&[Some(&data), Some(&data), Some(&data)]);
        let _ = rsa::sign(rsa::Scheme::Pkcs1v15, Hash::Sha256, &data, b"m");
        let _ = rsa::verify(
            rsa::Scheme::Pss {
                salt_bytes: usize::MAX,
            },
            Hash::Sha256,
            &data,
            &data,
            b"m",
        );
        let _ = rsa::oaep_crypt(false, Hash::Sha1, &data, &data, &data);
    }
}

#[test]
fn kdf_limits() {
    assert!(kdf::pbkdf2(
        Hash::Sha256,
        b"p",
        b"s",
        kdf::PBKDF2_ITERATIONS_MAX + 1,
        256
    )
    .is_err());
    assert!(kdf::pbkdf2(Hash::Sha256, b"p", b"s", 1, u32::MAX - 7).is_err());
    assert!(kdf::hkdf(Hash::Sha256, b"k", b"s", b"i", u32::MAX - 7).is_err());
    assert!(kdf::hkdf(Hash::Sha256, b"k", b"s", b"i", 12).is_err());
    assert_eq!(
        kdf::hkdf(Hash::Sha1, b"k", b"", b"", 0).map(|out| out.len()),
        Ok(0)
    );
}

#[test]
fn rsa_generation_checks_its_parameters_first() {
    assert!(rsa::generate(1001, &[1, 0, 1]).is_err());
    assert!(rsa::generate(2048, &[5]).is_err());
    assert!(rsa::generate(8192, &[1, 0, 1]).is_err());
}
