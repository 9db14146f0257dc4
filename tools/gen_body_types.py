#!/usr/bin/env python3
"""Generates dsl/dockpol/dsl/body_types.def from the Docker Engine API's swagger.

    tools/gen_body_types.py SWAGGER.yaml > dsl/dockpol/dsl/body_types.def

SWAGGER.yaml is moby's api/swagger.yaml. For each action whose JSON body a
policy reads (`body.*`), the request-body schema of its endpoint is walked
($ref and allOf resolved) and every object path the API types as boolean,
integer or number is emitted. Maps (additionalProperties: Labels, Options,
EndpointsConfig...) and arrays are not entered: their keys are the caller's,
and `body.A.B` never indexes a list. Run by hand when the API version moves;
the checker only reads the checked-in .def.

Only the standard library: the swagger is read by a small YAML reader that
knows the block style the file is written in (mappings, `- ` sequences,
`|`/`>` text blocks, quoted and flow scalars).
"""
import sys

# Action (runtime/dockpol/rt/actions.def) -> the endpoint whose body it decodes.
ENDPOINTS = [
    ("container_create", "post", "/containers/create"),
    ("container_update", "post", "/containers/{id}/update"),
    ("container_exec", "post", "/containers/{id}/exec"),
    ("exec_start", "post", "/exec/{id}/start"),
    ("image_commit", "post", "/commit"),
    ("system_auth", "post", "/auth"),
    ("volume_create", "post", "/volumes/create"),
    ("volume_update", "put", "/volumes/{name}"),
    ("network_create", "post", "/networks/create"),
    ("network_connect", "post", "/networks/{id}/connect"),
    ("network_disconnect", "post", "/networks/{id}/disconnect"),
    ("swarm_init", "post", "/swarm/init"),
    ("swarm_join", "post", "/swarm/join"),
    ("swarm_update", "post", "/swarm/update"),
    ("swarm_unlock", "post", "/swarm/unlock"),
    ("service_create", "post", "/services/create"),
    ("service_update", "post", "/services/{id}/update"),
    ("node_update", "post", "/nodes/{id}/update"),
    ("secret_create", "post", "/secrets/create"),
    ("secret_update", "post", "/secrets/{id}/update"),
    ("config_create", "post", "/configs/create"),
    ("config_update", "post", "/configs/{id}/update"),
]

TYPES = {"boolean": "boolean", "integer": "number", "number": "number"}


# ---- a YAML reader for the swagger's block style ---------------------------

def scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [scalar(x) for x in inner.split(",")] if inner else []
    if text == "{}":
        return {}
    return text


def strip_comment(line):
    """The line without a trailing `# comment` outside quotes."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


class Reader:
    def __init__(self, text):
        self.lines = text.split("\n")
        self.i = 0

    def indent(self, line):
        return len(line) - len(line.lstrip(" "))

    def next_code(self):
        """Index of the next line with content, skipping blanks and comments."""
        while self.i < len(self.lines):
            s = strip_comment(self.lines[self.i])
            if s.strip():
                return self.i
            self.i += 1
        return None

    def skip_block(self, parent_indent):
        """Skips a `|`/`>` text block: every line deeper than its key, or blank."""
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() and self.indent(line) <= parent_indent:
                return
            self.i += 1

    def value(self, rest, key_indent):
        """The value after `key:` (rest is what follows the colon on the line)."""
        rest = rest.strip()
        if rest.startswith("|") or rest.startswith(">"):
            self.skip_block(key_indent)
            return ""
        if rest:
            # A quoted or plain scalar may continue on deeper lines.
            while rest[0] in "\"'" and (len(rest) < 2 or rest[-1] != rest[0]):
                nxt = self.lines[self.i].strip()
                self.i += 1
                rest += " " + nxt
            # A flow collection may span lines (`example: {` ... `}`).
            while rest[0] in "[{" and rest.count(rest[0]) > rest.count("]" if rest[0] == "[" else "}"):
                rest += " " + strip_comment(self.lines[self.i]).strip()
                self.i += 1
            while rest[0] not in "\"'[{" and self.next_code() is not None:
                line = self.lines[self.i]
                if self.indent(line) <= key_indent:
                    break
                rest += " " + strip_comment(line).strip()
                self.i += 1
            return scalar(rest)
        at = self.next_code()
        if at is None:
            return None
        line = self.lines[at]
        ind = self.indent(line)
        if ind > key_indent or (ind == key_indent and line.lstrip().startswith("- ")):
            return self.node(ind)
        return None

    def node(self, ind):
        at = self.next_code()
        body = strip_comment(self.lines[at]).strip()
        if body.startswith("-"):
            return self.sequence(ind)
        if body.startswith(("[", "{", "\"", "'")) or ":" not in body:
            # A scalar alone on the lines below its key (`example:` then `[["noexec"]]`).
            text = []
            while self.next_code() is not None and self.indent(self.lines[self.i]) >= ind:
                text.append(strip_comment(self.lines[self.i]).strip())
                self.i += 1
            return scalar(" ".join(text))
        return self.mapping(ind)

    def mapping(self, ind, first=None):
        out = {}
        while True:
            if first is not None:
                line, first = first, None
            else:
                at = self.next_code()
                if at is None or self.indent(self.lines[at]) != ind or self.lines[at].lstrip().startswith("- "):
                    return out
                line = strip_comment(self.lines[at])[ind:]
                self.i += 1
            key, sep, rest = line.partition(":")
            if not sep:
                raise ValueError("line %d: expected `key:`" % self.i)
            out[scalar(key)] = self.value(rest, ind)

    def sequence(self, ind):
        out = []
        while True:
            at = self.next_code()
            if at is None or self.indent(self.lines[at]) != ind or not self.lines[at].lstrip().startswith("-"):
                return out
            item = strip_comment(self.lines[at])[ind + 1:]
            self.i += 1
            body = item.lstrip(" ")
            item_ind = ind + 1 + (len(item) - len(body))
            if not body:
                out.append(self.node(self.indent(self.lines[self.next_code()])))
            elif ":" in body and not body.startswith(("\"", "'", "[")) or body.startswith(("\"$ref\"", "'$ref'")):
                out.append(self.mapping(item_ind, first=body))
            else:
                out.append(scalar(body))


def load_yaml(text):
    r = Reader(text)
    return r.mapping(0)


# ---- walking the request bodies --------------------------------------------

def walk(doc, schema, prefix, out, depth=0):
    """Adds (dotted path, type) for every typed scalar under object `schema`."""
    if depth > 32 or not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        walk(doc, doc["definitions"][name], prefix, out, depth + 1)
        return
    for part in schema.get("allOf") or []:
        walk(doc, part, prefix, out, depth + 1)
    for key, prop in (schema.get("properties") or {}).items():
        path = prefix + [key]
        resolved = prop
        seen = 0
        while isinstance(resolved, dict) and "$ref" in resolved and seen < 32:
            resolved = doc["definitions"][resolved["$ref"].split("/")[-1]]
            seen += 1
        if not isinstance(resolved, dict):
            continue
        t = resolved.get("type")
        if t in TYPES:
            out.setdefault(".".join(path), TYPES[t])
        elif (t in (None, "object")) and not resolved.get("additionalProperties"):
            walk(doc, resolved, path, out, depth + 1)


def body_schema(doc, method, path):
    op = (doc.get("paths", {}).get(path) or {}).get(method)
    if not op:
        return None
    for p in op.get("parameters") or []:
        if isinstance(p, dict) and p.get("in") == "body":
            return p.get("schema")
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_body_types.py SWAGGER.yaml > dsl/dockpol/dsl/body_types.def")
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = load_yaml(f.read())
    version = doc.get("info", {}).get("version", "?")
    print("// Generated by tools/gen_body_types.py from moby's api/swagger.yaml, Engine API v%s." % version)
    print("// Do not edit: run `tools/gen_body_types.py swagger.yaml > dsl/dockpol/dsl/body_types.def`.")
    print("// BODY_TYPE(action, \"dotted body path\", boolean|number): request-body paths the")
    print("// API types as a bool or a number (integer and number both), per action.")
    for action, method, path in ENDPOINTS:
        schema = body_schema(doc, method, path)
        if schema is None:
            sys.stderr.write("gen_body_types: no body for %s %s (%s)\n" % (method.upper(), path, action))
            continue
        out = {}
        walk(doc, schema, [], out)
        for p in sorted(out):
            print("BODY_TYPE(%s, \"%s\", %s)" % (action, p, out[p]))


if __name__ == "__main__":
    main()
