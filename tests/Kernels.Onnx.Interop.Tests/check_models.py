"""Checks ONNX models with onnx.checker.check_model(model, full_check=True), which adds strict shape inference.

usage: python3 check_models.py MODEL.onnx ...
Prints one line per model, "ok PATH" or "FAIL PATH: error" (the error on one line), and exits with 1 when any
model fails, 2 on a usage error. Each model is checked in a forked child: onnx 1.12's shape inference crashes
(SIGSEGV) on some invalid graphs, such as a Conv reading a 2-D value, and one crash must not hide the other verdicts.
"""
import os
import sys

import onnx


def check(path):
    """None when the model passes, else the checker's message on one line."""
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        return None
    except Exception as e:  # the checker raises ValidationError, InferenceError, DecodeError, ...
        return f"{type(e).__name__}: {e}".replace("\n", " | ")


def check_in_child(path):
    """check(path) in a forked child, so a crash of the checker is reported as this model's failure."""
    if not hasattr(os, "fork"):
        return check(path)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        error = check(path)
        with os.fdopen(write, "w") as pipe:
            pipe.write(error or "")
        os._exit(0 if error is None else 1)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()  # read before waiting: a long message would fill the pipe and block the child
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"onnx.checker crashed (signal {os.WTERMSIG(status)}) on this model"
    return None if os.WEXITSTATUS(status) == 0 else message or f"the check exited with {os.WEXITSTATUS(status)}"


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    print(f"onnx {onnx.__version__}", file=sys.stderr)
    failed = 0
    for path in paths:
        error = check_in_child(path)
        print(f"ok {path}" if error is None else f"FAIL {path}: {error}", flush=True)
        failed += error is not None
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
