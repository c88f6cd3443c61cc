//! A test aid: many users at once, as if they had existed before anyone listened to webhooks.

use super::users::CreateUser;
use crate::{Emulator, EmulatorError, NewUser, User};

impl Emulator {
    /// Creates `users` in order, with every rule of [`Emulator::create_user`] (unique emails,
    /// valid metadata, increasing `created_at`) but **without** firing `user.created`: an
    /// instance that already had these users before an app was connected to it. Stops at the
    /// first user the rules reject; the users before it stay.
    pub async fn seed_users(
        &self,
        users: impl IntoIterator<Item = NewUser>,
    ) -> Result<Vec<User>, EmulatorError> {
        users
            .into_iter()
            .map(|new| {
                let input = CreateUser {
                    email_addresses: vec![new.email],
                    first_name: new.first_name,
                    last_name: new.last_name,
                    username: new.username,
                    image_url: new.image_url,
                    public_metadata: Some(new.public_metadata),
                    ..CreateUser::default()
                };
                Ok(self.insert_user(input)?)
            })
            .collect()
    }
}
