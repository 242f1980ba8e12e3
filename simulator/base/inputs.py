"""The one input layer: every byte of user data passes through here before any other use.

Scenario and uncertainty files (command line, Python API), bytes uploaded in the app and the
project's own data tables are read and parsed by these functions, under hard budgets:

- **bytes**: at most :data:`MAX_FILE_BYTES` are read from any stream (``MAX + 1`` are requested,
  so an endless device or a lying ``st_size`` cannot make it read more); only regular files are
  opened, and their type is checked *before* opening, so a FIFO never blocks and ``/dev/zero``
  is refused at once;
- **YAML structure**: at most :data:`MAX_NODES` nodes, :data:`MAX_DEPTH` levels of nesting and
  :data:`MAX_STRING_CHARS` characters in any scalar. The parser is driven event by event and the
  document is built without recursion, so no input reaches Python's recursion limit;
- **aliases** (``*name``) and **merge keys** (``<<``) are refused outright: scenario files are
  plain data, and an alias is the one YAML construct whose output can grow exponentially with
  its input (the "billion laughs" bomb);
- **scalars** resolve as in the YAML 1.2 core schema (``1e1`` is 10.0; ``yes`` or a date is text),
  except the plain forms whose meaning differs between YAML 1.1 and 1.2 or that are not plain
  decimal — ``030`` (octal 24 in 1.1), ``0x1E``, ``0o17``, ``0b101``, ``1_000``, ``1:30``
  (90 in 1.1), ``yes``/``no``/``on``/``off`` — which are refused with a message saying how to
  write the number (or to quote the text); a file means what it says under any YAML reader;
- **tags**: only ``!!str`` (and the non-specific ``!``); anything else (``!!python/...``) is
  refused;
- **text** fields: no control characters (tab and line feed only where a field allows several
  lines), no bidirectional controls, zero-width or other invisible format characters, no lone
  surrogates (:func:`check_text`).

Every message is one line, at most :data:`MAX_MESSAGE_CHARS` characters, with non-printable
characters escaped (:func:`one_line`); a value is quoted only as a short escaped excerpt
(:func:`excerpt`). Output helpers live here too, for the command line and the app alike:
:func:`csv_safe` neutralises spreadsheet formulas in text cells.
"""
from __future__ import annotations

import csv
import io
import math
import os
import re
import reprlib
import stat
import unicodedata
from pathlib import Path
from typing import Any, Mapping

import yaml

#: Largest file (scenario, uncertainty specification, upload, data table) read, in bytes.
MAX_FILE_BYTES = 1_000_000
#: Most YAML nodes (scalars, mappings and sequences) in one document.
MAX_NODES = 10_000
#: Deepest nesting of mappings and sequences in one document (a scenario needs 3).
MAX_DEPTH = 20
#: Longest scalar (text, key or number) in a YAML document, in characters.
MAX_STRING_CHARS = 10_000
#: Longest excerpt of a user value quoted in an error message, in characters.
EXCERPT_CHARS = 60
#: Longest error message, in characters (a backstop: messages quote excerpts, not values).
MAX_MESSAGE_CHARS = 1_000


class InputError(ValueError):
    """User input refused. The message is one line, short and escaped (:func:`one_line`)."""

    def __init__(self, message: str):
        super().__init__(one_line(str(message)))


# --------------------------------------------------------------------------------------------
# Messages

