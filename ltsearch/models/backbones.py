"""The backbone registry's entries: ``MODELS`` name -> factory ``(init) -> nn.Module`` (with ``feat_dim``).

Registered in plain Python, so a config's ``model.name`` is checked before torch loads; each
factory imports its torch module when a trial builds the model (the lazy boundary of
``ltsearch.models``). The architectures: ``cifar_resnet.py`` and ``torchvision_models.py``.
"""

from __future__ import annotations

from ltsearch.models.registry import MODELS


@MODELS.register("resnet8")
def resnet8(init: str = "default"):
    from ltsearch.models.cifar_resnet import CifarResNet

    return CifarResNet(1)


@MODELS.register("resnet20")
def resnet20(init: str = "default"):
    from ltsearch.models.cifar_resnet import CifarResNet

    return CifarResNet(3)


@MODELS.register("resnet32")
def resnet32(init: str = "default"):
    """LDAM-DRW's (and the KPS code's) ResNet-32; its init is the authors', so ``init`` changes nothing."""
    from ltsearch.models.cifar_resnet import CifarResNet

    return CifarResNet(5)


@MODELS.register("resnet50")
def resnet50(init: str = "default"):
    from ltsearch.models import torchvision_models

    return torchvision_models.resnet50(init)


@MODELS.register("resnext50")
def resnext50(init: str = "default"):
    from ltsearch.models import torchvision_models

    return torchvision_models.resnext50(init)


@MODELS.register("resnet34-cifar")
def resnet34_cifar(init: str = "default"):
    from ltsearch.models import torchvision_models

    return torchvision_models.resnet34_cifar(init)
