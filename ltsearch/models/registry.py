"""Model registries: ``MODELS`` (name -> backbone factory ``(init) -> nn.Module`` with ``feat_dim``)
and ``HEADS`` (``"linear"`` / ``"cosine"`` -> head class ``(feat_dim, num_classes)``)."""

from ltsearch.registry import Registry

MODELS: Registry = Registry("model")
HEADS: Registry = Registry("head")
