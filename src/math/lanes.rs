//! The lane abstraction the math kernels are written against: one f64 (scalar tier) or a
//! SIMD vector of them. Every tier implements the same operations with the same IEEE
//! semantics — FMA included — so one generic algorithm gives identical bits on every tier.

/// A vector of `WIDTH` f64 lanes with the operations `ln`/`exp` need.
///
/// # Safety
/// Implementations for SIMD tiers must only be used on CPUs with their features; callers go
/// through `#[target_feature]` entry points chosen by runtime detection.
pub trait Lanes: Copy {
    const WIDTH: usize;
    type Mask: Copy;

    fn splat(value: f64) -> Self;
    fn add(self, other: Self) -> Self;
    fn sub(self, other: Self) -> Self;
    fn mul(self, other: Self) -> Self;
    fn div(self, other: Self) -> Self;
    /// `self * b + c` with one rounding.
    fn fma(self, b: Self, c: Self) -> Self;
    /// Bitwise AND / OR of the lanes' bit patterns.
    fn and_bits(self, other: Self) -> Self;
    fn or_bits(self, other: Self) -> Self;
    fn xor_bits(self, other: Self) -> Self;
    /// The lanes' bit patterns added as 64-bit integers, wrapping: exact, so the same on
    /// every tier (the logarithm's reduction moves a mantissa's bits with it).
    fn add_bits(self, other: Self) -> Self;
    /// IEEE square root (correctly rounded on every tier).
    fn sqrt(self) -> Self;
    /// Logical shifts of each lane's 64 bits by 52 (the exponent field).
    fn shift_right_52(self) -> Self;
    fn shift_left_52(self) -> Self;
    /// Each lane's exponent field less 1023, as a float (`floor(log2 self)`), for the lanes
    /// that are positive, normal and finite: an exact integer, so the same on every tier.
    /// Other lanes get any value, which may differ between tiers (callers replace them).
    /// By default [`exponent_field_less`] with the offset `2⁵² + 1023` (three operations);
    /// AVX-512 has one instruction for it (`vgetexppd`).
    #[inline(always)]
    fn exponent_less_bias(self) -> Self {
        exponent_field_less(self, Self::splat(TWO_POW_52 + 1023.0))
    }
    fn less(self, other: Self) -> Self::Mask;
    fn greater(self, other: Self) -> Self::Mask;
    fn equal(self, other: Self) -> Self::Mask;
    /// Lanes where `self ≥ other` fails: `self < other`, or either is NaN.
    fn below_or_unordered(self, other: Self) -> Self::Mask;
    /// Lanes where `self` is NaN.
    fn is_nan(self) -> Self::Mask;
    /// `mask ? a : b` per lane.
    fn select(mask: Self::Mask, a: Self, b: Self) -> Self;
    /// `mask ? P::run(argument) : otherwise` per lane, where `P::run` runs only if some lane
    /// of `mask` is set: the guard around a rare, expensive path (trig's huge-argument
    /// reduction, `ln` below the normal range, `exp` near its limits). Each lane's result
    /// depends on its own inputs only, so it is the same bits whichever other lanes share
    /// the vector.
    ///
    /// The path is a type rather than a closure or function value: `P::run::<Self>` is a
    /// direct call to an `#[inline(always)]` function, so it always inlines into the tier's
    /// `#[target_feature]` loop. A closure or function item is called through its `FnOnce`
    /// shim, which LLVM may leave out of line, compiled without the tier's features, where
    /// its vector arithmetic gives wrong upper lanes.
    fn if_any<P: GuardedPath>(mask: Self::Mask, argument: Self, otherwise: Self) -> Self;
    /// `table`'s entry at the low four bits of each lane's bit pattern (a lane holding
    /// `1.5·2⁵² + i` looks up entry `i`). Any bit pattern gives an entry: the index is masked,
    /// never trusted.
    fn lookup(self, table: LookupTable) -> Self;
}

/// 2⁵²: the first float whose unit in the last place is 1.
pub(super) const TWO_POW_52: f64 = 4_503_599_627_370_496.0;

/// Each lane's top 12 bits (the exponent field, and the sign bit) as an integer plus 2⁵², as
/// a float, less `offset`: shifted down, OR-ed into 2⁵²'s mantissa, then subtracted. Exact
/// for every field, the all-ones one included.
#[inline(always)]
pub(super) fn exponent_field_less<L: Lanes>(lanes: L, offset: L) -> L {
    lanes.shift_right_52().or_bits(L::splat(TWO_POW_52)).sub(offset)
}

/// A rare, expensive path of a kernel, for [`Lanes::if_any`]. `run` must be
/// `#[inline(always)]`.
pub trait GuardedPath {
    fn run<L: Lanes>(x: L) -> L;
}

/// The tables the kernels look values up in, 16 entries each: one list, so that a tier with
/// no memory of its own (the traced one) can name a table and its emitter lay it out.
// Variants are named for the function whose table they are: other functions' tables join
// this list beside `ln`'s.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupTable {
    /// `ln`: `1/c` of each of its 16 intervals, rounded to f64 (`kernels::LN_TABLE`).
    LnInverseCenter,
    /// `ln`: `−ln(1/c)` rounded to a multiple of 2⁻⁴²…
    LnLogCenterHigh,
    /// …and the rest of it, rounded to f64.
    LnLogCenterLow,
    /// `log2`: `−log2(1/c)` rounded to a multiple of 2⁻⁴² (`kernels::LOG2_TABLE`)…
    Log2CenterHigh,
    /// …and the rest of it, rounded to f64.
    Log2CenterLow,
    /// `log10`: `−log10(1/c)` rounded to a multiple of 2⁻⁴² (`kernels::LOG10_TABLE`)…
    Log10CenterHigh,
    /// …and the rest of it, rounded to f64.
    Log10CenterLow,
    /// `exp`: `2^(j/16)` rounded to f64 (`kernels::EXP_TABLE`)…
    ExpPowerHigh,
    /// …and the rest of it, rounded to f64.
    ExpPowerLow,
}

