"""What Lambda shows of a function that a copy of it (a shadow) has to reproduce, and moto does not.

- **Encrypted environments.** A function whose environment is encrypted with a customer managed
  KMS key its reader may not use answers GetFunction with ``Environment.Error`` and no
  ``Variables``. Here: a simulated function with ``kmsKeyUsable: false`` answers so to every
  tuner principal (the tuner's roles are not in its key policy); the account's own clients see
  the variables.
- **Image digests.** ``Code.ResolvedImageUri`` is the digest the function runs, fixed when it
  was created or its code updated; a tag can be pushed again afterwards and then names another
  image. moto builds ResolvedImageUri from the tag, and cannot read a digest URI back. Here each
  tag resolves to a digest at CreateFunction, a digest URI to itself, and ``imageTagMoved`` moves
  the target's tag on after it was created: a copy by tag runs another image.
- **LoggingConfig** (moto drops it): kept and returned with Lambda's defaults (Text, the default
  log group ``/aws/lambda/<name>``); log levels need the JSON format, as Lambda checks.
- **Runtime versions.** ``RuntimeVersionConfig.RuntimeVersionArn`` of a zip function: a function
  created now gets the runtime's current version; ``runtimeVersionPinned`` keeps an older one.
- **Signed code**: ``SigningProfileVersionArn`` for ``codeSigned``.
- **Log groups.** Lambda creates a function's log group at its first invocation, when the
  function logs (every simulated one does); it stays after the function is deleted.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from emulator.moto_adapter import InvalidParameterValueException

FunctionKey = tuple[str, str, str]  # account, region, function name
_LOG_LEVELS = ("ApplicationLogLevel", "SystemLogLevel")


@dataclass
class Traits:
    kms_key_usable: bool = True
    runtime_version_pinned: bool = False
    code_signed: bool = False
    image_tag_moved: bool = False


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CopyTraits:
    """Per-function state behind the fields above; LambdaEmulation calls it from its patches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._traits: dict[FunctionKey, Traits] = {}
        self._tags: dict[str, str] = {}  # repository:tag -> the digest it names now
        self._resolved: dict[FunctionKey, str] = {}  # repository@sha256:digest the function runs
        self._logging: dict[FunctionKey, dict[str, str]] = {}
        self._uris: dict[FunctionKey, str] = {}  # the ImageUri the function was created with

    def set_traits(self, key: FunctionKey, **traits: bool) -> None:
        with self._lock:
            self._traits[key] = Traits(**traits)
            uri = self._uris.get(key)
            if traits.get("image_tag_moved") and uri is not None:
                self._tags[uri] = _digest(f"pushed again:{uri}")  # what a CreateFunction by tag gets now

    def check(self, spec: dict[str, Any]) -> None:
        """CreateFunction / UpdateFunctionConfiguration: log levels only with the JSON format."""
        logging = spec.get("LoggingConfig") or {}
        if any(logging.get(level) for level in _LOG_LEVELS) and logging.get("LogFormat", "Text") != "JSON":
            raise InvalidParameterValueException(
                "Advanced logging controls (ApplicationLogLevel, SystemLogLevel) are only supported with the JSON "
                "log format"
            )

    def check_update(self, key: FunctionKey, body: dict[str, Any]) -> None:
        """UpdateFunctionConfiguration: the rule holds for the configuration the update leaves, not the body alone."""
        if body.get("LoggingConfig"):
            with self._lock:
                stored = dict(self._logging.get(key, {}))
            self.check({"LoggingConfig": {**stored, **body["LoggingConfig"]}})

    def created(self, key: FunctionKey, spec: dict[str, Any]) -> None:
        image = (spec.get("Code") or {}).get("ImageUri")
        with self._lock:
            if image:
                self._uris[key] = image
                self._resolved[key] = self._resolve(image)
            if spec.get("LoggingConfig"):
                self._logging[key] = dict(spec["LoggingConfig"])

    def updated(self, key: FunctionKey, body: dict[str, Any]) -> None:
        if body.get("LoggingConfig"):
            with self._lock:
                self._logging[key] = {**self._logging.get(key, {}), **body["LoggingConfig"]}

    def _resolve(self, uri: str) -> str:
        if "@sha256:" in uri:
            return uri
        repository = uri.rsplit(":", 1)[0] if ":" in uri.rsplit("/", 1)[-1] else uri
        digest = self._tags.setdefault(uri, _digest(f"image:{uri}"))
        return f"{repository}@sha256:{digest}"

    def resolved_image(self, key: FunctionKey) -> str | None:
        with self._lock:
            return self._resolved.get(key)

    def log_group(self, key: FunctionKey) -> str:
        with self._lock:
            return self._logging.get(key, {}).get("LogGroup") or f"/aws/lambda/{key[2]}"

    def logging_config(self, key: FunctionKey) -> dict[str, str]:
        """The function's LoggingConfig as Lambda returns it: every function has one (Text to
        /aws/lambda/<name> by default)."""
        with self._lock:
            logging = dict(self._logging.get(key, {}))
        return {
            "LogFormat": logging.get("LogFormat", "Text"),
            **{level: logging[level] for level in _LOG_LEVELS if logging.get(level)},
            "LogGroup": logging.get("LogGroup") or f"/aws/lambda/{key[2]}",
        }

    def overlay(self, key: FunctionKey, config: dict[str, Any], *, tuner_caller: bool) -> dict[str, Any]:
        """GetFunction's Configuration as Lambda shows it to this caller."""
        with self._lock:
            traits = self._traits.get(key, Traits())
        config["LoggingConfig"] = self.logging_config(key)
        if config.get("PackageType") != "Image" and config.get("Runtime"):
            version = f"{'older' if traits.runtime_version_pinned else 'current'}:{config['Runtime']}"
            arn = f"arn:aws:lambda:{key[1]}::runtime:{_digest(version)}"
            config["RuntimeVersionConfig"] = {"RuntimeVersionArn": arn}
        if traits.code_signed:
            config["SigningProfileVersionArn"] = (
                f"arn:aws:signer:{key[1]}:{key[0]}:/signing-profiles/simulated/{_digest(key[2])[:10]}"
            )
            config["SigningJobArn"] = f"arn:aws:signer:{key[1]}:{key[0]}:/signing-jobs/{_digest(key[2])[:32]}"
        key_arn = config.get("KMSKeyArn")
        if tuner_caller and key_arn and not traits.kms_key_usable and config.get("Environment"):
            config["Environment"] = {
                "Error": {
                    "ErrorCode": "KMSAccessDeniedException",
                    "Message": (
                        "Lambda was unable to decrypt the environment variables because KMS access was denied. "
                        f"Please check the function's KMS key settings. KMS Exception: AccessDeniedException KMS "
                        f"Message: the caller is not authorized to perform: kms:Decrypt on resource: {key_arn}"
                    ),
                }
            }
        return config
