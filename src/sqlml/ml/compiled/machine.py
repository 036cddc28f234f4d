"""LLVM through llvmlite: IR text to object code for this machine, and object code to a callable.

https://llvmlite.readthedocs.io/en/latest/user-guide/binding/ — the object code comes from the
host target machine's ``emit_object`` after the new pass manager's pipeline, and is loaded back
with MCJIT's ``add_object_file``, so a cached object is used without compiling again. The code
model is "large": MCJIT may place a big model's sections far apart (lleaves does the same).
"""

from __future__ import annotations

import ctypes
import functools
from typing import TYPE_CHECKING, Callable

from sqlml.ml.compiled.codegen import CODEGEN_VERSION, ENTRY

if TYPE_CHECKING:
    import llvmlite.binding as llvm

#: The code generator's optimisation level. No IR pass pipeline runs: measured on 50 trees of 31
#: leaves, the O1 pipeline took 8× longer to compile and predicted no faster (it inlines every
#: tree into the row loop); code generation at O2 predicted ~1.5× faster than O0 for 2× the time.
CODEGEN_OPT = 2
#: ``void sqlml_forest(double* rows, i64 row_stride, i64 feature_stride, double* out, i64 start,
#: i64 end)``; ctypes releases the GIL during the call.
ENTRY_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64)


@functools.cache
def target_machine() -> llvm.TargetMachine:
    """The host's target machine (its CPU and features) that compiles, made once per process."""
    return new_target_machine()


def new_target_machine() -> llvm.TargetMachine:
    """A target machine of the host. An execution engine owns (and frees) the one it is made
    with, so each engine gets a new one; compiling shares :func:`target_machine`."""
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    try:
        features = llvm.get_host_cpu_features().flatten()
    except RuntimeError:  # LLVM cannot read this host's features
        features = ""
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=features, opt=CODEGEN_OPT, reloc="pic", codemodel="large"
    )  # fmt: skip


@functools.cache
def compiler_version() -> str:
    """Everything compiled code depends on besides the model: sqlml's generator, llvmlite and
    LLVM, the target triple, CPU and its features (a cache key part)."""
    import llvmlite
    import llvmlite.binding as llvm

    machine = target_machine()
    return "|".join((CODEGEN_VERSION, llvmlite.__version__, ".".join(map(str, llvm.llvm_version_info)), machine.triple, llvm.get_host_cpu_name(), _features()))


def _features() -> str:
    import llvmlite.binding as llvm

    try:
        return llvm.get_host_cpu_features().flatten()
    except RuntimeError:
        return ""


def process_triple() -> str:
    """The target triple code is generated for."""
    import llvmlite.binding as llvm

    return llvm.get_process_triple()


def compile_ir(text: str) -> bytes:
    """Object code for the IR module ``text``, optimised for this machine."""
    import llvmlite.binding as llvm

    machine = target_machine()
    module = llvm.parse_assembly(text)
    module.verify()
    module.data_layout = str(machine.target_data)
    return machine.emit_object(module)


class Loaded:
    """Object code loaded into this process: ``function`` calls its entry point (``entry``, a
    ``ctypes`` function type ``entry_type``; a forest's by default). The machine
    code is freed with this object (its execution engine is disposed of when collected), so a
    caller keeps it alive while ``function`` may run."""

    def __init__(self, objectcode: bytes, entry: str = ENTRY, entry_type: type = ENTRY_TYPE) -> None:
        import llvmlite.binding as llvm

        empty = llvm.parse_assembly("")
        empty.triple = process_triple()
        self._engine = llvm.create_mcjit_compiler(empty, new_target_machine())
        self._engine.add_object_file(llvm.ObjectFileRef.from_data(objectcode))  # the engine takes the code
        self._engine.finalize_object()
        address = self._engine.get_function_address(entry)
        if not address:
            raise RuntimeError(f"the object code has no {entry} function")
        self.function: Callable = entry_type(address)
