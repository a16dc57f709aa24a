"""Print the public surface of quri_parts_oqtopus as JSON: its modules' names, and the
members, kinds and parameters of its classes.

Run by the interop test with the reference's interpreter and with ours, then compared.
The modules are the reference's (quri-parts-oqtopus 1.1.5); the reference's sampler
module builds a backend when imported, so OQTOPUS_URL / OQTOPUS_API_TOKEN must be set.
"""

import importlib
import inspect
import json
import types

MODULES = [
    "quri_parts_oqtopus.backend",
    "quri_parts_oqtopus.backend.base",
    "quri_parts_oqtopus.backend.config",
    "quri_parts_oqtopus.backend.devices.device",
    "quri_parts_oqtopus.backend.jobs.base",
    "quri_parts_oqtopus.backend.jobs.estimation",
    "quri_parts_oqtopus.backend.jobs.sampling",
    "quri_parts_oqtopus.backend.jobs.sse",
    "quri_parts_oqtopus.models.base",
    "quri_parts_oqtopus.models.devices.device",
    "quri_parts_oqtopus.models.jobs.base",
    "quri_parts_oqtopus.models.jobs.estimation",
    "quri_parts_oqtopus.models.jobs.results.estimation",
    "quri_parts_oqtopus.models.jobs.results.sampling",
    "quri_parts_oqtopus.models.jobs.sampling",
    "quri_parts_oqtopus.models.jobs.sse",
    "quri_parts_oqtopus.models.utils",
    "quri_parts_oqtopus.sampler",
]
# Classes beyond backend.__all__ whose surface is compared: the bases user code names.
EXTRA_CLASSES = {
    "OqtopusBackendBase": "quri_parts_oqtopus.backend.base",
    "OqtopusJobBase": "quri_parts_oqtopus.models.jobs.base",
    "OqtopusModelBase": "quri_parts_oqtopus.models.base",
    "DateTimeEncoder": "quri_parts_oqtopus.models.utils",
}


def parameters(function):
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    return [
        [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)]
        for p in signature.parameters.values()
    ]


def class_surface(cls):
    members = {"__init__": {"kind": "method", "parameters": parameters(cls.__init__)}}
    for name, value in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        raw = inspect.getattr_static(cls, name)
        if isinstance(raw, property):
            members[name] = {"kind": "property"}
        elif isinstance(raw, staticmethod):
            members[name] = {"kind": "staticmethod", "parameters": parameters(value)}
        elif callable(value):
            members[name] = {"kind": "method", "parameters": parameters(value)}
    return members


def name_entry(value):
    """What a module-level name is: its kind and where it comes from."""
    if isinstance(value, types.ModuleType):
        return {"kind": "module"}
    if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
        origin = (getattr(value, "__module__", None) or "").split(".")[0]
        kind = "class" if isinstance(value, type) else "function"
        return {"kind": kind, "origin": origin, "name": value.__qualname__}
    if isinstance(value, (list, tuple, str, int, float)):
        return {"kind": "constant", "value": list(value) if isinstance(value, tuple) else value}
    origin = (type(value).__module__ or "").split(".")[0]
    return {"kind": "object", "origin": origin, "name": type(value).__qualname__}


modules = {}
for module_name in MODULES:
    module = importlib.import_module(module_name)
    modules[module_name] = {
        name: name_entry(value) for name, value in vars(module).items() if not name.startswith("_")
    }

backend = importlib.import_module("quri_parts_oqtopus.backend")
classes = {name: class_surface(getattr(backend, name)) for name in sorted(backend.__all__)}
for name, module_name in EXTRA_CLASSES.items():
    classes[name] = class_surface(getattr(importlib.import_module(module_name), name))
print(json.dumps({"classes": classes, "modules": modules}, indent=1, sort_keys=True))
