//! The upload API, in the shape of Cloudflare's (`/client/v4/accounts/{account}/workers/...`),
//! so existing tooling can target a node: dispatch namespaces and the scripts in them.
//!
//! Served under [`PREFIX`] on the node's HTTP port, only with `Authorization: Bearer <token>`
//! (the admin token). Answers use Cloudflare's envelope (`success`, `errors: [{code,
//! message}]`, `messages`, `result`). A malformed upload gets a 4xx with what is wrong and
//! changes nothing; scripts are stored durably (replicated, in a cluster) before the answer.
//!
//! - `POST   .../workers/dispatch/namespaces` `{"name"}`, `GET` the list;
//! - `GET|DELETE .../workers/dispatch/namespaces/{ns}`;
//! - `PUT|GET|DELETE .../workers/scripts/{name}`, `GET .../workers/scripts`: scripts outside
//!   any namespace, which the node serves ([`crate::deployments`]); `GET` of one gives its
//!   modules as Cloudflare does (the content, or multipart for several modules);
//! - `PUT    .../workers/dispatch/namespaces/{ns}/scripts/{name}` (multipart: a `metadata` part
//!   with `main_module`, `compatibility_date`, `bindings`, `tags`; one part per module);
//! - `GET|DELETE .../workers/dispatch/namespaces/{ns}/scripts/{name}`;
//! - `GET    .../workers/dispatch/namespaces/{ns}/scripts[?tags=tag:yes]`;
//! - `.../storage/kv/namespaces/{id}/...`: Workers KV's REST API ([`crate::kv_api`]).

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::BodyStream;
use hyper::body::Incoming;
use kiln_proto::storage::{mutation, Batch, Mutation, Put};
use kiln_runtime::dispatch::record::{apply_migrations, ScriptRecord, StoredModule};
use kiln_runtime::dispatch::{
    self, namespaces_object, script_batch, scripts_object, ACCOUNT_SCRIPTS,
};
use kiln_runtime::{Body, ObjectStore};
use serde_json::{json, Value};

pub const PREFIX: &str = "/__kiln/api/client/v4/";
/// The largest upload accepted (the modules together; Cloudflare's paid plan allows 10 MB
/// compressed).
const UPLOAD_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Scripts a listing returns at most.
const LIST_MAX: usize = 1000;
/// Tags a script may carry (Cloudflare: 8).
const TAGS_MAX: usize = 8;

pub struct UploadApi {
    pub token: String,
    pub store: Arc<dyn ObjectStore>,
    /// Where an upload is started once before it is stored, so code that fails to load (a
    /// syntax error, a throw at startup) is refused with its file:line:col.
    pub runtime: kiln_runtime::Runtime,
    /// Where scripts uploaded outside dispatch namespaces are served.
    pub deployments: Arc<crate::deployments::Deployments>,
}

pub(crate) fn envelope(status: u16, result: Value) -> http::Response<Body> {
    respond(
        status,
        json!({ "success": true, "errors": [], "messages": [], "result": result }),
    )
}

pub(crate) fn failure(status: u16, code: u32, message: &str) -> http::Response<Body> {
    respond(
        status,
        json!({ "success": false, "errors": [{ "code": code, "message": message }], "messages": [], "result": null }),
    )
}

