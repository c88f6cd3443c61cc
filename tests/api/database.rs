//! The connection to PostgreSQL itself.

use crate::helpers::database::shared_cluster;

#[tokio::test]
async fn wrong_credentials_say_so_without_the_password() {
    let cluster = shared_cluster();
    let options = cluster
        .connect_options("postgres")
        .password("definitely-wrong-pw-123");
    let error = warden::db::connect(options, 1).await.unwrap_err();
    assert!(error.contains("password authentication failed"), "{error}");
    assert!(!error.contains("definitely-wrong-pw-123"), "{error}");
}
