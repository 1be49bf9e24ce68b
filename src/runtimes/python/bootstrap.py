"""The program inside every Python function container.

It speaks the host's protocol (src/runtime/protocol.ts) exactly as the Node.js runtime does:
newline-delimited JSON over the unix socket the host mounts at /run/faas. The first connection
is the control channel (hello, init, invoke, log, result, crash); every S3 request from the
function's boto3 travels on a connection of its own, through the S3 endpoint this program serves
on the container's loopback (127.0.0.1:4566).

Handlers have Lambda's Python signature, ``def handler(event, context)``, and are imported from
/var/task (LAMBDA_TASK_ROOT), which the host fills before it sends ``init``.

Standard library only: this file is the whole runtime.
"""

import contextvars
import http.server
import importlib
import json
import logging
import os
import socket
import socketserver
import sys
import threading
import time
import traceback

SOCKET_PATH = os.environ.get("FAAS_SOCKET", "/run/faas/host.sock")
TASK_ROOT = "/var/task"
RUNTIME_DIR = "/opt/faas"
S3_PORT = 4566
MAX_LINE_BYTES = 8 * 1024 * 1024
MAX_LOG_BYTES = 256 * 1024
MAX_RESULT_BYTES = 6 * 1024 * 1024
MAX_S3_HEADER_BYTES = 64 * 1024
LOGS_TRUNCATED = "[logs truncated at %d bytes]" % MAX_LOG_BYTES

# Placeholders, as in the Node.js runtime: the host ignores them and signs every request itself.
S3_ENV = {
    "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:%d" % S3_PORT,
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "FAASCONTAINERLOCAL",
    "AWS_SECRET_ACCESS_KEY": "container-local-the-host-signs-every-request",
    "AWS_SESSION_TOKEN": "container-local",
}

# Variables a manifest's env may replace, as on Lambda.
DEFAULT_ENV = {
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "PATH": "/usr/local/bin:/usr/bin:/bin:/opt/bin",
    "LD_LIBRARY_PATH": "/usr/local/lib:/lib64:/usr/lib64:%s:%s/lib:/opt/lib" % (TASK_ROOT, TASK_ROOT),
}


# ---------------------------------------------------------------------------------------------
# The control channel


class Control:
    """The control connection: whole lines written under one lock, so threads never interleave."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.lock = threading.Lock()

    def send(self, msg):
        self.send_raw(json.dumps(msg, separators=(",", ":"), ensure_ascii=False))

    def send_raw(self, line):
        data = line.encode("utf-8") + b"\n"
        with self.lock:
            self.sock.sendall(data)

    def lines(self):
        buf = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return
            buf += chunk
            while True:
                nl = buf.find(b"\n")
                if nl == -1:
                    break
                line, buf = buf[:nl], buf[nl + 1 :]
                yield line
            if len(buf) > MAX_LINE_BYTES:
                os._exit(70)


control = None  # set in main()

# ---------------------------------------------------------------------------------------------
# Logs: print() and logging during an invocation go to that invocation's log

current = contextvars.ContextVar("faas_invocation", default=None)
budget = {}  # invocation id -> log bytes it may still send
budget_lock = threading.Lock()
thread_ids = {}  # thread ident -> invocation id, for threads the handler starts itself


def invocation_id():
    found = current.get()
    if found is not None:
        return found
    found = thread_ids.get(threading.get_ident())
    if found is not None:
        return found
    # A thread the handler started: its output belongs to the one invocation running, if one is.
    with budget_lock:
        running = list(budget)
    return running[0] if len(running) == 1 else None


def emit(inv, level, msg):
    with budget_lock:
        left = budget.get(inv)
        if left is None:
            return
        size = len(msg.encode("utf-8", "replace"))
        if size > left:
            del budget[inv]
            msg, level = LOGS_TRUNCATED, "warn"
        else:
            budget[inv] = left - size
    control.send({"t": "log", "id": inv, "level": level, "msg": msg, "ts": int(time.time() * 1000)})


class InvocationStream:
    """sys.stdout / sys.stderr: whole lines go to the running invocation's log, the rest to the original."""

    def __init__(self, original, level):
        self.original = original
        self.level = level
        self.pending = threading.local()

    def write(self, text):
        inv = invocation_id()
        if inv is None:
            return self.original.write(text)
        buf = getattr(self.pending, "buf", "") + text
        *lines, rest = buf.split("\n")
        self.pending.buf = rest
        for line in lines:
            emit(inv, self.level, line)
        return len(text)

    def flush(self):
        inv = invocation_id()
        rest = getattr(self.pending, "buf", "")
        if inv is not None and rest:
            self.pending.buf = ""
            emit(inv, self.level, rest)
        self.original.flush()

    def isatty(self):
        return False

    def __getattr__(self, name):
        return getattr(self.original, name)


