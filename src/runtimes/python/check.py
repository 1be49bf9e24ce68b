"""Compiles a Python function's sources as the container will import them, and finds its handler.

Run by the host's Python 3.11 on a prepared code folder: `check.py DIR HANDLER_FILE EXPORT`.
Writes unchecked-hash .pyc files beside the sources (the container's /var/task is read-only, so
nothing could be compiled there) and prints one JSON list of problems: syntax errors with their
line and column, and a handler module without the named function.
"""

import ast
import json
import os
import py_compile
import sys

root, handler_file, export = sys.argv[1], sys.argv[2], sys.argv[3]
problems = []
for folder, dirs, files in os.walk(root):
    dirs.sort()
    for name in sorted(files):
        if not name.endswith(".py"):
            continue
        path = os.path.join(folder, name)
        try:
            py_compile.compile(path, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        except py_compile.PyCompileError as err:
            exc = err.exc_value
            problems.append(
                {
                    "file": os.path.relpath(path, root),
                    "line": getattr(exc, "lineno", None),
                    "column": getattr(exc, "offset", None),
                    "message": "%s: %s" % (err.exc_type_name, getattr(exc, "msg", str(exc))),
                }
            )

if not problems:
    with open(os.path.join(root, handler_file), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.If, ast.Try)):
            names.add(export)  # defined conditionally: the import at init decides
    if export not in names:
        problems.append(
            {
                "file": handler_file,
                "message": 'no function named "%s": define it, like `def %s(event, context):`, or fix the name after the dot in the manifest\'s handler'
                % (export, export),
            }
        )

print(json.dumps(problems))
