"""Energy, latency and area of mapped layers under named, cited technology constant sets (RRAM.md §4).

Energy per input vector = Σ_layers [ADC conversions × E_ADC(bits) + DAC drives × E_DAC
+ allocated crossbars × cycles × E_xbar + active columns × cycles × E_readout + conversions × E_shift-add
+ buffer accesses × E_buf + scale multiplies × E_mult + scale fetches × E_buf]. Latency per layer = cycles ×
(conversions per ADC × ADC time + read time), layers in sequence (scaling is pipelined behind the ADCs).
Area = crossbars × A_xbar + ADCs × A_ADC(bits) + DACs × A_DAC + buffers + scale storage and multipliers.

Example::

    >>> import dataclasses
    >>> from rram.cost import isaac32, layer_cost
    >>> from rram.mapping import map_layer
    >>> xbar = dataclasses.replace(isaac32.crossbar, adc_bits=8)  # one ISAAC IMA: 8 crossbars
    >>> c = layer_cost(map_layer("fc", 128, 128, 8, xbar), isaac32, xbar)
    >>> round((c.energy_pj["adc"]) / (c.energy_pj_total - c.energy_pj["buffer"]), 2)
    0.71
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from rram.mapping import CrossbarConfig, LayerMap

MULTIPLIER_NODE_NM = 45  # the node of the multiplier constants below (Horowitz, ISSCC 2014)


@dataclass(frozen=True)
class CostConstants:
    """One technology's constants. Energies in pJ, areas in µm², times in ns.

    Crossbar energy per read cycle is ``xbar_power_mw × read_time_ns`` (when a power is published) or
    rows·cols × V²·G_mean·t (from device parameters); both scale with rows·cols relative to the
    reference size. ``readout_pj`` is per active column per cycle (sample/integrate, where published).
    """

    name: str
    node_nm: int
    crossbar: CrossbarConfig  # the published array/periphery configuration
    adc_energy_pj: dict[int, float]
    adc_area_um2: dict[int, float]
    adc_rate_gsps: float
    dac_energy_pj: float
    dac_area_um2: float
    shift_add_pj: float
    read_time_ns: float
    xbar_rows: int
    xbar_cols: int
    xbar_power_mw: float | None = None
    xbar_area_um2: float | None = None
    cell_area_um2: float | None = None
    row_driver_area_um2: float = 0.0
    read_voltage_v: float | None = None
    r_on_ohm: float | None = None
    r_off_ohm: float | None = None
    readout_pj: float = 0.0
    buffer_pj_per_access: float = 0.0
    buffer_access_bits: int = 256
    buffer_area_um2: float = 0.0
    crossbars_per_buffer: int = 96
    output_bits: int = 16
    buffer_bytes: int = 65_536  # the buffer whose area is buffer_area_um2 (scale storage is charged per bit of it)
    # Digital scaling after the crossbars (docs/rram.md "Scale costs"). Horowitz, "Computing's energy problem",
    # ISSCC 2014, 45 nm: 16-bit float multiply 1.1 pJ and 1,640 µm²; 8-bit integer multiply 0.2 pJ and 282 µm².
    # ASSUMPTION: scaled from 45 nm to the technology's node (energy ∝ node, area ∝ node²); an integer multiply
    # scales with the product of its widths (a 16-bit partial sum times a b-bit α: (16·b)/(8·8) times the 8×8
    # figures); a group-scale multiplier per 8 crossbars (an ISAAC IMA, where partial sums leave the arrays) and
    # a Δ multiplier per ``crossbars_per_buffer`` (a tile, where they merge).
    fp16_mult_pj: float = 1.1
    fp16_mult_area_um2: float = 1640.0
    int8_mult_pj: float = 0.2
    int8_mult_area_um2: float = 282.0
    partial_sum_bits: int = 16
    crossbars_per_scale_unit: int = 8
    notes: str = ""

    def adc_energy(self, bits: int) -> float:
        return _lookup(self.adc_energy_pj, bits)

    def adc_area(self, bits: int) -> float:
        return _lookup(self.adc_area_um2, bits)

    def xbar_energy(self, rows: int, cols: int) -> float:
        """Energy of one crossbar read cycle (pJ)."""
        scale = rows * cols / (self.xbar_rows * self.xbar_cols)
        if self.xbar_power_mw is not None:
            return self.xbar_power_mw * self.read_time_ns * scale  # mW·ns = pJ
        if None in (self.read_voltage_v, self.r_on_ohm, self.r_off_ohm):
            return 0.0
        g_mean = (1 / self.r_on_ohm + 1 / self.r_off_ohm) / 2
        return rows * cols * self.read_voltage_v**2 * g_mean * self.read_time_ns * 1e3  # W·ns→pJ

    def scale_mult(self, kind: str, bits: int) -> tuple[float, float]:
        """(energy pJ, area µm²) of one multiply by a ``kind`` scale of ``bits`` bits ("none": nothing)."""
        node = self.node_nm / MULTIPLIER_NODE_NM
        if kind == "float":
            return self.fp16_mult_pj * node, self.fp16_mult_area_um2 * node**2
        if kind == "int":
            width = self.partial_sum_bits * bits / 64
            return self.int8_mult_pj * width * node, self.int8_mult_area_um2 * width * node**2
        if kind == "shift":
            return self.shift_add_pj, 0.0  # a shift on the shift-and-add path
        return 0.0, 0.0

    def xbar_area(self, rows: int, cols: int) -> float:
        if self.xbar_area_um2 is not None:
            return self.xbar_area_um2 * rows * cols / (self.xbar_rows * self.xbar_cols)
        if self.cell_area_um2 is None:
            return 0.0
        return rows * cols * self.cell_area_um2 + rows * self.row_driver_area_um2


def _lookup(table: dict[int, float], bits: int) -> float:
    """Table value; outside the table, extrapolate geometrically from the two nearest entries."""
    if bits in table:
        return table[bits]
    keys = sorted(table)
    if len(keys) == 1:
        return table[keys[0]]
    lo, hi = (keys[0], keys[1]) if bits < keys[0] else (keys[-2], keys[-1])
    if bits not in range(keys[0], keys[-1] + 1):
        ratio = (table[hi] / table[lo]) ** (1 / (hi - lo))
        return table[hi] * ratio ** (bits - hi)
    below = max(k for k in keys if k < bits)
    above = min(k for k in keys if k > bits)
    t = (bits - below) / (above - below)
    return table[below] * (table[above] / table[below]) ** t


# ---- ISAAC, 32 nm: Shafiee et al., ISCA 2016, Table 6; values as in Accelergy hwcomponents-library
# isaac.py and the PUMA simulator's constants.py.
isaac32 = CostConstants(
    name="isaac32",
    node_nm=32,
    crossbar=CrossbarConfig(rows=128, cols=128, bits_per_cell=2, dac_bits=1, input_bits=8, cols_per_adc=128),
    # ADC energy / area by resolution (Accelergy isaac.py resolution scaling; 8 b = 1.667 pJ, 1200 µm²)
    adc_energy_pj={4: 0.79, 5: 0.99, 6: 1.20, 7: 1.42, 8: 1.667, 9: 1.97, 10: 2.38},
    adc_area_um2={4: 361, 5: 477, 6: 627, 7: 845, 8: 1200, 9: 1828, 10: 3002},
    adc_rate_gsps=1.28,  # ISAAC: 8-bit ADC at 1.28 GS/s
    dac_energy_pj=0.417,  # 1-bit DAC per drive (Accelergy isaac.py)
    dac_area_um2=0.166,  # ISAAC Table 6: 1-bit DAC
    shift_add_pj=0.021,  # shift-and-add per conversion (Accelergy isaac.py)
    read_time_ns=100.0,  # ISAAC: 100 ns crossbar read cycle
    xbar_rows=128,
    xbar_cols=128,
    xbar_power_mw=0.3,  # ISAAC Table 6: 128×128 crossbar 0.3 mW (256×256: 1.2 mW)
    xbar_area_um2=25.0,  # ISAAC Table 6: 25 µm² per 128×128 crossbar (256×256: 100 µm²)
    buffer_pj_per_access=20.45,  # ISAAC eDRAM 64 KB: 20.45 pJ per 256-bit access (Accelergy isaac.py)
    buffer_access_bits=256,
    buffer_area_um2=83_000,  # ISAAC Table 6: 64 KB eDRAM 0.083 mm²
    crossbars_per_buffer=96,  # ISAAC tile: 12 IMAs × 8 crossbars share one eDRAM buffer
    notes="ISAAC, Shafiee et al. ISCA 2016; per IMA 8 crossbars and 8 ADCs, 128 columns per ADC.",
)

# ---- MNSIM 2.0, 130 nm: thu-nics/MNSIM-2.0 SimConfig.ini, ADC.py, DAC.py, Crossbar.py.
_MNSIM_ADC_MW, _MNSIM_ADC_GSPS = 1.26, 1.0  # MNSIM ADC.py: 6-bit ADC, 1.26 mW, 1 GS/s
mnsim130 = CostConstants(
    name="mnsim130",
    node_nm=130,
    crossbar=CrossbarConfig(rows=256, cols=256, bits_per_cell=1, dac_bits=1, input_bits=8, cols_per_adc=256),
    # MNSIM ADC.py: energy = power × (bits + 2) / sample rate (6 bits → 10.1 pJ)
    adc_energy_pj={b: _MNSIM_ADC_MW * (b + 2) / _MNSIM_ADC_GSPS for b in range(1, 13)},
    adc_area_um2={6: 1650.0},  # MNSIM ADC.py: 1650 µm² (one published design, used at every resolution)
    adc_rate_gsps=_MNSIM_ADC_GSPS,
    dac_energy_pj=3.9e-3 * 3.16,  # MNSIM DAC.py: 1-bit DAC 3.9 µW, held for one 3.16 ns read
    dac_area_um2=0.166,  # MNSIM DAC.py: 1-bit DAC 0.166 µm²
    shift_add_pj=0.0,  # not in the cited MNSIM files
    read_time_ns=3.16,  # MNSIM SimConfig.ini: read pulse 3.16 ns
    xbar_rows=256,
    xbar_cols=256,
    cell_area_um2=1.44,  # MNSIM SimConfig.ini: 1T1R cell 1.44 µm²
    row_driver_area_um2=1150.0,  # MNSIM Crossbar.py: area = rows·cols·cell + rows·1150 µm²
    read_voltage_v=0.15,  # MNSIM SimConfig.ini: read voltage 0.15 V
    r_on_ohm=10e3,  # MNSIM SimConfig.ini: R_on 10 kΩ
    r_off_ohm=1e6,  # MNSIM SimConfig.ini: R_off 1 MΩ
    notes="MNSIM 2.0 (thu-nics); buffers and shift-add not modelled.",
)

# ---- NeuroSim V1.5, 22 nm: neurosim/NeuroSim Param.cpp (array and device parameters).
neurosim22 = CostConstants(
    name="neurosim22",
    node_nm=22,
    # Param.cpp: 128×128 array, 8 columns share one ADC, 7-bit ADC, 1 bit per cell
    crossbar=CrossbarConfig(rows=128, cols=128, bits_per_cell=1, dac_bits=1, input_bits=8, adc_bits=7, cols_per_adc=8),
    # NeuroSim computes ADC energy with a circuit model, not a constant; ASSUMPTION: ISAAC's 32 nm
    # table stands in (no node scaling), so neurosim22 energies/areas are comparable only in ratios.
    adc_energy_pj=dict(isaac32.adc_energy_pj),
    adc_area_um2=dict(isaac32.adc_area_um2),
    adc_rate_gsps=1.0,  # Param.cpp: 1 GHz clock
    dac_energy_pj=isaac32.dac_energy_pj,  # ASSUMPTION: ISAAC 1-bit DAC stands in
    dac_area_um2=isaac32.dac_area_um2,
    shift_add_pj=isaac32.shift_add_pj,  # ASSUMPTION: ISAAC shift-and-add stands in
    read_time_ns=10.0,  # Param.cpp: 10 ns read pulse
    xbar_rows=128,
    xbar_cols=128,
    cell_area_um2=48 * 0.022**2,  # Param.cpp: 1T1R 48 F² at F = 22 nm
    read_voltage_v=0.5,  # ASSUMPTION: read voltage not in RRAM.md; 0.5 V
    r_on_ohm=6e3,  # Param.cpp: R_on 6 kΩ
    r_off_ohm=102e3,  # Param.cpp: R_off 102 kΩ
    notes="NeuroSim V1.5 array parameters; ADC/DAC/shift-add borrowed from ISAAC (see comments).",
)

# ---- NeuRRAM, 130 nm: Wan et al., Nature 2022; Accelergy hwcomponents-library wan.py.
_WAN_SAMPLE_PJ, _WAN_INTEGRATE_PJ = 1.2, 0.25  # wan.py: analog sample 1.2 pJ, integrator 0.25 pJ
neurram130 = CostConstants(
    name="neurram130",
    node_nm=130,
    # Wan et al.: 256×256 arrays, 4-bit weights in one differential pair of multi-level cells,
    # signed inputs by pulse polarity, one neuron (ADC) per column.
    crossbar=CrossbarConfig(rows=256, cols=256, bits_per_cell=4, dac_bits=1, input_bits=8, signed_inputs=True,
                            adc_cap=10, cols_per_adc=1),
    adc_energy_pj={8: 0.3},  # wan.py: variable-precision ADC 0.3 pJ per conversion
    adc_area_um2={8: 400.0},  # wan.py: ADC 400 µm²
    adc_rate_gsps=1e-3,  # wan.py: global cycle period 1 µs
    dac_energy_pj=0.0,  # not in wan.py
    dac_area_um2=0.0,
    shift_add_pj=0.1,  # wan.py: shift-and-add 0.1 pJ
    read_time_ns=0.0,
    xbar_rows=256,
    xbar_cols=256,
    # ASSUMPTION: a signed input is applied in two phases (positive, then negative part), each
    # sampled and integrated once per column; array and driver energy are not in wan.py.
    readout_pj=2 * (_WAN_SAMPLE_PJ + _WAN_INTEGRATE_PJ),
    notes="NeuRRAM periphery only (wan.py); no array/driver energy and no area for cells.",
)

TECHNOLOGIES = {c.name: c for c in (isaac32, mnsim130, neurosim22, neurram130)}


def technology(name: str) -> CostConstants:
    try:
        return TECHNOLOGIES[name]
    except KeyError:
        raise ValueError(f"unknown technology {name!r}: use one of {sorted(TECHNOLOGIES)}") from None


@dataclass
class LayerCost:
    """Per-input-vector energy (pJ) by component, latency (ns) and area (µm²) by component."""

    name: str
    macs: int
    crossbars: int
    energy_pj: dict[str, float] = field(default_factory=dict)
    latency_ns: float = 0.0
    area_um2: dict[str, float] = field(default_factory=dict)

    @property
    def energy_pj_total(self) -> float:
        return sum(self.energy_pj.values())

    @property
    def area_um2_total(self) -> float:
        return sum(self.area_um2.values())

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(energy_pj_total=self.energy_pj_total, area_um2_total=self.area_um2_total)
        return d


def layer_cost(m: LayerMap, tech: CostConstants, config: CrossbarConfig | None = None) -> LayerCost:
    """Cost of one mapped layer per input vector. ``config`` defaults to the technology's crossbar."""
    c = config or tech.crossbar
    cycles = m.input_cycles
    buffer_bits = m.in_features * c.input_bits + m.out_features * tech.output_bits
    energy = {
        "adc": sum(n * tech.adc_energy(b) for b, n in m.conversions_by_bits.items()),
        "dac": m.dac_drives * tech.dac_energy_pj * c.dac_bits,
        "xbar": m.crossbars * cycles * tech.xbar_energy(c.rows, c.cols),
        "readout": m.active_cols * cycles * tech.readout_pj,
        "shift_add": m.adc_conversions * tech.shift_add_pj,
        "buffer": math.ceil(buffer_bits / tech.buffer_access_bits) * tech.buffer_pj_per_access,
        "scale": 0.0,
    }
    adc_ns = 1.0 / tech.adc_rate_gsps
    latency = cycles * (m.max_steps_per_adc * adc_ns + tech.read_time_ns) if m.crossbars else 0.0
    area = {
        "xbar": m.crossbars * tech.xbar_area(c.rows, c.cols),
        "adc": sum(n * tech.adc_area(b) for b, n in m.adcs_by_bits.items()),
        "dac": m.crossbars * c.rows * tech.dac_area_um2,
        "buffer": math.ceil(m.crossbars / tech.crossbars_per_buffer) * tech.buffer_area_um2,
        "scale": 0.0,
    }
    if m.crossbars and m.scale_bits:
        energy["scale"], area["scale"] = _scale_cost(m, tech)
    return LayerCost(name=m.name, macs=m.macs, crossbars=m.crossbars, energy_pj=energy, latency_ns=latency, area_um2=area)


