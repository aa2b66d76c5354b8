"""Mock psychiatric register behind an X-Road 4.0 security server:
``POST /psychiatry/`` (``CheckRegistration``), ``GET /psychiatry/?wsdl``; the
same service as the narcology register (:class:`regbus.mocks.narcology.DispensaryMock`).
"""

from __future__ import annotations

from regbus.adapters.soap.xroad import XRoadIdentity
from regbus.mocks.narcology import CENTRE, DispensaryMock


class PsychiatryMock(DispensaryMock):
    id = "psychiatry"
    provider = XRoadIdentity(*CENTRE, "PSYCHIATRY")
