"""Unit conversions between the paper's units and SI (the only place they happen)."""

MG_CM2_TO_KG_M2 = 1e-2          # 1 mg/cm2 = 0.01 kg/m2
UM_TO_M = 1e-6
M_TO_UM = 1e6
MAH_G_TO_C_KG = 3.6e3           # 1 mAh/g = 3.6 C/g = 3600 C/kg


def loading_to_kg_m2(loading_mg_cm2: float) -> float:
    """Areal loading, mg/cm2 -> kg/m2."""
    return loading_mg_cm2 * MG_CM2_TO_KG_M2


def um(x_um: float) -> float:
    """Micrometres -> metres."""
    return x_um * UM_TO_M
