//! The `environment_version` hooks: an environment version is immutable. Its content decides
//! its derived `version` at plan time ([`crate::runs::fill_environment`]); a change of content is
//! a new version that keeps the old one; an in-place update (description, tags) is a PUT of
//! the whole version; destroy archives it, since Azure ML never deletes versions.

use std::path::Path;

use super::{Operation, OperationFuture, Removal, Removed, ResourceHooks, put};
use crate::addr::ResourceAddr;
use crate::diag::Diagnostics;
use crate::plan::UpdateKind;
use crate::value::ObjectValue;

/// The hooks of environment versions.
pub struct EnvironmentVersion;

impl ResourceHooks for EnvironmentVersion {
    fn fill_plan_time_values(
        &self,
        addr: &ResourceAddr,
        values: &mut ObjectValue,
        _base_dir: &Path,
    ) -> Diagnostics {
        let mut diags = Diagnostics::default();
        crate::runs::fill_environment(addr, values, &mut diags);
        diags
    }

    fn update<'a>(
        &'a self,
        operation: Operation<'a>,
        _before: &'a ObjectValue,
        _kind: &'a UpdateKind,
        desired: &'a ObjectValue,
    ) -> OperationFuture<'a, ObjectValue> {
        Box::pin(put(operation, desired))
    }

    fn remove<'a>(
        &'a self,
        operation: Operation<'a>,
        before: &'a ObjectValue,
        removal: Removal,
    ) -> OperationFuture<'a, Removed> {
        Box::pin(async move {
            if let Removal::Replaced(_) = removal {
                return Ok(Removed::Kept);
            }
            if let Some(id) = before.get_str("id") {
                crate::runs::archive(operation.cloud, id).await?;
            }
            Ok(Removed::Archived)
        })
    }
}
