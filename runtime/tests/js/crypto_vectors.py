# Generates the cross-implementation vectors in runtime/tests/js/crypto_subtle.js with Python's
# `cryptography` (OpenSSL): keys, and signatures/ciphertexts Kiln must accept.
import base64, json
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa, ec, padding, ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

b64 = lambda b: base64.b64encode(b).decode()
msg = b"hello kiln"
out = {}

k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
out["rsaPkcs8"] = b64(k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
out["rsaSpki"] = b64(k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
out["rsaRs256"] = b64(k.sign(msg, padding.PKCS1v15(), hashes.SHA256()))
out["rsaPs256"] = b64(k.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()))
out["rsaOaep256"] = b64(k.public_key().encrypt(b"secret message", padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)))
out["rsaOaep1Label"] = b64(k.public_key().encrypt(b"secret message", padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=b"kiln label")))

for curve, h, name in [(ec.SECP256R1(), hashes.SHA256(), "P256"), (ec.SECP384R1(), hashes.SHA384(), "P384"), (ec.SECP521R1(), hashes.SHA512(), "P521")]:
    k = ec.generate_private_key(curve)
    n = (k.curve.key_size + 7) // 8
    r, s = decode_dss_signature(k.sign(msg, ec.ECDSA(h)))
    out["ec" + name + "Pkcs8"] = b64(k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    out["ec" + name + "Spki"] = b64(k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    out["ec" + name + "Sig"] = b64(r.to_bytes(n, "big") + s.to_bytes(n, "big"))
    if name == "P521":  # a digest shorter than half the field
        r, s = decode_dss_signature(k.sign(msg, ec.ECDSA(hashes.SHA256())))
        out["ecP521Sha256Sig"] = b64(r.to_bytes(n, "big") + s.to_bytes(n, "big"))

a = ec.generate_private_key(ec.SECP256R1()); b = ec.generate_private_key(ec.SECP256R1())
out["ecdhA"] = b64(a.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
out["ecdhB"] = b64(b.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
out["ecdhShared"] = b64(a.exchange(ec.ECDH(), b.public_key()))

ed = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
out["edPkcs8"] = b64(ed.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
out["edSpki"] = b64(ed.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
x = x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
out["xPkcs8"] = b64(x.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
print("const V = " + json.dumps(out, indent=2) + ";")
