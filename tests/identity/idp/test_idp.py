#!/usr/bin/python3
"""A small SAML 2.0 identity provider for Tutelle's identity tests, built on pysaml2.

It is started by the tests as a real process on loopback:

    test_idp.py --dir DIR --sp-metadata FILE [--sp-metadata FILE ...]

On start it binds 127.0.0.1 on a free port, then writes into DIR everything the tests need, all
generated on the spot (nothing secret is kept in the repository):

    federation.key/.crt     the federation operator's signing key and certificate
    idp.key/.crt            this IdP's signing key and certificate
    attacker.key/.crt       a key pair nobody trusts
    federation.xml          the signed metadata aggregate, valid one day
    federation-expired.xml  the same, validUntil in the past, genuinely signed
    federation-unbounded.xml   the same without validUntil, genuinely signed
    federation-other-key.xml   the same, signed with the attacker's key

and prints one line "ready PORT" on stdout once it answers requests.

The aggregate holds this IdP (scope univ-test.fr, UAI 0751234A) and a second IdP that has no
server (scope other-univ.fr, UAI 0759999Z). Each IdP's establishment is carried, as in Renater,
by an mdattr:EntityAttributes attribute supannEtablissement whose value is "{UAI}" + the UAI.

Endpoints:
    GET /sso/redirect?SAMLRequest=...&RelayState=...[&knobs]   HTTP-Redirect binding
    GET /unsolicited?sp=ENTITY_ID[&knobs]                      an IdP-initiated response
Both answer an HTML form (HTTP-POST binding) holding SAMLResponse and RelayState. The knobs let
tests ask for the shapes real IdPs send:
    user=alice|bob|eve|mallory   who logs in (default alice)
    sign=response|assertion|both what is signed (default response)
    encrypt=none|aes-gcm|3des    how the assertion is encrypted (default none)
    alg=sha256|sha1              signature and digest algorithm (default sha256)
"""

import argparse
import base64
import datetime
import html
import http.server
import os
import subprocess
import sys
import urllib.parse
import uuid

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, entity, sigver
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.server import Server

IDP_ID = "https://idp.univ-test.fr/idp"
OTHER_IDP_ID = "https://idp.other-univ.fr/idp"
HERE = os.path.dirname(os.path.abspath(__file__))

AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
TRIPLE_DES = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"
ALGORITHMS = {
    "sha256": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
               "http://www.w3.org/2001/04/xmlenc#sha256"),
    "sha1": ("http://www.w3.org/2000/09/xmldsig#rsa-sha1",
             "http://www.w3.org/2000/09/xmldsig#sha1"),
}

# eve's eppn is the one a comment-injection attacker registers; mallory's scope belongs to the
# other establishment.
USERS = {
    "alice": ("alice@univ-test.fr", "Alice", "Martin", "member", "faculty"),
    "bob": ("bob@univ-test.fr", "Bob", "Durand", "member", "staff"),
    "eve": ("alice@univ-test.fr.evil.org", "Eve", "Leroy", "member"),
    "mallory": ("mallory@other-univ.fr", "Mallory", "Petit", "member"),
}


def identity_of(user):
    eppn, given, sn, *affiliations = USERS[user]
    return {
        "eduPersonPrincipalName": [eppn],
        "mail": [eppn.split("@")[0] + "@mail.univ-test.fr"],
        "displayName": [given + " " + sn],
        "givenName": [given],
        "sn": [sn],
        "supannEtablissement": ["{UAI}0751234A"],
        "eduPersonAffiliation": affiliations,
    }


def run(*command):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_key_pair(directory, name, common_name):
    key, crt = os.path.join(directory, name + ".key"), os.path.join(directory, name + ".crt")
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=" + common_name, "-keyout", key, "-out", crt)
    return key, crt


def certificate_body(crt):
    with open(crt) as f:
        lines = f.read().strip().splitlines()
    return "".join(lines[1:-1])


