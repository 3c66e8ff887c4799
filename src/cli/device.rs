//! `cairn device …`: show or rename this device, pair and unpair it with others.

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
    /// Pair with another device: without a code, show one to type there; with the code the
    /// other device shows, join it.
    Pair(super::peer::PairArgs),
    /// The devices this one is paired with.
    List,
    /// Forget a paired device (and ask it to forget this one).
    Unpair {
        /// The device (name or id).
        device: String,
        #[command(flatten)]
        reach: super::peer::ReachArgs,
    },
}

pub(super) fn device(core: &Core, out: &Output, c: DeviceCommand) -> anyhow::Result<()> {
    let info = match c {
        DeviceCommand::Show => core.device(),
        DeviceCommand::Rename { name } => core.rename_device(&name)?,
        DeviceCommand::Pair(a) => return super::peer::pair(core, out, &a),
        DeviceCommand::List => return super::peer::list(core, out),
        DeviceCommand::Unpair { device, reach } => {
            return super::peer::unpair(core, out, &device, &reach);
        }
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
