"""Communications lines for complaint tests: a complaint about one of these is AGCOM's, not ARERA's."""

from contracts.models import Service
from tests.factories import ServiceFactory


def fibre_line(contract) -> Service:
    return ServiceFactory(
        contract=contract,
        kind=Service.Kind.FIBRE,
        pod="",
        power_kw=None,
        line_number="0811234567",
        fibre_technology="FTTH",
        status=Service.Status.ACTIVE,
    )


def mobile_line(contract) -> Service:
    return ServiceFactory(
        contract=contract,
        kind=Service.Kind.MOBILE,
        pod="",
        power_kw=None,
        sim_number="3331234567",
        iccid="8939000000000000001",
    )
