//! The admin API: list, inspect and delete Durable Objects, which Cloudflare does not offer.
//!
//! Served under [`PREFIX`] on the node's HTTP port and only with `Authorization: Bearer
//! <token>`; without the right token the answer is 401 and the worker never sees the request.
//!
//! - `GET    {PREFIX}objects/<namespace>`: the objects with stored data or an alarm;
//! - `GET    {PREFIX}objects/<namespace>/<id or name>`: one object's keys, values and alarm;
//! - `DELETE {PREFIX}objects/<namespace>/<id or name>`: deletes its data and alarm, through the
//!   object itself so a live instance is reset rather than left with a stale cache.
//!
//! `<namespace>` is a class name, a binding name or a storage namespace.
//!
//! - `GET    {PREFIX}tail/<script>`: the script's trace items, live (`kiln tail`; see `tail.rs`).
//! - `POST   {PREFIX}d1/<database id>`: runs the body's SQL on a D1 database in one transaction
//!   and answers the last statement's rows (`kiln d1 execute`, `kiln d1 migrations apply`).

use std::sync::Arc;

use kiln_runtime::object::{from_hex, id, to_hex, ObjectTarget};
use kiln_runtime::{Body, Runtime, Worker};
use kiln_storage::{ListRange, Store};
use serde_json::{json, Value};

pub const PREFIX: &str = "/__kiln/admin/";
/// Keys `GET` of one object returns at most.
const OBJECT_KEYS_MAX: usize = 10_000;

pub struct Admin {
    pub token: String,
    pub store: Store,
}

