//! Publishable-key and Svix signature vectors from the Clerk fixtures.

mod common;

use clerk_emulator::{
    cookie_suffix, parse_publishable_key, publishable_key_for_host, svix_signature,
    verify_svix_signature, InstanceType, SvixVerifyError,
};

#[test]
fn publishable_key_parse_vectors() {
    let v = common::fixture_json("test-vectors/publishable-keys.json");
    for case in v["parse"].as_array().unwrap() {
        let pk = case["publishable_key"].as_str().unwrap();
        let got = parse_publishable_key(pk);
        if case["expected"].is_null() {
            assert_eq!(got, None, "{pk} must be invalid");
        } else {
            let (ty, host) = got.unwrap_or_else(|| panic!("{pk} must parse"));
            let want_ty = match case["expected"]["instanceType"].as_str().unwrap() {
                "production" => InstanceType::Production,
                _ => InstanceType::Development,
            };
            assert_eq!(ty, want_ty, "{pk}");
            assert_eq!(host, case["expected"]["frontendApi"].as_str().unwrap());
        }
    }
}

#[test]
fn publishable_key_build_vectors() {
    let v = common::fixture_json("test-vectors/publishable-keys.json");
    for case in v["build"].as_array().unwrap() {
        let host = case["frontend_api"].as_str().unwrap();
        let want = case["publishable_key"].as_str().unwrap();
        if want.starts_with("pk_live_") {
            assert_eq!(publishable_key_for_host(host), want);
        }
        // Round trip whatever the prefix.
        assert_eq!(parse_publishable_key(want).unwrap().1, host);
    }
    let pk = publishable_key_for_host("127.0.0.1:4001");
    assert_eq!(
        parse_publishable_key(&pk),
        Some((InstanceType::Production, "127.0.0.1:4001".into()))
    );
}

#[test]
fn cookie_suffix_vectors() {
    let v = common::fixture_json("test-vectors/publishable-keys.json");
    for case in v["cookie_suffix"].as_array().unwrap() {
        let pk = case["publishable_key"].as_str().unwrap();
        assert_eq!(cookie_suffix(pk), case["suffix"].as_str().unwrap(), "{pk}");
    }
}

#[test]
fn svix_vectors() {
    use base64::Engine as _;
    let v = common::fixture_json("test-vectors/svix-vectors.json");
    let vectors = v["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 17);
    for case in vectors {
        let name = case["name"].as_str().unwrap();
        let body = base64::engine::general_purpose::STANDARD
            .decode(case["body_base64"].as_str().unwrap())
            .unwrap();
        let id = case["svix-id"].as_str().unwrap();
        let ts_str = case["svix-timestamp"].as_str().unwrap();
        let ts: i64 = ts_str.parse().unwrap();
        // Signing reproduces the vector's signature for its secret.
        assert_eq!(
            svix_signature(case["secret"].as_str().unwrap(), id, ts, &body),
            case["signature_for_secret"].as_str().unwrap(),
            "sign: {name}"
        );
        // Verification gives the expected verdict.
        let got = verify_svix_signature(
            case["verify_with_secret"].as_str().unwrap(),
            id,
            ts_str,
            case["svix-signature"].as_str().unwrap(),
            &body,
            case["now"].as_i64().unwrap(),
        );
        let want = match case["expect"].as_str().unwrap() {
            "valid" => Ok(()),
            "no_matching_signature" => Err(SvixVerifyError::NoMatchingSignature),
            "timestamp_too_old" => Err(SvixVerifyError::TimestampTooOld),
            "timestamp_too_new" => Err(SvixVerifyError::TimestampTooNew),
            other => panic!("unknown expect {other}"),
        };
        assert_eq!(got, want, "verify: {name}");
    }
}