LEVELS = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn"}


class InvocationLogHandler(logging.Handler):
    """The root logger's handler, in Lambda's format: [LEVEL] time request-id message."""

    def emit(self, record):
        inv = invocation_id()
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        if inv is None:
            sys.__stderr__.write(text + "\n")
            return
        level = LEVELS.get(record.levelno, "error" if record.levelno > logging.WARNING else "debug")
        emit(inv, level, text)


class LambdaFormatter(logging.Formatter):
    def format(self, record):
        record.aws_request_id = invocation_id() or ""
        return super().format(record)


def capture_output():
    sys.stdout = InvocationStream(sys.stdout, "info")
    sys.stderr = InvocationStream(sys.stderr, "error")
    handler = InvocationLogHandler()
    handler.setFormatter(
        LambdaFormatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.formatter.converter = time.gmtime
    root = logging.getLogger()
    root.handlers = [handler]


# ---------------------------------------------------------------------------------------------
# Lambda's context object


class CognitoIdentity:
    cognito_identity_id = None
    cognito_identity_pool_id = None


class LambdaContext:
    """The attributes of Lambda's Python context, plus the platform's invocation_id and attempt."""

    def __init__(self, fn, stream, msg):
        self.function_name = fn["functionName"]
        self.function_version = fn["version"]
        self.invoked_function_arn = "arn:aws:lambda:%s:000000000000:function:%s" % (fn["region"], fn["functionName"])
        self.memory_limit_in_mb = str(fn["memoryMb"])
        self.aws_request_id = msg["id"]
        self.log_group_name = "/aws/lambda/%s" % fn["functionName"]
        self.log_stream_name = stream
        self.identity = CognitoIdentity()
        self.client_context = None
        self.invocation_id = msg["id"]
        self.attempt = msg["attempt"]
        self._deadline = msg["deadline"]

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline - time.time() * 1000))

    def log(self, msg):
        inv = invocation_id()
        if inv is not None:
            for line in str(msg).rstrip("\n").split("\n"):
                emit(inv, "info", line)


# ---------------------------------------------------------------------------------------------
# init and invoke

state = {"fn": None, "handler": None, "stream": ""}


def wire_error(exc, kind="handler", skip=0):
    """An exception in the protocol's form; `skip` drops this runtime's own innermost frames."""
    name = type(exc).__name__
    permanent = getattr(exc, "permanent", False) is True or name == "PermanentError"
    tb = exc.__traceback__
    for _ in range(skip):
        tb = tb.tb_next if tb is not None and tb.tb_next is not None else tb
    return {
        "kind": "permanent" if permanent and kind == "handler" else kind,
        "name": name,
        "message": str(exc),
        "stack": "".join(traceback.format_exception(type(exc), exc, tb)),
    }


def lambda_environment(msg, stream):
    env = dict(DEFAULT_ENV)
    env.update(msg["env"])
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": msg["functionName"],
            "AWS_LAMBDA_FUNCTION_VERSION": msg["version"],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(msg["memoryMb"]),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/%s" % msg["functionName"],
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_REGION": msg["region"],
            "AWS_DEFAULT_REGION": msg["region"],
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "_HANDLER": msg["handler"],
            "LAMBDA_TASK_ROOT": TASK_ROOT,
            "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
        }
    )
    return env


