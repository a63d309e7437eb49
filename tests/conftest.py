import os
import tempfile

# A throwaway numba cache, so no test depends on (or pollutes) a warm cache from an earlier run.
os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="tsrnn-test-numba-"))