pub(crate) fn respond(status: u16, value: Value) -> http::Response<Body> {
    let mut response = http::Response::new(kiln_runtime::full(value.to_string()));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub async fn handle(api: &UploadApi, request: http::Request<Incoming>) -> http::Response<Body> {
    let given = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !crate::admin::same(given, format!("Bearer {}", api.token).as_bytes()) {
        return failure(401, 10000, "Authentication error");
    }
    let path = request.uri().path().trim_start_matches(PREFIX).to_owned();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let method = request.method().clone();
    match parts.as_slice() {
        ["accounts", _, "workers", "scripts"] => match method {
            http::Method::GET => {
                let tags = request.uri().query().map(str::to_owned);
                list_scripts(api, ACCOUNT_SCRIPTS, tags.as_deref())
            }
            _ => failure(405, 10000, "method not allowed"),
        },
        ["accounts", _, "workers", "scripts", name] => {
            let name = name.to_string();
            match method {
                http::Method::PUT => upload(api, ACCOUNT_SCRIPTS, &name, request).await,
                http::Method::GET => download(api, &name),
                http::Method::DELETE => delete_script(api, ACCOUNT_SCRIPTS, &name).await,
                _ => failure(405, 10000, "method not allowed"),
            }
        }
        ["accounts", _, "workers", "dispatch", "namespaces"] => match method {
            http::Method::GET => list_namespaces(api),
            http::Method::POST => create_namespace(api, request).await,
            _ => failure(405, 10000, "method not allowed"),
        },
        ["accounts", _, "workers", "dispatch", "namespaces", ns] => match method {
            http::Method::GET => get_namespace(api, ns),
            http::Method::DELETE => delete_namespace(api, ns).await,
            _ => failure(405, 10000, "method not allowed"),
        },
        ["accounts", _, "workers", "dispatch", "namespaces", ns, "scripts"] => {
            let tags = request.uri().query().map(str::to_owned);
            list_scripts(api, ns, tags.as_deref())
        }
        ["accounts", _, "workers", "dispatch", "namespaces", ns, "scripts", name] => {
            let (ns, name) = (ns.to_string(), name.to_string());
            match method {
                http::Method::PUT => upload(api, &ns, &name, request).await,
                http::Method::GET => get_script(api, &ns, &name),
                http::Method::DELETE => delete_script(api, &ns, &name).await,
                _ => failure(405, 10000, "method not allowed"),
            }
        }
        ["accounts", _, "storage", "kv", "namespaces", ns, rest @ ..] => {
            let ns = ns.to_string();
            crate::kv_api::handle(api, &ns, rest, request).await
        }
        _ => failure(404, 10007, "no such API route"),
    }
}

/// Whether scripts can live in `ns` (the account's own space always exists).
fn space_exists(api: &UploadApi, ns: &str) -> bool {
    ns == ACCOUNT_SCRIPTS || namespace_record(api, ns).is_some()
}

fn no_namespace(ns: &str) -> http::Response<Body> {
    failure(404, 100119, &format!("namespace {ns:?} not found"))
}

fn no_script(ns: &str, name: &str) -> http::Response<Body> {
    if ns == ACCOUNT_SCRIPTS {
        return failure(
            404,
            10007,
            &format!("This Worker does not exist on your account: {name}"),
        );
    }
    failure(
        404,
        10007,
        &format!("This Worker does not exist in namespace {ns:?}: {name}"),
    )
}

fn namespace_record(api: &UploadApi, ns: &str) -> Option<Value> {
    let stored = api.store.get(&namespaces_object(), ns.as_bytes()).ok()??;
    serde_json::from_slice(&stored).ok()
}

fn list_namespaces(api: &UploadApi) -> http::Response<Body> {
    match api
        .store
        .list(&namespaces_object(), None, None, false, Some(LIST_MAX))
    {
        Ok(entries) => {
            let all: Vec<Value> = entries
                .iter()
                .filter_map(|(_, value)| serde_json::from_slice(value).ok())
                .collect();
            envelope(200, Value::Array(all))
        }
        Err(err) => failure(500, 10013, &err.to_string()),
    }
}

async fn create_namespace(
    api: &UploadApi,
    request: http::Request<Incoming>,
) -> http::Response<Body> {
    let body = match read_body(request.into_body(), 64 * 1024).await {
        Ok(body) => body,
        Err(message) => return failure(400, 10021, &message),
    };
    let name = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_owned));
    let Some(name) = name.filter(|n| valid_name(n)) else {
        return failure(
            400,
            10021,
            "a namespace needs a \"name\" of letters, digits, '-' and '_'",
        );
    };
    if namespace_record(api, &name).is_some() {
        return failure(409, 100119, &format!("namespace {name:?} already exists"));
    }
    let record = json!({
        "namespace_id": kiln_runtime::object::to_hex(&scripts_object(&name)[..16]),
        "namespace_name": name,
        "created_on": now(),
        "script_count": 0,
    });
    let batch = Batch {
        namespace: "dispatch".into(),
        object_id: namespaces_object().to_vec(),
        name: None,
        replies: Vec::new(),
        mutations: vec![Mutation {
            kind: Some(mutation::Kind::Put(Put {
                key: name.as_bytes().to_vec(),
                value: record.to_string().into_bytes(),
            })),
        }],
    };
    match api.store.commit_anywhere(batch).await {
        Ok(()) => envelope(200, record),
        Err(err) => failure(500, 10013, &err.to_string()),
    }
}

fn get_namespace(api: &UploadApi, ns: &str) -> http::Response<Body> {
    match namespace_record(api, ns) {
        Some(record) => envelope(200, record),
        None => failure(404, 100119, &format!("namespace {ns:?} not found")),
    }
}