def one_line(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``message`` as one printable line of at most ``limit`` characters.

    Line breaks, control, format (bidirectional, zero-width) and surrogate characters are
    shown as Python escapes (``\\n``, ``\\x1b``, ``\\u202e``, ``\\ud83d``), so the result can be
    printed on any terminal and encoded as UTF-8; a longer message is cut and ends in "…".
    """
    if len(message) > 4 * limit:  # escaping can only lengthen it: cut the work first
        message = message[:4 * limit]
    if not message.isprintable():
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    if len(message) > limit:
        message = message[:limit - 1] + "…"
    return message


_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 4
_REPR.maxstring = EXCERPT_CHARS
_REPR.maxlong = 40
_REPR.maxother = EXCERPT_CHARS


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped ``repr`` of ``value`` for an error message (at most about ``limit``
    characters, "…" where cut). Never builds the full ``repr`` of a large value."""
    if isinstance(value, str):
        text = repr(value[:limit])
        cut = len(value) > limit
    elif isinstance(value, int) and value.bit_length() > 128:  # repr would be long, or fail
        text, cut = f"<a whole number of {int(value.bit_length() * 0.30103) + 1} digits>", False
    elif isinstance(value, (bool, int, float)):
        text, cut = repr(value), False
    else:
        text, cut = _REPR.repr(value), False
    text = one_line(text, limit=4 * limit)
    if len(text) > 2 * limit:
        text, cut = text[:2 * limit], True
    return text + ("…" if cut else "")


def source_label(name: Any, limit: int = 80) -> str:
    """A file name (an upload's, a path given on the command line) safe to show in messages:
    escaped, one line, at most ``limit`` characters."""
    return one_line(str(name), limit=limit)


# --------------------------------------------------------------------------------------------
# Reading files

def file_kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, for a message ("a named pipe (FIFO)", ...)."""
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_bytes(path: str | Path, limit: int = MAX_FILE_BYTES, what: str = "file",
               error: type[Exception] = InputError) -> bytes:
    """The bytes of a regular file, at most ``limit`` of them.

    The file's type is checked before it is opened (a FIFO, device, socket or directory is
    refused without reading), it is opened non-blocking, and at most ``limit + 1`` bytes are
    read whatever its reported size.

    Raises
    ------
    error
        (default :class:`InputError`) naming the path: missing, unreadable, not a regular file,
        or larger than ``limit`` bytes.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(one_line(f"{path}: file not found")) from None
    except OSError as exc:
        raise error(one_line(f"{path}: cannot read file ({exc.strerror})")) from None
    if not stat.S_ISREG(info.st_mode):
        raise error(one_line(f"{path}: is {file_kind(info.st_mode)}; expected a {what}"))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(one_line(f"{path}: cannot read file ({exc.strerror})")) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the check and the open
            raise error(one_line(f"{path}: is {file_kind(mode)}; expected a {what}"))
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise error(one_line(f"{path}: cannot read file ({exc.strerror})")) from None
    finally:
        os.close(fd)
    if total > limit:  # the reported size, when it is right, says by how much
        size = f"{info.st_size:,} bytes" if info.st_size > limit else f"larger than {limit:,} bytes"
        raise error(one_line(f"{path}: file is {size}; at most {limit:,} allowed"))
    return b"".join(chunks)


