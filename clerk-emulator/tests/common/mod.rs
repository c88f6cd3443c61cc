//! Helpers for every test binary: spawning, HTTP clients, the Clerk fixtures and their OpenAPI
//! schemas.
// Each test binary compiles this module but uses only some of the helpers.
#![allow(dead_code)]

use clerk_emulator::{Config, Emulator, RunningEmulator};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::OnceLock;

pub const APP_ORIGIN: &str = "http://127.0.0.1:39999";

/// Clerk's published examples, test vectors and the Users part of its BAPI OpenAPI spec, kept
/// byte-identical to what Clerk publishes: the signature and key vectors are compared exactly.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/clerk"))
}

pub fn fixture_json(rel: &str) -> Value {
    let p = fixtures_dir().join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", p.display()))
}

pub async fn spawn() -> RunningEmulator {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(f: impl FnOnce(&mut Config)) -> RunningEmulator {
    let mut c = Config::for_tests();
    c.allowed_redirect_origins = vec![APP_ORIGIN.to_string()];
    f(&mut c);
    Emulator::spawn(c).await.expect("spawn emulator")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub struct Bapi {
    pub base: String,
    pub sk: String,
    pub client: reqwest::Client,
}

impl Bapi {
    pub fn new(run: &RunningEmulator) -> Self {
        Bapi {
            base: run.url.clone(),
            sk: run.emulator.config().secret_key.clone(),
            client: http(),
        }
    }
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/v1{path}", self.base))
            .bearer_auth(&self.sk)
            .header("Clerk-API-Version", "2026-05-12")
    }
    /// Send and return (status, headers, JSON body); asserts Content-Type is exactly JSON.
    pub async fn send(
        &self,
        rb: reqwest::RequestBuilder,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let resp = rb.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "content-type must be exactly application/json"
        );
        let body: Value = resp.json().await.expect("json body");
        (status, headers, body)
    }
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, b) = self.send(self.req(reqwest::Method::GET, path)).await;
        (s, b)
    }
    pub async fn json(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let (s, _, b) = self.send(self.req(method, path).json(&body)).await;
        (s, b)
    }
}

// ------------------------------------------------------------------ OpenAPI → JSON Schema

fn openapi() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let p = fixtures_dir().join("openapi-users.yml");
        let text = std::fs::read_to_string(&p).expect("read openapi-users.yml");
        let v: Value = serde_norway::from_str(&text).expect("parse openapi-users.yml");
        v
    })
}

/// OpenAPI 3.0 → JSON Schema 2020-12: `nullable: true` becomes `anyOf [null, …]`; vendor
/// extensions, `discriminator`, `example` are dropped.
fn convert(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(convert).collect()),
        Value::Object(m) => {
            let mut out = Map::new();
            let mut nullable = false;
            for (k, val) in m {
                match k.as_str() {
                    "nullable" => nullable = val.as_bool().unwrap_or(false),
                    "discriminator" | "example" | "xml" | "externalDocs" => {}
                    k if k.starts_with("x-") => {}
                    // property maps / definitions: convert values, keep keys verbatim
                    "properties" | "schemas" => {
                        let inner = val
                            .as_object()
                            .map(|pm| {
                                pm.iter()
                                    .map(|(pk, pv)| (pk.clone(), convert(pv)))
                                    .collect()
                            })
                            .unwrap_or_default();
                        out.insert(k.to_string(), Value::Object(inner));
                    }
                    _ => {
                        out.insert(k.clone(), convert(val));
                    }
                }
            }
            if nullable {
                json!({"anyOf": [{"type": "null"}, Value::Object(out)]})
            } else {
                Value::Object(out)
            }
        }
        other => other.clone(),
    }
}

fn root_with(schema: Value) -> Value {
    let schemas = convert(&openapi()["components"]["schemas"]);
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": {"schemas": schemas},
    });
    if let (Value::Object(r), Value::Object(s)) = (&mut root, schema) {
        for (k, v) in s {
            r.insert(k, v);
        }
    }
    root
}

/// Schema of `paths[path][method].responses[status]` (following `components/responses` refs).
pub fn response_schema(path: &str, method: &str, status: &str) -> Value {
    let doc = openapi();
    let mut resp = doc["paths"][path][method]["responses"][status].clone();
    assert!(
        !resp.is_null(),
        "no response {status} for {method} {path} in the spec"
    );
    if let Some(r) = resp.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/responses/");
        resp = doc["components"]["responses"][name].clone();
    }
    let schema = resp["content"]["application/json"]["schema"].clone();
    assert!(
        !schema.is_null(),
        "no JSON schema for {method} {path} {status}"
    );
    convert(&schema)
}

pub fn component_schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// Validate `instance` against `schema` (with the spec's components available for $ref).
pub fn assert_valid(schema: Value, instance: &Value, what: &str) {
    let root = root_with(schema);
    let validator = jsonschema::validator_for(&root).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the OpenAPI schema:\n{}\ninstance: {}",
        errors.join("\n"),
        serde_json::to_string_pretty(instance).unwrap()
    );
}

/// Validate a BAPI response against the spec entry for (path, method, status).
pub fn assert_response(path: &str, method: &str, status: u16, body: &Value) {
    let schema = response_schema(path, method, &status.to_string());
    assert_valid(schema, body, &format!("{method} {path} {status}"));
}

// ------------------------------------------------------------------ JWT helpers

pub fn decode_part(jwt: &str, idx: usize) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(idx).expect("jwt part");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

/// Verify an RS256 token against a JWKS value (by kid) and return its claims.
pub fn verify_with_jwks(jwt: &str, jwks: &Value) -> Value {
    let header = decode_part(jwt, 0);
    let kid = header["kid"].as_str().expect("kid");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("kid {kid} not in JWKS"));
    let dk = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(jwt, &dk, &v)
        .expect("token verifies")
        .claims
}

/// All Set-Cookie header values.
pub fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

/// The Set-Cookie string for exactly `name`.
pub fn set_cookie<'a>(cookies: &'a [String], name: &str) -> Option<&'a str> {
    cookies
        .iter()
        .find(|c| c.split('=').next() == Some(name))
        .map(String::as_str)
}

pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}
