//! The function table: every built-in function's name, arity and usage line.

/// A built-in function of the language (SPEC §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Ln,
    Exp,
    Sqrt,
    Abs,
    Floor,
    Ceil,
    Round,
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
}

pub struct FunctionInfo {
    pub name: &'static str,
    pub function: Function,
    /// Parameter names, for arity errors and the docs: `dlog(x, k)`.
    pub params: &'static [&'static str],
}

/// Every function by name; `log` is an alias of `ln`.
pub const FUNCTIONS: &[FunctionInfo] = &[
    FunctionInfo { name: "ln", function: Function::Ln, params: &["x"] },
    FunctionInfo { name: "log", function: Function::Ln, params: &["x"] },
    FunctionInfo { name: "exp", function: Function::Exp, params: &["x"] },
    FunctionInfo { name: "sqrt", function: Function::Sqrt, params: &["x"] },
    FunctionInfo { name: "abs", function: Function::Abs, params: &["x"] },
    FunctionInfo { name: "floor", function: Function::Floor, params: &["x"] },
    FunctionInfo { name: "ceil", function: Function::Ceil, params: &["x"] },
    FunctionInfo { name: "round", function: Function::Round, params: &["x"] },
    FunctionInfo { name: "min", function: Function::Min, params: &["a", "b"] },
    FunctionInfo { name: "max", function: Function::Max, params: &["a", "b"] },
    FunctionInfo { name: "where", function: Function::Where, params: &["c", "a", "b"] },
    FunctionInfo { name: "lag", function: Function::Lag, params: &["x", "k"] },
    FunctionInfo { name: "diff", function: Function::Diff, params: &["x", "k"] },
    FunctionInfo { name: "dlog", function: Function::Dlog, params: &["x", "k"] },
    FunctionInfo { name: "ret", function: Function::Ret, params: &["x", "k"] },
    FunctionInfo { name: "fill", function: Function::Fill, params: &["x", "v"] },
    FunctionInfo { name: "is_null", function: Function::IsNull, params: &["x"] },
    FunctionInfo { name: "is_valid", function: Function::IsValid, params: &["x"] },
    FunctionInfo { name: "f32", function: Function::F32, params: &["x"] },
    FunctionInfo { name: "f64", function: Function::F64, params: &["x"] },
];

/// Names the language reserves for later releases (reductions, windows, cumulative ops), so
/// that using one says "not yet" instead of "unknown".
pub const NOT_YET_SUPPORTED: &[&str] = &[
    "sum", "mean", "std", "var", "count", "any", "all", "msum", "mavg", "mstd", "mmin", "mmax", "cumsum",
    "cumprod", "cummax", "cummin", "ema", "pow",
];

pub fn lookup(name: &str) -> Option<&'static FunctionInfo> {
    FUNCTIONS.iter().find(|info| info.name == name)
}

impl FunctionInfo {
    /// `dlog(x, k)`
    pub fn usage(&self) -> String {
        format!("{}({})", self.name, self.params.join(", "))
    }

    /// Whether argument `index` must be a lag count (an integer literal known at compile time).
    pub fn is_lag_count(&self, index: usize) -> bool {
        index == 1 && matches!(self.function, Function::Lag | Function::Diff | Function::Dlog | Function::Ret)
    }
}