def decode(data: bytes | str, source: str, limit: int = MAX_FILE_BYTES,
           error: type[Exception] = InputError) -> str:
    """UTF-8 text from ``data`` (at most ``limit`` bytes), or ``error`` naming ``source``.

    Text given as ``str`` must be encodable as UTF-8 (no lone surrogates).
    """
    if isinstance(data, str):
        try:
            size = len(data.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise error(one_line(f"{source}: character U+{ord(data[exc.start]):04X} at position "
                                 f"{exc.start + 1} cannot be encoded as UTF-8 (a lone "
                                 "surrogate)")) from None
        if size > limit:
            raise error(one_line(f"{source}: text is {size:,} bytes; at most {limit:,} allowed"))
        return data
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise error(one_line(f"{source}: expected text or bytes, got {type(data).__name__}"))
    if len(data) > limit:
        raise error(one_line(f"{source}: file is {len(data):,} bytes; at most {limit:,} allowed"))
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(one_line(f"{source}: not UTF-8 text (byte {exc.start})")) from None


def csv_reader(data: bytes | str, source: str, expected: str,
               error: type[Exception] = InputError):
    """A strict :func:`csv.reader` over the UTF-8 text ``data`` (see :func:`decode`; a
    byte-order mark, as spreadsheets write it, is dropped), or ``error`` naming ``source`` when
    the text is empty (``expected`` says what the file should hold)."""
    text = decode(data, source, error=error)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise error(one_line(f"{source}: the file is empty; expected {expected}"))
    return csv.reader(io.StringIO(text, newline=""), strict=True)


def read_text(path: str | Path, limit: int = MAX_FILE_BYTES, what: str = "file",
              error: type[Exception] = InputError) -> str:
    """:func:`read_bytes` decoded as UTF-8 (:func:`decode`)."""
    return decode(read_bytes(path, limit=limit, what=what, error=error), str(path), limit=limit,
                  error=error)


# --------------------------------------------------------------------------------------------
# YAML

_TAG = "tag:yaml.org,2002:"
_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
_YAML11_BOOL = frozenset("yes Yes YES no No NO on On ON off Off OFF y Y n N".split())


def _ambiguous(text: str) -> str | None:
    """Why a plain scalar is refused, if its meaning depends on the YAML version or it is a
    number in another base than ten; None if it is not such a form."""
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("+-")
    if text in _YAML11_BOOL:
        return ("is true or false in YAML 1.1 but text in YAML 1.2; write true or false, or "
                "quote it if it is text")
    if re.fullmatch(r"0[0-9]+", body):
        octal = f"octal, {sign}{int(body, 8)}" if re.fullmatch(r"[0-7]+", body) else "text"
        return (f"has a leading zero (YAML 1.1 reads it as {octal}; YAML 1.2 as "
                f"{sign}{int(body)}); write {sign}{int(body)}, or quote it if it is text")
    for prefix, base, what in (("0x", 16, "a hexadecimal"), ("0o", 8, "an octal"),
                                ("0b", 2, "a binary")):
        if body[:2].lower() == prefix and re.fullmatch(r"[0-9a-fA-F_]+", body[2:] or "-"):
            try:
                value = f"{sign}{int(body[2:], base)}"
            except ValueError:
                return f"is not a valid {what.split()[1]} number; write numbers in plain decimal"
            return (f"is {what} number ({value}); write it in plain decimal ({value}), or "
                    "quote it if it is text")
    if re.fullmatch(r"[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?", body):
        value = 0.0
        for part in body.replace("_", "").split(":"):
            value = value * 60 + float(part)
        value_text = f"{sign}{int(value) if value.is_integer() else value}"
        return (f"is a base-60 number in YAML 1.1 ({value_text}) and text in YAML 1.2; write "
                "the number in plain decimal, or quote it if it is text (such as a time)")
    if "_" in body and re.fullmatch(r"[0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9]+)?", body) \
            and any(c.isdigit() for c in body):
        plain = text.replace("_", "")
        return (f"has digit separators (YAML 1.1 reads it as a number, YAML 1.2 as text); "
                f"write {plain}, or quote it if it is text")
    return None


def _plain_scalar(text: str) -> Any:
    """A plain (unquoted, untagged) scalar resolved under the YAML 1.2 core schema; raises
    :class:`_Refusal` for a form whose meaning depends on the YAML version."""
    if _NULL.fullmatch(text):
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    why = _ambiguous(text)
    if why:
        raise _Refusal(f"value {excerpt(text)} {why}")
    if _INT.fullmatch(text):
        # long digit strings: float() has no digit limit (int() does) and gives inf if huge
        return int(text) if len(text) <= 30 else float(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text) or _NAN.fullmatch(text):
        return float(text.replace(".", "", 1))
    return text


class _Refusal(Exception):
    """A scalar refused by :func:`_plain_scalar`; :func:`parse_yaml` adds where it is."""


def _short_tag(tag: str) -> str:
    return excerpt("!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag)


def _loader_class():
    return getattr(yaml, "CBaseLoader", None) if yaml.__with_libyaml__ else yaml.BaseLoader


class _Frame:
    """A mapping or sequence being built, with the key awaiting its value (mappings)."""

    __slots__ = ("container", "path", "key", "has_key", "keys")

    def __init__(self, container, path: str):
        self.container = container
        self.path = path
        self.key: Any = None
        self.has_key = False
        self.keys: set = set()


def _child_path(frame: _Frame | None) -> str:
    if frame is None:
        return ""
    if isinstance(frame.container, list):
        return f"{frame.path}[{len(frame.container)}]"
    key = frame.key if isinstance(frame.key, str) else repr(frame.key)
    return f"{frame.path}.{key}" if frame.path else key


def parse_yaml(data: str | bytes, source: str, error: type[Exception] = InputError) -> Any:
    """Plain data (dict, list, str, int, float, bool, None) from one YAML document, under the
    budgets and rules of this module.

    Parameters
    ----------
    data : str or bytes
        YAML text, or UTF-8 bytes, at most :data:`MAX_FILE_BYTES`.
    source : str
        Names the input in messages (a path or an upload's name).
    error : exception class
        Raised for every problem, with a one-line message naming ``source`` and, where it has
        one, the line, column and field.
    """
    text = decode(data, source, error=error)
    loader = _loader_class()(text)
    nodes = 0
    stack: list[_Frame] = []
    root: Any = None
    documents = 0

    def fail(event, path: str, message: str):
        mark = event.start_mark
        where = f"{source}: line {mark.line + 1}, column {mark.column + 1}"
        if path:
            where += f": field {excerpt(path, 80)}"
        raise error(one_line(f"{where}: {message}"))

    def add(value, event, path: str) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        frame = stack[-1]
        if isinstance(frame.container, list):
            frame.container.append(value)
        elif not frame.has_key:
            if isinstance(value, (dict, list)):
                fail(event, frame.path, "a mapping key must be a name or number, not a "
                     + ("mapping" if isinstance(value, dict) else "list"))
            if value in frame.keys:
                raise error(one_line(f"{source}: duplicate key {excerpt(value)} (line "
                                     f"{event.start_mark.line + 1})"))
            frame.keys.add(value)
            frame.key, frame.has_key = value, True
        else:
            frame.container[frame.key] = value
            frame.has_key = False

    try:
        try:
            while loader.check_event():
                event = loader.get_event()
                if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent,
                                      yaml.DocumentEndEvent)):
                    continue
                if isinstance(event, yaml.DocumentStartEvent):
                    documents += 1
                    if documents > 1:
                        raise error(one_line(f"{source}: line {event.start_mark.line + 1}: a "
                                             "second YAML document (---); a file holds one"))
                    continue
                if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    frame = stack.pop()
                    continue
                nodes += 1
                frame = stack[-1] if stack else None
                path = _child_path(frame)
                key_position = (frame is not None and isinstance(frame.container, dict)
                                and not frame.has_key)
                if key_position:
                    path = frame.path
                if nodes > MAX_NODES:
                    fail(event, path, f"more than {MAX_NODES:,} YAML nodes; a scenario file "
                         "needs far fewer")
                if isinstance(event, yaml.AliasEvent):
                    fail(event, path, f"alias *{excerpt(event.anchor, 20)[1:-1]} is not allowed "
                         "(files hold plain data: write the value out)")
                tag = event.tag
                if isinstance(event, yaml.ScalarEvent):
                    value = event.value
                    if len(value) > MAX_STRING_CHARS:
                        fail(event, path, f"a value of {len(value):,} characters; at most "
                             f"{MAX_STRING_CHARS:,} allowed")
                    if tag not in (None, "!", _TAG + "str"):
                        fail(event, path, f"malformed YAML: tag {_short_tag(tag)} is not allowed "
                             "(files hold plain values; only !!str may be written)")
                    if tag is None and event.implicit[0]:
                        if key_position and value == "<<":
                            fail(event, path, "merge keys (<<) are not allowed; write the fields "
                                 "out in full")
                        value = _plain_scalar(value)
                    add(value, event, path)
                    continue
                # a mapping or a sequence
                if len(stack) >= MAX_DEPTH:
                    fail(event, path, f"nested more than {MAX_DEPTH} levels deep; a scenario "
                         "file needs 3")
                mapping = isinstance(event, yaml.MappingStartEvent)
                if tag not in (None, "!", _TAG + ("map" if mapping else "seq")):
                    fail(event, path, f"malformed YAML: tag {_short_tag(tag)} is not allowed "
                         "(files hold plain values)")
                container: Any = {} if mapping else []
                add(container, event, path)
                stack.append(_Frame(container, path))
        except _Refusal as exc:
            fail(event, path, str(exc))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(one_line(f"{source}: malformed YAML{where}: {problem}")) from None
    finally:
        loader.dispose()
    return root


