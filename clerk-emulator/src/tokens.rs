//! Session-token claims and Clerk's session-token template (shortcode) semantics.

use crate::model::User;
use serde_json::{json, Map, Value};

/// Claims Clerk sets itself; a template cannot override them.
pub(crate) const RESERVED_CLAIMS: &[&str] = &[
    "azp", "exp", "fea", "fva", "iat", "iss", "jti", "nbf", "o", "pla", "sid", "sts", "sub", "v",
    "act",
];

/// Header `cat` value Clerk puts on session tokens.
pub(crate) const SESSION_TOKEN_CATEGORY: &str = "cl_B7d4PD111AAA";

/// The `user` object shortcodes are resolved against.
pub(crate) fn shortcode_context(user: &User) -> Value {
    let mut u = serde_json::to_value(user).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut u {
        let email = user.primary_email().map(str::to_string);
        let verified = user
            .email_addresses
            .iter()
            .find(|e| Some(&e.id) == user.primary_email_address_id.as_ref())
            .and_then(|e| e.verification.as_ref())
            .map(|v| v.status == "verified");
        let full_name = [user.first_name.as_deref(), user.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        m.insert("primary_email_address".into(), json!(email));
        m.insert("email_verified".into(), json!(verified));
        m.insert("phone_number_verified".into(), Value::Null);
        m.insert("primary_phone_number".into(), Value::Null);
        m.insert("primary_web3_wallet".into(), Value::Null);
        m.insert(
            "full_name".into(),
            if full_name.is_empty() {
                Value::Null
            } else {
                json!(full_name)
            },
        );
        m.insert("two_factor_enabled".into(), json!(user.two_factor_enabled));
    }
    json!({ "user": u })
}

fn lookup(ctx: &Value, path: &str) -> Value {
    let mut cur = ctx;
    for seg in path.split('.') {
        match cur {
            Value::Object(m) => match m.get(seg) {
                Some(v) => cur = v,
                None => return Value::Null,
            },
            Value::Array(a) => match seg.parse::<usize>().ok().and_then(|i| a.get(i)) {
                Some(v) => cur = v,
                None => return Value::Null,
            },
            _ => return Value::Null,
        }
    }
    cur.clone()
}

fn eval_operand(op: &str, ctx: &Value) -> Value {
    let op = op.trim();
    if op.len() >= 2
        && ((op.starts_with('\'') && op.ends_with('\''))
            || (op.starts_with('"') && op.ends_with('"')))
    {
        return Value::String(op[1..op.len() - 1].to_string());
    }
    match op {
        "null" => return Value::Null,
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = op.parse::<i64>() {
        return json!(n);
    }
    if let Ok(f) = op.parse::<f64>() {
        return json!(f);
    }
    lookup(ctx, op)
}

/// `a || b || 'lit'`: first operand that is neither null nor false, else the last one.
fn eval_expr(expr: &str, ctx: &Value) -> Value {
    let ops: Vec<&str> = expr.split("||").collect();
    let mut last = Value::Null;
    for op in ops {
        let v = eval_operand(op, ctx);
        if !v.is_null() && v != Value::Bool(false) {
            return v;
        }
        last = v;
    }
    last
}

fn render_string(s: &str, ctx: &Value) -> Value {
    let t = s.trim();
    if let Some(inner) = t.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) {
        if !inner.contains("{{") && !inner.contains("}}") {
            return eval_expr(inner, ctx);
        }
    }
    if !s.contains("{{") {
        return Value::String(s.to_string());
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                match eval_expr(&after[..end], ctx) {
                    Value::String(v) => out.push_str(&v),
                    other => out.push_str(&other.to_string()),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Value::String(out)
}

/// Render a session-token template (any JSON) against a user.
pub(crate) fn render_template(template: &Value, ctx: &Value) -> Value {
    match template {
        Value::String(s) => render_string(s, ctx),
        Value::Array(a) => Value::Array(a.iter().map(|v| render_template(v, ctx)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), render_template(v, ctx)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(crate) struct ClaimInput<'a> {
    pub iss: &'a str,
    pub user: &'a User,
    pub session_id: &'a str,
    pub azp: Option<&'a str>,
    pub iat: i64,
    pub lifetime_secs: i64,
    pub template: &'a Value,
}

/// Clerk v2 session-token claims plus the template's custom claims.
pub(crate) fn session_claims(input: &ClaimInput<'_>) -> Value {
    let mut m = Map::new();
    if let Value::Object(custom) = render_template(input.template, &shortcode_context(input.user)) {
        for (k, v) in custom {
            if !RESERVED_CLAIMS.contains(&k.as_str()) {
                m.insert(k, v);
            }
        }
    }
    if let Some(azp) = input.azp {
        m.insert("azp".into(), json!(azp));
    }
    m.insert("exp".into(), json!(input.iat + input.lifetime_secs));
    m.insert("fva".into(), json!([0, -1]));
    m.insert("iat".into(), json!(input.iat));
    m.insert("iss".into(), json!(input.iss));
    m.insert("jti".into(), json!(crate::util::random_hex(10)));
    m.insert("nbf".into(), json!(input.iat - 10));
    m.insert("sid".into(), json!(input.session_id));
    m.insert("sts".into(), json!("active"));
    m.insert("sub".into(), json!(input.user.id));
    m.insert("v".into(), json!(2));
    Value::Object(m)
}
