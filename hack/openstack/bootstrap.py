"""Creates what the tests need in a freshly bootstrapped Keystone: the
service project and glance user, the image service and its endpoints, and a
non-admin demo user. Standard library only, so it runs with Debian's python3.

Usage: bootstrap.py KEYSTONE_URL ADMIN_PASSWORD GLANCE_URL GLANCE_PASSWORD DEMO_PASSWORD
"""
import json
import sys
import urllib.error
import urllib.request

keystone, admin_pw, glance_url, glance_pw, demo_pw = sys.argv[1:6]


def call(method, path, body=None, token=None, ok=(200, 201, 204)):
    req = urllib.request.Request(keystone + path, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(req, data) as resp:
            raw = resp.read()
            return resp, (json.loads(raw) if raw else {})
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return e, {}
        sys.exit(f"{method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')}")


def token_for(user, password, project):
    resp, _ = call("POST", "/v3/auth/tokens", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
    return resp.headers["X-Subject-Token"]


def find(token, kind, name):
    _, body = call("GET", f"/v3/{kind}?name={name}", token=token)
    items = body.get(kind, [])
    return items[0]["id"] if items else None


def ensure(token, kind, name, body):
    found = find(token, kind, name)
    if found:
        return found
    _, created = call("POST", f"/v3/{kind}", {kind[:-1]: body}, token=token)
    return created[kind[:-1]]["id"]


tok = token_for("admin", admin_pw, "admin")
service = ensure(tok, "projects", "service", {"name": "service", "domain_id": "default"})
demo_project = ensure(tok, "projects", "demo", {"name": "demo", "domain_id": "default"})
glance_user = ensure(tok, "users", "glance", {"name": "glance", "domain_id": "default", "password": glance_pw})
demo_user = ensure(tok, "users", "demo", {"name": "demo", "domain_id": "default", "password": demo_pw})
admin_role = find(tok, "roles", "admin")
member_role = find(tok, "roles", "member")
call("PUT", f"/v3/projects/{service}/users/{glance_user}/roles/{admin_role}", token=tok)
call("PUT", f"/v3/projects/{demo_project}/users/{demo_user}/roles/{member_role}", token=tok)

_, body = call("GET", "/v3/services?type=image", token=tok)
if body["services"]:
    image_service = body["services"][0]["id"]
else:
    _, created = call("POST", "/v3/services", {"service": {"name": "glance", "type": "image"}}, token=tok)
    image_service = created["service"]["id"]
_, body = call("GET", f"/v3/endpoints?service_id={image_service}", token=tok)
have = {e["interface"] for e in body["endpoints"]}
for iface in ("public", "internal", "admin"):
    if iface not in have:
        call("POST", "/v3/endpoints", {"endpoint": {
            "service_id": image_service, "interface": iface,
            "url": glance_url, "region_id": "RegionOne"}}, token=tok)
print("keystone: service project, glance and demo users, image endpoints ready")