# --------------------------------------------------------------------------------------------
# Text fields

_CATEGORY_NAMES = {"Cc": "a control character", "Cf": "an invisible format character",
                   "Cs": "a lone surrogate", "Zl": "a line separator",
                   "Zp": "a paragraph separator"}
#: Unassigned code points that are not text in XML 1.0 either (no Word or Excel file holds them).
_NONCHARACTERS = frozenset("\ufffe\uffff")


def check_text(value: Any, source: str, fieldname: str, multiline: bool = False,
               max_chars: int = MAX_STRING_CHARS, error: type[Exception] = InputError) -> str:
    """``value`` if it is acceptable text for field ``fieldname``, else ``error``.

    Refused: non-strings; more than ``max_chars`` characters; control characters (C0, DEL,
    C1; tab and line feed are allowed when ``multiline``), format characters (bidirectional
    overrides and isolates, zero-width characters, BOM, soft hyphen), line and paragraph
    separators, lone surrogates (not encodable as UTF-8) and the noncharacters U+FFFE and
    U+FFFF (not text in XML: an export to Word or Excel would fail). The message names the field and
    the first offending character as a code point (``U+202E``).
    """
    if not isinstance(value, str):
        raise error(one_line(f"{source}: field '{fieldname}': value {excerpt(value)} is not "
                             "text; allowed a string"))
    if len(value) > max_chars:
        raise error(one_line(f"{source}: field '{fieldname}': value {excerpt(value)} has "
                             f"{len(value):,} characters; at most {max_chars:,} allowed"))
    if value.isprintable():
        return value
    for position, ch in enumerate(value, start=1):
        if ch.isprintable() or (multiline and ch in "\t\n"):
            continue
        category = unicodedata.category(ch)
        if category not in _CATEGORY_NAMES and ch not in _NONCHARACTERS:
            continue  # spaces other than U+0020, private-use and unassigned code points
        name = unicodedata.name(ch, "") or _CATEGORY_NAMES.get(category, "a noncharacter")
        allowed = ("printable text (tab and line breaks allowed)" if multiline else
                   "printable text on one line")
        raise error(one_line(
            f"{source}: field '{fieldname}': character U+{ord(ch):04X} ({name}) at position "
            f"{position} is not allowed; allowed {allowed}, without control, bidirectional or "
            "zero-width characters"))
    return value


