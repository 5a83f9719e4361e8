import pytest
import torch

from ltsearch.errors import LTSearchError
from ltsearch.models import MODELS, CosineHead, LinearHead, LTModel, build_model

BIG = {"resnet50", "resnext50"}


def _input(name, batch=2):
    size = 64 if name in BIG else 32
    return torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(0))


def _nparams(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_builds_with_both_heads(name):
    torch.manual_seed(0)
    x = _input(name)
    for c in (10, 100):
        for head in ("linear", "cosine"):
            model = build_model(name, c, head=head).eval()
            assert isinstance(model, LTModel)
            assert tuple(model.head.weight.shape) == (c, model.feat_dim)
            with torch.no_grad():
                f = model.features(x)
                out = model(x)
            assert tuple(f.shape) == (2, model.feat_dim)
            assert tuple(out.shape) == (2, c)
            assert torch.allclose(out, model.head(f))
            if head == "cosine":
                assert isinstance(model.head, CosineHead) and not hasattr(model.head, "bias")
                assert out.abs().max() <= 1 + 1e-5
            else:
                assert isinstance(model.head, LinearHead) and model.head.bias.shape == (c,)


def test_feat_dims():
    dims = {"resnet8": 64, "resnet20": 64, "resnet32": 64, "resnet34-cifar": 512}
    for name, d in dims.items():
        assert build_model(name, 10).feat_dim == d


def test_parameter_counts():
    # He et al. (2016) Table 6 / LDAM-DRW: ResNet-32 0.46M, ResNet-20 0.27M.
    assert _nparams(build_model("resnet32", 10)) == pytest.approx(0.46e6, rel=0.03)
    assert _nparams(build_model("resnet20", 10)) == pytest.approx(0.27e6, rel=0.03)


def test_param_split_and_cosine_head_has_no_bias():
    model = build_model("resnet8", 10, head="cosine")
    head_ids = {id(p) for p in model.classifier_parameters()}
    assert head_ids == {id(model.head.weight)}
    assert head_ids.isdisjoint(id(p) for p in model.backbone_parameters())
    assert len(head_ids) + len(list(model.backbone_parameters())) == len(list(model.parameters()))


def test_cosine_head_values_and_zero_feature():
    head = CosineHead(3, 2)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, -5.0]]))
    f = torch.tensor([[3.0, 0.0, 4.0], [0.0, 0.0, 0.0]])
    out = head(f)
    assert torch.allclose(out, torch.tensor([[0.6, -0.8], [0.0, 0.0]]))
    f.requires_grad_(True)
    head(f).sum().backward()
    assert torch.isfinite(f.grad).all()


@pytest.mark.parametrize("name", ["resnet32", "resnet34-cifar", "resnet50"])
def test_channels_last_matches_contiguous(name):
    torch.manual_seed(0)
    model = build_model(name, 10).eval()
    x = _input(name)
    with torch.no_grad():
        ref = model(x)
        model = model.to(memory_format=torch.channels_last)
        out = model(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(out, ref, atol=1e-4, rtol=1e-4)


def test_unknown_model_and_head():
    with pytest.raises(LTSearchError, match="unknown model 'resnet1000'; choose one of: .*resnet32"):
        build_model("resnet1000", 10)
    with pytest.raises(LTSearchError, match="unknown head 'arc'; choose one of: cosine, linear"):
        build_model("resnet8", 10, head="arc")
    with pytest.raises(LTSearchError):
        build_model("resnet8", 1)


def test_init_default_is_torchvision_and_authors_is_lort_code():
    """resnet34-cifar: torchvision's Kaiming-normal fan-out convs by default; ``init="authors"``
    gives the LORT code's PyTorch layer defaults (Kaiming-uniform a=sqrt(5): bound 1/sqrt(fan_in))."""
    import math

    import torch

    from ltsearch.errors import LTSearchError
    from ltsearch.models import build_model

    torch.manual_seed(0)
    default = build_model("resnet34-cifar", 10, init="default").backbone.layer1[0].conv1.weight.detach()
    authors = build_model("resnet34-cifar", 10, init="authors").backbone.layer1[0].conv1.weight.detach()
    fan_in, fan_out = 64 * 9, 64 * 9
    assert abs(float(default.std()) - math.sqrt(2 / fan_out)) < 0.01          # kaiming_normal fan_out
    assert float(authors.abs().max()) <= 1 / math.sqrt(fan_in) + 1e-6         # uniform(-b, b)
    assert abs(float(authors.std()) - 1 / math.sqrt(3 * fan_in)) < 0.002
    same = build_model("resnet32", 10, init="authors")  # LDAM-DRW's net: the authors' init is the default
    assert same.feat_dim == 64
    with pytest.raises(LTSearchError, match="model.init"):
        build_model("resnet8", 10, init="xavier")
