import os
import sys

# The data is small: one thread fits the model in about a second, while OpenMP
# threads that spin-wait for each other on a busy machine can make the same fit
# ten times slower. Set before numpy and scikit-learn are imported.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from solution.cli import main  # noqa: E402

sys.exit(main())