def init(msg):
    stream = "%s/[%s]%s" % (time.strftime("%Y/%m/%d", time.gmtime()), msg["version"], os.urandom(16).hex())
    state["stream"] = stream
    os.environ.update(lambda_environment(msg, stream))
    if msg["env"].get("TZ"):
        time.tzset()
    try:
        root = msg.get("taskDir") or TASK_ROOT
        if root not in sys.path:
            sys.path.insert(0, root)
        module_name, _, attr = msg["handler"].rpartition(".")
        # The manifest's handler is `<folder>/<module path>.<function>`; /var/task holds the folder.
        module_path = module_name.split("/", 1)[1] if "/" in module_name else module_name
        module = importlib.import_module(module_path.replace("/", "."))
        fn = getattr(module, msg["exportName"], None)
        if not callable(fn):
            raise AttributeError('the handler module %s has no function "%s"' % (module_path, msg["exportName"]))
        state["fn"], state["handler"] = msg, fn
        control.send({"t": "ready"})
    except BaseException as exc:  # noqa: BLE001 - a failed import of any kind is the function's init error
        control.send({"t": "init-error", "error": wire_error(exc, "init")})


def invoke(msg):
    inv = msg["id"]
    fn, handler = state["fn"], state["handler"]
    if handler is None:
        control.send({"t": "result", "id": inv, "ok": False, "error": {"kind": "init", "message": "runtime has no function loaded"}})
        return
    current.set(inv)
    thread_ids[threading.get_ident()] = inv
    with budget_lock:
        budget[inv] = MAX_LOG_BYTES
    try:
        try:
            value = handler(msg["event"], LambdaContext(fn, state["stream"], msg))
        except SystemExit as exc:
            crash(exc, code=exc.code if isinstance(exc.code, int) else 1)
            return
        except BaseException as exc:  # noqa: BLE001
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            # The traceback starts in the handler, as Lambda's does.
            control.send({"t": "result", "id": inv, "ok": False, "error": wire_error(exc, skip=1)})
            return
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        try:
            body = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            error = {"kind": "handler", "name": "Runtime.MarshalError", "message": "Unable to marshal response: %s" % exc}
            control.send({"t": "result", "id": inv, "ok": False, "error": error})
            return
        size = len(body.encode("utf-8"))
        if size > MAX_RESULT_BYTES:
            error = {
                "kind": "result-too-large",
                "message": "result is %d bytes; the limit is %d. Write large output to storage instead." % (size, MAX_RESULT_BYTES),
            }
            control.send({"t": "result", "id": inv, "ok": False, "error": error})
            return
        control.send_raw('{"t":"result","id":%s,"ok":true,"value":%s}' % (json.dumps(inv), body))
    finally:
        with budget_lock:
            budget.pop(inv, None)
        thread_ids.pop(threading.get_ident(), None)


def crash(exc, code=1):
    """An exit or an error outside any invocation: report it, then end the process as Lambda's runtime does."""
    error = wire_error(exc, "exit") if not isinstance(exc, SystemExit) else {
        "kind": "exit",
        "name": "SystemExit",
        "message": "the handler called sys.exit(%s)" % (exc.code,),
    }
    error["kind"] = "exit"
    try:
        control.send({"t": "crash", "error": error})
    finally:
        os._exit(code)


def serve():
    for raw in control.lines():
        msg = json.loads(raw)
        t = msg.get("t")
        if t == "init":
            init(msg)
        elif t == "invoke":
            # Each invocation runs on its own thread: a function's concurrency may exceed 1.
            threading.Thread(target=invoke, args=(msg,), daemon=True).start()
        # storage-reply: this runtime makes no context.storage calls; boto3 goes through S3.
    # The host closed the socket: the container has no purpose left.
    os._exit(0)


# ---------------------------------------------------------------------------------------------
# The S3 endpoint on the container's loopback


