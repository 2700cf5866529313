"""Shared call lists: what blocks an event loop, and what a workflow replay cannot reproduce.

Names are fully qualified (`time.sleep`, `datetime.datetime.now`), as `ImportMap.qualify` gives
them: a call is matched only when its root was imported, so a local variable named `random` or
`requests` never matches.
"""

from __future__ import annotations

# -- blocking calls (ARQ101, TMP203) ------------------------------------------------------------

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

BLOCKING_CALLS = frozenset(
    {
        "time.sleep",
        *(f"requests.{verb}" for verb in _HTTP_VERBS),
        "requests.Session",
        "requests.session",
        "urllib.request.urlopen",
        "urllib.request.urlretrieve",
        *(f"httpx.{verb}" for verb in _HTTP_VERBS),
        "httpx.stream",
        "httpx.Client",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "os.system",
        "socket.create_connection",
        "psycopg.connect",
        "redis.Redis",
        "redis.StrictRedis",
        "redis.from_url",
        "redis.Redis.from_url",
        "redis.client.Redis",
    }
)

# Synchronous database drivers: any call into them blocks (connect, cursor helpers).
BLOCKING_MODULES = ("psycopg2.", "pymysql.", "sqlite3.", "MySQLdb.")


def blocking(name: str | None) -> bool:
    """Whether a qualified call name is a blocking call an event loop must not make."""
    if not name:
        return False
    return name in BLOCKING_CALLS or (name.startswith(BLOCKING_MODULES) and not _is_exception(name))


def what_blocks(name: str, where: str) -> str:
    """`time.sleep() blocks the event loop ...`; a synchronous client's calls block, not its creation."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf[:1].isupper() or leaf in ("session", "from_url"):
        return f"{name}() is a synchronous client: its calls block the event loop {where}"
    return f"{name}() blocks the event loop {where}"


def _is_exception(name: str) -> bool:
    leaf = name.rsplit(".", 1)[-1]
    return leaf.endswith(("Error", "Exception", "Warning")) or ".exceptions." in name


# -- I/O (TMP102, and the slow work TMP201 looks for) ------------------------------------------------

IO_MODULES = (
    "requests.", "httpx.", "aiohttp.", "urllib.request.", "urllib3.", "http.client.", "socket.",
    "subprocess.", "psycopg2.", "psycopg.", "asyncpg.", "pymysql.", "aiomysql.", "sqlite3.",
    "aiosqlite.", "redis.", "pymongo.", "motor.", "boto3.", "aioboto3.", "botocore.", "shutil.",
    "tempfile.", "glob.", "aiofiles.",
)
IO_CALLS = frozenset(
    {
        "open", "input", "io.open", "os.getenv", "os.putenv", "os.listdir", "os.scandir", "os.walk",
        "os.remove", "os.unlink", "os.makedirs", "os.mkdir", "os.rename", "os.replace", "os.rmdir",
        "os.system", "os.popen", "os.stat", "os.path.exists", "os.path.isfile", "os.path.isdir",
        "os.path.getsize", "os.path.getmtime", "asyncio.open_connection", "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
    }
)


def io_call(name: str, builtin_ok: bool = True) -> bool:
    """Whether a qualified call name does network, file, process or environment I/O."""
    if not name:
        return False
    if name in ("open", "input"):
        return builtin_ok
    if name in IO_CALLS:
        return True
    return name.startswith(IO_MODULES) and not _is_exception(name)


# -- nondeterministic calls (TMP101) ---------------------------------------------------------------

NONDETERMINISTIC_CALLS = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "uuid.uuid1",
        "uuid.uuid4",
        "uuid.uuid7",
        "os.urandom",
    }
)

# Methods of `random.Random` that `workflow.random()` offers too (seed/state methods excluded:
# reseeding the workflow's generator is not what the original call meant).
RANDOM_METHODS = frozenset(
    {
        "random", "randint", "randrange", "randbytes", "getrandbits", "choice", "choices",
        "shuffle", "sample", "uniform", "triangular", "gauss", "normalvariate", "lognormvariate",
        "expovariate", "vonmisesvariate", "gammavariate", "betavariate", "paretovariate",
        "weibullvariate", "binomialvariate",
    }
)


def nondeterministic(name: str | None, has_args: bool) -> bool:
    """Whether a qualified call name gives a different result on replay.

    `random.Random(seed)` is deterministic; `random.Random()` seeds itself from the system.
    """
    if not name:
        return False
    if name in NONDETERMINISTIC_CALLS or name.startswith("secrets."):
        return True
    if name == "random.Random":
        return not has_args
    return name.startswith("random.")
