"""Which BLAS numpy uses, for the provenance of precomputed data (benchmarks/*_sweep.py)."""
import numpy as np


def describe():
    """'openblas 0.3.31's Haswell kernel (numpy 2.4.6)': the BLAS library, version and kernel numpy uses
    (threadpoolctl, when installed; the kernel decides the last bits of every matrix product)."""
    try:
        from threadpoolctl import threadpool_info
        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"][:1]
    except ImportError:
        blas = []
    if not blas:
        return f"an unknown BLAS (numpy {np.__version__})"
    b = blas[0]
    return f"{b['internal_api']} {b.get('version')}'s {b.get('architecture')} kernel (numpy {np.__version__})"
