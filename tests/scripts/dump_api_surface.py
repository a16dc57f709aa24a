"""Print the public surface of quri_parts_oqtopus.backend as JSON: members, kinds, parameters.

Run by the interop test with the reference's interpreter and with ours, then compared.
"""

import inspect
import json

import quri_parts_oqtopus.backend as backend


def parameters(function):
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    return [
        [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)]
        for p in signature.parameters.values()
    ]


surface = {}
for class_name in sorted(backend.__all__):
    cls = getattr(backend, class_name)
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
    surface[class_name] = members
print(json.dumps(surface, indent=1, sort_keys=True))
