"""PAdES signature of a copy with pyHanko, by the archive's certificate or, when none is configured, by a
self-signed demo certificate made once in <archive>/copies/demo-signing.p12.

The demo certificate proves the mechanics (integrity, who signed) but is trusted by nobody: a town hall
configures its qualified certificate (`copies: {certificate: ..., passphrase: {$env: ...}}`). No timestamp
authority is reachable from the archive's server, so signatures are PAdES B-B (the signing time is the
server's claim)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import NoEncryption, pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.sign import fields, signers

from ..errors import UsageError
from ..options import CopiesSettings, resolve_secret

SIGNING_PRODUCER = VENDOR  # what pyHanko names itself as, the producer of a file it signed

DEMO_CERTIFICATE = "demo-signing.p12"
DEMO_SUBJECT = "retrodig DEMO signing certificate (not qualified)"
FIELD_NAME = "CertifiedCopy"


@dataclass(frozen=True)
class SigningKey:
    path: Path
    passphrase: bytes | None
    demo: bool


def signing_key(settings: CopiesSettings, archive_root: Path) -> SigningKey:
    if settings.certificate is None:
        return SigningKey(ensure_demo_certificate(archive_root / "copies"), None, True)
    path = settings.certificate if settings.certificate.is_absolute() else archive_root / settings.certificate
    if not path.is_file():
        raise UsageError(f"setting copies.certificate: no PKCS#12 file at {path}")
    secret = resolve_secret(settings.passphrase)
    return SigningKey(path, secret.encode() if secret is not None else None, False)


def ensure_demo_certificate(folder: Path) -> Path:
    """A self-signed RSA certificate for signing demo copies (made once; kept for verifying them later)."""
    path = folder / DEMO_CERTIFICATE
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEMO_SUBJECT),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "retrodig demo archive")])
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=5 * 365))
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    data = pkcs12.serialize_key_and_certificates(b"retrodig-demo", key, certificate, None, NoEncryption())
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.chmod(partial, 0o600)
    os.replace(partial, path)  # two first copies at once: one certificate wins, both are whole
    return path


def sign_pdf(pdf: bytes, key: SigningKey, reason: str, location: str) -> tuple[bytes, str]:
    """The signed PDF (an incremental update over `pdf`) and the signer's subject."""
    try:
        signer = signers.SimpleSigner.load_pkcs12(pfx_file=str(key.path), passphrase=key.passphrase)
    except (ValueError, OSError) as exc:
        raise UsageError(f"cannot open the signing certificate {key.path}: {exc}") from exc
    if signer is None:
        raise UsageError(f"cannot open the signing certificate {key.path} (a wrong passphrase, or no PKCS#12 file)")
    _check_valid_now(signer.signing_cert, key.path)
    metadata = signers.PdfSignatureMetadata(field_name=FIELD_NAME, md_algorithm="sha256", reason=reason,
                                            location=location or None, subfilter=fields.SigSeedSubFilter.PADES)
    out = io.BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), metadata, signer=signer, output=out)
    return out.getvalue(), signer_name(signer.signing_cert.subject)


def _check_valid_now(certificate, path: Path) -> None:
    """A copy signed by a certificate that has expired, or is not valid yet, is no certified copy: every reader's
    validation fails it, while the register and the stamp said it was issued."""
    now = datetime.now(timezone.utc)
    start, end = certificate.not_valid_before, certificate.not_valid_after
    if not start <= now <= end:
        when = f"expired on {end:%Y-%m-%d}" if now > end else f"not valid before {start:%Y-%m-%d}"
        raise UsageError(f"the signing certificate {path} is {when}: configure a valid one (copies.certificate)"
                         + (f", or delete {path.name} to have a new demo certificate made" if path.name ==
                            DEMO_CERTIFICATE else ""))


def signer_name(subject) -> str:
    """The certificate's subject as a reader of any language reads it: its name, then its organisation, place and
    country, without the certificate's English field names (the Ukrainian verification page said "Common Name:
    ...; Organization: ...")."""
    native = subject.native
    name = native.get("common_name")
    if not name:
        return subject.human_friendly
    others = [native[key] for key in ("organizational_unit_name", "organization_name", "locality_name",
                                      "country_name") if native.get(key) and native[key] != name]
    return f"{_field_text(name)} ({', '.join(map(_field_text, others))})" if others else _field_text(name)


def _field_text(value) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)  # a field may be given more than once