def idp_entity(entity_id, crt, sso_url, scope, uai):
    cert = certificate_body(crt)
    return f"""<md:EntityDescriptor entityID="{entity_id}">
  <md:Extensions>
   <mdattr:EntityAttributes>
    <saml:Attribute Name="urn:oid:1.3.6.1.4.1.7135.1.2.1.14"
        NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">
     <saml:AttributeValue>{{UAI}}{uai}</saml:AttributeValue>
    </saml:Attribute>
   </mdattr:EntityAttributes>
  </md:Extensions>
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
   <md:Extensions><shibmd:Scope regexp="false">{scope}</shibmd:Scope></md:Extensions>
   <md:KeyDescriptor use="signing">
    <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data>
    </ds:KeyInfo>
   </md:KeyDescriptor>
   <md:SingleSignOnService Binding="{BINDING_HTTP_REDIRECT}" Location="{sso_url}"/>
  </md:IDPSSODescriptor>
 </md:EntityDescriptor>"""


def aggregate(entities, valid_until):
    valid = f' validUntil="{valid_until}"' if valid_until else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"
    xmlns:shibmd="urn:mace:shibboleth:metadata:1.0"
    xmlns:mdattr="urn:oasis:names:tc:SAML:metadata:attribute"
    ID="_fed{uuid.uuid4().hex}" Name="urn:test:tutelle-federation"{valid}>
 <ds:Signature>
  <ds:SignedInfo>
   <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
   <ds:SignatureMethod Algorithm="{ALGORITHMS['sha256'][0]}"/>
   <ds:Reference URI="">
    <ds:Transforms>
     <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
     <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
    </ds:Transforms>
    <ds:DigestMethod Algorithm="{ALGORITHMS['sha256'][1]}"/>
    <ds:DigestValue/>
   </ds:Reference>
  </ds:SignedInfo>
  <ds:SignatureValue/>
 </ds:Signature>
 {entities}
