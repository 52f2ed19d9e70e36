"""A real SMTP server for the tests (Debian's python3-aiosmtpd): each message it accepts is kept
as a file in FOLDER (the envelope's recipients first, as an X-Envelope-To header); a recipient
whose address starts with "refused" is answered 550, as a server that knows no such user.

    /usr/bin/python3 ops/test/smtp-sink.py HOST PORT FOLDER    (Debian's python, which has aiosmtpd)
"""
import os
import sys
import time
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder):
        self.folder = folder

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.folder, f"{time.time_ns()}-{uuid.uuid4().hex}.eml")
        with open(name + ".part", "wb") as file:
            file.write(("X-Envelope-To: " + ",".join(envelope.rcpt_tos) + "\r\n").encode() + envelope.original_content)
        os.rename(name + ".part", name)
        return "250 Message accepted"


host, port, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(folder, exist_ok=True)
controller = Controller(Sink(folder), hostname=host, port=port)
controller.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    controller.stop()
