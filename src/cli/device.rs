//! `cairn device …`: show or rename this device.

use clap::Subcommand;

use super::Output;
use crate::format;
use crate::vdfs::Core;

/// `cairn device …`
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Show this device's id, name and public key.
    Show,
    /// Rename this device (the name peers see).
    Rename {
        /// New name.
        name: String,
    },
}

pub(super) fn device(core: &Core, out: &Output, c: DeviceCommand) -> anyhow::Result<()> {
    let info = match c {
        DeviceCommand::Show => core.device(),
        DeviceCommand::Rename { name } => core.rename_device(&name)?,
    };
    if out.json {
        out.json(&serde_json::to_value(&info)?);
    } else {
        crate::outln!("Name:        {}", info.name);
        crate::outln!("Id:          {}", info.id);
        crate::outln!("Public key:  {}", info.public_key);
        crate::outln!(
            "Created:     {}",
            format::time_ms(info.created_at.as_millisecond())
        );
        crate::outln!("Data folder: {}", core.data_dir().data().display());
    }
    Ok(())
}