# --------------------------------------------------------------------------------------------
# Run settings (Python API)

#: Most integration steps one run may take: (FINAL TIME - INITIAL TIME) / TIME STEP.
MAX_STEPS = 1_000_000
#: The model's control variables, which set the simulated period and the step.
CONTROL = ("initial_time", "final_time", "time_step", "saveper")


def _real(name: str, value: Any, error: type[Exception]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(
            value, "__float__"):
        raise error(one_line(f"{name}: value {excerpt(value)} is not a number"))
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise error(one_line(f"{name}: value {excerpt(value)} is not a finite number")) from None
    if not math.isfinite(number):
        raise error(one_line(f"{name}: value {number} is not allowed; allowed a finite number"))
    return number


#: The most integration steps one call may compute over all its runs (10,000 runs of a model
#: of 240 steps are 2.4 million steps × runs); per run, :data:`MAX_STEPS`.
MAX_STEP_RUNS = 1_000_000_000


def check_run_settings(initial_time: Any, final_time: Any, time_step: Any, saveper: Any,
                       runs: int = 1, *, error: type[Exception] = InputError) -> int:
    """Refuse run settings that cannot give a run; return the number of integration steps.

    The one check of run settings: the engine calls it before every run and
    :func:`check_params` for the Python API's parameters.

    Parameters
    ----------
    initial_time, final_time, time_step, saveper : number
        The run's control values (the model's own where not replaced).
    runs : int
        Runs computed in one call.
    error : exception class
        Raised with the message (default :class:`InputError`).

    Raises
    ------
    error
        One line naming the setting, its value and what is allowed: not a finite number;
        TIME STEP not above 0 or longer than the simulated period; FINAL TIME not after
        INITIAL TIME; SAVEPER below TIME STEP (Vensim's own advice; PySD would save only where
        the two coincide); more than :data:`MAX_STEPS` steps per run or :data:`MAX_STEP_RUNS`
        over all runs.
    """
    values = {"initial_time": initial_time, "final_time": final_time, "time_step": time_step,
              "saveper": saveper}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(
                value, "__float__"):
            raise error(one_line(f"{name}: value {excerpt(value)} is not a number"))
        if not math.isfinite(float(value)):
            raise error(f"{name}: value {value} is not allowed; allowed a finite number")
    initial_time, final_time, time_step, saveper = (float(v) for v in values.values())
    if not time_step > 0:
        raise error(f"time_step: value {time_step:g} is not allowed; allowed a number > 0")
    if not final_time > initial_time:
        raise error(f"final_time: value {final_time:g} is not allowed; allowed a time after "
                    f"initial_time {initial_time:g}")
    if time_step > final_time - initial_time:
        raise error(f"time_step: value {time_step:g} is not allowed; allowed a number > 0 and "
                    f"at most the simulated period {final_time - initial_time:g}")
    if not saveper >= time_step:
        raise error(f"saveper: value {saveper:g} is not allowed; allowed at least time_step "
                    f"{time_step:g}")
    ratio = (final_time - initial_time) / time_step
    if not ratio <= MAX_STEPS:
        raise error(f"time_step {time_step:g} from {initial_time:g} to {final_time:g} makes "
                    f"{ratio:,.0f} steps; allowed at most {MAX_STEPS:,}")
    steps = math.ceil(ratio)
    if steps * max(runs, 1) > MAX_STEP_RUNS:
        raise error(f"n: {runs:,} runs of {steps:,} steps are {steps * runs:,} steps × runs; "
                    f"allowed at most {MAX_STEP_RUNS:,} in one call")
    return steps


def check_params(params: Mapping[str, Any] | None, time_step: Any = None, *,
                 initial_time: float, final_time: float, default_time_step: float,
                 default_saveper: float, limits: Mapping[str, tuple[float, float]] | None = None,
                 error: type[Exception] = InputError) -> dict[str, float]:
    """Run parameters given through the Python API, checked before a run.

    Parameters
    ----------
    params : mapping of Python name to number, or None
        Values that replace the model's (constants, control variables).
    time_step : number, optional
        The integration step asked for, if not the model's.
    initial_time, final_time, default_time_step, default_saveper : float
        The model's own control values (used where ``params`` does not set them).
    limits : mapping of name to (min, max), optional
        Documented ranges of constants (the ``.mdl`` units field); a constant whose range starts
        at 0 or above may not be set negative (a stock would turn negative, or a root complex).

    Returns
    -------
    dict
        ``params`` as floats.

    Raises
    ------
    error
        One line naming the parameter: not a finite real number (NaN, infinity, text, bool);
        run settings :func:`check_run_settings` refuses; a negative value where the range
        forbids one.
    """
    out = {str(k): _real(f"params[{excerpt(k)}]", v, error) for k, v in (params or {}).items()}
    step = out.get("time_step", default_time_step)
    if time_step is not None:
        step = _real("time_step", time_step, error)
    check_run_settings(out.get("initial_time", initial_time), out.get("final_time", final_time),
                       step, out.get("saveper", default_saveper), error=error)
    for name, value in out.items():
        lo, hi = (limits or {}).get(name, (None, None))
        if lo is not None and lo >= 0 > value:
            raise error(one_line(f"params[{excerpt(name)}]: value {value:g} is negative; its "
                                 f"documented range is [{lo:g}, {hi:g}]"))
    return out


# --------------------------------------------------------------------------------------------
# Output

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` made inert for a spreadsheet: text starting with ``= + - @``, tab or carriage
    return gets a leading ``'`` (OWASP's advice); anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe(frame):
    """A copy of a DataFrame whose text cells (and column names) pass :func:`csv_cell`; numbers
    are untouched. Use before every ``to_csv`` or ``to_excel`` of data that holds user text."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(csv_cell)
    out.columns = [csv_cell(c) for c in out.columns]
    return out


def to_csv(frame, **kwargs) -> str:
    """``frame.to_csv(index=False, float_format="%.10g", **kwargs)`` of :func:`csv_safe`
    ``(frame)``: the project's one way to write CSV text."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("float_format", "%.10g")
    return csv_safe(frame).to_csv(**kwargs)
