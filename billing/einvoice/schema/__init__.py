"""Validation against the official FatturaPA 1.2.2 XML schema, vendored beside this module (SOURCE.md).

The schema imports the W3C xmldsig schema from a w3.org URL; a resolver maps it to the local copy and the
parser refuses the network, so validating works offline and always against the same files.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
FATTURAPA_XSD = HERE / "Schema_del_file_xml_FatturaPA_v1.2.2.xsd"
XMLDSIG_XSD = HERE / "xmldsig-core-schema.xsd"
XMLDSIG_LOCATION = "http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd"


class SchemaError(ValueError):
    """The document does not validate; `errors` lists the schema's messages (line: message)."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


class _LocalSchemas(etree.Resolver):
    def resolve(self, system_url, public_id, context):
        if system_url == XMLDSIG_LOCATION:
            return self.resolve_filename(str(XMLDSIG_XSD), context)
        return None


@cache
def fatturapa_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalSchemas())
    return etree.XMLSchema(etree.parse(str(FATTURAPA_XSD), parser))


def validate(xml: bytes) -> None:
    """Raise SchemaError unless `xml` is a valid FatturaPA 1.2.2 document."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        document = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise SchemaError([str(exc)]) from None
    schema = fatturapa_schema()
    if not schema.validate(document):
        raise SchemaError([f"{error.line}: {error.message}" for error in schema.error_log])
