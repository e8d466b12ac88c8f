"""Device and dtype choice, and out-of-memory errors turned into advice: real torch, real exception objects."""

from __future__ import annotations

import pytest

from mage_bridge.errors import BackendUnavailableError, ConfigError, failure_code
from mage_bridge.generate.acestep.device import (
    DEFAULT_DTYPES,
    OutOfMemoryError,
    as_mage_error,
    dtype_name_for,
    pick_device,
)

torch = pytest.importorskip("torch")
HAS_CUDA = torch.cuda.is_available()
HAS_MPS = bool(torch.backends.mps.is_available())
gpu_less = pytest.mark.skipif(HAS_CUDA or HAS_MPS, reason="this machine has a GPU")


@gpu_less
def test_auto_without_a_gpu_is_the_cpu_in_float32_with_a_warning() -> None:
    choice = pick_device("auto", "auto")
    assert (choice.device, choice.dtype) == ("cpu", torch.float32)
    assert choice.warning is not None and "30 s clip takes minutes" in choice.warning


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_auto_with_cuda_is_cuda_in_bfloat16_without_a_warning() -> None:
    choice = pick_device("auto", "auto")
    assert (choice.device, choice.dtype, choice.warning) == ("cuda", torch.bfloat16, None)


@pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA")
def test_cuda_asked_without_cuda_says_which_torch_to_install() -> None:
    with pytest.raises(BackendUnavailableError) as caught:
        pick_device("cuda", "auto")
    message = str(caught.value)
    assert torch.__version__ in message and "download.pytorch.org/whl/cu" in message
    if torch.version.cuda is None:
        assert "CPU-only build" in message


@pytest.mark.skipif(HAS_MPS, reason="this machine has MPS")
def test_mps_asked_without_mps_is_unavailable() -> None:
    with pytest.raises(BackendUnavailableError, match="Apple MPS"):
        pick_device("mps", "auto")


def test_cpu_asked_is_quiet_in_float32_and_warns_about_half_precision() -> None:
    choice = pick_device("cpu", "auto")
    assert (choice.device, choice.dtype) == ("cpu", torch.float32)
    half = pick_device("cpu", "bfloat16")
    assert half.dtype == torch.bfloat16 and half.warning is not None and "float32" in half.warning


def test_each_device_has_its_dtype() -> None:
    assert {d: dtype_name_for(d, "auto") for d in DEFAULT_DTYPES} == {
        "cuda": "bfloat16", "mps": "float16", "cpu": "float32"}
    assert dtype_name_for("cuda", "float32") == "float32"


@pytest.mark.parametrize(("device", "dtype", "key"), [("gpu", "auto", "acestep.device"),
                                                      ("auto", "fp16", "acestep.dtype")])
def test_bad_names_are_config_errors_naming_the_key(device: str, dtype: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        pick_device(device, dtype)


def _cpu_allocation_failure() -> BaseException:
    try:
        torch.empty(2 ** 60, dtype=torch.uint8)
    except (RuntimeError, MemoryError) as e:
        return e
    pytest.skip("the CPU allocator granted 1 EiB")


OOM_CASES = {
    "cuda": lambda: torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a "
                                                "total capacity of 7.79 GiB of which 1.06 GiB is free."),
    "mps": lambda: RuntimeError("MPS backend out of memory (MPS allocated: 17.00 GB, other allocations: 1.00 GB, "
                                "max allowed: 18.13 GB). Tried to allocate 256.00 MB on private pool."),
    "cpu-allocator": _cpu_allocation_failure,
    "memoryerror": MemoryError,
}


@pytest.mark.parametrize("make", OOM_CASES.values(), ids=OOM_CASES.keys())
def test_out_of_memory_becomes_advice(make: object) -> None:
    exc = make()  # type: ignore[operator]
    err = as_mage_error(exc, duration_s=30.0, steps=8, cpu_offload=False, device="cuda")
    assert isinstance(err, OutOfMemoryError) and failure_code(err) == "out_of_memory"
    message = str(err)
    assert "30 s clip" in message and "shorter" in message
    assert "acestep.cpu_offload = true" in message and "fewer acestep.steps" in message


def test_out_of_memory_deep_in_a_chain_is_found_and_offload_already_on_is_said() -> None:
    try:
        try:
            raise torch.OutOfMemoryError("CUDA out of memory.")
        except torch.OutOfMemoryError as inner:
            raise RuntimeError("pipeline step failed") from inner
    except RuntimeError as outer:
        err = as_mage_error(outer, duration_s=12.5, steps=50, cpu_offload=True)
    assert err is not None and "acestep.cpu_offload is already true" in str(err) and "12.5 s" in str(err)


@pytest.mark.parametrize("exc", [RuntimeError("mat1 and mat2 shapes cannot be multiplied"), ValueError("bad"),
                                 KeyError("latents")], ids=["shape", "value", "key"])
def test_other_errors_are_not_out_of_memory(exc: BaseException) -> None:
    assert as_mage_error(exc, duration_s=30.0, steps=8, cpu_offload=False) is None


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_a_real_cuda_out_of_memory_is_classified() -> None:
    free, _total = torch.cuda.mem_get_info()
    try:
        torch.empty(int(free * 4), dtype=torch.uint8, device="cuda")
    except Exception as e:  # noqa: BLE001 - the point is to see what torch raises
        err = as_mage_error(e, duration_s=30.0, steps=8, cpu_offload=False, device="cuda")
        assert err is not None and err.code == "out_of_memory"
    else:
        pytest.fail("allocating four times the free memory succeeded")
    finally:
        torch.cuda.empty_cache()
