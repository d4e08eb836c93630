"""The check catalog as YAML packs: the loader and the packs shipped with ERPCare."""

from erpcare.inspections.packs.loader import (
    PackDefinition,
    PackError,
    export_pack,
    import_pack,
    install_shipped_packs,
    parse_pack,
)

__all__ = [
    "PackDefinition",
    "PackError",
    "export_pack",
    "import_pack",
    "install_shipped_packs",
    "parse_pack",
]