def _scale_cost(m: LayerMap, tech: CostConstants) -> tuple[float, float]:
    """(energy pJ per input vector, area µm²) of a layer's digital scales: one multiply per scaled group and per
    output channel, their storage read once per input vector, the storage itself and the multipliers."""
    group_pj, group_um2 = tech.scale_mult(m.scales.group, m.scales.group_bits)
    channel_pj, channel_um2 = tech.scale_mult("float" if m.scales.channel_bits else "none", 16)
    fetch = math.ceil(m.scale_bits / tech.buffer_access_bits) * tech.buffer_pj_per_access
    energy = m.scaled_groups * group_pj + m.out_features * channel_pj + fetch
    group_units = math.ceil(m.crossbars / tech.crossbars_per_scale_unit)  # partial sums are scaled where they leave
    channel_units = math.ceil(m.crossbars / tech.crossbars_per_buffer)  # Δ once per merged output, per tile
    storage = m.scale_bits * tech.buffer_area_um2 / (8 * tech.buffer_bytes)
    return energy, storage + group_units * group_um2 + channel_units * channel_um2


@dataclass
class ModelCost:
    """Totals over layers run in sequence, plus the efficiency figures used for every ratio."""

    technology: str
    layers: list[LayerCost]

    @property
    def macs(self) -> int:
        return sum(x.macs for x in self.layers)

    @property
    def crossbars(self) -> int:
        return sum(x.crossbars for x in self.layers)

    @property
    def energy_pj(self) -> float:
        return sum(x.energy_pj_total for x in self.layers)

    @property
    def latency_ns(self) -> float:
        return sum(x.latency_ns for x in self.layers)

    @property
    def area_mm2(self) -> float:
        return sum(x.area_um2_total for x in self.layers) / 1e6

    def breakdown(self, kind: str = "energy_pj") -> dict[str, float]:
        out: dict[str, float] = {}
        for layer in self.layers:
            for k, v in getattr(layer, kind).items():
                out[k] = out.get(k, 0.0) + v
        return out

    @property
    def tops_per_w(self) -> float:
        """Energy efficiency: 2·MACs per input vector / energy (ops/pJ = TOPS/W)."""
        return 2 * self.macs / self.energy_pj if self.energy_pj else 0.0

    @property
    def gops_per_mm2(self) -> float:
        """Area efficiency: throughput (2·MACs per latency) / area."""
        if not self.latency_ns or not self.area_mm2:
            return 0.0
        return 2 * self.macs / self.latency_ns / self.area_mm2  # ops/ns = GOPS

    def summary(self) -> dict:
        return {
            "technology": self.technology,
            "crossbars": self.crossbars,
            "macs": self.macs,
            "energy_pj": self.energy_pj,
            "latency_ns": self.latency_ns,
            "area_mm2": self.area_mm2,
            "tops_per_w": self.tops_per_w,
            "gops_per_mm2": self.gops_per_mm2,
            "energy_breakdown_pj": self.breakdown("energy_pj"),
            "area_breakdown_um2": self.breakdown("area_um2"),
        }


def model_cost(maps: list[LayerMap], tech: CostConstants, config: CrossbarConfig | None = None) -> ModelCost:
    return ModelCost(technology=tech.name, layers=[layer_cost(m, tech, config) for m in maps])
