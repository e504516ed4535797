import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch

# The checks' tensors are tiny: on a 2-core machine intra-op threads only add contention
# (the CLI and the sandbox children run single-threaded for the same reason).
torch.set_num_threads(1)
