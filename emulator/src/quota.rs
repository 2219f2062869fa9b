//! VM sizes the emulator knows: their quota family and core count (a small built-in table, names
//! compared case-insensitively). Quota is counted per subscription and family.

/// `(size, family, cores)`.
const VM_SIZES: &[(&str, &str, i64)] = &[
    ("Standard_D1_v2", "standardDv2Family", 1),
    ("Standard_D2_v2", "standardDv2Family", 2),
    ("Standard_D3_v2", "standardDv2Family", 4),
    ("Standard_D4_v2", "standardDv2Family", 8),
    ("Standard_D5_v2", "standardDv2Family", 16),
    ("Standard_D11_v2", "standardDv2Family", 2),
    ("Standard_D12_v2", "standardDv2Family", 4),
    ("Standard_D13_v2", "standardDv2Family", 8),
    ("Standard_D14_v2", "standardDv2Family", 16),
    ("Standard_DS1_v2", "standardDSv2Family", 1),
    ("Standard_DS2_v2", "standardDSv2Family", 2),
    ("Standard_DS3_v2", "standardDSv2Family", 4),
    ("Standard_DS4_v2", "standardDSv2Family", 8),
    ("Standard_DS5_v2", "standardDSv2Family", 16),
    ("Standard_DS11_v2", "standardDSv2Family", 2),
    ("Standard_DS12_v2", "standardDSv2Family", 4),
    ("Standard_DS13_v2", "standardDSv2Family", 8),
    ("Standard_DS14_v2", "standardDSv2Family", 16),
    ("Standard_D2_v3", "standardDv3Family", 2),
    ("Standard_D4_v3", "standardDv3Family", 4),
    ("Standard_D8_v3", "standardDv3Family", 8),
    ("Standard_D16_v3", "standardDv3Family", 16),
    ("Standard_D2s_v3", "standardDSv3Family", 2),
    ("Standard_D4s_v3", "standardDSv3Family", 4),
    ("Standard_D8s_v3", "standardDSv3Family", 8),
    ("Standard_D16s_v3", "standardDSv3Family", 16),
    ("Standard_D32s_v3", "standardDSv3Family", 32),
    ("Standard_E4s_v3", "standardESv3Family", 4),
    ("Standard_E8s_v3", "standardESv3Family", 8),
    ("Standard_E16s_v3", "standardESv3Family", 16),
    ("Standard_F2s_v2", "standardFSv2Family", 2),
    ("Standard_F4s_v2", "standardFSv2Family", 4),
    ("Standard_F8s_v2", "standardFSv2Family", 8),
    ("Standard_F16s_v2", "standardFSv2Family", 16),
    ("Standard_NC6", "standardNCFamily", 6),
    ("Standard_NC12", "standardNCFamily", 12),
    ("Standard_NC24", "standardNCFamily", 24),
    ("Standard_NC6s_v3", "standardNCSv3Family", 6),
    ("Standard_NC12s_v3", "standardNCSv3Family", 12),
    ("Standard_NC24s_v3", "standardNCSv3Family", 24),
    ("Standard_NC4as_T4_v3", "standardNCASv3_T4Family", 4),
    ("Standard_NC8as_T4_v3", "standardNCASv3_T4Family", 8),
    ("Standard_NC16as_T4_v3", "standardNCASv3_T4Family", 16),
    ("Standard_ND40rs_v2", "standardNDSv2Family", 40),
];

/// A VM size's quota family and cores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VmSize {
    pub family: &'static str,
    pub cores: i64,
}

/// Looks up a size such as `STANDARD_DS3_V2`.
pub(crate) fn vm_size(name: &str) -> Option<VmSize> {
    VM_SIZES
        .iter()
        .find(|(size, _, _)| size.eq_ignore_ascii_case(name))
        .map(|(_, family, cores)| VmSize {
            family,
            cores: *cores,
        })
}

/// Some known sizes, for error messages.
pub(crate) fn examples() -> String {
    [
        "Standard_DS3_v2",
        "Standard_D4s_v3",
        "Standard_F4s_v2",
        "Standard_NC6s_v3",
    ]
    .iter()
    .map(|size| format!("`{size}`"))
    .collect::<Vec<_>>()
    .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_cores_come_from_the_table() {
        assert_eq!(
            vm_size("STANDARD_DS3_V2"),
            Some(VmSize {
                family: "standardDSv2Family",
                cores: 4
            })
        );
        assert_eq!(vm_size("standard_nc6").map(|size| size.cores), Some(6));
        assert_eq!(vm_size("Standard_Imaginary"), None);
    }
}
