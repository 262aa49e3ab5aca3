# The attributes the test IdP releases, by the urn:oid names that Renater uses.
from saml2.saml import NAME_FORMAT_URI

EDUPERSON = "urn:oid:1.3.6.1.4.1.5923.1.1.1."
SUPANN = "urn:oid:1.3.6.1.4.1.7135.1.2.1."

MAP = {
    "identifier": NAME_FORMAT_URI,
    "fro": {
        EDUPERSON + "6": "eduPersonPrincipalName",
        EDUPERSON + "1": "eduPersonAffiliation",
        "urn:oid:0.9.2342.19200300.100.1.3": "mail",
        "urn:oid:2.16.840.1.113730.3.1.241": "displayName",
        "urn:oid:2.5.4.42": "givenName",
        "urn:oid:2.5.4.4": "sn",
        SUPANN + "14": "supannEtablissement",
    },
    "to": {},
}
MAP["to"] = {name: oid for oid, name in MAP["fro"].items()}
