"""Arrow results in the library of the Arrow input they follow: pyarrow, Polars or pandas."""

from __future__ import annotations

from typing import Any


def from_fusejit(export: Any, like: Any) -> Any:
    """``export`` (a ``fusejit.ArrowArrayExport``) as the kind of array ``like`` is.

    pyarrow imports the export without copying; a Polars Series and a pandas Series wrap that
    pyarrow array without copying either (pandas keeps ``like``'s index). Without pyarrow, the
    export itself is returned: any Arrow PyCapsule consumer can import it.
    """
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is optional
        return export
    array = pa.array(export)
    module = type(like).__module__
    if module.startswith("polars"):
        import polars as pl

        return pl.Series(getattr(like, "name", ""), array)
    if module.startswith("pandas"):
        import pandas as pd

        if isinstance(like, pd.api.extensions.ExtensionArray):  # a bare array: one back
            return pd.arrays.ArrowExtensionArray(array)
        index = getattr(like, "index", None)
        name = getattr(like, "name", None)
        return pd.Series(pd.arrays.ArrowExtensionArray(array), index=index, name=name, copy=False)
    return array
