//! The function table: every built-in function's name, arity and usage line.

use crate::math::{BinaryMathFunction, MathFunction};

/// A built-in function of the language (SPEC §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// A function of the math runtime (`ln`, `exp`, ...).
    Math(MathFunction),
    /// A two-argument function of the math runtime (`atan2`, `hypot`).
    Math2(BinaryMathFunction),
    Sqrt,
    Abs,
    Floor,
    Ceil,
    Round,
    Trunc,
    Sign,
    IsNan,
    IsFinite,
    IsInf,
    Clip,
    Min,
    Max,
    Where,
    Lag,
    Diff,
    Dlog,
    Ret,
    Fill,
    IsNull,
    IsValid,
    F32,
    F64,
    I64,
    I32,
    Sum,
    Mean,
    Var,
    Std,
    Count,
    Any,
    All,
    MSum,
    MAvg,
    MStd,
    MMin,
    MMax,
    CumSum,
    CumProd,
    CumMax,
    CumMin,
    Ema,
}

pub struct FunctionInfo {
    pub name: &'static str,
    pub function: Function,
    /// Parameter names, for arity errors and the docs: `dlog(x, k)`.
    pub params: &'static [&'static str],
    /// How many of the first `params` must be given; the rest are optional
    /// (`min(x)` is a reduction, `min(a, b)` elementwise; `var(x)` or `var(x, 1)`).
    pub required: usize,
}

/// Every function by name; `log` is an alias of `ln`.
pub const FUNCTIONS: &[FunctionInfo] = &[
    FunctionInfo { name: "ln", function: Function::Math(MathFunction::Ln), params: &["x"], required: 1 },
    FunctionInfo { name: "log", function: Function::Math(MathFunction::Ln), params: &["x"], required: 1 },
    FunctionInfo { name: "exp", function: Function::Math(MathFunction::Exp), params: &["x"], required: 1 },
    FunctionInfo { name: "log2", function: Function::Math(MathFunction::Log2), params: &["x"], required: 1 },
    FunctionInfo {
        name: "log10",
        function: Function::Math(MathFunction::Log10),
        params: &["x"],
        required: 1,
    },
    FunctionInfo {
        name: "log1p",
        function: Function::Math(MathFunction::Log1p),
        params: &["x"],
        required: 1,
    },
    FunctionInfo {
        name: "expm1",
        function: Function::Math(MathFunction::Expm1),
        params: &["x"],
        required: 1,
    },
    FunctionInfo { name: "sinh", function: Function::Math(MathFunction::Sinh), params: &["x"], required: 1 },
    FunctionInfo { name: "cosh", function: Function::Math(MathFunction::Cosh), params: &["x"], required: 1 },
    FunctionInfo { name: "tanh", function: Function::Math(MathFunction::Tanh), params: &["x"], required: 1 },
    FunctionInfo { name: "atan", function: Function::Math(MathFunction::Atan), params: &["x"], required: 1 },
    FunctionInfo {
        name: "arctan",
        function: Function::Math(MathFunction::Atan),
        params: &["x"],
        required: 1,
    },
    FunctionInfo { name: "asin", function: Function::Math(MathFunction::Asin), params: &["x"], required: 1 },
    FunctionInfo {
        name: "arcsin",
        function: Function::Math(MathFunction::Asin),
        params: &["x"],
        required: 1,
    },
    FunctionInfo { name: "acos", function: Function::Math(MathFunction::Acos), params: &["x"], required: 1 },
    FunctionInfo {
        name: "arccos",
        function: Function::Math(MathFunction::Acos),
        params: &["x"],
        required: 1,
    },
    FunctionInfo { name: "cbrt", function: Function::Math(MathFunction::Cbrt), params: &["x"], required: 1 },
    FunctionInfo { name: "sin", function: Function::Math(MathFunction::Sin), params: &["x"], required: 1 },
    FunctionInfo { name: "cos", function: Function::Math(MathFunction::Cos), params: &["x"], required: 1 },
    FunctionInfo { name: "tan", function: Function::Math(MathFunction::Tan), params: &["x"], required: 1 },
    FunctionInfo {
        name: "atan2",
        function: Function::Math2(BinaryMathFunction::Atan2),
        params: &["y", "x"],
        required: 2,
    },
    FunctionInfo {
        name: "arctan2",
        function: Function::Math2(BinaryMathFunction::Atan2),
        params: &["y", "x"],
        required: 2,
    },
    FunctionInfo {
        name: "hypot",
        function: Function::Math2(BinaryMathFunction::Hypot),
        params: &["x", "y"],
        required: 2,
    },
    FunctionInfo {
        name: "pow",
        function: Function::Math2(BinaryMathFunction::Pow),
        params: &["x", "y"],
        required: 2,
    },
    FunctionInfo { name: "sqrt", function: Function::Sqrt, params: &["x"], required: 1 },
    FunctionInfo { name: "abs", function: Function::Abs, params: &["x"], required: 1 },
    FunctionInfo { name: "floor", function: Function::Floor, params: &["x"], required: 1 },
    FunctionInfo { name: "ceil", function: Function::Ceil, params: &["x"], required: 1 },
    FunctionInfo { name: "round", function: Function::Round, params: &["x"], required: 1 },
    FunctionInfo { name: "trunc", function: Function::Trunc, params: &["x"], required: 1 },
    FunctionInfo { name: "sign", function: Function::Sign, params: &["x"], required: 1 },
    FunctionInfo { name: "is_nan", function: Function::IsNan, params: &["x"], required: 1 },
    FunctionInfo { name: "is_finite", function: Function::IsFinite, params: &["x"], required: 1 },
    FunctionInfo { name: "is_inf", function: Function::IsInf, params: &["x"], required: 1 },
    FunctionInfo { name: "clip", function: Function::Clip, params: &["x", "lo", "hi"], required: 3 },
    FunctionInfo { name: "min", function: Function::Min, params: &["a", "b"], required: 1 },
    FunctionInfo { name: "max", function: Function::Max, params: &["a", "b"], required: 1 },
    FunctionInfo { name: "where", function: Function::Where, params: &["c", "a", "b"], required: 3 },
    FunctionInfo { name: "lag", function: Function::Lag, params: &["x", "k"], required: 2 },
    FunctionInfo { name: "diff", function: Function::Diff, params: &["x", "k"], required: 2 },
    FunctionInfo { name: "dlog", function: Function::Dlog, params: &["x", "k"], required: 2 },
    FunctionInfo { name: "ret", function: Function::Ret, params: &["x", "k"], required: 2 },
    FunctionInfo { name: "fill", function: Function::Fill, params: &["x", "v"], required: 2 },
    FunctionInfo { name: "is_null", function: Function::IsNull, params: &["x"], required: 1 },
    FunctionInfo { name: "is_valid", function: Function::IsValid, params: &["x"], required: 1 },
    FunctionInfo { name: "f32", function: Function::F32, params: &["x"], required: 1 },
    FunctionInfo { name: "f64", function: Function::F64, params: &["x"], required: 1 },
    FunctionInfo { name: "i64", function: Function::I64, params: &["x"], required: 1 },
    FunctionInfo { name: "i32", function: Function::I32, params: &["x"], required: 1 },
    FunctionInfo { name: "sum", function: Function::Sum, params: &["x"], required: 1 },
    FunctionInfo { name: "mean", function: Function::Mean, params: &["x"], required: 1 },
    FunctionInfo { name: "var", function: Function::Var, params: &["x", "ddof"], required: 1 },
    FunctionInfo { name: "std", function: Function::Std, params: &["x", "ddof"], required: 1 },
    FunctionInfo { name: "count", function: Function::Count, params: &["x"], required: 1 },
    FunctionInfo { name: "any", function: Function::Any, params: &["c"], required: 1 },
    FunctionInfo { name: "all", function: Function::All, params: &["c"], required: 1 },
    FunctionInfo { name: "msum", function: Function::MSum, params: &["x", "w"], required: 2 },
    FunctionInfo { name: "mavg", function: Function::MAvg, params: &["x", "w"], required: 2 },
    FunctionInfo { name: "mstd", function: Function::MStd, params: &["x", "w"], required: 2 },
    FunctionInfo { name: "mmin", function: Function::MMin, params: &["x", "w"], required: 2 },
    FunctionInfo { name: "mmax", function: Function::MMax, params: &["x", "w"], required: 2 },
    FunctionInfo { name: "cumsum", function: Function::CumSum, params: &["x"], required: 1 },
    FunctionInfo { name: "cumprod", function: Function::CumProd, params: &["x"], required: 1 },
    FunctionInfo { name: "cummax", function: Function::CumMax, params: &["x"], required: 1 },
    FunctionInfo { name: "cummin", function: Function::CumMin, params: &["x"], required: 1 },
    FunctionInfo { name: "ema", function: Function::Ema, params: &["x", "alpha"], required: 2 },
];