async fn delete_namespace(api: &UploadApi, ns: &str) -> http::Response<Body> {
    if namespace_record(api, ns).is_none() {
        return failure(404, 100119, &format!("namespace {ns:?} not found"));
    }
    let scripts = api
        .store
        .list(&scripts_object(ns), None, None, false, None)
        .unwrap_or_default();
    let mut batch = script_batch(ns, "", None);
    batch.mutations = scripts
        .into_iter()
        .map(|(key, _)| Mutation {
            kind: Some(mutation::Kind::Delete(key)),
        })
        .collect();
    if !batch.mutations.is_empty() {
        if let Err(err) = api.store.commit_anywhere(batch).await {
            return failure(500, 10013, &err.to_string());
        }
    }
    let remove = Batch {
        namespace: "dispatch".into(),
        object_id: namespaces_object().to_vec(),
        name: None,
        replies: Vec::new(),
        mutations: vec![Mutation {
            kind: Some(mutation::Kind::Delete(ns.as_bytes().to_vec())),
        }],
    };
    match api.store.commit_anywhere(remove).await {
        Ok(()) => envelope(200, Value::Null),
        Err(err) => failure(500, 10013, &err.to_string()),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn script_info(name: &str, record: &ScriptRecord) -> Value {
    json!({
        "id": name,
        "etag": record.etag,
        "created_on": record.created_on,
        "modified_on": record.modified_on,
        "tags": record.metadata.get("tags").cloned().unwrap_or(json!([])),
        "compatibility_date": record.metadata.get("compatibility_date").cloned().unwrap_or(Value::Null),
        "migration_tag": record.migration_tag,
        "handlers": ["fetch"],
    })
}

fn list_scripts(api: &UploadApi, ns: &str, query: Option<&str>) -> http::Response<Body> {
    if !space_exists(api, ns) {
        return no_namespace(ns);
    }
    // `tags=a:yes,b:no`: scripts with every "yes" tag and no "no" tag.
    let mut wanted = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key == "tags" {
            for tag in value.split(',') {
                let (name, want) = tag.split_once(':').unwrap_or((tag, "yes"));
                wanted.push((name.to_owned(), want != "no"));
            }
        }
    }
    let entries = match api
        .store
        .list(&scripts_object(ns), None, None, false, Some(LIST_MAX))
    {
        Ok(entries) => entries,
        Err(err) => return failure(500, 10013, &err.to_string()),
    };
    let mut result = Vec::new();
    for (key, value) in entries {
        let Ok(record) = serde_json::from_slice::<ScriptRecord>(&value) else {
            continue;
        };
        let tags: Vec<String> = record
            .metadata
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if wanted.iter().all(|(tag, want)| tags.contains(tag) == *want) {
            result.push(script_info(&String::from_utf8_lossy(&key), &record));
        }
    }
    envelope(200, Value::Array(result))
}

fn get_script(api: &UploadApi, ns: &str, name: &str) -> http::Response<Body> {
    match dispatch::read_script(api.store.as_ref(), ns, name) {
        Ok(Some(record)) => envelope(200, script_info(name, &record)),
        Ok(None) => no_script(ns, name),
        Err(message) => failure(500, 10013, &message),
    }
}

/// A script's content as uploaded: the module itself when there is one, else every module as
/// a part of a multipart body (what Cloudflare's "download worker" answers).
fn download(api: &UploadApi, name: &str) -> http::Response<Body> {
    let record = match dispatch::read_script(api.store.as_ref(), ACCOUNT_SCRIPTS, name) {
        Ok(Some(record)) => record,
        Ok(None) => return no_script(ACCOUNT_SCRIPTS, name),
        Err(message) => return failure(500, 10013, &message),
    };
    let decode = |content: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(content)
            .unwrap_or_default()
    };
    let (content_type, body) = match record.modules.as_slice() {
        [module] => (module.content_type.clone(), decode(&module.content)),
        modules => {
            let boundary = format!("kiln-{}", record.etag);
            let mut body = Vec::new();
            for module in modules {
                body.extend_from_slice(
                    format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{0}\"; filename=\"{0}\"\r\nContent-Type: {1}\r\n\r\n",
                        module.name, module.content_type
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(&decode(&module.content));
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            (format!("multipart/form-data; boundary={boundary}"), body)
        }
    };
    let mut response = http::Response::new(kiln_runtime::full(body));
    if let Ok(value) = http::HeaderValue::from_str(&content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response
}

async fn delete_script(api: &UploadApi, ns: &str, name: &str) -> http::Response<Body> {
    match dispatch::read_script(api.store.as_ref(), ns, name) {
        Ok(Some(_)) => {}
        Ok(None) => return no_script(ns, name),
        Err(message) => return failure(500, 10013, &message),
    }
    match api
        .store
        .commit_anywhere(script_batch(ns, name, None))
        .await
    {
        Ok(()) => {
            if ns == ACCOUNT_SCRIPTS {
                api.deployments.remove(name);
            }
            envelope(200, Value::Null)
        }
        Err(err) => failure(500, 10013, &err.to_string()),
    }
}

/// One part of a `multipart/form-data` body.
pub(crate) struct FormPart {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// Every part of a `multipart/form-data` body of at most `limit` bytes, or what is wrong with
/// it.
pub(crate) async fn form_parts(
    body: Incoming,
    boundary: String,
    limit: u64,
) -> Result<Vec<FormPart>, String> {
    let stream = http_body_util::BodyDataStream::new(body);
    let constraints =
        multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit));
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let malformed = |err: multer::Error| format!("malformed multipart body: {err}");
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        let bytes = field.bytes().await.map_err(malformed)?;
        parts.push(FormPart {
            name,
            file_name,
            content_type,
            bytes,
        });
    }
    Ok(parts)
}

pub(crate) async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, String> {
    let mut stream = BodyStream::new(body);
    let mut whole = bytes::BytesMut::new();
    while let Some(frame) = stream.next().await {
        let frame = frame.map_err(|err| err.to_string())?;
        if let Ok(data) = frame.into_data() {
            if whole.len() + data.len() > limit {
                return Err(format!("the body is larger than {limit} bytes"));
            }
            whole.extend_from_slice(&data);
        }
    }
    Ok(whole.freeze())
}

async fn upload(
    api: &UploadApi,
    ns: &str,
    name: &str,
    request: http::Request<Incoming>,
) -> http::Response<Body> {
    if !valid_name(name) {
        return failure(
            400,
            10016,
            "script names are letters, digits, '-' and '_' (at most 63)",
        );
    }
    if !space_exists(api, ns) {
        return no_namespace(ns);
    }
    let account = ns == ACCOUNT_SCRIPTS;
    if account && api.deployments.is_reserved(name) {
        return failure(
            409,
            10021,
            &format!("the node runs {name:?} from its configuration; an upload cannot replace it"),
        );
    }
    let boundary = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok());
    let Some(boundary) = boundary else {
        return failure(400, 10021, "an upload is multipart/form-data");
    };
    let parts = match form_parts(request.into_body(), boundary, UPLOAD_BYTES_MAX).await {
        Ok(parts) => parts,
        Err(err) => return failure(400, 10021, &err),
    };
    let mut metadata = None;
    let mut modules = Vec::new();
    for part in parts {
        if part.name == "metadata" {
            match serde_json::from_slice::<Value>(&part.bytes) {
                Ok(value) if value.is_object() => metadata = Some(value),
                _ => return failure(400, 10021, "the metadata part is not a JSON object"),
            }
        } else {
            modules.push(StoredModule {
                name: part.file_name.unwrap_or(part.name),
                content_type: part
                    .content_type
                    .unwrap_or_else(|| "application/octet-stream".into()),
                content: base64::engine::general_purpose::STANDARD.encode(&part.bytes),
            });
        }
    }
    let Some(metadata) = metadata else {
        return failure(400, 10021, "the upload has no metadata part");
    };
    let tags = metadata
        .get("tags")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if tags > TAGS_MAX {
        return failure(
            400,
            10021,
            &format!("a script may have at most {TAGS_MAX} tags"),
        );
    }
    let previous = match dispatch::read_script(api.store.as_ref(), ns, name) {
        Ok(previous) => previous,
        Err(message) => return failure(500, 10013, &message),
    };
    let (classes, migration_tag) = if account {
        match apply_migrations(name, previous.as_ref(), &metadata) {
            Ok(applied) => applied,
            Err(err) => return failure(400, err.code, &err.message),
        }
    } else if metadata
        .get("bindings")
        .and_then(Value::as_array)
        .is_some_and(|bindings| {
            bindings
                .iter()
                .any(|b| b.get("type").and_then(Value::as_str) == Some("d1"))
        })
    {
        return failure(
            400,
            10021,
            "scripts in dispatch namespaces have no D1 bindings in Kiln",
        );
    } else if metadata.get("migrations").is_some_and(|m| !m.is_null()) {
        return failure(
            400,
            10021,
            "scripts in dispatch namespaces have no Durable Objects in Kiln; remove metadata.migrations",
        );
    } else {
        Default::default()
    };
    let created_on = previous.map(|old| old.created_on).unwrap_or_else(now);
    let mut etag = [0u8; 16];
    let _ = getrandom::fill(&mut etag);
    let record = ScriptRecord {
        metadata,
        modules,
        created_on,
        modified_on: now(),
        etag: kiln_runtime::object::to_hex(&etag),
        classes,
        migration_tag,
    };
    let worker = match api.deployments.build(name, &record) {
        Ok(worker) => worker,
        Err(message) => return failure(400, 10021, &message),
    };
    if let Err(err) = api.runtime.load(&worker).await {
        let message = match err {
            kiln_runtime::Error::Startup(text) => text,
            other => other.to_string(),
        };
        return failure(
            400,
            10021,
            &format!("Uncaught error while starting the script: {message}"),
        );
    }
    match api
        .store
        .commit_anywhere(script_batch(ns, name, Some(&record)))
        .await
    {
        Ok(()) => {
            if account {
                api.deployments.install(name, &record.etag, worker);
            }
            envelope(200, script_info(name, &record))
        }
        Err(err) => failure(500, 10013, &err.to_string()),
    }
}
