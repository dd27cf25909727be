//! `request.cf` for requests that arrive from the network: what Cloudflare's edge tells a worker
//! about the client and the connection. A Kiln node knows the connection, not where the client
//! is, so geographic fields carry Cloudflare's "unknown" values (`country: "XX"`) rather than
//! made-up ones.
//!
//! The node marks such a request with [`EdgeRequest`]; requests a worker builds itself
//! (subrequests, service-binding and object calls) carry no `cf` unless their Request had one.

/// Marks a request that came from a client at the node's edge (an `http::Request` extension).
#[derive(Debug, Clone)]
pub struct EdgeRequest {
    /// `HTTP/1.1`, `HTTP/2`, ...
    pub http_protocol: String,
    /// The client's `Accept-Encoding`, as Cloudflare reports it before it rewrites the header.
    pub client_accept_encoding: String,
}

impl EdgeRequest {
    /// What the prelude gets with the request: the parts that vary. It asks for the whole
    /// object ([`op_cf_json`]) only when the worker reads `request.cf`, which most never do.
    pub fn parts(&self) -> Vec<String> {
        vec![
            self.http_protocol.clone(),
            self.client_accept_encoding.clone(),
        ]
    }

    /// The `cf` object, as JSON.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "asn": 0,
            "asOrganization": "",
            "clientAcceptEncoding": self.client_accept_encoding,
            "clientTcpRtt": 0,
            "colo": "KLN",
            "country": "XX",
            "edgeRequestKeepAliveStatus": 1,
            "httpProtocol": self.http_protocol,
            "requestPriority": "",
            "timezone": "UTC",
            "tlsCipher": "",
            "tlsVersion": "",
        })
        .to_string()
    }
}

/// A `request.cf` a worker read or set, forwarded as JSON with its request to a Durable
/// Object or a service (an `http::Request` extension).
#[derive(Debug, Clone)]
pub struct ForwardedCf(pub String);

/// A forwarded `cf` larger than this is dropped rather than carried.
pub const FORWARDED_CF_BYTES_MAX: usize = 64 * 1024;

pub fn register(_ctx: &rquickjs::Ctx<'_>, ops: &rquickjs::Object<'_>) -> rquickjs::Result<()> {
    ops.set("op_cf_json", rquickjs::prelude::Func::from(op_cf_json))
}

/// `request.cf` as JSON, from the parts [`EdgeRequest::parts`] gave the prelude.
fn op_cf_json(http_protocol: String, client_accept_encoding: String) -> String {
    EdgeRequest {
        http_protocol,
        client_accept_encoding,
    }
    .to_json()
}
