"""mlcode: ML as code in a git repository.

`ml.yaml` declares data, models, gates and infrastructure; mlcode compiles it into DVC pipelines and
CI workflows and turns models that pass their gates into reviewed git changes.
"""

__version__ = "0.1.0"
