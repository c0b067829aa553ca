//! Kubernetes resource quantities, written the way a person would write them.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// Millicores as `500m`, or as whole cores (`2`) when that is exact.
pub(super) fn cpu(millicores: u64) -> Quantity {
    if millicores.is_multiple_of(1000) {
        Quantity((millicores / 1000).to_string())
    } else {
        Quantity(format!("{millicores}m"))
    }
}

/// Bytes with the largest binary suffix that divides them exactly (`256Mi`, `1Gi`), else
/// plain bytes, so the quantity is never rounded.
pub(super) fn bytes(n: u64) -> Quantity {
    const SUFFIXES: [(&str, u64); 4] = [("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)];
    if n == 0 {
        return Quantity("0".to_string());
    }
    let exact = SUFFIXES.iter().find(|(_, unit)| n.is_multiple_of(*unit));
    match exact {
        Some((suffix, unit)) => Quantity(format!("{}{suffix}", n / unit)),
        None => Quantity(n.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_quantities() {
        assert_eq!(cpu(500).0, "500m");
        assert_eq!(cpu(1500).0, "1500m");
        assert_eq!(cpu(2000).0, "2");
        assert_eq!(cpu(0).0, "0");
    }

    #[test]
    fn memory_quantities() {
        assert_eq!(bytes(268_435_456).0, "256Mi");
        assert_eq!(bytes(1 << 30).0, "1Gi");
        assert_eq!(bytes(1536 << 20).0, "1536Mi");
        assert_eq!(bytes(4096).0, "4Ki");
        assert_eq!(bytes(1000).0, "1000");
        assert_eq!(bytes(0).0, "0");
    }
}