fn reply(status: u16, value: &Value) -> http::Response<Body> {
    let mut response = http::Response::new(kiln_runtime::full(value.to_string()));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Compares in constant time, so the token cannot be guessed byte by byte.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn handle<B>(
    admin: &Admin,
    runtime: &Runtime,
    worker: &Arc<Worker>,
    request: &http::Request<B>,
) -> http::Response<Body> {
    let expected = format!("Bearer {}", admin.token);
    let given = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !same(given, expected.as_bytes()) {
        return reply(401, &json!({ "error": "missing or wrong admin token" }));
    }
    let path = request.uri().path().trim_start_matches(PREFIX);
    let parts: Vec<String> = path
        .split('/')
        .map(|p| {
            url::form_urlencoded::parse(format!("x={p}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    let [kind, namespace, rest @ ..] = parts.as_slice() else {
        return reply(404, &json!({ "error": "unknown admin path" }));
    };
    if kind == "tail" && rest.is_empty() && request.method() == http::Method::GET {
        return crate::tail::stream(runtime, namespace);
    }
    if kind != "objects" {
        return reply(404, &json!({ "error": "unknown admin path" }));
    }
    let bindings = &worker.script().durable_objects;
    let Some(index) = bindings.iter().position(|b| {
        &b.class_name == namespace || &b.binding == namespace || &b.namespace == namespace
    }) else {
        return reply(
            404,
            &json!({ "error": format!("no Durable Object namespace {namespace:?}") }),
        );
    };
    let binding = &bindings[index];
    match (request.method().clone(), rest) {
        (http::Method::GET, []) => match admin.store.objects(&binding.namespace) {
            Ok(objects) => reply(
                200,
                &Value::Array(
                    objects
                        .iter()
                        .map(|o| json!({ "id": to_hex(&o.id), "name": o.name }))
                        .collect(),
                ),
            ),
            Err(err) => reply(500, &json!({ "error": err.to_string() })),
        },
        (method, [object]) => {
            let (object_id, name) = match from_hex(object) {
                Some(parsed) if id::is_valid(&binding.key, &parsed) => (parsed, None),
                _ => (id::from_name(&binding.key, object), Some(object.clone())),
            };
            if method == http::Method::DELETE {
                let target = ObjectTarget {
                    binding: index,
                    id: object_id,
                    name,
                };
                return match runtime
                    .object_call(
                        worker,
                        target,
                        "__kiln_admin_delete".into(),
                        "[\"a\",0,[]]".into(),
                    )
                    .await
                {
                    Ok(_) => reply(200, &json!({ "deleted": to_hex(&object_id) })),
                    Err(err) => reply(500, &json!({ "error": err.to_string() })),
                };
            }
            if method != http::Method::GET {
                return reply(405, &json!({ "error": "use GET or DELETE" }));
            }
            inspect(admin, &object_id)
        }
        _ => reply(404, &json!({ "error": "unknown admin path" })),
    }
}

fn inspect(admin: &Admin, object_id: &[u8; 32]) -> http::Response<Body> {
    let range = ListRange {
        limit: Some(OBJECT_KEYS_MAX),
        ..ListRange::default()
    };
    let entries = match admin.store.list(object_id, &range) {
        Ok(entries) => entries,
        Err(err) => return reply(500, &json!({ "error": err.to_string() })),
    };
    let mut values = serde_json::Map::new();
    let mut sql_pages = 0u64;
    for (key, value) in entries {
        // Keys from the byte 0xFF on are the pages of the object's SQL database, not user keys.
        if key.first() == Some(&0xFF) {
            sql_pages += 1;
            continue;
        }
        let text = String::from_utf8_lossy(&value);
        let decoded = serde_json::from_str::<Value>(&text)
            .map(|tagged| plain(&tagged))
            .unwrap_or(Value::String(text.into_owned()));
        values.insert(String::from_utf8_lossy(&key).into_owned(), decoded);
    }
    let entry = admin.store.object(object_id).ok().flatten();
    let alarm = admin.store.get_alarm(object_id).ok().flatten();
    reply(
        200,
        &json!({
            "id": to_hex(object_id),
            "name": entry.and_then(|e| e.name),
            "alarm": alarm,
            "entries": values,
            "sqlPages": sql_pages,
        }),
    )
}

/// The runtime's stored form of a value (tagged JSON) as plain JSON for people to read.
fn plain(tagged: &Value) -> Value {
    let Value::Array(items) = tagged else {
        return tagged.clone();
    };
    let tag = items.first().and_then(Value::as_str).unwrap_or_default();
    let at = |i: usize| items.get(i).cloned().unwrap_or(Value::Null);
    match tag {
        "u" => Value::Null,
        "n" => at(1),
        "b" => Value::String(format!("{}n", at(1).as_str().unwrap_or_default())),
        "@" => Value::String("[circular]".into()),
        "a" | "s" => Value::Array(
            at(2)
                .as_array()
                .map(|a| a.iter().map(plain).collect())
                .unwrap_or_default(),
        ),
        "o" => match at(2) {
            Value::Object(fields) => {
                Value::Object(fields.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
            }
            _ => Value::Null,
        },
        "m" => Value::Array(
            at(2)
                .as_array()
                .map(|pairs| pairs.iter().map(plain_pair).collect())
                .unwrap_or_default(),
        ),
        "d" => at(2)
            .as_f64()
            .and_then(|ms| chrono::DateTime::from_timestamp_millis(ms as i64))
            .map_or(Value::Null, |date| Value::String(date.to_rfc3339())),
        "r" => Value::String(format!(
            "/{}/{}",
            at(2).as_str().unwrap_or_default(),
            at(3).as_str().unwrap_or_default()
        )),
        "ab" => json!({ "$bytes": at(2) }),
        "t" => json!({ "$typedArray": at(2), "buffer": plain(&at(3)) }),
        "dv" => json!({ "$dataView": plain(&at(2)) }),
        "e" => json!({ "$error": at(2), "message": at(3) }),
        "B" => plain(&at(2)),
        _ => tagged.clone(),
    }
}

fn plain_pair(pair: &Value) -> Value {
    match pair {
        Value::Array(kv) => Value::Array(kv.iter().map(plain).collect()),
        other => plain(other),
    }
}

/// Where D1 requests of the admin API start.
pub const D1_PREFIX: &str = "/__kiln/admin/d1/";
/// The most SQL one admin request may carry.
const D1_SQL_BYTES_MAX: usize = 16 * 1024 * 1024;

/// `POST {D1_PREFIX}<database id>`: the body's SQL, run by the database's object.
pub async fn d1(
    token: &str,
    runtime: &Runtime,
    request: http::Request<hyper::body::Incoming>,
) -> http::Response<Body> {
    let given = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !same(given, format!("Bearer {token}").as_bytes()) {
        return reply(401, &json!({ "error": "missing or wrong admin token" }));
    }
    if request.method() != http::Method::POST {
        return reply(405, &json!({ "error": "POST the SQL" }));
    }
    let database = request
        .uri()
        .path()
        .trim_start_matches(D1_PREFIX)
        .to_owned();
    let namespace = kiln_runtime::d1_namespace(&database);
    let owner = runtime.workers().into_iter().find_map(|worker| {
        let index = worker
            .script()
            .durable_objects
            .iter()
            .position(|b| b.namespace == namespace && b.script.is_none())?;
        Some((worker, index))
    });
    let Some((worker, index)) = owner else {
        return reply(
            404,
            &json!({ "error": format!("no worker binds the D1 database {database:?}") }),
        );
    };
    let sql = match crate::upload_api::read_body(request.into_body(), D1_SQL_BYTES_MAX).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(message) => return reply(400, &json!({ "error": message })),
    };
    let key = worker.script().durable_objects[index].key;
    let target = ObjectTarget {
        binding: index,
        id: id::from_name(&key, kiln_runtime::D1_OBJECT_NAME),
        name: Some(kiln_runtime::D1_OBJECT_NAME.to_owned()),
    };
    let args = format!("[\"a\",0,[{}]]", Value::String(sql));
    let answer = match runtime
        .object_call(&worker, target, "adminQuery".into(), args)
        .await
    {
        Ok(answer) => answer,
        Err(err) => return reply(500, &json!({ "error": err.to_string() })),
    };
    // The outcome is `[ok, value]` in the runtime's tagged form: a JSON string when ok, an
    // error (`["e", slot, name, message, stack]`) when not.
    let outcome: Value = serde_json::from_str(&answer).unwrap_or(Value::Null);
    let pair = &outcome[2];
    match (&pair[0], &pair[1]) {
        (Value::Bool(true), Value::String(text)) => {
            let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            reply(200, &value)
        }
        (_, error) => reply(
            400,
            &json!({ "error": error.get(3).and_then(Value::as_str).unwrap_or("the query failed") }),
        ),
    }
}