def read_first_line(sock, limit):
    buf = b""
    while True:
        nl = buf.find(b"\n")
        if nl != -1:
            return buf[:nl], buf[nl + 1 :]
        if len(buf) > limit:
            raise ValueError("header line longer than %d bytes" % limit)
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before a header line")
        buf += chunk


class S3Relay(http.server.BaseHTTPRequestHandler):
    """One HTTP request from boto3 becomes one stream connection to the host, as in the Node.js runtime."""

    protocol_version = "HTTP/1.1"
    server_version = "faas"
    sys_version = ""

    def log_message(self, *args):
        pass

    def do_any(self):
        target = self.path
        q = target.find("?")
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = headers[name] + ", " + value if name in headers else value
        header = {
            "t": "s3",
            "method": self.command,
            "path": target if q == -1 else target[:q],
            "query": "" if q == -1 else target[q + 1 :],
            "headers": headers,
        }
        host = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            host.connect(SOCKET_PATH)
            host.sendall(json.dumps(header, separators=(",", ":")).encode() + b"\n")
            body_done = threading.Event()
            sender = threading.Thread(target=self.send_body, args=(host, headers, body_done), daemon=True)
            sender.start()
            line, rest = read_first_line(host, MAX_S3_HEADER_BYTES)
            reply = json.loads(line)
        except Exception as exc:  # noqa: BLE001 - the bridge failing is S3's 503 to the SDK
            host.close()
            return self.unavailable(exc)
        status = reply["status"]
        if status >= 300 and not body_done.is_set():
            # Refused before the body was read: the rest of it is not read either.
            self.close_connection = True
        self.send_response_only(status)
        length = None
        for name, value in reply["headers"].items():
            if name == "content-length":
                length = value
            self.send_header(name, value)
        if length is None and self.command != "HEAD" and status not in (204, 304):
            self.close_connection = True
            self.send_header("connection", "close")
        self.end_headers()
        try:
            if rest:
                self.wfile.write(rest)
            while True:
                chunk = host.recv(262144)
                if not chunk:
                    break
                self.wfile.write(chunk)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        finally:
            host.close()
            sender.join(timeout=1)

    def send_body(self, host, headers, done):
        try:
            if "content-length" in headers:
                left = int(headers["content-length"])
                while left > 0:
                    chunk = self.rfile.read(min(left, 262144))
                    if not chunk:
                        break
                    host.sendall(chunk)
                    left -= len(chunk)
            elif "chunked" in headers.get("transfer-encoding", ""):
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    host.sendall(self.rfile.read(size))
                    self.rfile.readline()
            done.set()
            host.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def unavailable(self, exc):
        msg = ("the platform's S3 bridge failed: %s" % exc).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>%s</Message></Error>' % msg).encode()
        self.close_connection = True
        self.send_response_only(503)
        self.send_header("content-type", "application/xml")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_any


class S3Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_s3_endpoint():
    for name, value in S3_ENV.items():
        os.environ.setdefault(name, value)
    try:
        server = S3Server(("127.0.0.1", S3_PORT), S3Relay)
    except OSError as exc:
        sys.__stderr__.write("faas runtime: S3 endpoint: %s\n" % exc)
        return
    threading.Thread(target=server.serve_forever, daemon=True).start()


def preload():
    """Imports boto3 while the container waits for a function, so a first call does not pay for it."""
    try:
        import boto3  # noqa: F401
        import botocore.session  # noqa: F401
    except Exception:  # noqa: BLE001 - a function without boto3 still runs
        pass


def main():
    global control
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    start_s3_endpoint()
    try:
        control = Control(SOCKET_PATH)
    except OSError as exc:
        sys.__stderr__.write("faas runtime: cannot reach host socket %s: %s\n" % (SOCKET_PATH, exc))
        os._exit(69)
    capture_output()
    sys.excepthook = lambda t, exc, tb: crash(exc)
    control.send({"t": "hello", "pid": os.getpid(), "node": "python" + ".".join(map(str, sys.version_info[:3]))})
    threading.Thread(target=preload, daemon=True).start()
    serve()


if __name__ == "__main__":
    main()