/// Names the language reserves for later releases, so that using one says "not yet" instead
/// of "unknown" or "did you mean 'sinh'?": numexpr's inverse hyperbolic functions.
pub const NOT_YET_SUPPORTED: &[&str] = &["arcsinh", "arccosh", "arctanh"];

pub fn lookup(name: &str) -> Option<&'static FunctionInfo> {
    FUNCTIONS.iter().find(|info| info.name == name)
}

impl FunctionInfo {
    /// `dlog(x, k)`; optional parameters in brackets: `var(x[, ddof])`.
    pub fn usage(&self) -> String {
        let (required, optional) = self.params.split_at(self.required);
        let optional: String = optional.iter().map(|param| format!("[, {param}]")).collect();
        format!("{}({}{optional})", self.name, required.join(", "))
    }

    /// The arity as words: `1`, `2`, `1 or 2`.
    pub fn arity_text(&self) -> String {
        if self.required == self.params.len() {
            self.params.len().to_string()
        } else {
            format!("{} or {}", self.required, self.params.len())
        }
    }

    /// Whether argument `index` must be a lag count (an integer literal known at compile time).
    pub fn is_lag_count(&self, index: usize) -> bool {
        index == 1 && matches!(self.function, Function::Lag | Function::Diff | Function::Dlog | Function::Ret)
    }

    /// Whether argument `index` must be a window length (an integer literal of at least 1).
    pub fn is_window_length(&self, index: usize) -> bool {
        index == 1
            && matches!(
                self.function,
                Function::MSum | Function::MAvg | Function::MStd | Function::MMin | Function::MMax
            )
    }

    /// Whether argument `index` must be a number literal (ema's alpha, var/std's ddof).
    pub fn is_number_literal(&self, index: usize) -> bool {
        index == 1 && matches!(self.function, Function::Ema | Function::Var | Function::Std)
    }
}
