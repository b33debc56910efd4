"""``SSLConfiguration``: TLS for a server, through the standard ``ssl`` module."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Optional

__all__ = ["SSLConfiguration"]


@dataclass
class SSLConfiguration:
    """Kitura's ``SSLConfig``, with PEM files.

    - ``certificate_file`` and ``key_file``: the server's certificate (PEM, it may hold the
      chain after it) and private key; or ``certificate_chain_file``: certificate, chain and
      key in one PEM file. ``password`` unlocks an encrypted key.
    - ``ca_certificate_file`` / ``ca_certificate_directory``: CAs to verify client certificates
      against, with ``client_certificate_required``.
    - ``cipher_suite``: an OpenSSL cipher string; ``context``: a ready ``ssl.SSLContext`` to use as is.
    """

    certificate_file: Optional[str] = None
    key_file: Optional[str] = None
    certificate_chain_file: Optional[str] = None
    password: Optional[str] = None
    ca_certificate_file: Optional[str] = None
    ca_certificate_directory: Optional[str] = None
    client_certificate_required: bool = False
    cipher_suite: Optional[str] = None
    context: Optional[ssl.SSLContext] = None

    def ssl_context(self) -> ssl.SSLContext:
        if self.context is not None:
            return self.context
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        certfile = self.certificate_chain_file or self.certificate_file
        if certfile is None:
            raise ValueError("SSLConfiguration needs certificate_file (and key_file) or certificate_chain_file")
        ctx.load_cert_chain(certfile, self.key_file, password=self.password)
        if self.ca_certificate_file or self.ca_certificate_directory:
            ctx.load_verify_locations(cafile=self.ca_certificate_file, capath=self.ca_certificate_directory)
            ctx.verify_mode = ssl.CERT_REQUIRED if self.client_certificate_required else ssl.CERT_OPTIONAL
        if self.cipher_suite:
            ctx.set_ciphers(self.cipher_suite)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx
