//! The state lock and the JSON state file.

use crate::model::PersistedState;
use crate::{Emulator, EmulatorError, Storage};
use std::sync::MutexGuard;

/// The stored state, or a fresh one when there is no file yet (or storage is in memory).
pub(super) async fn load_state(storage: &Storage) -> Result<PersistedState, EmulatorError> {
    Ok(match storage {
        Storage::File(path) if path.exists() => {
            let bytes = tokio::fs::read(path).await?;
            serde_json::from_slice::<PersistedState>(&bytes)
                .map_err(|e| EmulatorError::Storage(format!("{}: {e}", path.display())))?
        }
        _ => PersistedState::default(),
    })
}

impl Emulator {
    pub(crate) fn lock_state(&self) -> MutexGuard<'_, PersistedState> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn persist(&self, st: &PersistedState) -> Result<(), EmulatorError> {
        let Storage::File(path) = &self.inner.config.storage else {
            return Ok(());
        };
        let bytes =
            serde_json::to_vec_pretty(st).map_err(|e| EmulatorError::Storage(e.to_string()))?;
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let mut tmp = path.clone().into_os_string();
        tmp.push(format!(".tmp-{}", std::process::id()));
        let tmp = std::path::PathBuf::from(tmp);
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// For changes already made in memory: a failed write must not fail the request.
    pub(super) fn persist_logged(&self, st: &PersistedState) {
        if let Err(e) = self.persist(st) {
            tracing::warn!("clerk-emulator: could not persist state: {e}");
        }
    }
}
