"""Type stubs for fusejit's native module (re-exported by ``fusejit``)."""

from typing import Any, Mapping, Optional, Sequence, Union

# A mapping of names to columns, or a table whose columns bind by name (a pyarrow Table or
# RecordBatch, a Polars or pandas DataFrame): typed loosely, since none of those libraries is
# a dependency.
Columns = Union[Mapping[str, Any], Any]

class Error(ValueError):
    """Base class of fusejit's errors."""

class CompileError(Error):
    """The program does not parse or type-check; the message underlines the problem."""

    span: tuple[int, int]

class EvalError(Error):
    """The inputs do not fit the program (missing name, lengths, dtype, ``out=``)."""

class ArrowArrayExport:
    """A result exported once through the Arrow PyCapsule interface."""

    def __arrow_c_array__(self, requested_schema: Optional[object] = None) -> tuple[object, object]: ...
    def __len__(self) -> int: ...

class Kernel:
    """A compiled program; share it freely between threads."""

    @property
    def source(self) -> str: ...
    @property
    def inputs(self) -> tuple[str, ...]: ...
    @property
    def threads(self) -> int: ...
    def with_threads(self, threads: int) -> Kernel: ...
    def eval(
        self,
        columns: Optional[Columns] = None,
        /,
        *,
        out: Any = None,
        nulls: str = "mask",
        **keywords: Any,
    ) -> Any: ...
    def eval_outputs(
        self, columns: Optional[Columns] = None, /, *, nulls: str = "mask", **keywords: Any
    ) -> dict[str, Any]: ...
    def explain(self, kind: str = "ir", columns: Optional[Columns] = None, /, **keywords: Any) -> str: ...
    def describe_inputs(
        self, columns: Optional[Columns] = None, /, **keywords: Any
    ) -> list[dict[str, Any]]: ...

def compile(expr: str) -> Kernel: ...
def evaluate(
    expr: str,
    local_dict: Optional[Columns] = None,
    global_dict: Optional[Mapping[str, Any]] = None,
    *,
    out: Any = None,
    nulls: str = "mask",
    **columns: Any,
) -> Any: ...
def isa() -> str: ...
def function_names() -> Sequence[str]: ...