</md:EntitiesDescriptor>
"""


def write_signed(directory, name, text, key, crt):
    plain = os.path.join(directory, name + ".unsigned")
    with open(plain, "w") as f:
        f.write(text)
    with open(plain) as f:
        entity_id = f.read().split('ID="', 1)[1].split('"', 1)[0]
    with open(plain, "w") as f:
        f.write(text.replace('URI=""', f'URI="#{entity_id}"'))
    run("xmlsec1", "--sign", "--privkey-pem", f"{key},{crt}", "--id-attr:ID",
        "urn:oasis:names:tc:SAML:2.0:metadata:EntitiesDescriptor",
        "--output", os.path.join(directory, name + ".xml"), plain)
    os.remove(plain)


def write_federation(directory, sso_url):
    fed_key, fed_crt = make_key_pair(directory, "federation", "Test federation operator")
    _, idp_crt = make_key_pair(directory, "idp", "idp.univ-test.fr")
    bad_key, bad_crt = make_key_pair(directory, "attacker", "attacker")
    _, other_crt = make_key_pair(directory, "other-idp", "idp.other-univ.fr")
    entities = (idp_entity(IDP_ID, idp_crt, sso_url, "univ-test.fr", "0751234A") + "\n" +
                idp_entity(OTHER_IDP_ID, other_crt, "https://idp.other-univ.fr/sso",
                           "other-univ.fr", "0759999Z"))
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    tomorrow, yesterday = (now + day).strftime(stamp), (now - day).strftime(stamp)
    write_signed(directory, "federation", aggregate(entities, tomorrow), fed_key, fed_crt)
    write_signed(directory, "federation-expired", aggregate(entities, yesterday), fed_key,
                 fed_crt)
    write_signed(directory, "federation-unbounded", aggregate(entities, None), fed_key, fed_crt)
    write_signed(directory, "federation-other-key", aggregate(entities, tomorrow), bad_key,
                 bad_crt)


def make_server(directory, sp_metadata, sso_url):
    config = IdPConfig()
    config.load({
        "entityid": IDP_ID,
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT)]},
            "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
            "name_id_format": [NAMEID_FORMAT_TRANSIENT],
        }},
        "key_file": os.path.join(directory, "idp.key"),
        "cert_file": os.path.join(directory, "idp.crt"),
        "metadata": {"local": sp_metadata},
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "attribute_map_dir": os.path.join(HERE, "attributemaps"),
        "delete_tmpfiles": True,
    })
    return Server(config=config)


class Knobs:
    """What the current request asked for; the server answers one request at a time."""
    encryption = AES256_GCM


def pre_encryption_part(**kwargs):
    return sigver.pre_encryption_part(msg_enc=Knobs.encryption, **kwargs)


def install_encryption_choice(server):
    # pysaml2 encrypts with triple DES unless told otherwise; real IdPs of Renater use AES-GCM.
    entity.pre_encryption_part = pre_encryption_part
    encrypt = server.sec.encrypt_assertion

    def with_session_key(statement, enc_key, template, **kwargs):
        kwargs["key_type"] = "aes-256" if Knobs.encryption == AES256_GCM else "des-192"
        return encrypt(statement, enc_key, template, **kwargs)

    server.sec.encrypt_assertion = with_session_key


def authn_response(server, query, resp_args):
    user = query.get("user", "alice")
    sign = query.get("sign", "response")
    encrypt = query.get("encrypt", "none")
    sign_alg, digest_alg = ALGORITHMS[query.get("alg", "sha256")]
    Knobs.encryption = TRIPLE_DES if encrypt == "3des" else AES256_GCM
    name_id = NameID(format=NAMEID_FORMAT_TRANSIENT, text="_" + uuid.uuid4().hex)
    response = server.create_authn_response(
        identity_of(user), userid=user, name_id=name_id,
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
        sign_response=sign in ("response", "both"),
        sign_assertion=sign in ("assertion", "both"),
        encrypt_assertion=encrypt != "none",
        sign_alg=sign_alg, digest_alg=digest_alg, **resp_args)
    return str(response)


def post_form(action, saml_response, relay_state):
    value = base64.b64encode(saml_response.encode()).decode()
    return f"""<!DOCTYPE html><html><body onload="document.forms[0].submit()">
<form method="post" action="{html.escape(action)}">
<input type="hidden" name="SAMLResponse" value="{value}"/>
<input type="hidden" name="RelayState" value="{html.escape(relay_state)}"/>
</form></body></html>
"""


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "TutelleTestIdP/1"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        try:
            if url.path == "/sso/redirect":
                body = self.single_sign_on(query)
            elif url.path == "/unsolicited":
                body = self.unsolicited(query)
            else:
                return self.send_error(404)
        except Exception as error:  # a test asked for something wrong: say what
            return self.send_error(400, explain=repr(error))
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def single_sign_on(self, query):
        idp = self.server.idp
        request = idp.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        resp_args = idp.response_args(request.message, [BINDING_HTTP_POST])
        resp_args.pop("binding", None)
        saml = authn_response(idp, query, resp_args)
        return post_form(resp_args["destination"], saml, query.get("RelayState", "")).encode()

    def unsolicited(self, query):
        idp = self.server.idp
        sp = query["sp"]
        acs = idp.metadata.assertion_consumer_service(sp, BINDING_HTTP_POST)[0]["location"]
        resp_args = {"in_response_to": None, "destination": acs, "sp_entity_id": sp}
        return post_form(acs, authn_response(idp, query, resp_args), "").encode()

    def log_message(self, format, *args):
        sys.stderr.write("test-idp: " + (format % args) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--sp-metadata", action="append", required=True)
    args = parser.parse_args()

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    port = httpd.server_address[1]
    sso_url = f"http://127.0.0.1:{port}/sso/redirect"
    write_federation(args.dir, sso_url)
    httpd.idp = make_server(args.dir, args.sp_metadata, sso_url)
    install_encryption_choice(httpd.idp)

    print(f"ready {port}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