impl LookupTable {
    /// Every table's entry count: a lane's low four bits index it, and AVX-512 holds a whole
    /// table in two registers (`vpermt2pd`).
    pub const ENTRIES: usize = 16;
    /// The mask that keeps a lane's index bits (every tier masks, so any bits are in bounds).
    pub const INDEX_MASK: u64 = Self::ENTRIES as u64 - 1;

    /// The table's entries.
    pub fn values(self) -> &'static [f64; Self::ENTRIES] {
        let (ln, exp) = (&super::kernels::LN_TABLE, &super::kernels::EXP_TABLE);
        match self {
            LookupTable::LnInverseCenter => &ln.inverse_center,
            LookupTable::LnLogCenterHigh => &ln.log_center_high,
            LookupTable::LnLogCenterLow => &ln.log_center_low,
            LookupTable::Log2CenterHigh => &super::kernels::LOG2_TABLE.high,
            LookupTable::Log2CenterLow => &super::kernels::LOG2_TABLE.low,
            LookupTable::Log10CenterHigh => &super::kernels::LOG10_TABLE.high,
            LookupTable::Log10CenterLow => &super::kernels::LOG10_TABLE.low,
            LookupTable::ExpPowerHigh => &exp.high,
            LookupTable::ExpPowerLow => &exp.low,
        }
    }

    /// The entry a lane with these bits looks up: its low four bits.
    pub fn entry(self, lane_bits: u64) -> f64 {
        self.values()[(lane_bits & Self::INDEX_MASK) as usize]
    }
}

/// Loading and storing a whole vector of lanes from memory of `Element`s: what the block
/// loops need beyond the arithmetic the kernels are written in (a traced value, for one, has
/// no memory). f64 memory moves the lanes as they are; f32 memory widens each element
/// exactly on loading and rounds each lane to nearest on storing, as `f64::from` and
/// `as f32` do, so an f32 block gives the bits of computing each element in f64 and rounding
/// once.
pub trait LaneMemory<Element = f64>: Lanes {
    /// # Safety
    /// `source` must be readable for `WIDTH` elements (any alignment).
    unsafe fn load(source: *const Element) -> Self;
    /// # Safety
    /// `target` must be writable for `WIDTH` elements (any alignment).
    unsafe fn store(self, target: *mut Element);
}

impl LaneMemory for f64 {
    unsafe fn load(source: *const f64) -> Self {
        // SAFETY: the caller guarantees one readable f64.
        unsafe { source.read_unaligned() }
    }
    unsafe fn store(self, target: *mut f64) {
        // SAFETY: the caller guarantees one writable f64.
        unsafe { target.write_unaligned(self) }
    }
}

impl LaneMemory<f32> for f64 {
    unsafe fn load(source: *const f32) -> Self {
        // SAFETY: the caller guarantees one readable f32.
        f64::from(unsafe { source.read_unaligned() })
    }
    unsafe fn store(self, target: *mut f32) {
        // SAFETY: the caller guarantees one writable f32.
        unsafe { target.write_unaligned(self as f32) }
    }
}

/// The scalar tier: one lane, FMA through `f64::mul_add` (exact on every platform).
impl Lanes for f64 {
    const WIDTH: usize = 1;
    type Mask = bool;

    fn splat(value: f64) -> Self {
        value
    }
    fn add(self, other: Self) -> Self {
        self + other
    }
    fn sub(self, other: Self) -> Self {
        self - other
    }
    fn mul(self, other: Self) -> Self {
        self * other
    }
    fn div(self, other: Self) -> Self {
        self / other
    }
    fn fma(self, b: Self, c: Self) -> Self {
        self.mul_add(b, c)
    }
    fn and_bits(self, other: Self) -> Self {
        f64::from_bits(self.to_bits() & other.to_bits())
    }
    fn or_bits(self, other: Self) -> Self {
        f64::from_bits(self.to_bits() | other.to_bits())
    }
    fn xor_bits(self, other: Self) -> Self {
        f64::from_bits(self.to_bits() ^ other.to_bits())
    }
    fn add_bits(self, other: Self) -> Self {
        f64::from_bits(self.to_bits().wrapping_add(other.to_bits()))
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn shift_right_52(self) -> Self {
        f64::from_bits(self.to_bits() >> 52)
    }
    fn shift_left_52(self) -> Self {
        f64::from_bits(self.to_bits() << 52)
    }
    fn less(self, other: Self) -> bool {
        self < other
    }
    fn greater(self, other: Self) -> bool {
        self > other
    }
    fn below_or_unordered(self, other: Self) -> bool {
        // `!(a >= b)` is what the tiers compute: NaN compares false.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        let below = !(self >= other);
        below
    }
    fn equal(self, other: Self) -> bool {
        self == other
    }
    fn is_nan(self) -> bool {
        self.is_nan()
    }
    fn select(mask: bool, a: Self, b: Self) -> Self {
        if mask { a } else { b }
    }
    fn if_any<P: GuardedPath>(mask: bool, argument: Self, otherwise: Self) -> Self {
        if mask { P::run(argument) } else { otherwise }
    }
    fn lookup(self, table: LookupTable) -> Self {
        table.entry(self.to_bits())
    }
}
