//! `Library` methods for file operations: preview, commit, undo, the audit log and the trash
//! (the work is `vdfs::actions`).

use crate::vdfs::CoreError;
use crate::vdfs::actions::{self, Committed, Preview, Request, audit::AuditRecord};
use crate::vdfs::fs::trash::Trashed;
use crate::vdfs::index::location;

impl super::Library {
    fn action_ctx(&self) -> actions::Ctx<'_> {
        actions::Ctx {
            store: self.store(),
            jobs: self.jobs(),
            device: self.device(),
        }
    }

    /// Previews `req` (see [`actions::preview`]): touches nothing.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn preview(&self, req: &Request) -> Result<Preview, CoreError> {
        let locations = location::list(self.store())?;
        Ok(actions::preview(self.store(), &locations, req)?)
    }

    /// Carries out a preview: a job for copies, moves, trashes, deletes and restores, one
    /// immediate change for a rename, a new folder or a new file; each recorded in the audit
    /// log.
    ///
    /// # Errors
    /// [`CoreError::Refused`] with the preview's refusals; [`CoreError::Io`] for an immediate
    /// change that failed; [`CoreError::Store`], [`CoreError::Job`].
    pub fn commit(&self, preview: &Preview) -> Result<Committed, CoreError> {
        Ok(actions::commit(&self.action_ctx(), preview)?)
    }

    /// Undoes audit record `id`, or the newest undoable one (see [`actions::undo`]).
    ///
    /// # Errors
    /// [`CoreError::CannotUndo`] naming why; as [`Self::commit`].
    pub fn undo(&self, id: Option<u64>) -> Result<Committed, CoreError> {
        Ok(actions::undo(&self.action_ctx(), id)?)
    }

    /// Redoes the newest undo (see [`actions::redo`]).
    ///
    /// # Errors
    /// [`CoreError::CannotUndo`] when there is nothing to redo; as [`Self::commit`].
    pub fn redo(&self) -> Result<Committed, CoreError> {
        Ok(actions::redo(&self.action_ctx())?)
    }

    /// The audit log, newest first.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn history(&self, limit: usize) -> Result<Vec<AuditRecord>, CoreError> {
        Ok(actions::audit::list(self.store(), limit)?)
    }

    /// One audit record.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub fn audit_record(&self, id: u64) -> Result<Option<AuditRecord>, CoreError> {
        Ok(actions::audit::get(self.store(), id)?)
    }

    /// The items of the desktop trash (every trash this user has), newest first.
    pub fn trash_items(&self) -> Vec<Trashed> {
        crate::vdfs::fs::trash::list_all()
    }

    /// Deletes trashed items for good (all of them when `items` is `None`).
    ///
    /// # Errors
    /// [`CoreError::Io`] for the first item that could not be removed.
    pub fn empty_trash(&self, items: Option<&[Trashed]>) -> Result<u64, CoreError> {
        Ok(actions::empty_trash(items)?)
    }
}
